"""Random input at every entry point (magic lines, CLI arguments, REST bodies, queries and IDs, spec fields):
each answers with its one user-facing error (UsageError, exit 2 with `containerjob: error:`, a JSON 400/404,
SpecError naming the field) or works; never a traceback or a 500. Hypothesis runs derandomised, so CI is
deterministic; nothing here starts a container (dry runs, and a REST server whose Docker engine is absent)."""
from __future__ import annotations

import argparse
import json
import shlex
import urllib.parse
from dataclasses import fields

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings, strategies as st
from IPython.core.error import UsageError

from abusekit import Server, containers_of, route_requests, start_server, stop_server
from containerjob import cli
from containerjob.backends import backend_traits
from containerjob.core.errors import SpecError
from containerjob.core.spec import RunOptions, build_spec
from containerjob.magics.cell import COMMANDS, ContainerJob

FUZZ = settings(max_examples=120, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DEAD = "http://127.0.0.1:9"  # nothing listens: Vertex and Cloud Storage calls fail at once, never leave the machine
NOTEBOOK = {"cells": [{"id": "params", "cell_type": "code", "metadata": {"tags": ["parameters"]},
                       "source": "epochs = 3\n", "outputs": [], "execution_count": None}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
# Values a user might really type, so random runs also get past the first check of each field.
PLAUSIBLE = ["python:3.11-slim", "all", "1", "0", "-1", "3", "A=1", "API_KEY=x", "k=v", "gs://bucket-x/p",
             "gs://bucket-x:fuse", "10m", "0s", "8d", "local", "vertex", "executor", "us-central1", "n1-standard-4",
             "a2-highgpu-1g", "NVIDIA_TESLA_T4:1", "NVIDIA_L4:-2", "sa@p.iam.gserviceaccount.com", "gs://b",
             "europe-docker.pkg.dev/p/r", "workbench", "numpy==2.1", "-e .", "./outputs", "/etc", "~", "proj-1",
             "0 3 * * *", "*/5 * * * *", "UTC", "Europe/Paris", "skip", "run_once", "nb.ipynb", "../x.ipynb",
             "/etc/passwd", "$(touch /tmp/x)", "; rm -rf /", "é", "\t", ""]
TEXT = st.text(max_size=24)
VALUE = st.one_of(st.sampled_from(PLAUSIBLE), TEXT)


def options_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The real parser's options, so a new one is fuzzed as it is added (not --help: it would end most
    examples early; explicit examples cover it)."""
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))


@st.composite
def option_words(draw, parser: argparse.ArgumentParser, value: st.SearchStrategy) -> list[str]:
    """Options with the number of values each takes (or, one time in four, a stray word), shuffled."""
    def one(action: argparse.Action) -> st.SearchStrategy:
        count = action.nargs if isinstance(action.nargs, int) else 1
        return st.lists(value, min_size=count, max_size=count).map(lambda vs: [action.option_strings[-1], *vs])

    stray = value.map(lambda v: [v])
    unit = st.sampled_from(options_of(parser)).flatmap(one) | stray if options_of(parser) else stray
    return [word for group in draw(st.lists(unit, max_size=6)) for word in group]


@st.composite
def cli_argv(draw, parser: argparse.ArgumentParser, script: str, notebook: str,
             commands: tuple[str, ...] | None = None) -> list[str]:
    """A command (`scheduler` is a daemon loop: left out), its positionals, options and stray words;
    run and run-notebook always with --dry-run, so a valid line prints its spec and runs nothing."""
    parsers = subparsers(parser)
    command = draw(st.sampled_from(sorted(set(commands or parsers) & set(parsers) - {"scheduler"})))
    sub, words = parsers[command], [command]
    if command == "schedule":
        verb = draw(st.sampled_from(sorted(subparsers(sub))))
        sub, words = subparsers(sub)[verb], [command, verb]
    known = {"file": script, "notebook": notebook}
    for action in sub._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            words.append(draw(st.sampled_from([known.get(action.dest, "cj-0123abcd")]) | VALUE))
    words += draw(option_words(sub, VALUE))
    if command in ("run", "run-notebook"):
        words.insert(draw(st.integers(1, len(words))), "--dry-run")
    if draw(st.booleans()):
        words += ["--", *draw(st.lists(VALUE, max_size=2))]
    return words


# -- spec fields ------------------------------------------------------------------------------------------
# The option each RunOptions field's errors must name (gpus may also point at --accelerator, the fix on Vertex).
FIELD_OPTION = {"image": ("--image",), "gpus": ("--gpus", "--accelerator"), "env": ("--env",),
                "output_dir": ("--output-dir",), "timeout": ("--timeout",), "name": ("--name",),
                "labels": ("label",), "mounts": ("--mount",), "region": ("--region",),
                "machine_type": ("--machine-type",), "accelerator": ("--accelerator",), "replicas": ("--replicas",),
                "service_account": ("--service-account",), "staging_bucket": ("--staging-bucket",),
                "requirements": ("--requirements",), "pip": ("--pip",), "image_repo": ("--image-repo",),
                "runtime_template": ("--runtime-template",), "command": ("--command",), "project": (), "backend": (),
                "secret_env": ("--secret-env",), "include": ("--include",), "sweep": ("--sweep",),
                "sweep_file": ("--sweep-file",), "parallel": ("--parallel",), "sweep_into": ("--sweep-into",),
                "retries": ("--retries",), "retry_on": ("--retry-on",)}
SWEEP_OPTIONS = ("sweep", "sweep_file", "parallel", "sweep_into")  # a sweep's, read by core/sweep.py, not the spec
SPEC_FIELDS = [f for f in fields(RunOptions) if f.name in FIELD_OPTION and f.name not in SWEEP_OPTIONS]
SWEEP_FIELDS = [f for f in fields(RunOptions) if f.name in SWEEP_OPTIONS]


def test_every_string_field_is_fuzzed():
    """A new RunOptions field needs an entry in FIELD_OPTION (the option its errors name)."""
    typed = {f.name for f in fields(RunOptions) if f.type != "bool"}
    assert typed == set(FIELD_OPTION)


def _field_value(field) -> st.SearchStrategy:
    item = st.one_of(st.sampled_from(PLAUSIBLE), st.text(max_size=40))
    return st.lists(item, max_size=3) if field.type.startswith("list") else item


@st.composite
def one_field(draw) -> tuple[str, object, str]:
    field = draw(st.sampled_from(SPEC_FIELDS))
    return field.name, draw(_field_value(field)), draw(st.sampled_from(["local", "vertex", "executor"]))


@FUZZ
@given(case=one_field())
@example(case=("accelerator", "NVIDIA_TESLA_T4:x", "vertex"))
@example(case=("timeout", "9" * 40 + "d", "local"))
@example(case=("requirements", "/", "local"))
def test_spec_fields_fail_only_with_a_spec_error_naming_the_field(case, tmp_path_factory, monkeypatch):
    """One field at a time, so the error must be about that field."""
    name, value, backend = case
    monkeypatch.chdir(tmp_path_factory.getbasetemp())  # relative --requirements paths read nothing of ours
    options = RunOptions(**{name: value, "backend": backend if name != "backend" else value})
    try:
        build_spec(options, default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits, project="proj-1",
                   region="us-central1")
    except SpecError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        words = FIELD_OPTION[name]
        assert not words or any(w in str(exc) for w in words), (name, value, str(exc))
        assert [p.field for p in exc.problems] == [name], (name, value, str(exc))  # where a form shows it


@FUZZ
@given(name=st.sampled_from([f.name for f in SWEEP_FIELDS]), data=st.data())
def test_a_sweep_grid_fails_only_with_a_spec_error_naming_its_option(name, data, tmp_path_factory, monkeypatch):
    """Whatever a sweep option holds, reading the grid ends in a grid or one SpecError on that option."""
    from containerjob.core.sweep import read_sweep

    monkeypatch.chdir(tmp_path_factory.getbasetemp())
    value = data.draw(_field_value(next(f for f in SWEEP_FIELDS if f.name == name)))
    options = RunOptions(**{name: value, **({} if name in ("sweep", "sweep_file") else {"sweep": ["a=1"]})})
    try:
        read_sweep(options)
    except SpecError as exc:
        assert str(exc).strip() and FIELD_OPTION[name][0] in str(exc), (name, value, str(exc))
        assert [p.field for p in exc.problems] == [name], (name, value, str(exc))


@FUZZ
@given(options=st.builds(RunOptions, **{f.name: _field_value(f) for f in SPEC_FIELDS},
                         credentials=st.booleans(), spot=st.booleans(), upload_on_failure=st.booleans()))
def test_all_fields_together_fail_only_with_spec_errors(options, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.getbasetemp())
    try:
        build_spec(options, default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits, project=None)
    except SpecError as exc:
        assert str(exc).strip()


@pytest.mark.parametrize("field,value", [("requirements", "req\x00.txt"), ("output_dir", "~nobody\x00/out"),
                                         ("requirements", "BINARY")])
def test_unreadable_paths_are_spec_errors(field, value, tmp_path):
    if value == "BINARY":
        value = str(tmp_path / "blob.bin")
        (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    with pytest.raises(SpecError, match=FIELD_OPTION[field][0]):
        build_spec(RunOptions(**{field: value}), default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits,
                   project=None)


# -- magic lines ------------------------------------------------------------------------------------------
# IPython's magic parser splits on spaces and keeps quotes (non-POSIX shlex): values without either travel as
# one word; quotes are drawn too (an unbalanced one is a UsageError).
CELL_VALUE = st.one_of(st.sampled_from([p for p in PLAUSIBLE if p.strip() and " " not in p]),
                       st.text(st.characters(blacklist_characters=" ", blacklist_categories=("Cs", "Z", "Cc")),
                               min_size=1, max_size=16))


def _run_magic(shell, line: str, cell: str | None) -> None:
    """Works, or IPython's UsageError (shown as one error line); any other exception fails the test."""
    try:
        if cell is None:
            shell.run_line_magic("containerjob", line)
        else:
            shell.run_cell_magic("containerjob", line, cell)
    except UsageError as exc:
        assert str(exc).strip()


def test_cell_magic_lines(ip, capsys):
    """Real options mixed with garbage; --dry-run always, so a valid line prints its spec and runs nothing."""
    @FUZZ
    @given(tokens=option_words(ContainerJob.containerjob.parser, CELL_VALUE), at=st.integers(0, 12))
    @example(tokens=["--help"], at=0)
    def check(tokens, at):
        tokens.insert(min(at, len(tokens)), "--dry-run")
        _run_magic(ip, " ".join(tokens), "x = 1\nprint(x)\n")
        capsys.readouterr()

    check()


@pytest.mark.parametrize("line", ["--image 'python:3.11-slim", '--name "half --dry-run'])
def test_unbalanced_quotes_in_a_cell_magic_line_are_a_usage_error(ip, line):
    with pytest.raises(UsageError):
        ip.run_cell_magic("containerjob", line, "x = 1")


def test_line_magic_commands(ip, capsys, tmp_path, monkeypatch):
    """Every line command with random arguments (POSIX quoting, so any text, quotes included)."""
    monkeypatch.setenv("CONTAINERJOB_VERTEX_ENDPOINT", DEAD)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", DEAD)
    (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    monkeypatch.chdir(tmp_path)

    @FUZZ
    @given(line=cli_argv(cli._parser(), "job.py", "nb.ipynb", COMMANDS) | st.lists(VALUE, max_size=4),
           quoted=st.booleans())
    @example(line=["logs", "'x"], quoted=False)
    @example(line=["fetch", "../../x"], quoted=True)
    @example(line=["run-notebook", "--help"], quoted=False)
    @example(line=["schedule", "create", "nb.ipynb", "--cron", "0 3 * * *"], quoted=True)
    def check(line, quoted):
        _run_magic(ip, " ".join(shlex.quote(t) if quoted else t for t in line), None)
        capsys.readouterr()

    check()


# -- the command line -------------------------------------------------------------------------------------
def test_cli_arguments(cj_home, capsys, tmp_path, monkeypatch):
    """Exit 0, 2 (bad input) or 3 (unknown job), with a `containerjob: error:` message (argparse adds its
    usage after it), never a traceback."""
    monkeypatch.setenv("CONTAINERJOB_VERTEX_ENDPOINT", DEAD)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", DEAD)
    monkeypatch.chdir(tmp_path)
    script, notebook = tmp_path / "job.py", tmp_path / "nb.ipynb"
    script.write_text("print('hi')\n")
    notebook.write_text(json.dumps(NOTEBOOK))
    parser = cli._parser()

    @FUZZ
    @given(argv=cli_argv(parser, str(script), str(notebook)))
    @example(argv=["status", "../../etc/passwd"])
    @example(argv=["schedule", "create", "--help"])
    @example(argv=["run", str(script), "--dry-run", "--gpus", "x"])
    @example(argv=["run", str(script), "--dry-run", "--env", "A=$(touch pwned)", "--", "--gpus", "x"])
    def check(argv):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's --help: the help text, exit 0
            assert exc.code == 0, argv
            code = 0
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, argv
        assert code in (0, 2, 3), (argv, code, err)
        if code:  # argparse echoes arguments as given (newlines included), then its usage block
            message = err.partition("\nusage: ")[0]
            assert message.startswith("containerjob: error: ") and message[len("containerjob: error: "):].strip(), err

    check()


# -- REST -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory, engine) -> Server:
    """A real Jupyter server whose Docker engine and Cloud endpoints are dead: a valid random submission
    reaches the backend and gets a 503 instead of starting a container; nothing else differs."""
    base = tmp_path_factory.mktemp("fuzz-server")
    dead_socket = base / "no-docker.sock"
    server = start_server(base, {"DOCKER_HOST": f"unix://{dead_socket}", "CONTAINERJOB_VERTEX_ENDPOINT": DEAD,
                                 "CONTAINERJOB_VERTEX_CREDENTIALS": "anonymous", "STORAGE_EMULATOR_HOST": DEAD})
    (server.root / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    (server.root / "job.yaml").write_text(json.dumps(CUSTOM_JOB))
    yield server
    stop_server(server)


def _no_new_traceback(server: Server, since: int) -> None:
    log = server.log.read_bytes()[since:].decode(errors="replace")
    assert "Traceback" not in log and " 500 " not in log, log[-4000:]


def _answer_is_ours(reply, *allowed: int) -> None:
    """Never a 500; a 400 is JSON naming the problem."""
    assert reply.status in allowed, (reply.status, reply.body[:500])
    if reply.status == 400:
        error = reply.json()
        assert error["error"] and error["message"].strip(), error


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(TEXT, kids, max_size=4),
                    max_leaves=12)
OPTION_VALUE = st.one_of(st.sampled_from(PLAUSIBLE), st.lists(VALUE, max_size=3), JSON)
OPTIONS = st.one_of(JSON, st.dictionaries(st.sampled_from([f.name for f in fields(RunOptions)]) | TEXT,
                                          OPTION_VALUE, max_size=5))
PARAMETERS = st.dictionaries(st.sampled_from(["epochs", "lr"]) | TEXT, JSON) | JSON
NOTEBOOK_PATH = st.sampled_from(["nb.ipynb", "missing.ipynb", ".", "../x.ipynb", "/etc/passwd"]) | VALUE | JSON
CONFIG_PATH = st.sampled_from(["job.yaml", "nb.ipynb", "missing.yaml", ".", "../x.yaml", "/etc/passwd"]) | VALUE | JSON
JOB_BODY = st.one_of(JSON, st.fixed_dictionaries(  # unknown fields come from the random objects
    {"kind": st.sampled_from(["cell", "script", "notebook", "container"]) | JSON},
    optional={"source": st.sampled_from(["x = 1", "print(1)", ""]) | TEXT | JSON, "path": NOTEBOOK_PATH,
              "parameters": PARAMETERS, "options": OPTIONS, "origin": VALUE | JSON, "config": CONFIG_PATH,
              "args": st.lists(VALUE, max_size=3) | JSON}))
CUSTOM_JOB = {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": 1,
                                   "containerSpec": {"imageUri": "python:3.11-slim", "args": ["a"]}}]}
# CustomJob files: Vertex's field names (some misspelt, some containerjob does not carry) over random values.
POOL_KEYS = ["machineSpec", "replicaCount", "containerSpec", "diskSpec", "pythonPackageSpec", "nfsMounts"]
SPEC_KEYS = ["imageUri", "command", "args", "env", "machineType", "acceleratorType", "acceleratorCount",
             "bootDiskSizeGb", "bootDiskType", "name", "value", "comand"]
FIELD_VALUE = st.recursive(JSON, lambda kids: st.dictionaries(st.sampled_from(SPEC_KEYS) | TEXT, kids, max_size=4)
                           | st.lists(kids, max_size=3), max_leaves=10)
CUSTOM_JOB_FILE = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "displayName": VALUE | JSON, "labels": JSON, "jobSpec": JSON,
    "workerPoolSpecs": st.lists(st.dictionaries(st.sampled_from(POOL_KEYS) | TEXT, FIELD_VALUE, max_size=4),
                                max_size=3) | FIELD_VALUE,
    "scheduling": st.dictionaries(st.sampled_from(["timeout", "strategy", "restartJobOnWorkerRestart"]), JSON)}))
