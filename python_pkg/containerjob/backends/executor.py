"""Vertex AI Workbench Executor backend: a whole notebook as a `NotebookExecutionJob` (aiplatform_v1).

The parameterised notebook (parameters and the project already injected, since the Executor sets no
project of its own) is staged to gs://STAGING/containerjob/JOB_ID/notebook/, the job writes to
gs://STAGING/containerjob/JOB_ID/output/ (Vertex adds a folder named after its own job ID), and the
executed notebook and every file under that prefix come back to the job directory when it ends. The
Executor keeps nothing else the notebook writes: the staged copy has hidden cells that upload what it wrote
in its working directory to output/files/ (core/runtime/keep_files.py), and the job's message names what
they could not keep.
"""
from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ..core import job_output, notebook
from ..core.errors import BackendError, SpecError
from ..core.job_files import FINAL_LOG
from ..core.job_output import OutputUnreadable
from ..core.models import JobRecord, JobSpec, JobStatus
from ..core.payload import Payload
from ..core.spec import label_value
from ..core.vertex_catalog import require_sendable, unlisted
from ..mounts.sync import transfer_errors
from .base import Capabilities, Notify, Outcome, StreamStop
from .executor_schedules import NotebookSchedules
from .gcp import TERMINAL, GcpBackend, api_errors, parse_resource_name, seconds

CREATE_TIMEOUT_S = 600


