"""Shell words on the server: the "Run a container" form sends its Arguments as typed (`args_text`) and the
server splits them as the CLI splits --command (shlex); job and CustomJob file answers carry the command and
args joined back into lines (`command_text`, `args_text`), so the browser keeps no shell-word parser. Real
Jupyter server (jp_fetch); the run itself on the real Docker engine."""
from __future__ import annotations

import shlex

import pytest

from cjtest import IMAGE
from containerjob.core.spec import join_words
from test_server_customjob import call, files, job_ids, wait_for  # noqa: F401 - files: the CustomJob fixture

ARGV = "import sys; print('argv', sys.argv[1:])"
TYPED = """--name 'my run' --note "say \\"hi\\"" a\\ b '' $HOME"""
WORDS = ["--name", "my run", "--note", 'say "hi"', "a b", "", "$HOME"]


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


def container(**body) -> dict:
    return {"kind": "container", "options": {"backend": "local", "image": IMAGE,
                                             "command": f"python3 -c {shlex.quote(ARGV)}"}, **body}


async def test_the_arguments_as_typed_reach_the_program_as_the_cli_splits_them(jp_fetch, labelled):
    assert shlex.split(TYPED) == WORDS  # what `containerjob run -- ...` would pass after a shell split them
    assert await call(jp_fetch, "jobs", "validate", body=container(args_text=TYPED)) == (200, {"errors": []})
    code, job = await call(jp_fetch, "jobs", body=container(args_text=TYPED))
    assert code == 201, job
    done = await wait_for(jp_fetch, job["id"])
    assert done["status"] == "SUCCEEDED", done
    assert (await call(jp_fetch, "jobs", job["id"], "logs"))[1]["text"] == f"argv {WORDS}\n"

    # The page shows the lines the server joined; they split back into the same words (pasted into the form).
    assert done["spec"]["worker_pools"][0]["args"] == WORDS
    assert shlex.split(done["args_text"]) == WORDS and shlex.split(done["command_text"]) == ["python3", "-c", ARGV]
    assert done["command_text"] == f'python3 -c "{ARGV}"'  # as one would type it, not 'import sys; print('"'"'...
    listed = (await call(jp_fetch, "jobs"))[1]["jobs"]
    assert [(j["command_text"], j["args_text"]) for j in listed] == [(done["command_text"], done["args_text"])]

    code, bare = await call(jp_fetch, "jobs", body={"kind": "container", "options": {"image": IMAGE}})
    assert code == 201, bare
    assert (bare["command_text"], bare["args_text"]) == (None, None)  # the image's ENTRYPOINT and CMD
    await wait_for(jp_fetch, bare["id"])


@pytest.mark.parametrize("typed, fix", [
    ("--name 'my run", "(no closing quotation); close the quote, or escape it with a backslash"),
    ('--note "a \\"', "(no closing quotation); close the quote"),
    ("x \\", "(no escaped character); a backslash escapes the character after it: double the last one"),
])
async def test_arguments_that_cannot_be_split_are_a_400_naming_the_field_and_the_fix(jp_fetch, typed, fix):
    before = await job_ids(jp_fetch)
    for route in (("jobs", "validate"), ("jobs",)):
        code, answer = await call(jp_fetch, *route, body=container(args_text=typed))
        assert code == 400 and [e["field"] for e in answer["errors"]] == ["args_text"], answer
        assert answer["errors"][0]["message"].startswith(f"args_text {typed!r} cannot be split into words {fix}")
    assert await job_ids(jp_fetch) == before


async def test_args_and_args_text_are_one_or_the_other_and_for_container_jobs(jp_fetch):
    code, answer = await call(jp_fetch, "jobs", "validate", body=container(args=["a"], args_text="a"))
    assert code == 400 and [e["field"] for e in answer["errors"]] == ["args_text"], answer
    assert "not both" in answer["errors"][0]["message"]
    code, answer = await call(jp_fetch, "jobs", "validate", body={"kind": "cell", "source": "1", "args_text": "a"})
    assert code == 400 and [e["field"] for e in answer["errors"]] == ["args_text"], answer
    assert "for kind container" in answer["errors"][0]["message"]
    code, answer = await call(jp_fetch, "jobs", "validate", body=container(args_text=["a"]))
    assert code == 400 and answer["errors"][0]["field"] == "args_text", answer
    assert "must be a string" in answer["errors"][0]["message"]
    assert await call(jp_fetch, "jobs", "validate", body=container(args=WORDS)) == (200, {"errors": []})  # old clients


async def test_a_customjob_file_comes_with_its_command_and_args_as_lines(jp_fetch, files):  # noqa: F811
    code, preview = await call(jp_fetch, "customjob", params={"path": "jobs/train.yaml"})
    assert code == 200, preview
    assert shlex.split(preview["command_text"]) == preview["command"] == ["python3", "-c", preview["command"][2]]
    assert preview["args_text"] == "a b"
    (files / "jobs" / "bare.yaml").write_text(f"workerPoolSpecs:\n  containerSpec: {{imageUri: {IMAGE}}}\n")
    code, bare = await call(jp_fetch, "customjob", params={"path": "jobs/bare.yaml"})
    assert code == 200 and (bare["command"], bare["command_text"], bare["args_text"]) == ([], None, None), bare


@pytest.mark.parametrize("words", [
    ["python3", "-c", "print('hi')"], ["it's", 'say "hi"'], ["$HOME's", "`x`'", "a'!", "back\\slash'"],
    ["", " ", "a b", "tab\tnew\nline'", "~", "*.txt", "#not-a-comment", "é'ü"], ["--flag=va'lue"],
])
def test_joined_words_split_back_into_the_same_words(words):
    """What a page shows pastes back into the form (split as --command is) and into a shell, word for word."""
    line = join_words(words)
    assert line is not None and shlex.split(line) == words
    assert join_words([]) is None