SCHEDULE_FIELDS = {"name": VALUE | JSON, "timezone": VALUE | JSON, "parameters": PARAMETERS, "options": OPTIONS,
                   "missed": VALUE | JSON, "max_concurrent": st.integers() | JSON}
SCHEDULE_BODY = st.one_of(JSON, st.fixed_dictionaries(
    {"notebook": NOTEBOOK_PATH, "cron": st.sampled_from(["0 3 * * *", "*/5 * * * *", "61 * * * *"]) | VALUE | JSON},
    optional=SCHEDULE_FIELDS))
SCHEDULE_PATCH = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    **SCHEDULE_FIELDS, "notebook": NOTEBOOK_PATH, "cron": VALUE | JSON}))
RAW_BODY = st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode))


def test_job_submissions(server):
    since = server.log.stat().st_size

    @FUZZ
    @given(body=st.one_of(JOB_BODY.map(json.dumps).map(str.encode), RAW_BODY))
    @example(body=b'{"kind": "cell", "source": "x = 1", "options": {"timeout": NaN, "gpus": Infinity}}')
    @example(body=b'{"kind": "notebook", "path": "nb.ipynb", "parameters": {"epochs": 5}}')
    def check(body):
        reply = server.request("POST", "/containerjob/jobs", body)
        _answer_is_ours(reply, 400, 404, 502, 503)

    check()
    _no_new_traceback(server, since)


