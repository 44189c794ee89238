"""Rich output of a cell: display(), IPython.display objects and matplotlib figures reach the originating cell.

A display travels in the job's stdout, which reaches the kernel live through Docker logs and Cloud Logging
alike: its mime bundle as JSON, cut into marker lines (an OSC escape a terminal swallows) written after
everything printed before it. The kernel's view (magics/display.py, core/display_lines.py) puts the bundle
together again and displays it; plain log readers show a `[display: ...]` line instead.

Stdlib only: shipped with the runner. IPython and matplotlib are patched only when the cell imports them,
so a job that uses neither pays nothing; hashing and base64 load only when a display is signed or carries an
image (every job imports this module: its imports are part of every job's start).
"""
from __future__ import annotations

import _thread
import builtins
import io
import itertools
import os
import sys

TYPE_CHECKING = False  # typing is not imported in a job: it costs more than this module
if TYPE_CHECKING:
    import types
    from typing import Any, Callable, Collection, TextIO

    Mimes = Collection[str]  # display()'s include and exclude


MARKER = "\x1b]containerjob-display;"
END = "\x07"
# A line: MARKER id;index/count;size;mime,mime;mac;chunk END, the chunks of a bundle's JSON in order.
PART_FORMAT = MARKER + "%s;%d/%d;%d;%s;%s;%s" + END + "\n"
PART_CHARS = 12 * 1024  # per line: under Docker's 16 KiB log chunks, the views' line cut and a log entry's limit
MAX_BUNDLE = 2 * 1024 * 1024  # characters of JSON per display; a larger one is replaced by a note
MAX_PLAIN_KEPT = 64 * 1024  # of an oversized bundle's text/plain, kept with the note
MPL_BACKEND = "module://containerjob_mpl"

_REPR_METHODS = (
    ("text/html", "_repr_html_"), ("text/markdown", "_repr_markdown_"), ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"), ("image/jpeg", "_repr_jpeg_"), ("text/latex", "_repr_latex_"),
    ("application/json", "_repr_json_"), ("application/javascript", "_repr_javascript_"),
)
_BINARY = ("image/png", "image/jpeg")
_ids = itertools.count(1)
_lock = _thread.allocate_lock()  # threading's Lock, without importing threading
_key: bytes | None = None  # the display key (display_key()) when the job's results are signed


def display_key(job_key: bytes) -> bytes:
    """Displays are signed with a key derived from the job's, so a display's MAC signs nothing else."""
    import hashlib
    import hmac

    return hmac.new(job_key, b"containerjob display", hashlib.sha256).digest()


def install(job_key: bytes | None = None) -> None:
    """For cells: `display` as a builtin, and IPython's display and matplotlib's backend routed here once the
    cell imports them."""
    import after_import  # next to the runner, on a job's sys.path (the host imports this module too)

    global _key
    _key = display_key(job_key) if job_key else None
    setattr(builtins, "display", display)
    after_import.install({
        "IPython.core.display_functions": _patch_ipython,  # IPython >= 7.23
        "IPython.core.display": _patch_ipython,  # older IPython defines display() here
        "matplotlib": _use_backend,
    }, lambda text: _note(text + "; its output does not reach the cell"))


def display(*objs: object, include: Mimes | None = None, exclude: Mimes | None = None,
            metadata: dict[str, Any] | None = None, transient: object = None, display_id: object = None,
            raw: bool = False, clear: bool = False, **kwargs: object) -> _Handle | None:
    """IPython's display(): needs no IPython in the image, and replaces IPython's, which needs a shell."""
    for obj in objs:
        if raw:
            publish(obj, metadata)
        else:
            data, found = mime_bundle(obj, include, exclude)
            found.update(metadata or {})
            publish(data, found)
    return _Handle() if display_id else None


class _Handle:
    """What display(..., display_id=...) returns: an update is a new output (a log has no places to update)."""

    def display(self, obj: object, **kwargs: Any) -> None:
        display(obj, **kwargs)

    update = display


