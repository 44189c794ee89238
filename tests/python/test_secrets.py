"""Secret values reach the container and nothing else: job records, `status`, `list`, dry runs, exported
CustomJob files, schedules (`schedule list --json`, `schedule show`, REST) and REST replies show `***` for
names that look secret, URLs with a password, and every `--secret-env` value (real engine, real server)."""
from __future__ import annotations

import hashlib
import json

import nbformat
import pytest

from cjtest import IMAGE
from containerjob.core.store import Store
from test_cli import cli
from test_server_schedules import api, error_of, wait_final

SECRETS = {"DB_PASS": "pass-value-1", "OPENAI_KEY": "key-value-2", "GH_PAT": "pat-value-3",
           "SENTRY_DSN": "https://dsn-value-4.example", "DATABASE_URL": "postgres://u:pw-value-5@h/d"}
GIVEN = "given-secret-value-6"  # --secret-env MY_SETTING=...: a name no rule calls secret
PRINTS_HASH = ("python3 -c \"import hashlib, os; "
               "print('sha', hashlib.sha256(os.environ['MY_SETTING'].encode()).hexdigest())\"")


def env_flags() -> list[str]:
    return [w for k, v in SECRETS.items() for w in ("--env", f"{k}={v}")] + ["--env", "PLAIN=shown-value"]


def hidden(text: str) -> bool:
    """No secret value anywhere in `text`, and the plain value still shown where it is shown at all."""
    return not any(v in text for v in [*SECRETS.values(), GIVEN, "pw-value"])


def test_names_and_urls_that_look_secret_are_redacted_in_records_and_cli(cj_home):
    done = cli("run", "--image", IMAGE, "--command", "true", *env_flags())
    assert hidden(done.stdout + done.stderr)
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.spec.worker_pools[0].env == {**{k: "***" for k in SECRETS}, "PLAIN": "shown-value"}
    status = cli("status", record.id)
    assert hidden(status.stdout + status.stderr) and "shown-value" in status.stdout + status.stderr
    assert hidden(cli("list", "--json").stdout)
    exported = cli("export", record.id)
    assert hidden(exported.stdout + exported.stderr) and "--env DATABASE_URL=VALUE" in exported.stderr


def test_secret_env_reaches_the_job_and_no_output(cj_home, labelled):
    done = cli("run", "--image", IMAGE, "--command", PRINTS_HASH, "--secret-env", f"MY_SETTING={GIVEN}")
    assert f"sha {hashlib.sha256(GIVEN.encode()).hexdigest()}" in done.stdout  # the container got the value
    assert hidden(done.stdout + done.stderr)
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.spec.worker_pools[0].env == {"MY_SETTING": "***"}
    assert record.spec.worker_pools[0].secret_env == ["MY_SETTING"]
    status = cli("status", record.id)
    assert hidden(status.stdout + status.stderr) and "MY_SETTING" in status.stdout + status.stderr
    assert hidden(cli("list", "--json").stdout)
    exported = cli("export", record.id)
    assert hidden(exported.stdout + exported.stderr) and "--secret-env MY_SETTING=VALUE" in exported.stderr
    assert labelled() == []


@pytest.mark.parametrize("backend", [["--backend", "local"],
                                     ["--backend", "vertex", "--project", "p", "--staging-bucket", "gs://bkt"]])
@pytest.mark.parametrize("given", [[], ["--secret-env", f"MY_SETTING={GIVEN}"]], ids=["names", "secret-env"])
def test_dry_runs_redact_every_secret(cj_home, backend, given):
    done = cli("run", "--image", IMAGE, "--command", "env", *given, *env_flags(), *backend, "--dry-run")
    assert hidden(done.stdout + done.stderr), done.stdout
    assert "shown-value" in done.stdout and all(k in done.stdout for k in SECRETS)
    assert Store(cj_home / "jobs.db").list() == []


def test_secret_env_is_refused_without_showing_a_value(cj_home):
    done = cli("run", "--image", IMAGE, "--secret-env", GIVEN, "--dry-run", check_rc=2)
    assert GIVEN not in done.stderr and "--secret-env NAME=VALUE" in done.stderr
    done = cli("run", "--image", IMAGE, "--env", "A=1", "--secret-env", "A=2", "--dry-run", check_rc=2)
    assert "--env and --secret-env both set A" in done.stderr


