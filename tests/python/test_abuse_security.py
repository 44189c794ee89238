"""Abuse of the security boundaries, against a real Jupyter server (a subprocess: raw URLs, its own log), the
real engine and the real CLI: cross-site requests, paths and IDs that try to leave their directories, shell
syntax in every user string, secrets in every place a job is shown or stored, and the container's privileges."""
from __future__ import annotations

import ast
import base64
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from IPython.core.error import UsageError

from abusekit import PKG_DIR, Server, cli_env, containers_of, route_requests, start_server, stop_server
from cjtest import IMAGE
from containerjob import cli
from containerjob.core.errors import JobNotFound, SpecError
from containerjob.core.spec import RunOptions
from containerjob.core.store import Store
from containerjob.mounts.fuse import FuseHandle
from containerjob.service import JobService

ROUTE_REQUESTS = route_requests()
EVIL = "http://evil.example"
HANDLER_ERRORS = ("JobNotFound", "SpecError")  # what the handlers answer for the route table's made-up IDs


@pytest.fixture(scope="module")
def server(tmp_path_factory, engine) -> Server:
    server = start_server(tmp_path_factory.mktemp("security-server"))
    yield server
    stop_server(server)
    for container in containers_of(engine, server.home):
        container.remove(force=True)


def submit(server: Server, source: str, **options) -> dict:
    reply = server.api("POST", "jobs", {"kind": "cell", "source": source, "options": {"image": IMAGE, **options}})
    assert reply.status == 201, reply.body
    return reply.json()


# -- 2. cross-site requests -------------------------------------------------------------------------------
def _reached_handler(reply) -> bool:
    """Past authentication, XSRF and origin checks: a 2xx, or the handler's own JSON error for a made-up ID."""
    return reply.status < 300 or (reply.status in (400, 404) and reply.json()["error"] in HANDLER_ERRORS)


@pytest.mark.parametrize("pattern,method,path", ROUTE_REQUESTS, ids=[f"{m} {p}" for p, m, _ in ROUTE_REQUESTS])
def test_cross_site_requests_are_refused(server, pattern, method, path):
    """jupyter_server 2.x (APIHandler): a cookie session must echo the _xsrf cookie on every non-GET request
    (403 otherwise) and may not come from a foreign Origin on any request (404, "Blocking Cross Origin API
    request"); a non-local Host header (DNS rebinding) is a 403 even with the token. Token requests skip the
    Origin check by design (a foreign page cannot know the token), and the Referer is only consulted when a
    GET fails the XSRF check, which API GETs never run: both are asserted as the real behaviour."""
    body = "{}" if method in ("POST", "PATCH") else None
    cookie = server.login_cookie()
    session = {"Cookie": f"{cookie}; _xsrf=5eed", "X-XSRFToken": "5eed", "Origin": server.origin}

    control = server.request(method, path, body, token=False, headers=session)
    assert _reached_handler(control), (control.status, control.body)  # the session itself is good

    if method != "GET":
        reply = server.request(method, path, body, token=False, headers={"Cookie": cookie, "Origin": server.origin})
        assert reply.status == 403 and "_xsrf" in reply.json()["message"], reply.body

    reply = server.request(method, path, body, token=False, headers={**session, "Origin": EVIL})
    assert (reply.status, reply.json()["error"]) == (404, "NotFound"), reply.body

    reply = server.request(method, path, body, headers={"Host": "evil.example"})
    assert (reply.status, reply.json()["error"]) == (403, "Forbidden"), reply.body

    assert _reached_handler(server.request(method, path, body, headers={"Origin": EVIL}))
    foreign_referer = {k: v for k, v in session.items() if k != "Origin"} | {"Referer": f"{EVIL}/page"}
    assert _reached_handler(server.request(method, path, body, token=False, headers=foreign_referer))


def test_cross_origin_refusals_are_logged(server):
    server.api("GET", "jobs", token=False, headers={"Cookie": server.login_cookie(), "Origin": EVIL})
    assert any("Blocking Cross Origin" in line and EVIL in line for line in server.log.read_text().splitlines())


