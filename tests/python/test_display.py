"""The live views: both keep a bounded log and say what they left out; the whole log stays on disk. What the
job displays comes out of its log whole, in order, signed where it must be; plain log readers see a short line."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cjtest import published, recorded_displays
from containerjob.core.display_lines import MARKER, plain_log, summarise
from containerjob.core.job_files import FINAL_LOG, LIVE_LOG, read_log
from containerjob.core.models import JobRecord, JobStatus, StoredSpec
from containerjob.magics.display import JOB_MIME, MAX_LINE_CHARS, TextView, WidgetView, make_view


def test_widget_view_bounds_the_log_and_says_so():
    view = make_view("widgets", max_lines=100)
    assert isinstance(view, WidgetView)
    for i in range(1000):
        view.output(f"line {i}\n")
    view.output("partial")
    view.close()
    (logs,) = (child.value for child in view.widget.children)  # the log pane alone: no status text in it
    assert "900 earlier lines not shown (whole log: %containerjob logs ID)" in logs and "line 999" in logs and "line 899\n" not in logs
    assert logs.rstrip("</pre>").endswith("partial")


def record(status: JobStatus) -> JobRecord:
    return JobRecord(id="cj-00000009", name="cell", backend="local", status=status, spec=StoredSpec(worker_pools=[]),
                     image="python:3.11-slim", started_at=1.0 if status.is_final else None,
                     finished_at=2.0 if status.is_final else None)


def test_in_a_front_end_the_chip_is_the_cell_s_only_status(ipython_shell, capsys):
    """Before the job exists one slot says what happens (preparing); then the same slot becomes the chip and
    the kernel writes no status text of its own; its end updates the chip, which re-reads the record."""
    with published(ipython_shell) as events:
        view = make_view("widgets", max_lines=10)
        view.status("preparing · sending no variables")
        view.announce(record(JobStatus.RUNNING))
        view.status(record(JobStatus.RUNNING).id + " RUNNING · local · 0.0 s")  # said nothing from here on
        view.output("hello\n")
        view.ended(record(JobStatus.SUCCEEDED))
        view.close()
    slot = events[0][1]
    assert slot and all(display_id == slot for _, display_id, update in events if update)
    texts = [data["text/plain"] for data, display_id, _ in events if display_id == slot]
    assert texts == ["", "[containerjob] preparing · sending no variables", "containerjob job cj-00000009 (local)",
                     "containerjob job cj-00000009 (local)"]
    chips = [data[JOB_MIME] for data, _, _ in events if JOB_MIME in data]
    assert chips == [{"id": "cj-00000009", "backend": "local", "status": status, "view": "widgets"}
                     for status in ("RUNNING", "SUCCEEDED")]
    assert not any("RUNNING ·" in str(data) or "SUCCEEDED ·" in str(data) for data, _, _ in events)
    assert "RUNNING" not in capsys.readouterr().out
    assert "hello" in view.widget.children[0].value


def test_without_a_front_end_the_text_lines_are_the_status(ipython_shell, capsys):
    """papermill, nbconvert: status lines; the output naming the job says so, and a chip shows no status."""
    with published(ipython_shell) as events:
        view = TextView(max_lines=10)
        view.status("preparing · sending no variables")
        view.announce(record(JobStatus.RUNNING))
        view.ended(record(JobStatus.SUCCEEDED))
        view.close()
    assert [data[JOB_MIME] for data, _, _ in events] == [
        {"id": "cj-00000009", "backend": "local", "status": "RUNNING", "view": "text"}]
    assert capsys.readouterr().out.splitlines() == [
        "[containerjob] preparing · sending no variables",
        "[containerjob] cj-00000009 RUNNING · local · python:3.11-slim",
        "[containerjob] cj-00000009 SUCCEEDED · local · python:3.11-slim · 1.0 s"]


def test_text_view_and_auto_mode(capsys, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    view = make_view("auto", max_lines=10)
    assert isinstance(view, TextView)
    view.status("a")
    view.status("a")  # repeated status is printed once
    view.output("log\n")
    assert capsys.readouterr().out == "[containerjob] a\nlog\n"


def test_text_view_writes_the_first_lines_then_holds_back_and_ends_with_the_last(capsys):
    view = TextView(max_lines=100)
    view.job = "cj-00000002"
    for start in range(0, 1000, 7):  # chunks that split lines anywhere
        view.output("".join(f"line {i}\n" for i in range(start, min(start + 7, 1000))))
    live = capsys.readouterr().out
    assert "line 99\n" in live and "line 100\n" not in live
    assert "over 100 lines: further output is held back" in live and "%containerjob logs cj-00000002" in live
    view.output("partial")
    view.close()
    end = capsys.readouterr().out.splitlines()
    assert end[0] == "[containerjob] … 800 lines not shown (whole log: %containerjob logs cj-00000002) …"
    assert end[1:] == [f"line {i}" for i in range(900, 1000)] + ["partial"]


def test_a_line_without_newline_is_cut_so_memory_stays_bounded():
    view = make_view("widgets", max_lines=10)
    view.output("x" * (MAX_LINE_CHARS * 50 + 3))
    view.close()
    logs = view.widget.children[0].value
    assert len(logs) < MAX_LINE_CHARS * 12 and "40 earlier lines not shown" in logs


def test_a_progress_bar_is_redrawn_in_place_not_written_line_by_line(capsys):
    """tqdm in a container writes \r redraws to stderr: one line on screen, at most one redraw a second."""
    view = TextView(max_lines=10)
    for i in range(0, 501):
        view.output(f"\r{i / 5:5.1f}%|{'#' * (i // 50)}")
    view.output("\n")
    view.output("after\n")
    view.close()
    out = capsys.readouterr().out
    lines = out.split("\n")
    assert lines[0].split("\r")[-1] == "100.0%|##########" and lines[1:] == ["after", ""]
    assert out.count("\r") <= 3  # the first state, maybe one redraw, the final state: not 500 updates


def test_the_widget_keeps_a_redrawn_line_as_its_latest_state():
    view = make_view("widgets", max_lines=10)
    view.output("step 1\r")
    view.output("step 2\rstep 3")
    view.close()
    assert view.widget.children[0].value.endswith(">step 3</pre>")
    view.output("\r\n")
    view.close()
    assert view.widget.children[0].value.endswith(">step 3</pre>")


def runner_stdout(tmp_path, cell: str, **env: str) -> str:
    """What the real runner prints for a cell (run here, no container): text and display lines."""
    from containerjob.core.payload import build_payload
    from containerjob.magics.ipython_lines import ipython_lines

    payload = build_payload(ipython_lines(cell), home=tmp_path, kind="cell", filename="<containerjob cell>")
    environ = {"CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(tmp_path / "out"),
               "PATH": os.environ["PATH"], **env}
    done = subprocess.run([sys.executable, "-u", str(payload.runtime / "runner.py")], env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


CARDS = ("class Card:\n    def _repr_html_(self):\n        return '<b>card</b>'\n"
         "print('before')\ndisplay(Card())\nprint('between')\n"
         "display({'text/html': '<p>' + 'x' * 50_000, 'text/plain': 'long'}, raw=True)\nprint('after', end='')\n")


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_displays_come_out_whole_and_in_order_however_the_log_is_cut(tmp_path, ip, capsys, chunk):
    stdout = runner_stdout(tmp_path, CARDS)
    view = TextView(max_lines=100)
    with recorded_displays(ip, before=lambda: capsys.readouterr().out) as shown:
        for at in range(0, len(stdout), chunk):
            view.output(stdout[at:at + chunk])
        view.close()
    assert [(before, data["text/plain"]) for before, data in shown][0][0] == "before\n"
    assert [before for before, _ in shown] == ["before\n", "between\n"]
    (_, card), (_, long) = shown
    assert card["text/html"] == "<b>card</b>" and card["text/plain"].startswith("<__main__.Card object")
    assert long == {"text/html": "<p>" + "x" * 50_000, "text/plain": "long"}  # several parts, put together
    assert capsys.readouterr().out == "after"


def test_the_widget_view_puts_displays_in_the_cell_and_never_shows_their_lines(tmp_path, ip):
    stdout = runner_stdout(tmp_path, CARDS)
    view = make_view("widgets", max_lines=100)
    with recorded_displays(ip) as shown:
        for at in range(0, len(stdout), 1000):
            view.output(stdout[at:at + 1000])
            assert MARKER not in view.widget.children[0].value
        view.close()
    assert [data["text/plain"] for _, data in shown if "text/html" in data][1:] == ["long"]
    assert "before\nbetween\nafter" in view.widget.children[0].value


def test_a_signed_job_s_displays_must_carry_its_signature(tmp_path, ip, capsys):
    """Displays of a job whose results are signed come through Cloud Logging, which others may write to."""
    key = os.urandom(32)
    stdout = runner_stdout(tmp_path, CARDS, CONTAINERJOB_SIGNING_SECRET=key.hex())
    for view_key, expected in ((key, 2), (os.urandom(32), 0)):
        view = TextView(max_lines=100)
        view.key = view_key
        with recorded_displays(ip) as shown:
            view.output(stdout)
            view.close()
        assert len(shown) == expected
    assert capsys.readouterr().out.count("a display without this job's signature is not shown") == 2


def test_a_display_cut_off_by_the_end_of_the_job_is_a_note(tmp_path, ip, capsys):
    stdout = runner_stdout(tmp_path, CARDS)
    view = TextView(max_lines=100)
    with recorded_displays(ip) as shown:
        view.output(stdout[:stdout.index("after") - 5000])
        view.close()
    assert len(shown) == 1 and "a display was cut off before its end" in capsys.readouterr().out


def test_plain_log_readers_see_one_short_line_per_display(tmp_path):
    stdout = runner_stdout(tmp_path, CARDS)
    expected = "before\n[display: text/html, text/plain, 1 KiB]\nbetween\n[display: text/html, text/plain, 49 KiB]\nafter"
    assert summarise(stdout) == expected
    assert "".join(plain_log(stdout[at:at + 100] for at in range(0, len(stdout), 100))) == expected
    job = tmp_path / "job"
    job.mkdir()
    (job / LIVE_LOG).write_text(stdout[:stdout.index("between") + 5000])  # the second display half written
    text, offset, done = read_log(job, False, 0)
    assert text == "before\n[display: text/html, text/plain, 1 KiB]\nbetween\n" and not done
    (job / FINAL_LOG).write_text(stdout)
    rest, _, done = read_log(job, True, offset)
    assert text + rest == expected and done
