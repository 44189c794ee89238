"""`containerjob run main.py` ships the script's folder (or --workdir): what git would commit from it (else
what no .gitignore in it ignores), never secrets such as .env unless --include names them; it runs the script
there with its own __file__ and siblings, and refuses a folder over the limit before anything starts."""
from __future__ import annotations

import json
import subprocess

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


LISTS = """\
import json, os
print(json.dumps(sorted(os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs)))
"""


def secrets_folder(root):
    """A folder holding what must stay home: files a nested .gitignore ignores, and secrets no rule names."""
    (root / "sub").mkdir(parents=True)
    (root / ".aws").mkdir()
    (root / "main.py").write_text(LISTS)
    (root / "sub" / ".gitignore").write_text("secret.txt\n")
    (root / "sub" / "secret.txt").write_text("ignored below")
    (root / "sub" / "kept.txt").write_text("travels")
    (root / ".env").write_text("API_TOKEN=abc")
    (root / ".aws" / "credentials").write_text("[default]")
    (root / "server.pem").write_text("key")
    return root


def shipped(done) -> list[str]:
    return json.loads(done.stdout.strip().splitlines()[-1])  # the job's own listing of its folder


def test_a_git_folder_ships_what_git_would_commit_and_no_secrets(tmp_path, cj_home):
    root = secrets_folder(tmp_path / "repo")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "notes").mkdir()
    (root / "notes" / "draft.txt").write_text("excluded by .git/info/exclude")
    (root / ".git" / "info" / "exclude").write_text("notes/\n")
    done = cli("run", str(root / "main.py"))
    assert shipped(done) == ["main.py", "sub/.gitignore", "sub/kept.txt"]
    assert "git's ignore rules" in done.stderr
    assert "left home: .aws/credentials, .env, server.pem (secrets; --include PATTERN ships them)" in done.stderr
    again = cli("run", str(root / "main.py"), "--include", ".env", "--include", "*.pem")
    assert shipped(again) == [".env", "main.py", "server.pem", "sub/.gitignore", "sub/kept.txt"]
    assert "left home: .aws/credentials (secrets" in again.stderr
    # a subfolder of the work tree ships its own files only, named from itself
    (root / "sub" / "run.py").write_text(LISTS)
    assert shipped(cli("run", str(root / "sub" / "run.py"))) == [".gitignore", "kept.txt", "run.py"]


def test_a_folder_outside_git_honours_every_nested_gitignore(tmp_path, cj_home):
    root = secrets_folder(tmp_path / "plain")
    (root / ".gitignore").write_text("*.log\n")
    (root / "logs").mkdir()
    (root / "logs" / ".gitignore").write_text("!keep.log\n")
    (root / "logs" / "keep.log").write_text("re-included below")
    (root / "logs" / "run.log").write_text("ignored from above")
    (root / "settings").symlink_to(".env")  # a link to a secret stays home with it
    done = cli("run", str(root / "main.py"))
    assert shipped(done) == [".gitignore", "logs/.gitignore", "logs/keep.log", "main.py", "sub/.gitignore",
                             "sub/kept.txt"]
    assert "the .gitignore files in it honoured" in done.stderr
    assert "left home: .aws/credentials, .env, server.pem, settings (secrets" in done.stderr
    assert ".aws/credentials" in shipped(cli("run", str(root / "main.py"), "--include", ".aws/"))


def test_include_is_for_script_folders(tmp_path, cj_home):
    root = secrets_folder(tmp_path / "plain")
    (root / ".env.py").write_text("print('a secret-looking script')\n")
    done = cli("run", str(root / ".env.py"), check_rc=2)
    assert ".env.py looks like a secret" in done.stderr and "--include .env.py" in done.stderr
    done = cli("run", "--image", "python:3.11-slim", "--include", ".env", check_rc=2)
    assert "--include is for Python files" in done.stderr
