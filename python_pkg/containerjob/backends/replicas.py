"""Several replicas of a local job, rehearsed as Vertex AI runs them: one container per replica on a Docker
network of the job's own, each reachable by its replica name (workerpool{P}-{I}, the hosts CLUSTER_SPEC and
TF_CONFIG list), their logs merged line by line with the replica's name in front, the job's verdict taken
as Vertex takes it (the first failing replica fails the job; the chief's success ends it)."""
from __future__ import annotations

import codecs
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import docker
import docker.errors

from ..core.errors import BackendError
from ..core.job_files import FINAL_LOG
from ..core.models import CHIEF, JobSpec, JobStatus, Replica
from ..core.replica_states import ReplicaState
from .base import StreamStop
from .engine import engine_errors, gone_ok

T = TypeVar("T")
LABEL_REPLICA = "containerjob.replica"
REPLICA_LOGS = "replicas"  # in the job folder: each replica's own log, NAME.txt


def network_name(job_id: str) -> str:
    return f"containerjob-{job_id}"


def container_name(job_id: str, replica: Replica) -> str:
    """The chief keeps the one-container name (a job's container is found by it while it starts)."""
    return f"containerjob-{job_id}" if replica.is_chief else f"containerjob-{job_id}-{replica.name}"


def is_pool_job(spec: JobSpec) -> bool:
    return len(spec.replicas()) > 1


@dataclass
class Verdict:
    """What the replicas say about the job: None while it runs."""

    status: JobStatus | None
    message: str = ""
    exit_code: int | None = None


def verdict(states: dict[str, dict[str, Any]]) -> Verdict:
    """From each replica's inspect State, as Vertex decides: the chief's success ends the job (workers that end
    after it, stopped or failing as their peer went away, do not count); a replica that failed before that
    fails the job (the first to fail, by finish time). The same answer in every process that asks."""
    ended = {name: s for name, s in states.items() if s.get("Status") in ("exited", "dead")}
    chief = ended.get(CHIEF.name)
    chief_done = chief.get("FinishedAt", "") if chief is not None and not chief.get("ExitCode") else None
    failed = sorted((s.get("FinishedAt", ""), name) for name, s in ended.items()
                    if s.get("ExitCode") and (chief_done is None or s.get("FinishedAt", "") < chief_done))
    if failed:
        name = failed[0][1]
        code = ended[name]["ExitCode"]
        why = "ran out of memory (OOM killed)" if ended[name].get("OOMKilled") else f"exited with code {code}"
        return Verdict(JobStatus.FAILED, f"replica {name} {why}", code)
    if chief_done is not None:
        return Verdict(JobStatus.SUCCEEDED, "", 0)
    return Verdict(None)


STOPPED_CODES = (137, 143)  # SIGKILL, SIGTERM: what `docker stop` ends a replica with


def states(spec: JobSpec, infos: dict[str, dict[str, Any]], ended_why: str | None = None) -> list[ReplicaState]:
    """Each replica of the spec in JobStatus words, from its container's inspect (a missing one: QUEUED, not
    created yet). At the end (`ended_why`: the job's final message), a replica stopped by a signal that the
    message does not name was stopped because the job ended: CANCELLED, not FAILED."""
    found = []
    for replica in spec.replicas():
        state = (infos.get(replica.name) or {}).get("State") or {}
        docker_status, code = state.get("Status"), state.get("ExitCode")
        message = ""
        if not state:
            status = JobStatus.QUEUED
        elif docker_status == "created":
            status = JobStatus.PENDING
        elif docker_status not in ("exited", "dead"):
            status = JobStatus.RUNNING
        elif code == 0:
            status = JobStatus.SUCCEEDED
        elif state.get("OOMKilled"):
            status, message = JobStatus.FAILED, "ran out of memory (OOM killed)"
        elif ended_why is not None and code in STOPPED_CODES and f"replica {replica.name} " not in ended_why:
            status, message = JobStatus.CANCELLED, "stopped as the job ended"
        else:
            status, message = JobStatus.FAILED, f"exited with code {code}"
        ended = docker_status in ("exited", "dead")
        found.append(ReplicaState(name=replica.name, pool=replica.pool, index=replica.index, state=status.value,
                                  exit_code=code if ended else None, message=message))
    return found