def mime_bundle(obj: object, include: Mimes | None = None,
                exclude: Mimes | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, metadata) as IPython formats obj: _repr_mimebundle_ first, then each _repr_*_, then repr()."""
    data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    if _is_figure(obj):
        png = _figure_png(obj)
        if png:
            data["image/png"] = png
    method = _repr_method(obj, "_repr_mimebundle_")
    if method:
        found = _call(method, include=include, exclude=exclude)
        if isinstance(found, tuple) and len(found) == 2:
            found, more = found
            metadata.update(more if isinstance(more, dict) else {})
        data.update(found if isinstance(found, dict) else {})
    for mime, name in _REPR_METHODS:
        method = _repr_method(obj, name)
        if mime in data or not method:
            continue
        value = _call(method)
        if isinstance(value, tuple) and len(value) == 2:
            value, more = value
            metadata[mime] = more
        if value is not None:
            data[mime] = _base64(value) if isinstance(value, bytes) else value
    data.setdefault("text/plain", _repr(obj))
    chosen = {m: v for m, v in data.items() if (not include or m in include) and (not exclude or m not in exclude)}
    return chosen, metadata


def _repr_method(obj: object, name: str) -> Callable[..., Any] | None:
    """As IPython: looked up on instances only (a class's _repr_html_ is not a representation of the class)."""
    if isinstance(obj, type):
        return None
    try:
        method = getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - a __getattr__ that raises: no such representation
        return None
    return method if callable(method) else None


def _call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return method(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one failing representation does not lose the others
        _note("%s failed: %s: %s" % (getattr(method, "__name__", "a _repr_ method"), type(exc).__name__, exc))
        return None


def _repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception as exc:  # noqa: BLE001
        return "<unrepresentable %s: %s>" % (type(obj).__name__, exc)


def publish(data: object, metadata: dict[str, Any] | None = None) -> None:
    """One display, as marker lines on stdout after everything printed before it."""
    import json  # json and re load with the first display, not with every job
    import re

    # display(x, raw=True) with something not a bundle
    bundle: dict[Any, Any] = data if isinstance(data, dict) else {"text/plain": _repr(data)}
    try:
        text = json.dumps({"data": bundle, "metadata": metadata or {}}, ensure_ascii=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        text = _dropped(bundle, "it cannot be written as JSON (%s)" % exc)
    if len(text) > MAX_BUNDLE:
        text = _dropped(bundle, "it is %s, over the %s one display may carry; save large outputs to a file instead"
                        % (_size(len(text)), _size(MAX_BUNDLE)))
    mimes = ",".join(re.sub(r"[^\w.+/-]", "", str(m)) for m in sorted(bundle, key=str))
    mac = _mac(_key, text) if _key else ""
    count = max(1, -(-len(text) // PART_CHARS))
    with _lock:
        ident = "%x-%d" % (os.getpid(), next(_ids))
        lines = [PART_FORMAT % (ident, i + 1, count, len(text), mimes, mac, text[i * PART_CHARS:(i + 1) * PART_CHARS])
                 for i in range(count)]
        for stream in (sys.stdout, sys.stderr):
            _flush(stream)
        out: TextIO = sys.__stdout__  # type: ignore[assignment]  # None only where Python runs with no stdout
        out.write("".join(lines))
        out.flush()


def _mac(key: bytes, text: str) -> str:
    import hashlib
    import hmac

    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def _dropped(data: dict[Any, Any], why: str) -> str:
    """The note an undeliverable bundle becomes, with its text/plain when that is short enough to keep."""
    import json

    plain = data.get("text/plain") if isinstance(data, dict) else None
    note = "[containerjob: a display of %s is not shown: %s]" % (", ".join(sorted(map(str, data))) or "nothing", why)
    if isinstance(plain, str) and len(plain) <= MAX_PLAIN_KEPT:
        note = plain + "\n" + note
    return json.dumps({"data": {"text/plain": note}, "metadata": {}}, ensure_ascii=True, separators=(",", ":"))


def _size(chars: int) -> str:
    return "%.1f MiB" % (chars / 1048576.0) if chars >= 1048576 else "%d KiB" % max(1, chars // 1024)


def _flush(stream: TextIO) -> None:
    try:
        stream.flush()
    except Exception:  # noqa: BLE001 - a closed or odd stream the cell put there
        pass


def _note(text: str) -> None:
    sys.stderr.write("containerjob: %s\n" % text)
    _flush(sys.stderr)


# -- matplotlib --------------------------------------------------------------------------------------------


def _is_figure(obj: object) -> bool:
    figure = sys.modules.get("matplotlib.figure")
    return figure is not None and isinstance(obj, figure.Figure)


def _figure_png(fig: Any) -> str | None:  # a matplotlib Figure
    """As IPython's inline backend: tight bounding box; an empty figure is no image."""
    if not fig.axes and not getattr(fig, "lines", None):
        return None
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", bbox_inches="tight")
    except Exception as exc:  # noqa: BLE001 - text/plain still goes
        _note("could not draw a figure: %s: %s" % (type(exc).__name__, exc))
        return None
    return _base64(buf.getvalue())


def _base64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def show_figures() -> None:
    """plt.show(): every open pyplot figure to the cell as image/png, then closed."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if helpers is None:
        return
    managers = helpers.Gcf.get_all_fig_managers()
    for manager in managers:
        display(manager.canvas.figure)
    if managers:
        sys.modules["matplotlib.pyplot"].close("all")


def flush_figures() -> None:
    """At the end of a cell, figures left open are shown as the inline backend shows them; only when the
    cell drew with this backend (never imports matplotlib itself)."""
    if "containerjob_mpl" not in sys.modules:
        return
    try:
        show_figures()
    except Exception as exc:  # noqa: BLE001 - the cell's results matter more than its figures
        _note("could not show the open figures: %s: %s" % (type(exc).__name__, exc))


def _use_backend(matplotlib: types.ModuleType) -> None:
    """The cell's backend, as Jupyter's inline one would be; MPLBACKEND given to the job still wins."""
    if not os.environ.get("MPLBACKEND"):
        matplotlib.use(MPL_BACKEND)


# -- IPython ------------------------------------------------------------------------------------------------


def _patch_ipython(module: types.ModuleType) -> None:
    """IPython's display() prints a repr when no shell runs (none does in a job): route it here."""
    if hasattr(module, "display"):
        setattr(module, "display", display)
    if hasattr(module, "publish_display_data"):
        setattr(module, "publish_display_data", _publish_display_data)


def _publish_display_data(data: object, metadata: dict[str, Any] | None = None, source: object = None,
                          **kwargs: object) -> None:
    publish(data, metadata)
