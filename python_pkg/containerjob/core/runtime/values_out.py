"""What a finished cell sends back to the kernel: its outputs, the inputs it changed in place and the value
of its trailing expression, written into the job's output folder. Stdlib only, shipped with the runner.

Plain scalars travel inside result.json (no pickle on either side); anything else is a pickle of its own,
written piece by piece and handed to the disk as written (the engine flushes its data-root's file system
at the container's exit). An input the cell did not rebind goes back only when its bytes differ from the
payload's, told without a pass over an array the cell only read.
"""
from __future__ import annotations

import os
import types

import json_c
import pickle_frames
import writeback

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import mmap
    from typing import Any, TypedDict, Union

    from .pickle_frames import Frames
    from .result_signing import Signer

    Summary = dict[str, Any]  # {"type": ..., "size": ...}, plus "value" for a plain scalar sent inline
    Mapped = dict[str, list[Union[mmap.mmap, None]]]  # per input, its buffers' mappings (pickle_frames.load)

    class Result(TypedDict, total=False):
        """result.json's summary of what the cell sends back."""

        outputs: dict[str, Summary]
        skipped: dict[str, str]
        modules: dict[str, str]
        updated: list[str]
        unchanged: list[str]
        last: dict[str, Any]
        python: str  # the runner adds these three
        seconds: float
        exit_code: int


MAX_REPR = 2000
MAX_INLINE = 4096  # characters of JSON a plain scalar may take in result.json (instead of a pickle of its own)
_PLAIN = (int, float, str, bool, type(None))  # exact types: JSON gives back the same value and type
# Values of these exact types cannot change in place: an input of one is never re-pickled to look
_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), range)
NOTHING = object()  # what a source without a trailing expression evaluates to


def atomic_write(path: str, data: bytes | Frames, signer: Signer | None = None) -> None:
    """data: bytes, or a value's pickle_frames.Frames; signed as written when the job has a key (signer)."""
    tmp = path + ".tmp"
    chunks: list[bytes | memoryview] = [data] if isinstance(data, bytes) else data.chunks()
    mac = signer.new(path) if signer else None
    with open(tmp, "wb") as fh:
        writeback.write(fh, chunks, mac.update if mac else None)  # on disk before the container's exit flush
    os.replace(tmp, path)
    if signer and mac:
        signer.add(path, mac)


def dump(value: object) -> Frames:
    """Plain pickle when the value needs no code by value, cloudpickle otherwise (large buffers out of band)."""
    try:
        frames: Frames = pickle_frames.dumps(value)
        if b"__main__" not in frames.inband:
            return frames
    except Exception:  # noqa: BLE001 - plain pickle refused it: cloudpickle below tries by value
        pass
    import cloudpickle

    by_value: Frames = pickle_frames.dumps(value, cloudpickle.dumps)
    return by_value


def save_outputs(manifest: dict[str, Any], payload: str, mapped: Mapped, namespace: dict[str, Any], output: str,
                 last_value: object, signer: Signer | None = None) -> Result:
    """Write every output, changed input and the trailing value; returns result.json's summary of them.
    mapped: per input, the mappings of its buffers from the payload (pickle_frames.load)."""
    values_dir = os.path.join(output, "values")
    os.makedirs(values_dir, exist_ok=True)
    result: Result = {"outputs": {}, "skipped": {}, "modules": {}, "updated": [], "unchanged": []}
    for name in manifest["outputs"]:
        if name not in namespace:
            result["skipped"][name] = "not defined after the run"
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            result["modules"][name] = value.__name__
            continue
        inline = _inline(value)
        if inline is not None:
            result["outputs"][name] = inline
            if name in manifest["inputs"]:
                result["updated"].append(name)
            continue
        try:
            data = dump(value)
        except Exception as exc:  # noqa: BLE001 - any pickling failure is reported per variable
            result["skipped"][name] = "cannot be pickled: %s: %s" % (type(exc).__name__, exc)
            continue
        atomic_write(os.path.join(values_dir, name + ".pkl"), data, signer)
        result["outputs"][name] = _describe(value, data)
        if name in manifest["inputs"]:  # x = x + 1: an input, rebound
            result["updated"].append(name)
    _save_updated(manifest, payload, mapped, namespace, values_dir, result, signer)
    if last_value is not NOTHING and last_value is not None:
        entry: dict[str, Any] = {"repr": _safe_repr(last_value)}
        inline = _inline(last_value)
        if inline is not None:
            entry.update(inline)
        else:
            try:
                data = dump(last_value)
                atomic_write(os.path.join(values_dir, "_last.pkl"), data, signer)
                entry.update(_describe(last_value, data))
            except Exception:  # noqa: BLE001 - the repr still comes back
                pass
        result["last"] = entry
    return result


def _save_updated(manifest: dict[str, Any], payload: str, mapped: Mapped, namespace: dict[str, Any],
                  values_dir: str, result: Result, signer: Signer | None) -> None:
    """Inputs the cell did not rebind but may have changed in place (rows.append(3), cfg["k"] += 1,
    df["c"] = ...): re-pickled the way the kernel pickled them and sent back only when the bytes differ from
    the payload's: told by the pages the cell wrote where the input's buffers are still the payload's
    mappings (no pass over an array the cell only read), else by comparing them with the payload file."""
    for name, entry in manifest["inputs"].items():
        if name in manifest["outputs"] or "pickle" not in entry or name not in namespace:
            continue
        value = namespace[name]
        if type(value) in _IMMUTABLE:
            result["unchanged"].append(name)
            continue
        try:
            import cloudpickle

            frames = pickle_frames.dumps(value, cloudpickle.dumps)
        except Exception as exc:  # noqa: BLE001 - reported per variable
            result["skipped"][name] = "cannot be pickled: %s: %s" % (type(exc).__name__, exc)
            continue
        if _as_sent(frames, os.path.join(payload, entry["pickle"]), mapped.get(name, [])):
            result["unchanged"].append(name)
            continue
        atomic_write(os.path.join(values_dir, name + ".pkl"), frames, signer)
        result["outputs"][name] = _describe(value, frames)
        result["updated"].append(name)


def _as_sent(frames: Frames, path: str, mapped: list[mmap.mmap | None]) -> bool:
    """Whether an input pickled again is the bytes the kernel sent (path: its file in the payload)."""
    import page_writes

    with open(path, "rb") as fh:
        same: bool | None = page_writes.same_bytes(frames, pickle_frames.layout(fh), fh.fileno(), mapped)
        return page_writes.same_as_file(frames.chunks(), fh) if same is None else same


def _inline(value: object) -> Summary | None:
    """A plain scalar's summary carrying the value itself: no pickle here, no unpickling in the kernel."""
    if type(value) not in _PLAIN:
        return None
    try:
        size = len(json_c.dumps(value))
    except ValueError:  # an int over the interpreter's digit limit for str()
        return None
    return {"type": type(value).__name__, "size": size, "value": value} if size <= MAX_INLINE else None


def _describe(value: object, frames: Frames) -> Summary:
    kind = type(value)
    name = kind.__name__ if kind.__module__ in ("builtins", "__main__") else kind.__module__ + "." + kind.__qualname__
    return {"type": name, "size": frames.size}


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001
        text = "<unrepresentable %s: %s>" % (type(value).__name__, exc)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."
