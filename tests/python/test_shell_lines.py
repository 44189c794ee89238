"""`!cmd` lines of a cell run in the container's shell as IPython runs them; `%magic` lines are refused, named."""
from __future__ import annotations

import traceback

import pytest
from IPython.core.error import UsageError

from cjtest import IMAGE, commit_without_shell, run_cell
from containerjob.core.errors import SpecError
from containerjob.core.store import Store
from containerjob.magics.ipython_lines import ipython_lines


def test_shell_lines_run_in_the_container_as_in_ipython(ip, capsys):
    cell = ("print('before')\n!echo hi from $HOSTNAME\ngreeting = 'there'\nfiles = !ls /\n"
            "if greeting:\n    !echo hello {greeting.upper()} $greeting '$greeting' $$HOME \\\n        continued\n"
            "import inspect\nline = inspect.currentframe().f_lineno\n"
            "!false\nfailed = _exit_code\n!true\nok = _exit_code\nerrors = !ls /nowhere\nprint('after')\n")
    result = run_cell(ip, f"--image {IMAGE}", cell)
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    hostname = out.split("hi from ")[1].split("\n")[0]
    assert hostname and hostname != "$HOSTNAME"  # no Python variable of that name: the shell's own
    assert out.index("before") < out.index("hi from") < out.index("after")
    assert "\nhello THERE there $greeting /root continued\n" in out  # {expr}, $name, quoted, $$ and a continued line
    ns = ip.user_ns
    assert ns["line"] == 9  # as written: the continued !line still takes two
    assert {"etc", "usr"} <= set(ns["files"]) and isinstance(ns["files"], list)
    assert ns["failed"] == 1 and ns["ok"] == 0  # a failing command is no error, as in IPython
    assert ns["errors"] == ["ls: cannot access '/nowhere': No such file or directory"]  # stderr too


def test_a_magic_line_is_refused_naming_it(ip, cj_home):
    with pytest.raises(UsageError, match=r"line 2 of the cell is an IPython magic \(%time x = 1\), which runs in the "
                                         r"kernel, not in a container job; run it in the kernel before the cell"):
        ip.run_cell_magic("containerjob", f"--image {IMAGE}", "y = 2\n%time x = 1\n")
    assert Store(cj_home / "jobs.db").list() == []  # nothing was submitted


def test_an_image_without_a_shell_says_so_on_the_line(ip, engine):
    image = commit_without_shell(engine, "containerjob-test/noshell:1")
    with pytest.raises(RuntimeError, match=r"line 3 of the cell \(!echo hi\) runs a shell command, but this image "
                                           r"has no /bin/sh; use an image with a shell") as info:
        ip.run_cell_magic("containerjob", f"--image {image}", "x = 1 + \\\n  2\n!echo hi\n")
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "<containerjob cell>"]
    assert [f.lineno for f in frames] == [3]


def test_the_rewrite_keeps_every_line_where_it_was():
    cell = ("s = '''\n!not a command\n'''  # !nor this\nx = !ls \\\n   /tmp\n!!pwd\n,print a b\n"
            "if s:\n    !echo {s}\nend = 1\n")
    assert ipython_lines(cell).splitlines() == [
        "s = '''", "!not a command", "'''  # !nor this", "x = __cj_getoutput__('ls     /tmp')", "",
        "__cj_getoutput__('pwd')", 'print("a", "b")', "if s:", "    __cj_shell__('echo {s}')", "end = 1"]
    for magic in ("%%bash", "y = %who", "x?"):
        with pytest.raises(SpecError, match=f"line 2 of the cell is an IPython magic \\({magic.replace('?', '[?]')}\\)"):
            ipython_lines(f"x = 1\n{magic}\n")
