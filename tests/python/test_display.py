"""The live views: both keep a bounded log and say what they left out; the whole log stays on disk."""
from __future__ import annotations

from containerjob.magics.display import MAX_LINE_CHARS, TextView, WidgetView, make_view


def test_widget_view_bounds_the_log_and_says_so():
    view = make_view("widgets", max_lines=100)
    assert isinstance(view, WidgetView)
    view.status("cj-00000001 RUNNING")
    for i in range(1000):
        view.output(f"line {i}\n")
    view.output("partial")
    view.close()
    status, logs = (child.value for child in view.widget.children)
    assert "cj-00000001 RUNNING" in status
    assert "900 earlier lines not shown (whole log: %containerjob logs ID)" in logs and "line 999" in logs and "line 899\n" not in logs
    assert logs.rstrip("</pre>").endswith("partial")


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
    logs = view.widget.children[1].value
    assert len(logs) < MAX_LINE_CHARS * 12 and "40 earlier lines not shown" in logs