# -- 3. paths and IDs never leave their directories -------------------------------------------------------
ESCAPING_JOB = """\
import os
out = os.environ["CONTAINERJOB_OUTPUT"]
open(os.path.join(out, "report.txt"), "w").write("the report")
open(os.path.join(out, ".secret"), "w").write("hidden file")
os.symlink("/etc/passwd", os.path.join(out, "passwd"))
os.symlink("/etc", os.path.join(out, "etc"))
os.symlink("../../../jobs.db", os.path.join(out, "uplink"))  # from jobs/ID/output to the store
"""
LEAKS = (b"root:", b"SQLite format", b"hidden file")


@pytest.fixture(scope="module")
def written_job(server) -> dict:
    """A real job that left links pointing out of its output folder (to /etc/passwd, /etc and the store)."""
    job = server.wait_job(submit(server, ESCAPING_JOB)["id"])
    assert job["status"] == "SUCCEEDED", job
    assert os.path.islink(Path(job["job_dir"]) / "output" / "passwd")
    return job


LONG_NAME = "output/" + "a" * 300
DEEP_PATH = "output/" + "a/" * 1500 + "x"
RAW_ESCAPES = [
    "output/passwd", "output/etc/passwd", "output/etc", "output/uplink", "../../jobs.db", "..%2f..%2fjobs.db",
    "%2e%2e/%2e%2e/jobs.db", "%2E%2E%2F%2E%2E%2F%2E%2E%2Fjobs.db", "output/%2e%2e/%2e%2e/%2e%2e/jobs.db",
    "output/../../../jobs.db", "output/./../../../jobs.db", "%2fetc%2fpasswd", "/etc/passwd", "//etc/passwd",
    "output/%2f%2fetc%2fpasswd", "%252e%252e/%252e%252e/jobs.db", "output%5c..%5c..%5c..%5cjobs.db",
    "output/.secret", ".lock", "output/report.txt/..",
    "output/%00", "output/report.txt%00.png", LONG_NAME, DEEP_PATH,
]


@pytest.mark.parametrize("path", RAW_ESCAPES, ids=lambda p: p if len(p) < 40 else f"{p[:20]}...({len(p)} chars)")
def test_rest_output_paths_stay_inside_the_job(server, written_job, path):
    reply = server.request("GET", f"/containerjob/jobs/{written_job['id']}/outputs/{path}")
    assert not any(leak in reply.body for leak in LEAKS), reply.body[:200]
    assert (reply.status, reply.json()["error"]) == (404, "JobNotFound"), reply.body[:300]


def test_rest_serves_the_real_file_and_lists_no_link(server, written_job):
    """The control for the escapes above: the same job's own file downloads; its links are not listed."""
    reply = server.request("GET", f"/containerjob/jobs/{written_job['id']}/outputs/output/report.txt")
    assert (reply.status, reply.body) == (200, b"the report")
    listed = {f["path"] for f in server.api("GET", f"jobs/{written_job['id']}/outputs").json()["files"]}
    assert "output/report.txt" in listed
    assert not listed & {"output/passwd", "output/etc", "output/uplink", "output/.secret", ".lock"}


