"""Options are matched exactly (argparse's allow_abbrev read `--gpu 1` as `--gpus 1`, silently), and a near
miss is named with the nearest flag, the same words in the magic, the CLI and the server's magic route."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from IPython.core.error import UsageError


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                          timeout=60, env=os.environ.copy())


@pytest.mark.parametrize("line, message", [
    ("--gpu 1", "unknown option --gpu: did you mean --gpus?"),
    ("--imag python:3.11-slim", "unknown option --imag: did you mean --image?"),
    ("--gpus 1 --backend=local --tim=5m", "unknown option --tim: did you mean --timeout?"),
    ("--zzzzzz", "unknown option --zzzzzz: %%containerjob? lists the options"),
])
def test_the_magic_refuses_a_prefix_and_names_the_option(ipython_shell, line, message):
    with pytest.raises(UsageError) as info:
        ipython_shell.run_cell_magic("containerjob", line, "x = 1")
    assert str(info.value) == message


@pytest.mark.parametrize("argv, message", [
    (["run", "--gpu", "1", "job.py"], "unknown option --gpu: did you mean --gpus?"),
    (["run", "--image=python:3.11-slim", "--detac"], "unknown option --detac: did you mean --detach?"),
    (["list", "--al"], "unknown option --al: did you mean --all?"),
    (["schedule", "create", "nb.ipynb", "--cro", "0 3 * * *"], "unknown option --cro: did you mean --cron?"),
    (["run-notebook", "nb.ipynb", "--xyzzy"], "unknown option --xyzzy: containerjob run-notebook --help lists"),
])
def test_the_cli_refuses_a_prefix_and_names_the_option(isolated_home, argv, message):
    proc = cli(*argv)
    assert proc.returncode == 2, proc
    assert f"containerjob: error: {message}" in proc.stderr


def test_the_cli_still_reads_exact_options_and_leaves_job_arguments_alone(isolated_home, tmp_path):
    job = tmp_path / "job.py"
    job.write_text("print('hi')\n")
    proc = cli("run", str(job), "--dry-run", "--gpus=0", "--", "--gpu", "1")
    assert proc.returncode == 0, proc
    assert "--gpu" in proc.stdout  # the job's own arguments, passed through as typed
