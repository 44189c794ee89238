"""`c.ContainerJob.<name>` reaches what a real Jupyter server does, with one precedence across every layer:
a job's own option > ContainerJob config (jupyter_server_config, %config) > CONTAINERJOB_* > config file >
built-in default. The same names and the same order hold in the magic."""
from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from cjtest import IMAGE
from containerjob.core.settings import Settings
from test_server_jobs import wait_for

ROOT = Path(__file__).resolve().parents[2]
CONFIGURED = "containerjob-test/configured:1"  # IMAGE under a name only the Jupyter config gives


@pytest.fixture
def configured_image(engine):
    """IMAGE tagged CONFIGURED, so a job that ran it can only have got the name from c.ContainerJob."""
    repository, tag = CONFIGURED.split(":")
    engine.images.get(IMAGE).tag(repository, tag)
    yield CONFIGURED
    engine.images.remove(CONFIGURED)  # the tag only: IMAGE keeps its other names


@pytest.fixture
def layers(cj_home, tmp_path, monkeypatch):
    """Each setting given at a different depth: the config file, the environment, or both under the config."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"default_image": "from-file:1", "region": "from-file",
                                       "staging_bucket": "gs://from-file"}))
    monkeypatch.setenv("CONTAINERJOB_CONFIG", str(config_file))
    monkeypatch.setenv("CONTAINERJOB_DEFAULT_IMAGE", "from-env:1")
    monkeypatch.setenv("CONTAINERJOB_REGION", "from-env")
    return config_file


@pytest.fixture
def jp_server_config(layers, configured_image):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True},
            "ContainerJob": {"default_image": configured_image, "service_account": "runner@from-config.iam.gserviceaccount.com"}}


async def api(fetch, *parts, **kwargs) -> dict:
    return json.loads((await fetch("containerjob", *parts, **kwargs)).body)


async def test_server_settings_follow_config_then_env_then_file_then_default(jp_fetch):
    settings = await api(jp_fetch, "settings")
    assert settings["default_image"] == CONFIGURED  # config over env over file
    assert settings["service_account"] == "runner@from-config.iam.gserviceaccount.com"  # config alone
    assert settings["region"] == "from-env"  # env over file
    assert settings["staging_bucket"] == "gs://from-file"  # file over default
    assert settings["image_repo"] == ""  # nothing set: the built-in default
    assert settings["default_backend"] == "local"


async def test_a_job_without_an_image_runs_the_configured_one_and_its_own_option_wins(jp_fetch, labelled):
    job = await api(jp_fetch, "jobs", method="POST", body=json.dumps({"kind": "cell", "source": "x = 1"}))
    assert job["image"] == CONFIGURED
    assert (await wait_for(jp_fetch, job["id"], "SUCCEEDED"))["image"] == CONFIGURED  # the engine ran that name
    own = await api(jp_fetch, "jobs", method="POST", body=json.dumps({"kind": "cell", "source": "x = 1",
                                                                      "options": {"image": IMAGE}}))
    assert own["image"] == IMAGE  # a job's own option beats every layer
    await wait_for(jp_fetch, own["id"], "SUCCEEDED")
    assert labelled() == []


def test_magic_config_beats_the_environment_and_none_gives_it_back(ip, cj_home, monkeypatch, capsys):
    monkeypatch.setenv("CONTAINERJOB_DEFAULT_IMAGE", "from-env:1")
    ip.run_line_magic("config", "ContainerJob.default_image = 'from-config:1'")
    try:
        ip.run_cell_magic("containerjob", "--dry-run", "x = 1")
        assert '"image": "from-config:1"' in capsys.readouterr().out
    finally:
        ip.run_line_magic("config", "ContainerJob.default_image = None")  # the shell outlives the test
    ip.run_cell_magic("containerjob", "--dry-run", "x = 1")
    assert '"image": "from-env:1"' in capsys.readouterr().out
    ip.run_cell_magic("containerjob", "--dry-run --image own:1", "x = 1")
    assert '"image": "own:1"' in capsys.readouterr().out


def test_a_config_value_of_the_wrong_type_is_refused_by_name():
    from traitlets import TraitError
    from traitlets.config import Config

    from containerjob.config_traits import ContainerJobConfig

    with pytest.raises(TraitError, match="max_payload_mb"):
        ContainerJobConfig(config=Config({"ContainerJob": {"max_payload_mb": "lots"}}))


def test_every_setting_is_documented_under_its_three_names():
    """docs/configuration.md is the reference: each Settings field with its variable and both config spellings."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \| `CONTAINERJOB_(\w+)` \|", text, flags=re.M))
    assert documented == {(f.name, f.name.upper()) for f in fields(Settings)}