def test_random_output_paths_serve_only_files_of_the_job(server, written_job):
    """Random paths: a 404, or a file that really is among the job's outputs, never a 500."""
    job_dir = Path(written_job["job_dir"]).resolve()
    alphabet = st.characters(blacklist_categories=("Cs",))
    piece = st.sampled_from(["..", ".", "output", "etc", "passwd", "uplink", "report.txt", "%2e%2e", "%2f", ""]) \
        | st.text(alphabet, max_size=8).map(lambda t: urllib.parse.quote(t, safe=""))

    @settings(max_examples=150, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(parts=st.lists(piece, min_size=1, max_size=6))
    def check(parts):
        path = "/".join(parts)
        reply = server.request("GET", f"/containerjob/jobs/{written_job['id']}/outputs/{path}")
        if reply.status in (301, 302):  # a trailing slash: jupyter_server redirects to the same route without it
            assert reply.headers["Location"].startswith(f"/containerjob/jobs/{written_job['id']}/outputs"), path
            return
        assert reply.status in (200, 404), (path, reply.status, reply.body[:200])
        if reply.status == 200:
            served = [p for p in job_dir.rglob("*") if p.is_file() and not p.is_symlink()
                      and p.read_bytes() == reply.body]
            assert served and all(p.resolve().is_relative_to(job_dir) for p in served), path
        else:
            assert reply.json()["error"] in ("JobNotFound", "NotFound"), reply.body

    check()


@pytest.fixture
def server_home(server, monkeypatch):
    """CLI and core calls in this process against the server's store (where the written job is)."""
    monkeypatch.setenv("CONTAINERJOB_HOME", str(server.home))
    monkeypatch.setenv("CONTAINERJOB_CONFIG", str(server.home / "no-config.json"))
    return server.home


@pytest.mark.parametrize("path", ["output/passwd", "output/etc/passwd", "output/uplink", "../../jobs.db",
                                  "output/../../../jobs.db", "/etc/passwd", "output/.secret", ".lock", "output",
                                  "output/\x00", LONG_NAME],
                         ids=lambda p: p if len(p) < 40 else f"{p[:20]}...({len(p)} chars)")
def test_core_output_file_stays_inside_the_job(server_home, written_job, path):
    with pytest.raises(JobNotFound):
        JobService().output_file(written_job["id"], path)


def bad_ids(job_id: str) -> list[str]:
    return ["../../etc/passwd", "cj-../../x", f"{job_id}/../..", f"{job_id}/../../../jobs.db", "/etc/passwd",
            "..", "cj-" + "a" * 5000, "\x00", f"{job_id}\x00", "cj-%", "cj-____", f"{job_id[:7]}%"]


@pytest.mark.parametrize("command", ["outputs", "status", "logs"])
def test_cli_rejects_ids_that_are_paths(server_home, written_job, command, capsys):
    for bad in bad_ids(written_job["id"]):
        code = cli.main([command, bad])
        out, err = capsys.readouterr()
        assert code == 3 and out == "", (bad, code, out)
        assert err.startswith("containerjob: error: ") and "Traceback" not in err, (bad, err)
    assert cli.main(["outputs", written_job["id"]]) == 0
    listed = capsys.readouterr().out
    assert "report.txt" in listed and not re.search(r"/(passwd|etc|uplink|\.secret)$", listed, re.M)


@pytest.mark.parametrize("job_id", ["../escape", "cj-0123abcd/../../escape"])
def test_core_submit_refuses_ids_that_leave_the_jobs_directory(cj_home, labelled, job_id):
    service = JobService()
    prepared = service.prepare(RunOptions(image=IMAGE), "x = 1", kind="cell", filename="<cell>")
    try:
        with pytest.raises(SpecError):
            service.submit(prepared, job_id=job_id)
    finally:
        escaped = [p for p in cj_home.rglob("*") if p.name == "escape"]
        assert escaped == [] and labelled() == []


@pytest.fixture(scope="module")
def outside_root(server, tmp_path_factory) -> Path:
    """A folder beside the server's root, and links inside the root that lead to it (a folder and a file)."""
    outside = tmp_path_factory.mktemp("outside-root")
    (outside / "requirements.txt").write_text("six\n")
    (server.root / "link-out").symlink_to(outside, target_is_directory=True)
    (server.root / "requirements-link.txt").symlink_to(outside / "requirements.txt")
    return outside


def escapes(outside: Path) -> list[tuple[str, str, str]]:
    """(option, value, the refusal's words): `..`, absolute paths and links out of the root, for each path option."""
    return [
        ("output_dir", "../outside-out", "leads outside"), ("output_dir", "work/../../../outside-out", "leads outside"),
        ("output_dir", str(outside / "out"), "must be a path relative"), ("output_dir", "/", "must be a path relative"),
        ("output_dir", "link-out", "leads outside"), ("output_dir", "link-out/run-1", "leads outside"),
        ("requirements", "../requirements.txt", "leads outside"),
        ("requirements", str(outside / "requirements.txt"), "must be a path relative"),
        ("requirements", "/etc/passwd", "must be a path relative"),
        ("requirements", "requirements-link.txt", "leads outside"),
        ("requirements", "link-out/requirements.txt", "leads outside"),
    ]


def confined_notebook(server: Server) -> str:
    notebook = server.root / "confined.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return notebook.name


def submissions(server: Server, options: dict, schedule_id: str) -> list[tuple[str, str, dict]]:
    """Every REST body that carries run options: a cell job, a notebook job, a schedule, an edit of one."""
    notebook = confined_notebook(server)
    cell = {"kind": "cell", "source": "x = 1", "options": {"image": IMAGE, **options}}
    run = {"kind": "notebook", "path": notebook, "options": {"image": IMAGE, **options}}
    schedule = {"notebook": notebook, "cron": "0 3 * * *", "options": {"image": IMAGE, **options}}
    return [("POST", "jobs", cell), ("POST", "jobs", run), ("POST", "schedules", schedule),
            ("PATCH", f"schedules/{schedule_id}", {"options": options})]


def job_ids(server: Server) -> set[str]:
    return {job["id"] for job in server.api("GET", "jobs?limit=1000").json()["jobs"]}


def test_rest_paths_never_leave_the_server_root(server, outside_root):
    """A client names files for a job (the requirements it reads, the output folder bind-mounted read-write into
    its container) under the server's root, as it names notebooks: `..`, absolute paths and links inside the root
    that lead out of it are a 400 naming the option and the fix, and nothing starts or is made outside."""
    jobs_before = job_ids(server)
    edited = server.api("POST", "schedules", {"notebook": confined_notebook(server), "cron": "0 3 * * *",
                                              "options": {"image": IMAGE}}).json()  # what the edits aim at
    for option, value, words in escapes(outside_root):
        for method, path, body in submissions(server, {option: value}, edited["id"]):
            reply = server.api(method, path, body)
            assert (reply.status, reply.json()["error"]) == (400, "SpecError"), (option, value, path, reply.body)
            message = reply.json()["message"]
            assert f"options.{option} {value!r} {words}" in message and "server's root directory" in message, message
            assert "e.g. " in message, message  # the fix
            assert str(outside_root) not in message.replace(repr(value), ""), message  # where a link leads: unsaid
    assert job_ids(server) == jobs_before  # so no container either
    assert [one["options"] for one in server.api("GET", "schedules").json()["schedules"]] == [edited["options"]]
    assert sorted(p.name for p in outside_root.iterdir()) == ["requirements.txt"]  # no output folder made there
    assert not (outside_root.parent / "outside-out").exists()


def test_rest_output_dir_inside_the_root_is_where_the_job_writes(server):
    """The control for the refusals above: a relative output folder is made under the root and the job's
    AIP_MODEL_DIR points into it, at the same path inside the container."""
    cell = "import os\nopen(os.path.join(os.environ['AIP_MODEL_DIR'], 'model.txt'), 'w').write('weights')\n"
    job = server.wait_job(submit(server, cell, output_dir="outputs/run-1")["id"])
    assert job["status"] == "SUCCEEDED", job
    assert (server.root / "outputs" / "run-1" / "model" / "model.txt").read_text() == "weights"


# -- 4. no user string reaches a shell --------------------------------------------------------------------
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
               ("asyncio", "create_subprocess_shell"), ("commands", "getoutput")}
