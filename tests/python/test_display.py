"""The live views: widgets keep a bounded log with a notice; text mode writes through."""
from __future__ import annotations

from containerjob.magics.display import TextView, WidgetView, make_view


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
    assert "900 earlier lines not shown" in logs and "line 999" in logs and "line 899\n" not in logs
    assert logs.rstrip("</pre>").endswith("partial")


def test_text_view_and_auto_mode(capsys, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    view = make_view("auto", max_lines=10)
    assert isinstance(view, TextView)
    view.status("a")
    view.status("a")  # repeated status is printed once
    view.output("log\n")
    assert capsys.readouterr().out == "[containerjob] a\nlog\n"