@pytest.fixture
def nb(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("print('hi')")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_cli_schedules_never_show_secret_values(cj_home, nb):
    created = cli("schedule", "create", str(nb), "--cron", "0 3 * * *", "--env", "API_TOKEN=token-value-7",
                  *env_flags())
    schedule_id = created.stdout.split()[0]
    listed = cli("schedule", "list", "--json").stdout
    shown = cli("schedule", "show", schedule_id).stdout
    for text in (created.stdout, listed, shown):
        assert hidden(text) and "token-value-7" not in text
    assert "PLAIN=shown-value" in listed and "API_TOKEN=***" in json.loads(shown)["options"]["env"]
    stored = Store(cj_home / "jobs.db").get_schedule(schedule_id)["options"]  # kept, to run it
    assert "API_TOKEN=token-value-7" in stored["env"]


def test_cli_schedules_keep_secret_env_as_stars(cj_home, nb):
    created = cli("schedule", "create", str(nb), "--cron", "0 3 * * *", "--secret-env", f"MY_SETTING={GIVEN}")
    schedule_id = created.stdout.split()[0]
    shown = cli("schedule", "show", schedule_id).stdout
    assert hidden(shown) and json.loads(shown)["options"]["secret_env"] == ["MY_SETTING=***"]
    assert hidden(cli("schedule", "list", "--json").stdout)
    stored = Store(cj_home / "jobs.db").get_schedule(schedule_id)["options"]
    assert stored["secret_env"] == [f"MY_SETTING={GIVEN}"]


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def test_rest_schedules_never_show_secret_values(jp_fetch, jp_root_dir, nb):
    nbformat.write(nbformat.read(str(nb), 4), str(jp_root_dir / "nb.ipynb"))
    options = {"image": IMAGE, "env": ["API_TOKEN=token-value-7", "PLAIN=shown-value"]}
    code, created = await api(jp_fetch, "schedules", method="POST", body=json.dumps(
        {"notebook": "nb.ipynb", "cron": "0 3 * * *", "options": options}))
    assert code == 201 and created["options"]["env"] == ["API_TOKEN=***", "PLAIN=shown-value"]
    listed = (await api(jp_fetch, "schedules"))[1]
    one = (await api(jp_fetch, "schedules", created["id"]))[1]
    assert all("token-value-7" not in json.dumps(x) for x in (created, listed, one))


async def test_rest_schedule_edits_sent_back_as_shown_keep_the_secrets(jp_fetch, jp_root_dir, nb, cj_home):
    nbformat.write(nbformat.read(str(nb), 4), str(jp_root_dir / "nb.ipynb"))
    options = {"image": IMAGE, "env": ["API_TOKEN=token-value-7", "PLAIN=shown-value"],
               "secret_env": [f"MY_SETTING={GIVEN}"]}
    code, created = await api(jp_fetch, "schedules", method="POST", body=json.dumps(
        {"notebook": "nb.ipynb", "cron": "0 3 * * *", "options": options}))
    assert code == 201 and created["options"]["secret_env"] == ["MY_SETTING=***"] and hidden(json.dumps(created))
    sid = created["id"]
    # the sidebar's edit form sends back what it was shown: the stored values stay
    _, edited = await api(jp_fetch, "schedules", sid, method="PATCH", body=json.dumps(
        {"cron": "0 4 * * *", "options": {**created["options"], "env": [*created["options"]["env"], "MORE=1"]}}))
    assert hidden(json.dumps(edited)) and "token-value-7" not in json.dumps(edited)
    stored = Store(cj_home / "jobs.db").get_schedule(sid)["options"]
    assert stored["env"] == ["API_TOKEN=token-value-7", "PLAIN=shown-value", "MORE=1"]
    assert stored["secret_env"] == [f"MY_SETTING={GIVEN}"]
    code, error = await error_of(jp_fetch, "schedules", sid, method="PATCH", body=json.dumps(
        {"options": {"env": ["NEW_TOKEN=***"]}}))
    assert code == 400 and "NEW_TOKEN=*** hides a value this schedule does not have" in error["message"]


@pytest.mark.parametrize("given", [{"command": "true"}, {"command": PRINTS_HASH, "secret_env": [f"MY_SETTING={GIVEN}"]}],
                         ids=["names", "secret-env"])
async def test_rest_jobs_never_show_secret_values(jp_fetch, given):
    options = {"image": IMAGE, "env": [f"{k}={v}" for k, v in SECRETS.items()], **given}
    code, job = await api(jp_fetch, "jobs", method="POST", body=json.dumps({"kind": "container", "options": options}))
    assert code == 201 and hidden(json.dumps(job))
    job = await wait_final(jp_fetch, job["id"], timeout_s=60)
    assert job["status"] == "SUCCEEDED", job["message"]
    assert hidden(json.dumps(job)) and hidden(json.dumps((await api(jp_fetch, "jobs"))[1]))
    if "secret_env" in given:
        assert job["spec"]["worker_pools"][0]["env"]["MY_SETTING"] == "***"
        _, logs = await api(jp_fetch, "jobs", job["id"], "logs")
        assert f"sha {hashlib.sha256(GIVEN.encode()).hexdigest()}" in logs["text"]  # the container got the value