SUBPROCESS_FUNCS = {"run", "Popen", "call", "check_call", "check_output"}
INTERPRETERS = {"sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "python",
                "python3"}
SHELL_TEXT = re.compile(r"\b(sh|bash)\s+-c\b")


def shell_uses(source: str, filename: str) -> list[str]:
    """Places where text could reach a shell: shell=True, os.system & co, `sh -c <not a constant>`, and
    `sh -c` inside strings built at run time (f-strings, % and .format)."""
    tree = ast.parse(source, filename)
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                 for t in node.targets if isinstance(t, ast.Name)}
    found = []

    def where(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{node.lineno}: {what}")

    def text(node: ast.AST) -> str:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and (func.value.id, func.attr) in SHELL_CALLS:
                where(node, f"{func.value.id}.{func.attr}()")
            if isinstance(func, ast.Attribute) and func.attr == "format" and SHELL_TEXT.search(text(func.value)):
                where(node, "`sh -c` command built with .format()")
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            for kw in node.keywords:  # IPython's Magics(shell=...) is another `shell`
                if kw.arg == "shell" and (isinstance(kw.value, ast.Constant) and kw.value.value is True or
                                          name in SUBPROCESS_FUNCS and not isinstance(kw.value, ast.Constant)):
                    where(node, "shell=True")
        elif isinstance(node, ast.ImportFrom) and any((node.module, a.name) in SHELL_CALLS for a in node.names):
            where(node, f"from {node.module} import a shell function")
        elif isinstance(node, (ast.List, ast.Tuple)):
            items = node.elts
            for i, item in enumerate(items[:-2]):
                if text(item) in INTERPRETERS and text(items[i + 1]) == "-c":
                    code = items[i + 2]
                    if not (text(code) or isinstance(code, ast.Name) and code.id in constants):
                        where(node, f"{text(item)} -c with code built at run time")
        elif isinstance(node, ast.JoinedStr):
            if SHELL_TEXT.search("".join(text(v) for v in node.values)):
                where(node, "`sh -c` command in an f-string")
        elif isinstance(node, ast.BinOp) and any(SHELL_TEXT.search(text(side)) for side in (node.left, node.right)):
            where(node, "`sh -c` command built with an operator")
    return found


def test_the_shell_scan_finds_each_pattern():
    """The scan below is only worth something if it catches these."""
    bad = ("import os, subprocess\nfrom os import system\nos.system(cmd)\nos.popen(cmd)\n"
           "subprocess.run(cmd, shell=True)\nsubprocess.getoutput(cmd)\nc.create(img, ['sh', '-c', cmd])\n"
           "c.create(img, ['python3', '-c', f'print({x})'])\nc.run(img, f'bash -c {cmd}')\n"
           "c.run(img, 'sh -c %s' % cmd)\nc.run(img, 'sh -c {}'.format(cmd))\n")
    assert sorted(int(use.split(":")[1]) for use in shell_uses(bad, "bad.py")) == list(range(2, 12))
    ok = ("P = 'print(1)'\nc.create(img, ['python3', '-c', P])\nsubprocess.run(['rclone', 'mount', x], shell=False)\n"
          "Magics(shell=ipython)\n")
    assert shell_uses(ok, "ok.py") == []


def test_no_user_string_can_reach_a_shell_in_the_package():
    package = Path(PKG_DIR) / "containerjob"
    found = [use for path in sorted(package.rglob("*.py"))
             for use in shell_uses(path.read_text(encoding="utf-8"), str(path.relative_to(package)))]
    assert found == []


def injections(tag: str) -> tuple[list[str], list[str]]:
    """Shell syntax without spaces or quotes (the magic line splits on both) and the marker files each would
    create if a shell ever ran it, on the host or in the container."""
    marks = [f"/tmp/cj-pwned-{tag}-{i}" for i in range(4)]
    values = [f"$(touch${{IFS}}{marks[0]})", f";touch${{IFS}}{marks[1]}", f"`touch${{IFS}}{marks[2]}`",
              f"|touch${{IFS}}{marks[3]}&&touch${{IFS}}{marks[3]}"]
    return values, marks


def reporting_cell(values: list[str], marks: list[str]) -> str:
    """Prints one JSON line: the environment and argv as the job saw them, and which markers exist inside."""
    return (f"import json, os, sys\nsent = {values!r}\n"
            f"seen = {{'env': [os.environ.get(f'INJ{{i}}') for i in range(len(sent))], 'argv': sys.argv[1:],\n"
            f"        'inside': [os.path.exists(m) for m in {marks!r}], 'source': sent}}\n"
            "print('SEEN ' + json.dumps(seen))\n")


def seen_in(text: str) -> dict:
    return json.loads(next(line for line in text.splitlines() if line.startswith("SEEN "))[5:])


@pytest.fixture
def markers():
    values, marks = injections(secrets.token_hex(4))
    yield values, marks
    for mark in marks:  # only ever there after a failure: do not leave it to the next run
        if os.path.exists(mark):
            os.remove(mark)


def created_on_host(marks: list[str]) -> list[str]:
    return [m for m in marks if os.path.exists(m)]


def test_magic_passes_shell_syntax_as_data(ip, cj_home, markers, capsys):
    values, marks = markers
    env = " ".join(f"--env INJ{i}={v}" for i, v in enumerate(values))
    result = ip.run_cell(f"%%containerjob {env} --name {values[1]}\n{reporting_cell(values, marks)}")
    assert result.success, result.error_in_exec
    seen = seen_in(capsys.readouterr().out)
    assert seen["env"] == values and seen["source"] == values  # verbatim, as data
    assert seen["inside"] == [False] * len(marks)
    (record,) = Store(cj_home / "jobs.db").list(limit=5)
    assert record.name == values[1]
    for option in (f"--label k={values[0]}", f"--image {values[0]}", f"--in {values[1]}", f"--out {values[2]}"):
        with pytest.raises(UsageError):
            ip.run_cell_magic("containerjob", option, "x = 1")
    assert created_on_host(marks) == []


def test_cli_passes_shell_syntax_as_data(cj_home, tmp_path, markers):
    values, marks = markers
    work = tmp_path / "work"
    work.mkdir()
    script = work / "$(touch${IFS}pwned-by-filename).py"  # a file name is user text too
    script.write_text(reporting_cell(values, marks))
    env_args = [arg for i, v in enumerate(values) for arg in ("--env", f"INJ{i}={v}")]
    proc = subprocess.run([sys.executable, "-m", "containerjob.cli", "run", str(script), *env_args,
                           "--name", values[1], "--", *values],
                          capture_output=True, text=True, timeout=180, cwd=work, env=cli_env())
    assert proc.returncode == 0, proc.stderr
    seen = seen_in(proc.stdout)
    assert seen["env"] == values and seen["argv"] == values
    assert seen["inside"] == [False] * len(marks)
    assert sorted(p.name for p in work.iterdir()) == [script.name]  # no pwned-by-filename
    assert created_on_host(marks) == []


def test_rest_passes_shell_syntax_as_data(server, markers):
    values, marks = markers
    job = submit(server, reporting_cell(values, marks), env=[f"INJ{i}={v}" for i, v in enumerate(values)],
                 name=values[1])
    reply = server.api("POST", "jobs", {"kind": "cell", "source": "x = 1", "origin": values[0],
                                        "options": {"image": IMAGE, "labels": [f"k={values[0]}"]}})
    assert (reply.status, reply.json()["error"]) == (400, "SpecError")
    job = server.wait_job(job["id"])
    assert job["status"] == "SUCCEEDED" and job["name"] == values[1], job
    seen = seen_in(server.api("GET", f"jobs/{job['id']}/logs").json()["text"])
    assert seen["env"] == values and seen["inside"] == [False] * len(marks)
    assert created_on_host(marks) == []


# -- 5. secrets are redacted wherever a job is shown or stored --------------------------------------------
def secret_env() -> dict[str, str]:
    """Names that core/models.py is_secret_name matches; unique values, so any hit is a leak of this test's."""
    tag = secrets.token_hex(6)
    return {"API_TOKEN": f"s3cr3t-token-{tag}", "PASSWORD": f"pa55-{tag}", "AWS_SECRET_ACCESS_KEY": f"aws-{tag}"}


def leaks(data: bytes | str, env: dict[str, str]) -> list[str]:
    raw = data.encode(errors="replace") if isinstance(data, str) else data
    return [name for name, value in env.items() if value.encode() in raw]


def files_leaking(root: Path, env: dict[str, str]) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and not p.is_symlink() and leaks(p.read_bytes(), env)]