def test_customjob_files(server):
    """Random CustomJob files (JSON or YAML text, or bytes) read by `GET customjob`: what they set, or a 400
    naming `config`; never a 500."""
    since = server.log.stat().st_size

    @FUZZ
    @given(content=st.one_of(CUSTOM_JOB_FILE.map(json.dumps).map(str.encode),
                             CUSTOM_JOB_FILE.map(yaml.safe_dump).map(str.encode), RAW_BODY))
    @example(content=json.dumps(CUSTOM_JOB).encode())
    def check(content):
        (server.root / "fuzz.yaml").write_bytes(content)
        reply = server.request("GET", "/containerjob/customjob?path=fuzz.yaml")
        _answer_is_ours(reply, 200, 400)
        if reply.status == 400:
            assert [e["field"] for e in reply.json()["errors"]] == ["config"], reply.body

    check()
    _no_new_traceback(server, since)


def test_schedule_bodies(server):
    since = server.log.stat().st_size
    created = server.api("POST", "schedules", {"notebook": "nb.ipynb", "cron": "0 3 * * *"})
    assert created.status == 201, created.body
    schedule_id = created.json()["id"]

    @FUZZ
    @given(body=st.one_of(SCHEDULE_BODY, SCHEDULE_PATCH).map(json.dumps).map(str.encode) | RAW_BODY,
           patch=st.booleans())
    def check(body, patch):
        if patch:
            reply = server.request("PATCH", f"/containerjob/schedules/{schedule_id}", body)
            _answer_is_ours(reply, 200, 400, 502, 503)
        else:
            reply = server.request("POST", "/containerjob/schedules", body)
            _answer_is_ours(reply, 201, 400, 502, 503)

    check()
    _no_new_traceback(server, since)