class ExecutorBackend(NotebookSchedules, GcpBackend):
    name = "executor"
    label = "Vertex AI Workbench Executor"
    capabilities = Capabilities(kinds=["notebook"], schedules=True, gpus=True, cancel=True, live_logs=False)
    poll_s = 2.0
    collection = "notebookExecutionJobs"
    client_kind = "NotebookServiceClient"
    resource_kind = "notebook execution"

    # -- submission ----------------------------------------------------------------------------------
    def validate(self, spec: JobSpec, payload: Payload) -> None:
        if payload.manifest.get("kind") != "notebook":
            raise SpecError("the Workbench Executor runs whole notebooks; run cells with --backend vertex")
        self.require_project_and_bucket(spec, "the Workbench Executor", "the notebook and its outputs")
        if not spec.service_account:
            raise SpecError("the Workbench Executor runs a notebook as a service account: pass --service-account "
                            "NAME@PROJECT.iam.gserviceaccount.com or set CONTAINERJOB_SERVICE_ACCOUNT")

    def preflight(self, spec: JobSpec, payload: Payload, notify: Notify) -> None:
        require_sendable(spec)
        for line in unlisted(spec):  # well-formed values Google's tables here lack: sent, Vertex AI answers
            notify(f"warning: {line}")
        notify(f"runs as {spec.service_account} in project {spec.project}, region {spec.region}: the notebook's code "
               "has that service account's permissions, not yours")

    def execution_job(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        """The NotebookExecutionJob as REST JSON (camelCase), shared by submit and --dry-run."""
        bucket, prefix = self.staging(spec, job_id)
        pool = spec.primary
        body: dict[str, Any] = {
            "displayName": spec.display_name,
            "gcsNotebookSource": {"uri": f"gs://{bucket}/{prefix}/notebook/{payload.manifest['filename']}"},
            "gcsOutputUri": f"gs://{bucket}/{prefix}/output",
            "kernelName": payload.manifest.get("kernel_name") or "python3",
            "serviceAccount": spec.service_account,
            "labels": {**spec.labels, "containerjob-id": job_id},
        }
        if origin:
            body["labels"]["containerjob-notebook"] = label_value(Path(origin).stem) or "notebook"
        if spec.timeout_s:
            body["executionTimeout"] = f"{spec.timeout_s}s"
        if spec.runtime_template == "workbench":
            body["workbenchRuntime"] = {}
        elif spec.runtime_template:
            body["notebookRuntimeTemplateResourceName"] = spec.runtime_template
        else:
            machine: dict[str, Any] = {"machineType": pool.machine_type}
            if pool.accelerator_count:
                machine.update(acceleratorType=pool.accelerator_type, acceleratorCount=pool.accelerator_count)
            body["customEnvironmentSpec"] = {
                "machineSpec": machine,
                "persistentDiskSpec": {"diskType": "pd-standard", "diskSizeGb": str(pool.boot_disk_size_gb)},
                "networkSpec": {"enableInternetAccess": True, **({"network": spec.network} if spec.network else {})},
            }
        return body

    def stage_notebook(self, spec: JobSpec, payload: Payload, uri: str, keep_to: str = "") -> None:
        """Upload the parameterised notebook to the gs:// URI the execution (or schedule) reads it from; with
        `keep_to` (the execution's gcsOutputUri), with the cells that keep what it writes there."""
        what = f"staging the notebook to {uri}"
        source = payload.path / payload.manifest["source_file"]
        with tempfile.TemporaryDirectory(prefix="containerjob-stage-") as tmp, transfer_errors(what):
            if keep_to:
                staged = Path(tmp) / source.name
                staged.write_bytes(notebook.notebook_bytes(notebook.with_kept_files(notebook.read_notebook(source),
                                                                                    keep_to)))
                source = staged
            self.transfer(spec.project).put([source], [uri[5:]], what)

    def describe(self, spec: JobSpec, payload: Payload, job_id: str, origin: str = "") -> dict[str, Any]:
        body = self.execution_job(spec, payload, job_id, origin)
        gcloud = ["gcloud", "colab", "executions", "create", f"--project={spec.project}", f"--region={spec.region}",
                  f"--display-name={spec.display_name}", f"--gcs-notebook-uri={body['gcsNotebookSource']['uri']}",
                  f"--gcs-output-uri={body['gcsOutputUri']}", f"--service-account={spec.service_account}",
                  f"--kernel-name={body['kernelName']}"]
        if spec.runtime_template and spec.runtime_template != "workbench":
            gcloud.append(f"--notebook-runtime-template={spec.runtime_template}")
        described = {"parent": f"projects/{spec.project}/locations/{spec.region}", "notebookExecutionJob": body,
                     "gcloud": shlex.join(gcloud)}
        return {**described, **({"warnings": warnings} if (warnings := unlisted(spec)) else {})}

    def start(self, record: JobRecord, spec: JobSpec, payload: Payload, notify: Notify) -> str:
        from google.cloud import aiplatform_v1

        body = self.execution_job(spec, payload, record.id, record.origin)
        notify(f"staging the notebook to {body['gcsNotebookSource']['uri']}")
        self.stage_notebook(spec, payload, body["gcsNotebookSource"]["uri"], keep_to=body["gcsOutputUri"])
        job = aiplatform_v1.NotebookExecutionJob.from_json(json.dumps(body))
        with api_errors("create the NotebookExecutionJob"):
            operation = self.client(spec.region).create_notebook_execution_job(
                parent=f"projects/{spec.project}/locations/{spec.region}", notebook_execution_job=job)
            created = operation.result(timeout=CREATE_TIMEOUT_S)
        parse_resource_name(created.name, self.collection)
        notify(f"submitted {created.name}")
        return created.name

    # -- lifecycle -----------------------------------------------------------------------------------
    def _get(self, record: JobRecord):
        with api_errors(f"read job {record.id}"):
            return self.client(self.region_of(record)).get_notebook_execution_job(name=record.backend_ref)

    @staticmethod
    def _state(job) -> str:
        return job.job_state.name

    @staticmethod
    def run_times(job) -> tuple[float | None, float | None]:
        """A NotebookExecutionJob has no start or end time, only create_time and update_time ("most recently
        updated"): an ended execution's last update is its end. Its start is when containerjob saw it running."""
        return None, seconds(job.update_time) if job.job_state.name in TERMINAL else None

    def stop(self, record: JobRecord, status: JobStatus, message: str) -> JobRecord:
        """aiplatform_v1 has no cancel for notebook executions: deleting the execution is how it stops."""
        if not record.backend_ref:
            return self.stop_unsubmitted(record, status, message)
        job = self._get(record)
        if self.is_terminal(job):
            return self.finalise(record, job)
        from google.api_core.exceptions import BadRequest, FailedPrecondition

        try:
            with api_errors(f"stop job {record.id} (delete its notebook execution)"):
                try:
                    self.client(self.region_of(record)).delete_notebook_execution_job(name=record.backend_ref).result(
                        timeout=CREATE_TIMEOUT_S)
                except (FailedPrecondition, BadRequest) as exc:  # REST answers FAILED_PRECONDITION as a 400
                    raise BackendError(
                        f"Vertex AI refused to stop job {record.id}: the Workbench Executor API (v1) has no cancel and "
                        f"a running execution cannot be deleted ({exc.message}); it ends by itself or at its "
                        "--timeout") from None
        except BackendError:
            self.store.transition(record.id, (JobStatus.CANCELLING,), status=JobStatus.RUNNING)
            raise
        return self.finalise(record, None, status, message)  # no execution left to ask: the caller's verdict

    def conclude(self, record: JobRecord, job, status: JobStatus | None, message: str) -> Outcome:
        try:
            (failed_cell, not_kept), unreadable = self._collect(record), ""
        except OutputUnreadable as exc:  # the bucket's copy is anyone's who can write there: data, never trusted
            failed_cell, not_kept, unreadable = "", "", str(exc)
        if job is None:  # stopped by deleting its execution: nothing left to ask, stop()'s verdict stands
            return Outcome(status or JobStatus.CANCELLED, message)
        mapped, note = TERMINAL.get(self._state(job), (JobStatus.FAILED, self._state(job)))
        exit_code = 0 if mapped is JobStatus.SUCCEEDED else None
        if mapped is JobStatus.FAILED:
            message = failed_cell or job.status.message or note or "failed"
        else:
            message = note
        message = "; ".join(filter(None, (message, not_kept)))
        ended = self.run_times(job)[1]
        if unreadable and mapped in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return Outcome(JobStatus.FAILED, f"{message}; {unreadable}" if message else unreadable, exit_code,
                           finished_at=ended)
        return Outcome(mapped, message, exit_code, finished_at=ended)

    def _collect(self, record: JobRecord) -> tuple[str, str]:
        """Fetch everything under the output prefix, put the executed notebook at output/NAME.ipynb, and write
        its stream outputs to logs.txt; returns the failing cell's error and what of the files it wrote was not
        kept (files/ holds those that were: the notebook's own, never the executed one)."""
        self.fetch_outputs(record)
        output = Path(record.job_dir) / "output"
        name = Path(record.origin).name if record.origin.endswith(".ipynb") else ""
        executed = sorted(p for p in output.rglob("*.ipynb")
                          if p.relative_to(output).parts[0] != notebook.KEPT_DIR)  # the notebook's own files
        if not executed:
            return "", ""
        target = output / (name or executed[0].name)
        if executed[0] != target:
            executed[0].replace(target)
        nb = job_output.read_json(output, target.name, job_output.NOTEBOOK_MAX, job_output.check_notebook) or {}
        logs, failure = notebook_text(nb)
        (Path(record.job_dir) / FINAL_LOG).write_text(logs)
        return failure, not_kept(output, nb, logs)

    def output_prefix(self, record: JobRecord) -> str:
        """Runs a Vertex schedule fired write under the schedule's prefix, in a folder named after the run."""
        if record.spec.output_prefix:
            return f"{record.spec.staging_bucket}/{record.spec.output_prefix}"
        return super().output_prefix(record)

    def stream_logs(self, record: JobRecord, follow: bool, stop: StreamStop | None = None) -> Iterator[str]:
        """The Executor streams nothing: with follow, wait for the end, then the executed notebook's output."""
        stop = stop or StreamStop()
        while follow and not record.status.is_final:
            if stop.wait(self.poll_s):
                return
            record = self.refresh(self.store.get(record.id))
        if record.status.is_final:
            yield from self.saved_logs(record)


def _tags(cell: dict[str, Any]) -> list[Any]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return tags if isinstance(tags, list) else []


def not_kept(output: Path, nb: dict[str, Any], logs: str) -> str:
    """What of the files an Executor run wrote under its working directory was not kept, for its message
    (runtime/keep_files.py wrote the manifest); "" when all was, or the run had no cell to keep them."""
    if not any(notebook.KEEP_TAG in _tags(cell) for cell in nb.get("cells", [])):
        return ""
    kept = job_output.read_json(output, notebook.KEPT_MANIFEST, job_output.KEPT_MAX, job_output.check_kept)
    if kept is None:
        said = [line for line in logs.splitlines() if line.startswith(notebook.KEEP_FAILED)]
        why = (said[-1][len(notebook.KEEP_FAILED):][:300] if said else
               "the cell that keeps them did not run (the kernel stopped or the execution timed out first)")
        return f"the files it wrote under its working directory were not kept: {why}"
    named = [f"{entry['path'][:200]} ({entry['reason'][:200]})" for entry in kept["not_kept"][:10]]
    more = len(kept["not_kept"]) - len(named) + kept["more_not_kept"]
    if not named:
        return ""
    return (f"not kept of what it wrote under its working directory: {', '.join(named)}"
            + (f" and {more} more (see the executed notebook)" if more > 0 else ""))


def notebook_text(nb: dict[str, Any]) -> tuple[str, str]:
    """An executed notebook's text outputs as a log, and its first error as `cell N raised TYPE: MESSAGE`
    (N counts the notebook's cells, not the hidden ones containerjob adds to keep its files)."""
    parts: list[str] = []
    failure = ""
    number = 0
    for cell in nb.get("cells", []):
        number += notebook.KEEP_TAG not in _tags(cell)
        for out in cell.get("outputs", []) or []:
            kind = out.get("output_type")
            if kind == "stream":
                parts.append("".join(out.get("text", "")))
            elif kind in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
                parts.append("".join(out["data"]["text/plain"]) + "\n")
            elif kind == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}\n")
                failure = failure or f"cell {number} raised {out.get('ename')}: {out.get('evalue')}"
    return "".join(parts), failure
