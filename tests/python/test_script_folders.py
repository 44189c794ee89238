"""`containerjob run main.py` ships the script's folder (or --workdir), honours its .gitignore, runs the
script there with its own __file__ and siblings, and refuses a folder over the limit before anything starts."""
from __future__ import annotations

import json

from containerjob.core.store import Store
from test_cli import cli

MAIN = """\
import json, os, sys
from pkg.helper import twice
here = os.path.dirname(__file__)
print(json.dumps({"file": __file__, "cwd": os.getcwd(), "argv": sys.argv, "twice": twice(21),
                  "params": open(os.path.join(here, "params.yaml")).read().strip(),
                  "ignored": os.path.exists("data/big.bin"), "git": os.path.exists(".git")}))
open("scratch.txt", "w").write("the folder is writable")
"""


def project(root):
    (root / "pkg").mkdir(parents=True)
    (root / "data").mkdir()
    (root / ".git").mkdir()
    (root / "main.py").write_text(MAIN)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "helper.py").write_text("def twice(x):\n    return 2 * x\n")
    (root / "params.yaml").write_text("lr: 0.1")
    (root / "data" / "big.bin").write_bytes(bytes(3 << 20))
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".gitignore").write_text("data/\n")
    return root


def test_the_scripts_folder_travels_and_the_script_runs_in_it(tmp_path, cj_home, labelled):
    root = project(tmp_path / "proj")
    done = cli("run", str(root / "main.py"), "--", "--epochs", "3")
    seen = json.loads(done.stdout)
    assert seen["twice"] == 42 and seen["params"] == "lr: 0.1"  # a sibling module and a file next to it
    assert seen["cwd"] == "/tmp/containerjob/work" and seen["file"] == "/tmp/containerjob/work/main.py"
    assert seen["argv"] == ["/tmp/containerjob/work/main.py", "--epochs", "3"]
    assert seen["ignored"] is False and seen["git"] is False  # .gitignore'd data and .git stay home
    assert f"shipping {root} (5 files" in done.stderr  # main.py, pkg/ (2), params.yaml, .gitignore
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.status.value == "SUCCEEDED" and record.spec.worker_pools[0].args == ["--epochs", "3"]
    assert labelled() == []


def test_workdir_ships_a_parent_folder(tmp_path, cj_home):
    root = project(tmp_path / "proj")
    (root / "jobs").mkdir()
    (root / "jobs" / "run.py").write_text("from pkg.helper import twice\nimport os\nprint(twice(2), os.getcwd(), __file__)\n")
    done = cli("run", str(root / "jobs" / "run.py"), "--workdir", str(root))
    assert done.stdout == "4 /tmp/containerjob/work /tmp/containerjob/work/jobs/run.py\n"


def test_a_folder_over_the_limit_is_refused_before_anything_starts(tmp_path, cj_home, monkeypatch, labelled):
    root = project(tmp_path / "proj")
    (root / ".gitignore").write_text("")  # now data/big.bin (3 MiB) travels too
    monkeypatch.setenv("CONTAINERJOB_MAX_PAYLOAD_MB", "1")
    done = cli("run", str(root / "main.py"), check_rc=2)
    assert f"the folder {root} is over 1 MiB" in done.stderr and "--workdir DIR" in done.stderr
    (root / ".gitignore").write_text("*.py\n")
    monkeypatch.delenv("CONTAINERJOB_MAX_PAYLOAD_MB")
    done = cli("run", str(root / "main.py"), check_rc=2)
    assert "main.py is left out by" in done.stderr
    outside = cli("run", str(root / "main.py"), "--workdir", str(root / "pkg"), check_rc=2)
    assert "is not inside --workdir" in outside.stderr
    assert Store(cj_home / "jobs.db").list() == [] and labelled() == []
    assert not (cj_home / "payloads").exists() or not any((cj_home / "payloads").iterdir())