QUERY_KEYS = st.sampled_from(["limit", "offset", "status", "backend", "origin"]) | TEXT


def test_job_list_queries(server):
    since = server.log.stat().st_size

    @FUZZ
    @given(pairs=st.lists(st.tuples(QUERY_KEYS, VALUE | st.integers().map(str)), max_size=5),
           raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e, blacklist_characters="#"), max_size=30))
    @example(pairs=[], raw="limit=%ff")
    @example(pairs=[("limit", "1e3"), ("offset", "-1")], raw="")
    def check(pairs, raw):
        query = urllib.parse.urlencode(pairs) + ("&" + raw if raw else "")
        reply = server.request("GET", "/containerjob/jobs?" + query)
        _answer_is_ours(reply, 200, 400)

    check()
    _no_new_traceback(server, since)


def test_ids_in_paths(server):
    """Random job and schedule IDs (percent-encoded: `/`, `..`, NUL, anything) on every route that takes one."""
    routes = [r for r in route_requests() if "(?P<" in r[0]]
    since = server.log.stat().st_size

    @FUZZ
    @given(route=st.sampled_from(routes), value=st.one_of(st.sampled_from(["..", ".", "cj-..", "cj-0123abcd/..",
                                                                           "%2e%2e", "\x00", "cs-" + "0" * 40]),
                                                          st.text(min_size=1, max_size=40)),
           body=st.sampled_from([None, b"", b"{}", b"[1]", b"{bad"]))
    def check(route, value, body):
        pattern, method, path = route
        encoded = urllib.parse.quote(value, safe="")
        path = path.replace("cj-0123abcd", encoded).replace("cs-0123abcd", encoded)
        reply = server.request(method, path, body if method in ("POST", "PATCH") else None)
        _answer_is_ours(reply, 400, 404)
        assert reply.json()["error"] in ("JobNotFound", "SpecError", "NotFound"), (path, reply.body)

    check()
    _no_new_traceback(server, since)


def test_fuzzing_left_the_server_whole(server, engine):
    """After all of it the server still answers, and no container was ever created for its store."""
    assert server.api("GET", "version").status == 200
    assert containers_of(engine, server.home) == []
