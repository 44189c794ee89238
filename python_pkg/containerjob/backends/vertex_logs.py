"""A Vertex AI CustomJob's log, read where Vertex puts it: Cloud Logging entries of resource type ml_job with
the job's ID, one log per replica (workerpool0-0, workerpool1-0, ...), through google-cloud-logging.

Entries arrive in Cloud Logging a little after they are printed, and a read may race a write of the same
second: each read asks from the last timestamp seen (inclusive) and drops the insertIds already shown."""
from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any, Iterator

from ..core.errors import BackendError, BackendUnavailable

PAGE_SIZE = 1000


class JobLog:
    """One job's entries, read incrementally: each `read()` returns the text not returned before."""

    def __init__(self, client: Any, project: str, job_number: str, *, since: float, replica_prefix: bool = False) -> None:
        """`since`: when the job was created (a bound the client needs: without one it reads the last 24 h only)."""
        self._client, self._project, self._job = client, project, job_number
        self._since = _rfc3339(datetime.fromtimestamp(since - 60, timezone.utc))
        self._seen: set[str] = set()
        self._prefix = replica_prefix

    def read(self) -> str:
        """The entries written since the last read, as lines (with a [workerpoolN-I] prefix for multi-replica
        jobs); "" when there is nothing new."""
        query = f'resource.type="ml_job" AND resource.labels.job_id="{self._job}" AND timestamp>="{self._since}"'
        lines = []
        for entry in self._entries(query):
            if entry.insert_id in self._seen:
                continue
            self._seen.add(entry.insert_id)
            self._since = _rfc3339(entry.timestamp)
            text = _text(entry.payload)
            task = (entry.resource.labels or {}).get("task_name", "") if entry.resource else ""
            lines.append(f"[{task}] {text}" if self._prefix and task else text)
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def _entries(self, query: str) -> Iterator[Any]:
        from google.api_core import exceptions as gexc
        from google.cloud.logging_v2 import ASCENDING

        try:
            yield from self._client.list_entries(resource_names=[f"projects/{self._project}"], filter_=query,
                                                 order_by=ASCENDING, page_size=PAGE_SIZE)
        except (gexc.Unauthorized, gexc.Forbidden) as exc:  # over HTTP: 401 and 403 (Unauthenticated, PermissionDenied)
            raise BackendError(f"Cloud Logging refused to read the job's log ({exc.message}); the reader needs "
                               "roles/logging.viewer on the project") from None
        except (gexc.ServiceUnavailable, gexc.GatewayTimeout, gexc.TooManyRequests, gexc.DeadlineExceeded,
                OSError) as exc:
            raise BackendUnavailable(f"Cloud Logging is unreachable ({exc}); the job's log is read again later") from None
        except gexc.GoogleAPIError as exc:
            raise BackendError(f"Cloud Logging error reading the job's log: {exc}") from None


def logging_client(project: str, endpoint: str, anonymous: bool, timeout_s: float) -> Any:
    """A google-cloud-logging client over HTTP/JSON (the v2 REST API), at `endpoint` when one is set; each
    request waits at most `timeout_s` (the library's own 60 s is not settable any other way)."""
    from google.cloud import logging_v2

    credentials = None
    if anonymous:
        from google.auth.credentials import AnonymousCredentials

        credentials = AnonymousCredentials()
    options = {"api_endpoint": endpoint} if endpoint else None
    client = logging_v2.Client(project=project, credentials=credentials, _use_grpc=False, client_options=options)
    client._connection.api_request = functools.partial(client._connection.api_request, timeout=timeout_s)
    return client


def _text(payload: Any) -> str:
    """textPayload as is; jsonPayload's message (what Vertex's log agent writes), else the JSON."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return str(payload.get("message", payload))
    return "" if payload is None else str(payload)


def _rfc3339(stamp: datetime | None) -> str:
    stamp = stamp or datetime.now(timezone.utc)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