def each(call: Callable[..., T], calls: list[tuple]) -> list[T]:
    """call(*args) for every args at once (engine calls wait on the engine, not on us), results in order;
    the first error is raised once all have returned. One call runs here, with no thread."""
    if len(calls) == 1:
        return [call(*calls[0])]
    with ThreadPoolExecutor(max_workers=min(len(calls), 16), thread_name_prefix="containerjob-replica") as pool:
        futures = [pool.submit(call, *args) for args in calls]
    return [f.result() for f in futures]


def create_network(client: docker.DockerClient, job_id: str, labels: dict[str, str]) -> None:
    """The job's own bridge network; an engine out of address pools (networks leaked elsewhere) says the fix."""
    try:
        with engine_errors("create the job's network"):
            client.api.create_network(network_name(job_id), driver="bridge", labels=labels)
    except BackendError as exc:
        if "address pool" in str(exc):
            raise BackendError(f"{exc}; the engine has no network addresses left: remove unused networks with "
                               "`containerjob gc` or `docker network prune`") from None
        raise


def remove_network(client: docker.DockerClient, job_id: str) -> None:
    """Gone already, or still holding a replica another process is removing: both are fine here."""
    with engine_errors(f"remove the network of job {job_id}"), gone_ok():
        try:
            client.api.remove_network(network_name(job_id))
        except docker.errors.APIError as exc:
            if "active endpoints" not in str(exc.explanation or exc):
                raise


def merged_logs(client: docker.DockerClient, containers: dict[str, str], follow: bool,
                stop: StreamStop | None) -> Iterator[str]:
    """Every replica's log as it comes, each line prefixed with its replica's name; `stop` closes them all."""
    lines: queue.Queue[Any] = queue.Queue()
    done = object()

    def pump(name: str, ref: str) -> None:
        try:
            stream = client.api.logs(ref, stream=True, follow=follow, stdout=True, stderr=True)
            if stop is not None:
                stop.on_set(stream.close)
            decoder, pending = codecs.getincrementaldecoder("utf-8")(errors="replace"), ""
            for chunk in stream:
                pending += decoder.decode(chunk)
                *whole, pending = pending.split("\n")
                for line in whole:
                    lines.put(f"[{name}] {line}\n")
            if pending := pending + decoder.decode(b"", final=True):
                lines.put(f"[{name}] {pending}\n")
        except (docker.errors.DockerException, OSError, ValueError):
            pass  # a replica removed meanwhile, or its stream closed by `stop`: the others go on
        finally:
            lines.put(done)

    for name, ref in containers.items():
        threading.Thread(target=pump, args=(name, ref), name=f"logs-{name}", daemon=True).start()
    open_streams = len(containers)
    while open_streams:
        item = lines.get()
        if item is done:
            open_streams -= 1
        else:
            yield item


def keep_logs(client: docker.DockerClient, containers: dict[str, str], job_dir: Path) -> None:
    """At the end: the merged log in time order (prefixed lines) as the job's log, and each replica's own
    under replicas/NAME.txt."""
    stamped: list[tuple[str, str]] = []
    (job_dir / REPLICA_LOGS).mkdir(exist_ok=True)
    for name, ref in containers.items():
        with engine_errors(f"keep the log of replica {name}"), gone_ok():
            raw = client.api.logs(ref, stdout=True, stderr=True, timestamps=True).decode("utf-8", errors="replace")
            text = []
            for line in raw.split("\n"):  # not splitlines(): a progress bar's \r belongs to its line
                if not line:
                    continue
                stamp, _, rest = line.partition(" ")
                stamped.append((stamp, f"[{name}] {rest}\n"))
                text.append(rest + "\n")
            (job_dir / REPLICA_LOGS / f"{name}.txt").write_text("".join(text))
    (job_dir / FINAL_LOG).write_text("".join(line for _, line in sorted(stamped, key=lambda s: s[0])))


def replica_infos(client: docker.DockerClient, job_id: str, store_label: str) -> dict[str, dict[str, Any]]:
    """Each replica container's inspect, by replica name."""
    with engine_errors(f"list the replicas of job {job_id}"):
        found = client.api.containers(all=True, filters={"label": [f"containerjob.job={job_id}",
                                                                  f"containerjob.store={store_label}"]})
    infos = {}
    for container in found:
        with engine_errors(f"inspect a replica of job {job_id}"):
            try:
                info = client.api.inspect_container(container["Id"])
            except docker.errors.NotFound:
                continue
        infos[(info["Config"].get("Labels") or {}).get(LABEL_REPLICA, info["Name"])] = info
    return infos
