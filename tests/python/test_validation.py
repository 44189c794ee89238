"""One validation path: a submission, a new schedule or their validate routes answer every bad field at once
(400 `errors`, one entry a field), found by the checks the CLI and the magic run; nothing runs or is made."""
from __future__ import annotations

import json

import nbformat
import pytest
import tornado.httpclient

from containerjob.backends import backend_traits
from containerjob.core.errors import SpecError
from containerjob.core.options import RunOptions, spec_problems
from containerjob.core.spec import build_spec

# Four bad fields the sidebar's forms can send, each refused by a different check of core/spec.py.
BAD_OPTIONS = {"backend": "local", "image": "my image", "gpus": "lots", "timeout": "soon", "env": ["1A=x"]}
BAD_FIELDS = ["options.image", "options.gpus", "options.env", "options.timeout"]


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


@pytest.fixture
def notebook(jp_root_dir):
    """work/train.ipynb under the server's root, with a tagged parameters cell (epochs: int)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("epochs = 3")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(epochs)")]
    (jp_root_dir / "work").mkdir()
    nbformat.write(nb, str(jp_root_dir / "work" / "train.ipynb"))
    return "work/train.ipynb"


async def post(fetch, *parts, body) -> tuple[int, dict]:
    try:
        response = await fetch("containerjob", *parts, method="POST", body=json.dumps(body))
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


def fields(answer: dict) -> list[str]:
    return [problem["field"] for problem in answer["errors"]]


async def test_a_cell_with_four_bad_fields_is_one_400_naming_each(jp_fetch):
    code, answer = await post(jp_fetch, "jobs", "validate", body={"kind": "cell", "source": "x = 1",
                                                                  "options": BAD_OPTIONS})
    assert code == 400 and answer["error"] == "SpecError"
    assert fields(answer) == BAD_FIELDS
    by_field = {p["field"]: p["message"] for p in answer["errors"]}
    assert by_field["options.gpus"] == "--gpus 'lots' is not a number: use --gpus N (N >= 1) or --gpus all"
    assert by_field["options.timeout"].startswith("--timeout 'soon' is not a positive duration")
    assert all(p["message"] in answer["message"] for p in answer["errors"])  # the one-line message has them all


async def test_the_submission_refuses_the_same_fields_and_runs_nothing(jp_fetch):
    body = {"kind": "cell", "source": "x = 1", "options": BAD_OPTIONS}
    code, answer = await post(jp_fetch, "jobs", body=body)
    assert (code, fields(answer)) == (400, BAD_FIELDS)
    assert json.loads((await jp_fetch("containerjob", "jobs")).body)["jobs"] == []


async def test_body_fields_types_and_backend_rules_are_reported_together(jp_fetch):
    code, answer = await post(jp_fetch, "jobs", "validate", body={
        "kind": "cell", "source": 5, "args": ["x"],
        "options": {"backend": "vertex", "gpus": "2", "spot": "yes", "region": "mars central",
                    "accelerator": "NVIDIA_TESLA_T4:3", "labels": ["Bad=x"], "imge": "x"}})
    assert code == 400
    assert fields(answer) == ["args", "source", "options.imge", "options.spot", "options.gpus", "options.region",
                              "options.accelerator", "options.labels"]
    assert "--gpus is for local runs (--backend local), not --backend vertex" in answer["errors"][4]["message"]


async def test_a_valid_submission_validates_to_no_errors_and_starts_nothing(jp_fetch, notebook):
    for body in ({"kind": "cell", "source": "x = 1", "options": {"gpus": "all", "timeout": "10m",
                                                                 "env": ["GREETING=hello"], "name": "quickstart"}},
                 {"kind": "notebook", "path": notebook, "parameters": {"epochs": 5}},
                 {"kind": "container", "options": {"image": "python:3.11-slim", "command": "python3 -V"}}):
        assert await post(jp_fetch, "jobs", "validate", body=body) == (200, {"errors": []})
    assert json.loads((await jp_fetch("containerjob", "jobs")).body)["jobs"] == []


async def test_a_notebook_run_names_its_parameters_and_options(jp_fetch, notebook):
    code, answer = await post(jp_fetch, "jobs", "validate", body={
        "kind": "notebook", "path": notebook, "parameters": {"epochs": "many", "rate": 1},
        "options": {"command": "x", "timeout": "soon"}})
    assert code == 400 and fields(answer) == ["parameters", "options.command", "options.timeout"]
    assert "epochs must be int" in answer["errors"][0]["message"]
    assert "'rate' is not a parameter" in answer["errors"][0]["message"]
    code, answer = await post(jp_fetch, "jobs", "validate", body={"kind": "notebook", "path": "work/none.ipynb"})
    assert code == 400 and fields(answer) == ["path"] and "does not exist" in answer["message"]


async def test_a_schedule_with_every_field_wrong_is_one_400_and_nothing_is_made(jp_fetch, notebook):
    body = {"name": "nightly", "notebook": notebook, "cron": "every day", "timezone": "Mars/Olympus",
            "missed": "never", "max_concurrent": "two", "parameters": {"epochs": "many"},
            "options": {"gpus": "lots", "timeout": "soon"}}
    for route in (("schedules", "validate"), ("schedules",)):
        code, answer = await post(jp_fetch, *route, body=body)
        assert code == 400, route
        assert fields(answer) == ["cron", "timezone", "missed", "max_concurrent", "parameters", "options.gpus",
                                  "options.timeout"]
        assert "field 'max_concurrent' must be a whole number, not 'two'" in answer["message"]
    assert json.loads((await jp_fetch("containerjob", "schedules")).body)["schedules"] == []


async def test_a_schedule_needs_a_backend_that_runs_schedules(jp_fetch, notebook):
    code, answer = await post(jp_fetch, "schedules", "validate", body={
        "notebook": notebook, "cron": "0 3 * * *", "max_concurrent": 0, "options": {"backend": "vertex"}})
    assert code == 400 and fields(answer) == ["max_concurrent", "options.backend"]
    assert "--max-concurrent 0 must be 1..100" in answer["message"]
    assert "schedules run notebooks locally or on the Workbench Executor" in answer["message"]
    good = {"notebook": notebook, "cron": "0 3 * * *", "max_concurrent": 2, "parameters": {"epochs": 5}}
    assert await post(jp_fetch, "schedules", "validate", body=good) == (200, {"errors": []})


async def test_a_problem_lands_on_the_field_its_parser_names_whatever_the_message_quotes(jp_fetch):
    """A value that quotes another option's flag stays that value's problem (the message once decided, and
    put both of these on options.gpus)."""
    code, answer = await post(jp_fetch, "jobs", "validate", body={
        "kind": "cell", "source": "x = 1", "options": {"backend": "--gpus", "labels": ["--gpus=2"]}})
    assert code == 400 and fields(answer) == ["options.backend", "options.labels"]
    assert answer["errors"][0]["message"].startswith("unknown backend '--gpus'")
    assert answer["errors"][1]["message"].startswith("label '--gpus=2' is invalid")


async def test_every_option_a_backend_refuses_is_named_once(jp_fetch):
    code, answer = await post(jp_fetch, "jobs", "validate", body={
        "kind": "cell", "source": "x = 1", "options": {"backend": "vertex", "gpus": "lots", "credentials": True}})
    assert code == 400 and fields(answer) == ["options.gpus", "options.credentials"]
    assert answer["errors"][0]["message"].startswith("--gpus is for local runs")  # not also "'lots' is not a number"


def check(options: RunOptions) -> None:
    build_spec(options, default_image="python:3.11-slim", default_backend="local", traits_of=backend_traits,
               project=None)


def test_one_pass_of_the_spec_checks_names_every_bad_option_on_its_field():
    with pytest.raises(SpecError) as raised:
        check(RunOptions(gpus="lots", timeout="soon", replicas="x", labels=["--gpus=1"], name="ok"))
    assert str(raised.value).startswith("--gpus 'lots' is not a number")  # what the CLI and the magic say
    assert [p.field for p in raised.value.problems] == ["gpus", "replicas", "labels", "timeout"]


def test_spec_problems_reports_the_fields_the_checks_name():
    options = RunOptions(gpus="lots", timeout="soon", replicas="x", name="ok")
    assert [f for f, _ in spec_problems(options, check)] == ["options.gpus", "options.replicas", "options.timeout"]
    assert spec_problems(RunOptions(name="ok"), check) == []

    def settings_region(options: RunOptions) -> None:  # a bad server setting: no option's default cures it
        raise SpecError("--region 'mars' is not a Vertex AI training region", field="region")

    assert spec_problems(RunOptions(), settings_region) == [
        ("options.region", "--region 'mars' is not a Vertex AI training region")]

    def about_no_option(options: RunOptions) -> None:
        raise SpecError("--name x: something about the whole job")

    assert spec_problems(RunOptions(), about_no_option) == [("options", "--name x: something about the whole job")]
