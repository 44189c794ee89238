"""--retries N and --retry-on CODES: which ends of a job run it again, and how often. One policy for every
backend: the local engine runs the job's containers again (backends/restarts.py), Vertex AI gets the CustomJob
again (backends/resubmit.py); a cancel ends the retries, since only a job still RUNNING is run again.

The default codes: 137 (128 + SIGKILL: a container killed, by the engine's memory limit or by the host) and
the exit codes Vertex AI documents as "exit codes that could be transient", which it "tries to restart the job
up to three times" for: SIGABRT (6, or 134 in custom containers) and SIGSEGV (11, or 139). Source: Google's
"Understand the Vertex AI serverless training service", Handle common errors
(https://cloud.google.com/vertex-ai/docs/training/understanding-training-service; stored copy read 2026-12-08,
the page carries no "Last updated" date). A container killed for memory (OOMKilled) is retried whatever its code:
"killed" is an end of its own, which --retry-on widens with exit codes but does not narrow."""
from __future__ import annotations

from typing import Any

from .errors import SpecError
from .models import JobSpec

KILLED = 137
VERTEX_TRANSIENT = {6: "SIGABRT", 134: "SIGABRT", 11: "SIGSEGV", 139: "SIGSEGV"}
DEFAULT_RETRY_ON = tuple(sorted({KILLED, *VERTEX_TRANSIENT}))
MAX_RETRIES = 100


def parse_retries(value: str | None) -> int:
    """--retries N: how many times a failed job runs again (0: never)."""
    if value is None or str(value).strip() == "":
        return 0
    try:
        retries = int(str(value).strip())
    except ValueError:
        raise SpecError(f"--retries {value!r} is not a number: give how many times to run a failed job again, "
                        f"0..{MAX_RETRIES}", field="retries") from None
    if not 0 <= retries <= MAX_RETRIES:
        raise SpecError(f"--retries {retries} is out of range: use 0..{MAX_RETRIES}", field="retries")
    return retries


def parse_retry_on(value: str | None, retries: int) -> list[int]:
    """--retry-on 137,139: the exit codes that run the job again; none given: DEFAULT_RETRY_ON. Without
    --retries it would do nothing, which is refused rather than ignored."""
    if value is None or not str(value).strip():
        return list(DEFAULT_RETRY_ON) if retries else []
    if not retries:
        raise SpecError(f"--retry-on {value!r} does nothing without --retries N: add --retries 2 (say)",
                        field="retry_on")
    codes = []
    for word in str(value).replace(" ", "").split(","):
        if not word.isdigit() or not 1 <= int(word) <= 255:
            raise SpecError(f"--retry-on {value!r}: {word!r} is not an exit code; give codes 1..255 separated by "
                            "commas, such as 137,139", field="retry_on")
        codes.append(int(word))
    return sorted(set(codes))


def retryable(exit_code: int | None, oom_killed: bool, retry_on: list[int]) -> bool:
    """Whether this end of a run is one --retry-on names (a container killed for memory always is)."""
    return bool(exit_code) and (oom_killed or exit_code in retry_on)


def attempt_line(attempt: int, retries: int, cause: str) -> str:
    """What the log, the record's message and the status say when the job runs again."""
    return f"attempt {attempt} of {retries + 1}: the last one {cause} (--retry-on), so it runs again (--retries {retries})"


def retry_settings(spec: JobSpec) -> dict[str, Any]:
    """What a dry run shows of them: none sent to the engine or in the CustomJob, they are containerjob's own."""
    return {"retries": {"retries": spec.retries, "retryOn": spec.retry_on}} if spec.retries else {}