def test_secrets_never_leave_the_container_through_rest(server, engine):
    env = secret_env()
    job = submit(server, "import time\ntime.sleep(3)\nprint('done')\n", env=[f"{k}={v}" for k, v in env.items()])
    (container,) = containers_of(engine, server.home, job["id"])
    config = container.attrs["Config"]
    assert leaks(json.dumps(config["Labels"]), env) == []
    # The one place the raw values must be: the container's own environment, which the job needs.
    assert {f"{k}={v}" for k, v in env.items()} <= set(config["Env"])
    assert leaks(server.api("GET", f"jobs/{job['id']}").body, env) == []
    job = server.wait_job(job["id"])
    assert job["status"] == "SUCCEEDED", job
    shown = server.api("GET", f"jobs/{job['id']}").body + server.api("GET", "jobs").body
    assert leaks(shown, env) == [] and b'"API_TOKEN": "***"' in shown
    assert leaks(server.api("GET", f"jobs/{job['id']}/logs").body, env) == []
    for args in (["list", "--json"], ["status", job["id"]], ["outputs", job["id"], "--json"]):
        proc = subprocess.run([sys.executable, "-m", "containerjob.cli", *args], capture_output=True, text=True,
                              timeout=60, env=cli_env(CONTAINERJOB_HOME=str(server.home)))
        assert proc.returncode == 0 and leaks(proc.stdout + proc.stderr, env) == [], (args, proc.stderr)
    assert files_leaking(server.home, env) == []  # the store (jobs.db and its WAL), job dirs, payloads
    assert leaks(server.log.read_bytes(), env) == []


