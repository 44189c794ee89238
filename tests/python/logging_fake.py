"""A local fake of the Cloud Logging v2 REST API's `entries:list`, as strict as the real one for what
containerjob sends: unknown body fields, a filter outside the supported grammar, a bad orderBy or pageSize
are 400 INVALID_ARGUMENT in Google's error shape; entries come back as LogEntry JSON, paged.

    fake = LoggingFake()                  # serves http://127.0.0.1:PORT/v2/entries:list
    fake.write(project, resource_labels, text, log_id="workerpool0-0", severity="INFO")
    fake.requests                         # the bodies received
    fake.close()

The Vertex fake writes each CustomJob container's lines here as they are printed (resource.type ml_job,
labels job_id / task_name / project_id), which is what Vertex AI does.
"""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY_FIELDS = {"resourceNames", "filter", "orderBy", "pageSize", "pageToken"}
# FIELD OP "VALUE" terms joined by AND: the part of the Logging query language containerjob uses.
TERM = re.compile(r'^(resource\.type|resource\.labels\.[a-z_]+|timestamp|logName|insertId)\s*(=|>=|>|<=|<)\s*"([^"]*)"$')
MAX_PAGE = 1000


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class LoggingFake:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._count = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    if self.path.split("?")[0] != "/v2/entries:list":
                        raise ApiError(404, "NOT_FOUND", f"no route {self.path}")
                    try:
                        body = json.loads(self.rfile.read(length) or b"{}")
                    except ValueError:
                        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
                    reply, code = fake.list_entries(body), 200
                except ApiError as exc:
                    reply, code = {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}, exc.code
                data = json.dumps(reply).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="logging-fake", daemon=True).start()

    def write(self, project: str, resource_type: str, labels: dict[str, str], text: str, *, log_id: str,
              severity: str = "DEFAULT") -> None:
        """One entry, as Cloud Logging stores what a container printed (a line, no newline)."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.lock:
            self._count += 1
            self.entries.append({"logName": f"projects/{project}/logs/{log_id}",
                                 "resource": {"type": resource_type, "labels": dict(labels)},
                                 "textPayload": text, "timestamp": now, "receiveTimestamp": now,
                                 "severity": severity, "insertId": f"{self._count:012x}"})

    def list_entries(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        unknown = sorted(set(body) - BODY_FIELDS)
        if unknown:
            raise ApiError(400, "INVALID_ARGUMENT",
                           f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
        self.requests.append(body)
        names = body.get("resourceNames") or []
        if not names or not all(re.fullmatch(r"projects/[a-z0-9-]+", n) for n in names):
            raise ApiError(400, "INVALID_ARGUMENT", "resource_names must name projects/PROJECT_ID")
        projects = {n.split("/")[1] for n in names}
        order = body.get("orderBy", "timestamp asc")
        if order not in ("timestamp asc", "timestamp desc"):
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid orderBy: {order}")
        size = body.get("pageSize", 50)
        if not isinstance(size, int) or not 0 < size <= MAX_PAGE:
            raise ApiError(400, "INVALID_ARGUMENT", f"page_size must be 1..{MAX_PAGE}")
        terms = self._terms(body.get("filter", ""))
        with self.lock:
            found = [e for e in self.entries
                     if e["logName"].split("/")[1] in projects and all(self._match(e, *t) for t in terms)]
        found.sort(key=lambda e: (e["timestamp"], e["insertId"]), reverse=order.endswith("desc"))
        start = int(body.get("pageToken") or 0)
        page = found[start:start + size]
        reply: dict[str, Any] = {"entries": page} if page else {}
        if start + size < len(found):
            reply["nextPageToken"] = str(start + size)
        return reply

    @staticmethod
    def _terms(text: str) -> list[tuple[str, str, str]]:
        if not text.strip():
            return []
        terms = []
        for part in re.split(r"\s+AND\s+", text.strip()):
            match = TERM.match(part.strip())
            if not match:
                raise ApiError(400, "INVALID_ARGUMENT", f"Unparseable filter: {part!r}")
            terms.append(match.groups())
        return terms

    @staticmethod
    def _match(entry: dict[str, Any], field: str, op: str, value: str) -> bool:
        if field == "resource.type":
            have = entry["resource"]["type"]
        elif field.startswith("resource.labels."):
            have = entry["resource"]["labels"].get(field.split(".", 2)[2])
            if have is None:
                return False
        else:
            have = entry[field]
        return {"=": have == value, ">=": have >= value, ">": have > value, "<=": have <= value,
                "<": have < value}[op]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
