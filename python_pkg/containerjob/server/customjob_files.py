"""CustomJob files a client names (`config` of a container job, `GET customjob`): confined to the server's
root like every host path a request names (bodies.under_root), and read by the CLI's own reader
(core/custom_job_file.py), so the sidebar, `containerjob run --config` and gcloud read a file alike."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.custom_job_file import JobFile, read_job_file
from ..core.errors import SpecError
from ..core.spec import join_words
from .bodies import confined_options, under_root

EXAMPLE = "jobs/train.yaml"


def read_config(root: Path, text: str, store_home: Path | None = None) -> JobFile:
    """The CustomJob file at `text` (relative to `root`); a refusal names it as the client did, under the
    field `config` rather than the CLI's --config with the server's absolute path. The host paths the file
    names (a local baseOutputDirectory) are held to the server's root like a request's own options."""
    path = under_root(root, text, "config", EXAMPLE)
    try:
        job_file = read_job_file(str(path))
    except SpecError as exc:
        raise SpecError(str(exc).replace(f"--config {path}", f"config {text}").replace(str(path), text)) from None
    job_file.options, problems = confined_options(job_file.options, root, "config", store_home)
    if problems:  # only baseOutputDirectory.outputUriPrefix gives a file's job a host path
        raise SpecError(f"config {text}: its baseOutputDirectory.outputUriPrefix is refused: {problems[0][1]}")
    return job_file


def preview(job_file: JobFile, text: str) -> dict[str, Any]:
    """What a file sets, for a form to show before the user overrides any of it: the run options it gives
    (option table names), the chief's command and args (as words, and as the line each that the form's Command
    and Arguments take: joined here (core/spec.join_words), never quoted by the browser), and the other worker pools."""
    return {
        "path": text,
        "options": job_file.options,
        "command": job_file.command,
        "args": job_file.args,
        "command_text": join_words(job_file.command),
        "args_text": join_words(job_file.args),
        "pools": [{"image": p.image, "machine_type": p.machine_type, "replica_count": p.replica_count,
                   "accelerator_type": p.accelerator_type, "accelerator_count": p.accelerator_count}
                  for p in job_file.more_pools],
    }