def test_secrets_never_leave_the_container_through_the_magic(ip, cj_home, capsys):
    env = secret_env()
    flags = " ".join(f"--env {k}={v}" for k, v in env.items())
    ip.run_cell_magic("containerjob", f"{flags} --dry-run", "x = 1")
    ip.run_cell_magic("containerjob", f"{flags} --dry-run --backend vertex --project proj-1 --staging-bucket "
                      "gs://bucket-x", "x = 1")
    dry = capsys.readouterr().out
    # shown, redacted, in both specs; and the Vertex job's own result-signing key, redacted too
    assert leaks(dry, env) == [] and dry.count('"***"') == 2 * len(env) + 1, dry
    assert '"name": "CONTAINERJOB_SIGNING_SECRET",\n                "value": "***"' in dry
    result = ip.run_cell(f"%%containerjob {flags}\nimport os\nprint('ran', len(os.environ['PASSWORD']))\n")
    assert result.success, result.error_in_exec
    (record,) = Store(cj_home / "jobs.db").list(limit=5)
    ip.run_line_magic("containerjob", f"status {record.id}")
    ip.run_line_magic("containerjob", "list")
    shown = capsys.readouterr().out
    assert "ran " in shown and leaks(shown, env) == []
    assert files_leaking(cj_home, env) == []


