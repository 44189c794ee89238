"""Waiting and chaining: `containerjob wait` and `logs -f` exit with the job's own code (or the documented one
for a cancelled job, or 124 when --timeout runs out), and so does the Python API's wait + exit_status."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

import containerjob
from cjtest import IMAGE
from test_cli import cli


def detached(command: str) -> str:
    return cli("run", "--image", IMAGE, "--command", command, "--detach").stdout.strip()


def test_wait_and_logs_follow_exit_with_the_jobs_code(cj_home, labelled):
    job = detached("sh -c 'echo working; sleep 1; exit 5'")
    waited = cli("wait", job, check_rc=5)
    assert f"{job} FAILED" in waited.stderr
    followed = cli("logs", "-f", job, check_rc=5)
    assert followed.stdout == "working\n"
    assert cli("status", job).returncode == 0  # a question about the job, not its outcome
    (record,) = containerjob.wait(job)
    assert containerjob.exit_status(record) == 5 and record.exit_code == 5
    assert labelled() == []


def test_wait_for_several_the_first_failure_decides(cj_home, labelled):
    ok = detached("sh -c 'sleep 1'")
    slow = detached("sleep 60")
    early = cli("wait", ok, slow, "--timeout", "2", check_rc=124)
    assert f"{ok} SUCCEEDED" in early.stderr and "still running after --timeout 2" in early.stderr
    cli("cancel", slow)
    assert cli("wait", ok, slow, check_rc=143).returncode == 143  # cancelled
    assert cli("wait", ok).returncode == 0
    unknown = cli("wait", ok, "cj-00000000", check_rc=3)
    assert "cj-00000000" in unknown.stderr
    assert labelled() == []


def test_the_magic_runs_containers_and_waits(ip, cj_home, capsys, labelled):
    ip.run_line_magic("containerjob", f"run --image {IMAGE} --command 'sh -c \"echo from the magic $0 $1\"' -- a b")
    assert "from the magic a b" in capsys.readouterr().out
    job = detached("sh -c 'exit 3'")
    with pytest.raises(UsageError, match=f"containerjob wait {job} did not succeed"):
        ip.run_line_magic("containerjob", f"wait {job}")
    assert f"{job} FAILED" in capsys.readouterr().err
    assert labelled() == []


def test_a_job_past_its_timeout_exits_124(cj_home, labelled):
    done = cli("run", "--image", IMAGE, "--command", "sleep 30", "--timeout", "2", check_rc=124)
    assert "timed out after 2 s" in done.stderr
    assert labelled() == []
