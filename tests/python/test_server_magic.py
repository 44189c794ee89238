"""`POST magic` and `POST notebooks/parameters` in a real Jupyter server: the sidebar's forms read and write
%%containerjob lines with the magic's own parser, and notebook parameter texts are typed here, not in the
browser."""
from __future__ import annotations

import json

import pytest
import tornado.httpclient
from IPython.core.magic_arguments import parse_argstring

from containerjob.core.options import options_from_args
from containerjob.magics.cell import ContainerJob
from containerjob.magics.magic_line import MAX_LINE_CHARS


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def magic(jp_fetch, **body) -> dict:
    response = await jp_fetch("containerjob", "magic", method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def refused(jp_fetch, route: str, body: str) -> dict:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("containerjob", *route.split("/"), method="POST", body=body)
    assert info.value.code == 400
    return json.loads(info.value.response.body)


async def test_the_quickstart_line_fills_the_fields_and_keeps_the_rest(jp_fetch):
    reply = await magic(jp_fetch, line="--name quickstart --env GREETING=hello", fields=["image", "env", "gpus"])
    assert reply == {"line": "--name quickstart --env GREETING=hello",
                     "options": {"name": "quickstart", "env": ["GREETING=hello"]},
                     "fields": {"env": ["GREETING=hello"]}, "rest": "--name quickstart", "problems": []}


@pytest.mark.parametrize("line", [
    "--image=python:3.11-slim --detach --env A=1 --env=B=2 --gpus all --in x,y",
    "--backend vertex --spot --machine-type n1-standard-8 --label team=ml --dry-run",
    "--on-interrupt cancel --name 'two words' --mount gs://b/p",
])
async def test_options_are_those_the_magic_reads(jp_fetch, line):
    """The magic's own parse of the line (--flag=value, repeated flags) is what the route says."""
    expected = options_from_args(parse_argstring(ContainerJob.containerjob, line))
    reply = await magic(jp_fetch, line=line)
    assert reply["problems"] == []
    for name, value in reply["options"].items():
        assert getattr(expected, name) == value, name


async def test_words_no_field_shows_stay_as_typed_and_in_order(jp_fetch):
    reply = await magic(jp_fetch, line="--detach --image img --name 'a b' --gpus 1 --spot --in x", fields=["image"])
    assert reply["fields"] == {"image": "img"}
    assert reply["rest"] == "--detach --name 'a b' --gpus 1 --spot --in x"


async def test_a_prefix_of_an_option_is_no_option(jp_fetch):
    """`--gpu 1` is not `--gpus 1` (argparse's allow_abbrev): the route says what the magic says."""
    reply = await magic(jp_fetch, line="--gpu 1 --image img", fields=["image", "gpus"])
    assert reply["options"] == {"image": "img"}
    assert reply["fields"] == {"image": "img"}
    assert reply["rest"] == "--gpu 1"
    assert reply["problems"] == [{"field": "rest", "message": "unknown option --gpu: did you mean --gpus?; correct it "
                                                             "or remove it"}]


async def test_a_form_writes_the_backend_first_lists_last_and_no_gpus_0(jp_fetch):
    reply = await magic(jp_fetch, options={"env": ["A=1"], "gpus": "0", "image": "img", "backend": "local"},
                        rest="--detach --name q", fields=["image", "env", "gpus"])
    assert reply["line"] == "--backend local --image img --env A=1 --detach --name q"
    assert reply["options"] == {"backend": "local", "image": "img", "env": ["A=1"], "name": "q"}
    assert reply["fields"] == {"image": "img", "env": ["A=1"]}
    assert reply["rest"] == "--backend local --detach --name q"
    assert reply["problems"] == []


async def test_moving_to_another_backend_moves_words_between_fields_and_rest(jp_fetch):
    """The form's backend change: written with the old fields, read with the new ones; no word lost."""
    to_vertex = await magic(jp_fetch, options={"env": ["GREETING=hello"], "gpus": "1"}, rest="--name quickstart",
                            fields=["env", "machine_type"])
    assert to_vertex["rest"] == "--gpus 1 --name quickstart"
    back = await magic(jp_fetch, options=to_vertex["fields"], rest=to_vertex["rest"], fields=["env", "gpus"])
    assert back["fields"] == {"env": ["GREETING=hello"], "gpus": "1"}
    assert back["rest"] == "--name quickstart"


async def test_an_unbalanced_quote_is_named_under_line_or_rest(jp_fetch):
    reply = await magic(jp_fetch, line="--image 'python:3.11")
    assert reply["options"] == {} and reply["rest"] == ""
    assert [p["field"] for p in reply["problems"]] == ["line"]
    assert "closing quotation" in reply["problems"][0]["message"] and "balance the quotes" in reply["problems"][0]["message"]
    written = await magic(jp_fetch, options={"image": "img"}, rest='--name "q')
    assert written["line"] == "--image img"
    assert written["fields"] == {"image": "img"} and written["rest"] == '--name "q'  # kept as typed
    assert [p["field"] for p in written["problems"]] == ["rest"]
    assert "balance the quotes" in written["problems"][0]["message"]


async def test_refused_words_are_named_with_their_field_and_the_fix(jp_fetch):
    reply = await magic(jp_fetch, line="--imgae x --gpus --in 1a --on-interrupt never stray", fields=["gpus"])
    problems = {p["field"]: [] for p in reply["problems"]}
    for p in reply["problems"]:
        problems[p["field"]].append(p["message"])
    assert problems["options.gpus"] == ["--gpus needs a value: write --gpus N|all, or remove the flag"]
    rest = " | ".join(problems["rest"])
    assert "unknown option --imgae: did you mean --image?; correct it or remove it" in rest
    assert "invalid choice: 'never'" in rest
    assert "stray is no flag's value" in rest
    assert "not variable names: 1a" in rest
    assert reply["rest"] == "--imgae x --gpus --in 1a --on-interrupt never stray"


async def test_values_the_line_cannot_carry_are_named_under_their_field(jp_fetch):
    reply = await magic(jp_fetch, options={"image": "my image", "name": "it's", "imge": "x"})
    fields = {p["field"]: p["message"] for p in reply["problems"]}
    assert "options.imge is not a run option" in fields["options.imge"]
    assert "contains whitespace" in fields["options.image"]
    assert "contains a quote" in fields["options.name"]
    assert "my image" not in reply["line"]


@pytest.mark.parametrize("body,named", [
    ('{"line": 3}', "line must be a string"),
    ('{"line": "--detach", "rest": ""}', "not both"),
    ('{"fields": ["imge"]}', "'imge' is not a run option"),
    ('{"lines": ""}', "unknown field 'lines'"),
    ('{"line": "x"', "not valid JSON"),
    (json.dumps({"line": "--name " + "x" * MAX_LINE_CHARS}), f"at most {MAX_LINE_CHARS} characters"),
    ('{"line": ' + "[" * 100 + "]" * 100 + "}", "deeper than 64 levels"),
])
async def test_bad_bodies_are_a_400_naming_the_problem(jp_fetch, body, named):
    error = await refused(jp_fetch, "magic", body)
    assert named in error["message"], error


async def test_notebook_parameter_texts_are_typed_on_the_server(jp_fetch):
    declared = [{"name": n, "type": t, "default": d, "help": ""} for n, t, d in (
        ("epochs", "int", "10"), ("lr", "float", "0.1"), ("optimizer", "str", "'adam'"), ("shuffle", "bool", "True"),
        ("layers", "list", "[64, 32]"), ("anything", "any", "None"))]
    texts = {"epochs": "3", "lr": " 0.1 ", "optimizer": "'sgd'", "shuffle": "false", "layers": "[8]",
             "anything": '{"a": 1}'}
    response = await jp_fetch("containerjob", "notebooks", "parameters", method="POST",
                              body=json.dumps({"parameters": declared, "texts": texts}))
    assert json.loads(response.body) == {"values": {"epochs": 3, "optimizer": "sgd", "shuffle": False,
                                                    "layers": [8], "anything": {"a": 1}}, "problems": []}
    bad = {"epochs": "3.5", "lr": "fast", "shuffle": "yes", "layers": "[1,"}
    response = await jp_fetch("containerjob", "notebooks", "parameters", method="POST",
                              body=json.dumps({"parameters": declared, "texts": bad}))
    assert json.loads(response.body)["problems"] == [
        {"field": "parameters.epochs", "message": 'parameter epochs: "3.5" is not an int, e.g. 3'},
        {"field": "parameters.lr", "message": 'parameter lr: "fast" is not a number, e.g. 0.1'},
        {"field": "parameters.shuffle", "message": 'parameter shuffle: "yes" is not True or False'},
        {"field": "parameters.layers", "message": 'parameter layers: "[1," is not a JSON list, e.g. [1, 2]'}]
    error = await refused(jp_fetch, "notebooks/parameters", json.dumps({"texts": {"a": 1}}))
    assert "texts must be an object" in error["message"]