# -- 6. containers run unprivileged -----------------------------------------------------------------------
def start_sleeper(service: JobService, **options) -> tuple[dict, str]:
    prepared = service.prepare(RunOptions(image=IMAGE, **options), "import time\ntime.sleep(60)\n", kind="cell",
                               filename="<cell>")
    record = service.submit(prepared)
    return service.backend("local").client.api.inspect_container(record.backend_ref), record.id


def assert_unprivileged(info: dict) -> None:
    host = info["HostConfig"]
    assert host["Privileged"] is False
    assert not host.get("CapAdd") and not host.get("Devices") and not host.get("DeviceRequests")
    assert host["NetworkMode"] in ("default", "bridge")
    assert host.get("PidMode", "") == "" and host.get("IpcMode") in ("private", "shareable", "")
    assert host.get("UTSMode", "") == "" and host.get("UsernsMode", "") == ""
    assert "no-new-privileges" in host["SecurityOpt"]
    assert not any("unconfined" in opt or opt == "label=disable" for opt in host["SecurityOpt"])
    # As the host user when that is not root; a root host user runs as the image's user (root for python:*-slim).
    assert info["Config"]["User"] == ("" if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}")
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/containerjob/payload"]["RW"] is False and mounts["/containerjob/runtime"]["RW"] is False
    assert mounts["/containerjob/output"]["RW"] is True
    assert not any(m["Source"] in ("/", "/var/run/docker.sock", "/run/docker.sock") for m in info["Mounts"])


