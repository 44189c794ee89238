"""One declaration per option: an entry added to the option table reaches the magic, the CLI, REST
validation, the openapi schema and the generated TypeScript, and the generated files are current."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from containerjob.backends import backend_traits
from containerjob.core.errors import SpecError
from containerjob.core.options import (
    RunOptions,
    check_applicable,
    options_for_backend,
    options_from_mapping,
    run_options_stub,
)

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: the table is extended before anything that reads it is imported.
DUMMY = r'''
import contextlib, io, json, sys
from containerjob.core import option_table as table
table.OPTIONS.append(table.Option("dummy_knob", "text", "a knob only this test knows", metavar="N",
                                  backends=("local",), form=table.Form("Dummy knob", "7")))
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from containerjob import cli
from containerjob.core.errors import SpecError
from containerjob.core.options import openapi_schema, options_from_args, typescript_module
from containerjob.server.bodies import run_options

seen = {}
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "containerjob")
magic = ip.find_cell_magic("containerjob").__self__.containerjob
seen["magic_help"] = "--dummy-knob" in magic.parser.format_help()
from IPython.core.magic_arguments import parse_argstring
seen["magic_value"] = options_from_args(parse_argstring(magic, "--dummy-knob 3")).dummy_knob
try:
    ip.run_cell_magic("containerjob", "--dummy-knob 3 --backend vertex --dry-run", "x = 1")
except UsageError as exc:
    seen["magic_refusal"] = str(exc)
seen["cli_value"] = options_from_args(cli.parse(["run", "train.py", "--dummy-knob", "4"])).dummy_knob
err = io.StringIO()
with contextlib.redirect_stderr(err):
    seen["cli_rc"] = cli.main(["run", "train.py", "--dummy-knob", "4", "--backend", "vertex", "--dry-run"])
seen["cli_error"] = err.getvalue()
seen["rest_value"] = run_options({"dummy_knob": 5}).dummy_knob
try:
    run_options({"dummy_knob": ["5"]})
except SpecError as exc:
    seen["rest_refusal"] = str(exc)
seen["openapi"] = "dummy_knob: {type: string" in openapi_schema()
seen["typescript"] = typescript_module()
print(json.dumps(seen))
'''


def test_a_new_table_entry_reaches_every_surface(tmp_path, cj_home):
    (tmp_path / "train.py").write_text("print('hi')\n")
    done = subprocess.run([sys.executable, "-c", DUMMY], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "python_pkg")})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["magic_help"] and seen["magic_value"] == "3"
    assert "--dummy-knob is for local runs (--backend local), not --backend vertex" in seen["magic_refusal"]
    assert seen["cli_value"] == "4"
    assert seen["cli_rc"] == 2 and "--dummy-knob is for local runs" in seen["cli_error"]
    assert seen["rest_value"] == "5"
    assert "options.dummy_knob must be a string" in seen["rest_refusal"]
    assert seen["openapi"]
    ts = seen["typescript"]
    assert "  dummy_knob?: string;" in ts and '"flag": "--dummy-knob"' in ts and '"label": "Dummy knob"' in ts
    by_backend = json.loads(ts[ts.index("OPTIONS_BY_BACKEND"):].split("= ", 1)[1].rstrip().rstrip(";"))
    assert "dummy_knob" in by_backend["local"] and "dummy_knob" not in by_backend["vertex"]


def test_generated_files_are_current():
    """CI runs the same check: a table edit without `python .ci/generate_options.py` fails here."""
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "generate_options.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_type_checkers_run_options_are_the_runtime_ones():
    """The typing-only RunOptions in core/options.py (what mypy reads) has the fields, types and defaults of
    the class make_dataclass builds from the table."""
    scope = {"dataclasses": dataclasses}
    exec("from __future__ import annotations\n" + textwrap.dedent(run_options_stub()), scope)
    typed = scope["RunOptions"]
    assert [(f.name, f.type) for f in dataclasses.fields(typed)] == [(f.name, f.type) for f in dataclasses.fields(RunOptions)]
    assert dataclasses.asdict(typed()) == dataclasses.asdict(RunOptions())


def test_options_a_backend_would_ignore_are_refused_naming_where_they_apply():
    with pytest.raises(SpecError, match=r"--image is for local runs .* not --backend executor; .*--runtime-template"):
        check_applicable(RunOptions(image="python:3.11-slim"), "executor")
    with pytest.raises(SpecError, match=r"--spot is for Vertex AI \(--backend vertex\), not --backend local"):
        check_applicable(RunOptions(spot=True), "local")
    with pytest.raises(SpecError, match="--no-upload-on-failure is for local runs"):
        check_applicable(RunOptions(upload_on_failure=False), "vertex")
    check_applicable(RunOptions(labels=["a=b"], timeout="5m", name="n"), "some-third-party-backend")
    assert "image" not in options_for_backend("executor") and "runtime_template" in options_for_backend("executor")


def test_rest_values_are_typed_by_the_table():
    assert options_from_mapping({"gpus": 2, "spot": True, "env": ["A=1"], "image": None}) == \
        RunOptions(gpus="2", spot=True, env=["A=1"])
    for body, message in (({"spot": "yes"}, "options.spot must be true or false"),
                          ({"env": "A=1"}, "options.env must be a list of strings"),
                          ({"imgae": "x"}, "options.imgae is not a run option"),
                          ([], "must be a JSON object")):
        with pytest.raises(SpecError, match=message):
            options_from_mapping(body)


# A value each option takes, to see which JobSpec fields setting it changes.
SAMPLES = {"image": "python:3.12-slim", "command": "python -V", "gpus": "1", "env": ["A=1"], "project": "p-other",
           "output_dir": "gs://out-bucket/run", "timeout": "10m", "name": "nightly", "labels": ["team=ml"],
           "mounts": ["gs://data-bucket"], "credentials": True, "upload_on_failure": False, "region": "europe-west4",
           "machine_type": "n1-standard-8", "accelerator": "NVIDIA_TESLA_T4:1", "replicas": "3", "spot": True,
           "service_account": "runner@p.iam.gserviceaccount.com", "staging_bucket": "gs://stage-bucket",
           "requirements": None, "pip": ["pandas==2.2"], "image_repo": "us-docker.pkg.dev/p/repo",
           "runtime_template": "workbench", "backend": None}


def _flat(spec) -> dict[str, object]:
    """A spec's fields, a worker pool's as worker_pools.NAME (the pools' distinct values: a second pool of
    the same values adds none)."""
    data = spec.to_dict()
    pools = data.pop("worker_pools")
    distinct = lambda values: [v for i, v in enumerate(values) if v not in values[:i]]  # noqa: E731
    return {**data, **{f"worker_pools.{k}": distinct([p[k] for p in pools]) for k in pools[0]}}


@pytest.mark.parametrize("name", [o for o in SAMPLES if SAMPLES[o] is not None])
def test_the_spec_fields_an_option_declares_are_those_it_sets(name, tmp_path):
    """The job page hides a job's spec fields that only other backends' options set: each option's `spec`
    must name every field setting it changes (and only real fields)."""
    from containerjob.core.option_table import OPTIONS
    from containerjob.core.spec import build_spec

    option = next(o for o in OPTIONS if o.name == name)
    backend = option.backends[0] if option.backends else "local"
    fixed = {"backend": backend, "machine_type": "n1-standard-4"} if backend != "local" else {"backend": backend}
    def build(extra: dict) -> dict[str, object]:
        options = options_from_mapping({**fixed, **extra})
        # The service resolves the project (the option first) before build_spec, which takes it as given.
        return _flat(build_spec(options, default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits,
                                project=options.project or "p", region="us-central1"))

    before, after = build({}), build({name: SAMPLES[name]})
    changed = {field for field in after if after[field] != before.get(field)}
    assert changed, f"setting {name} changed nothing: pick another sample value"
    assert changed <= set(option.spec), f"{name} sets {sorted(changed)} but declares {list(option.spec)}"
    assert set(option.spec) <= set(after), f"{name} declares fields a spec does not have"
