"""Google API conventions shared by vertex_fake's services (CustomJobs, NotebookExecutionJobs, Schedules).

Errors are answered as Google does ({"error": {"code", "message", "status"}}); request bodies are parsed into
the real aiplatform_v1 protos after every JSON name is checked against them (json_format alone would accept
any name it can ignore); answers are rendered with integer or string enums as the request's `$alt` asks;
long-running operations are google.longrunning.Operation protos, so their `@type`s are the real ones.
"""
from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable

from google.longrunning import operations_pb2
from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message

STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
          500: "INTERNAL", 501: "UNIMPLEMENTED"}
LABEL_KEY, LABEL_VALUE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$"), re.compile(r"^[a-z0-9_-]{0,63}$")
GCS_URI = re.compile(r"^gs://(?P<bucket>[a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:/(?P<path>.*))?$")


class ApiError(Exception):
    """An error answered as Google does: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, status: str | None = None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status or STATUS[code]

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def precondition(message: str) -> ApiError:
    """Vertex answers an action the resource's state forbids with 400 FAILED_PRECONDITION."""
    return ApiError(400, message, "FAILED_PRECONDITION")


@dataclass
class Call:
    """One routed request: `parent` names the project by number, as Vertex writes names back."""

    method: str
    parent: str
    location: str
    rid: str | None
    verb: str | None
    params: dict
    body: Any
    ints: bool
    project: str = ""  # as the request's path named it (the ID or the number)

    def name(self, collection: str) -> str:
        return f"{self.parent}/{collection}/{self.rid}"


def check_names(value: Any, desc, where: str) -> None:
    """Reject JSON names the proto does not have (proto or lowerCamel names both count, as in proto3 JSON)."""
    if not isinstance(value, dict):
        return  # wrong types are json_format's to report
    fields = {name: f for f in desc.fields for name in (f.name, f.json_name)}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field.")
        sub = field.message_type
        if sub is None or sub.GetOptions().map_entry or sub.full_name.startswith("google.protobuf."):
            continue
        if field.is_repeated and isinstance(item, list):
            for i, element in enumerate(item):
                check_names(element, sub, f"{where}.{field.name}[{i}]")
        else:
            check_names(item, sub, f"{where}.{field.name}")


def parse_body(body: Any, message_cls, where: str, output_only: tuple[str, ...] = ()) -> Message:
    """The request body as a plain protobuf of `message_cls` (a proto-plus class), output-only fields cleared
    (Vertex ignores them in requests); ApiError(400) for unknown names, wrong types or bad enum values."""
    if not isinstance(body, dict):
        raise ApiError(400, f"Invalid JSON payload received. Expected a {message_cls.__name__} object.")
    check_names(body, message_cls.pb().DESCRIPTOR, where)
    pb = message_cls.pb()()
    try:
        json_format.ParseDict(body, pb)
    except json_format.ParseError as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}") from exc
    for name in output_only:
        pb.ClearField(name)
    return pb


def check_labels(labels, where: str) -> None:
    bad = [f"{k}={v}" for k, v in labels.items() if not LABEL_KEY.match(k) or not LABEL_VALUE.match(v)]
    if bad or len(labels) > 64:
        raise ApiError(400, f"Invalid {where}.labels {bad}: keys must start with a lowercase letter; keys and values "
                            "may contain only lowercase letters, digits, '_' and '-', at most 63 characters, 64 labels.")


def check_display_name(name: str, where: str) -> None:
    if not name or len(name) > 128:
        raise ApiError(400, f"{where}.display_name is required and must be at most 128 characters.")


def new_id() -> str:
    """A resource ID as Vertex makes them: 19 decimal digits."""
    return str(random.randrange(10**18, 10**19))


def now_ts() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def render(pb: Message, ints: bool) -> dict:
    return json_format.MessageToDict(pb, use_integers_for_enums=ints)


def page(items: list, params: dict, default_size: int = 100) -> tuple[list, str]:
    """One page of `items` and the next page token (an offset: opaque to clients, as Google's are)."""
    try:
        start, size = int(params.get("pageToken") or 0), int(params.get("pageSize") or 0)
    except ValueError as exc:
        raise ApiError(400, f"Invalid page_token or page_size: {exc}") from exc
    size = size if size > 0 else default_size
    return items[start:start + size], (str(start + size) if start + size < len(items) else "")


def order(items: list, order_by: str, keys: dict[str, Callable[[Any], Any]]) -> list:
    """Sort by an AIP-132 `order_by` ("create_time desc, display_name"); unknown fields are a 400."""
    for term in reversed([t.split() for t in order_by.split(",") if t.strip()]):
        if term[0] not in keys or len(term) > 2 or (len(term) == 2 and term[1].lower() not in ("asc", "desc")):
            raise ApiError(400, f"Unsupported order_by term {' '.join(term)!r}; fields: {', '.join(keys)}.")
        items = sorted(items, key=keys[term[0]], reverse=len(term) == 2 and term[1].lower() == "desc")
    return items


class Operation:
    """A google.longrunning.Operation. Created not done (as Vertex answers every LRO at first) it completes
    on its first GET, so a client's operation.result() really polls GET .../operations/ID."""

    def __init__(self, name: str, metadata: Message, response: Message | None = None, done: bool = True):
        self.pb = operations_pb2.Operation(name=name, done=done)
        self.meta = metadata
        self.response = response
        self.lock = threading.Lock()
        self._pack()

    def _pack(self) -> None:
        self.meta.generic_metadata.update_time.GetCurrentTime()
        self.pb.metadata.Pack(self.meta)
        if self.pb.done and self.response is not None:
            self.pb.response.Pack(self.response)

    def get(self, ints: bool) -> dict:
        """The operation as GET answers it; the first GET completes it."""
        with self.lock:
            if not self.pb.done:
                self.pb.done = True
                self._pack()
            return render(self.pb, ints)

    def answer(self, ints: bool) -> dict:
        """The operation as the request that started it answers it (not completed by being read)."""
        with self.lock:
            return render(self.pb, ints)


def operation(fake, parent: str, metadata_cls, response: Message | None = None, done: bool = True) -> Operation:
    """A new operation under `parent`, kept by the fake for GET .../operations/ID."""
    meta = metadata_cls.pb()()
    meta.generic_metadata.create_time.GetCurrentTime()
    op_id = new_id()
    op = Operation(f"{parent}/operations/{op_id}", meta, response, done)
    fake.operations[op_id] = op
    return op