def test_job_containers_are_unprivileged(cj_home, labelled):
    service = JobService()
    info, job_id = start_sleeper(service)
    try:
        assert info["State"]["Running"]
        assert_unprivileged(info)
    finally:
        service.cancel(job_id)
    assert labelled(job_id) == []


def test_fuse_mounts_need_no_privilege_in_the_container(cj_home, gcs, labelled):
    """fuse mode mounts the bucket on the host (gcsfuse or rclone) and binds the mount point in: the container
    gets no CAP_SYS_ADMIN, no /dev/fuse and nothing else extra, only the bind at /gcs/BUCKET."""
    service = JobService()
    info, job_id = start_sleeper(service, mounts=[f"gs://{gcs.name}:fuse"])
    try:
        assert_unprivileged(info)
        gcs_mount = {m["Destination"]: m for m in info["Mounts"]}[f"/gcs/{gcs.name}"]
        assert gcs_mount["Type"] == "bind" and gcs_mount["RW"] is True
        assert not any("fuse" in (d.get("PathOnHost") or "") for d in info["HostConfig"].get("Devices") or [])
    finally:
        service.cancel(job_id)
    assert labelled(job_id) == []
    assert not any(str(cj_home) in line.split()[1] for line in open("/proc/mounts"))  # unmounted with the job


# -- 7. no local control endpoint answers without credentials -------------------------------------------
RC_METHODS = ("vfs/stats", "core/version", "operations/list", "core/command", "config/listremotes")


def rc_status(port: int, method: str, login: tuple[str, str] | None = None) -> int:
    """The HTTP status rclone's remote control answers a POST of `method` with (any local user can send one)."""
    headers = {"Content-Type": "application/json"}
    if login:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(login).encode()).decode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{method}", data=b"{}", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_rclone_remote_control_answers_only_the_mounts_own_login(ip, cj_home, gcs, tmp_path):
    """A fuse mount's rclone serves its remote control (the drain reads its upload queue) on loopback, where
    every local user can reach it: without the mount's own login every method is a 401; that login is in a
    file only its owner reads, never in the command line that /proc shows everyone."""
    point = tmp_path / "mnt"
    ip.run_line_magic("gcsmount", f"gs://{gcs.name} {point}")
    try:
        (record,) = (cj_home / "notebook-mounts").glob("*.json")
        handle = FuseHandle.load(record)
        login_file = Path(handle.rc_auth)
        login = json.loads(login_file.read_text())
        assert stat.S_IMODE(login_file.stat().st_mode) == 0o600 and login_file.stat().st_uid == os.getuid()
        for method in RC_METHODS:
            assert rc_status(handle.rc_port, method) == 401, method
            assert rc_status(handle.rc_port, method, (login["user"], "guessed")) == 401, method
        assert rc_status(handle.rc_port, "vfs/stats", (login["user"], login["password"])) == 200
        cmdline = Path(f"/proc/{handle.pid}/cmdline").read_bytes()
        assert b"rclone" in cmdline and login["password"].encode() not in cmdline
        assert b"--rc-no-auth" not in cmdline and b"--rc-pass" not in cmdline
        assert login["password"] not in record.read_text() + (login_file.parent / "rclone.log").read_text()
        (point / "late.txt").write_text("drained with the login")
    finally:
        ip.run_line_magic("gcsunmount", str(point))  # drains through the authenticated remote control
    assert gcs.bucket.blob("late.txt").download_as_bytes() == b"drained with the login"
    assert not login_file.exists()
