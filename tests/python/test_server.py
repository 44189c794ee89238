"""The server extension in a real Jupyter server: every route authenticated, XSRF for cookie sessions,
one JSON error shape, settings and backends as a job would see them, and the route/contract check."""
from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.web
from jupyter_server.utils import url_path_join

import containerjob
from containerjob.core.options import options_for_backend
from containerjob.server.base import ContainerJobHandler
from containerjob.server.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
FAKE_IDS = {"job_id": "cj-0123abcd", "schedule_id": "cs-0123abcd", "path": "output/result.json"}


@pytest.fixture
def jp_server_config(cj_home):
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


def concrete(pattern: str) -> list[str]:
    """A route pattern as URL parts, with a well-formed ID or path in each group."""
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: FAKE_IDS[m.group(1)], pattern).split("/")


async def error_of(fetch, *parts, **kwargs) -> tuple[int, dict]:
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await fetch("containerjob", *parts, **kwargs)
    return info.value.code, json.loads(info.value.response.body)


async def test_version_route(jp_fetch):
    response = await jp_fetch("containerjob", "version")
    assert response.code == 200
    assert json.loads(response.body) == {"version": containerjob.__version__}


@pytest.mark.parametrize("pattern,handler", ROUTES, ids=[p for p, _ in ROUTES])
async def test_every_route_refuses_unauthenticated(jp_fetch, pattern, handler):
    from check_handlers_module import served_methods

    for method in served_methods(handler):
        body = "{}" if method in ("post", "patch") else None
        code, error = await error_of(jp_fetch, *concrete(pattern), method=method.upper(), body=body,
                                     headers={"Authorization": ""})
        assert code == 403, (method, pattern)
        assert error["error"] == "Forbidden"


async def test_cookie_session_needs_xsrf_for_post(jp_fetch, jp_http_port):
    """Token requests skip XSRF (jupyter_server); a browser's cookie-authenticated POST must echo _xsrf."""
    first = await jp_fetch("containerjob", "version")
    login = SimpleCookie()
    for header in first.headers.get_list("Set-Cookie"):
        login.load(header)
    name = next(n for n in login if n.startswith("username-"))
    cookie = f"{name}={login[name].value}"
    browser = {"Authorization": "", "Origin": f"http://127.0.0.1:{jp_http_port}",
               "Referer": f"http://127.0.0.1:{jp_http_port}/lab"}
    read = await jp_fetch("containerjob", "jobs", headers={**browser, "Cookie": cookie})
    assert read.code == 200  # the cookie alone authenticates reads

    code, _ = await error_of(jp_fetch, "schedules", method="POST", body='{"cron": 5}',
                             headers={**browser, "Cookie": cookie})
    assert code == 403
    code, error = await error_of(jp_fetch, "schedules", method="POST", body='{"cron": 5}',
                                 headers={**browser, "Cookie": f"{cookie}; _xsrf=5eed", "X-XSRFToken": "5eed"})
    assert (code, error["error"]) == (400, "SpecError")  # past authentication and XSRF, into the handler


@pytest.mark.parametrize("body,field", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"kind": "cell", "source": "1", "extra": 1}', "'extra'"),
    ('{"source": "1"}', "'kind'"),
    ('{"kind": "shell", "source": "1"}', "kind 'shell'"),
    ('{"kind": "cell"}', "'source'"),
    ('{"kind": "cell", "source": 5}', "'source' must be a string"),
    ('{"kind": "cell", "source": "1", "path": "a.ipynb"}', "'path' is for kind notebook"),
    ('{"kind": "notebook", "path": "a.ipynb", "source": "1"}', "'source' is for kind cell"),
    ('{"kind": "notebook", "path": "../../etc/passwd"}', "outside the server's root"),
    ('{"kind": "notebook", "path": "/etc/passwd"}', "relative to the server's root"),
    ('{"kind": "cell", "source": "1", "options": {"imagee": "x"}}', "options.imagee is not a run option"),
    ('{"kind": "cell", "source": "1", "options": {"env": "A=1"}}', "options.env must be a list"),
    ('{"kind": "cell", "source": "1", "options": {"spot": "yes"}}', "options.spot must be true or false"),
    ('{"kind": "cell", "source": "1", "options": []}', "options must be a JSON object"),
    ('{"kind": "cell", "source": "1", "options": {"timeout": "forever"}}', "--timeout 'forever'"),
])
async def test_bad_job_bodies_are_400_naming_the_field(jp_fetch, body, field):
    code, error = await error_of(jp_fetch, "jobs", method="POST", body=body)
    assert code == 400 and error["error"] == "SpecError"
    assert field in error["message"]


@pytest.mark.parametrize("parts,query,field", [
    (("jobs",), {"limit": "lots"}, "limit='lots'"),
    (("jobs",), {"limit": "0"}, "limit=0"),
    (("jobs",), {"status": "DONE"}, "status 'DONE'"),
    (("notebooks", "parameters"), {"path": "../outside.ipynb"}, "outside the server's root"),
])
async def test_bad_queries_are_400(jp_fetch, parts, query, field):
    code, error = await error_of(jp_fetch, *parts, params=query)
    assert code == 400 and field in error["message"]


@pytest.mark.parametrize("parts", [("jobs", "cj-0123abcd"), ("jobs", "nonsense"), ("jobs", "cj-01"),
                                   ("jobs", "cj-0123abcd", "logs"), ("jobs", "cj-0123abcd", "outputs"),
                                   ("schedules", "cs-0123abcd"), ("schedules", "bogus")])
async def test_unknown_or_malformed_ids_are_404(jp_fetch, parts):
    code, error = await error_of(jp_fetch, *parts)
    assert (code, error["error"]) == (404, "JobNotFound")


async def test_cancel_and_delete_of_unknown_jobs_are_404(jp_fetch):
    assert (await error_of(jp_fetch, "jobs", "cj-0123abcd", "cancel", method="POST", body=""))[0] == 404
    assert (await error_of(jp_fetch, "jobs", "cj-0123abcd", method="DELETE"))[0] == 404


async def test_unsupported_method_is_json_405(jp_fetch):
    code, error = await error_of(jp_fetch, "jobs", method="DELETE")
    assert (code, error["error"]) == (405, "MethodNotAllowed")


async def test_unexpected_errors_are_a_generic_500_and_logged(jp_fetch, jp_serverapp, caplog):
    class Broken(ContainerJobHandler):
        @tornado.web.authenticated
        def get(self) -> None:
            raise RuntimeError("secret detail")

    url = url_path_join(jp_serverapp.web_app.settings["base_url"], "containerjob/broken-for-test")
    jp_serverapp.web_app.add_handlers(".*$", [(url, Broken, {"ctx": None})])
    with caplog.at_level(logging.ERROR):
        code, error = await error_of(jp_fetch, "broken-for-test")
    assert code == 500
    assert error == {"error": "InternalError", "message": "internal error; see the server log"}
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)


async def test_jobs_list_is_paged(jp_fetch):
    body = json.loads((await jp_fetch("containerjob", "jobs", params={"limit": "5", "offset": "2"})).body)
    assert body == {"jobs": [], "limit": 5, "offset": 2}


async def test_settings_show_the_resolved_project_and_its_source(jp_fetch, cj_home, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj-from-env")
    settings = json.loads((await jp_fetch("containerjob", "settings")).body)
    assert settings["project"] == "proj-from-env"
    assert settings["project_source"] == "GOOGLE_CLOUD_PROJECT"
    assert settings["home"] == str(cj_home)
    assert settings["default_backend"] == "local"
    assert set(settings) == {"default_backend", "default_image", "project", "project_source", "region",
                             "staging_bucket", "image_repo", "service_account", "home"}


async def test_backends_report_availability_and_capabilities(jp_fetch):
    listed = json.loads((await jp_fetch("containerjob", "backends")).body)["backends"]
    assert [b["name"] for b in listed] == ["local", "vertex", "executor"]
    backends = {b["name"]: b for b in listed}
    assert all(set(b) == {"name", "label", "available", "message", "capabilities", "options"} for b in listed)
    assert backends["local"]["available"] is True  # the real engine answers the ping
    assert backends["local"]["label"] == "Local container (Docker)"
    local = backends["local"]["capabilities"]
    assert local["kinds"] == ["cell", "script", "notebook", "container"] and local["schedules"] and local["live_logs"]
    assert isinstance(local["gpus"], bool)  # whether this host has an NVIDIA driver
    for name in ("vertex", "executor"):  # cj_home: no project, no staging bucket
        assert backends[name]["available"] is True  # a form or flag can still give both
        assert "project" in backends[name]["message"] and "staging bucket" in backends[name]["message"]
    assert backends["vertex"]["capabilities"] == {"kinds": ["cell", "script", "container"], "schedules": False, "gpus": True,
                                                  "cancel": True, "live_logs": True}
    assert backends["executor"]["capabilities"] == {"kinds": ["notebook"], "schedules": True, "gpus": True,
                                                    "cancel": True, "live_logs": False}
    assert all(b["options"] == options_for_backend(b["name"]) for b in listed)  # from the option table
    assert "runtime_template" in backends["executor"]["options"] and "gpus" in backends["local"]["options"]
    assert "image" not in backends["executor"]["options"] and "runtime_template" not in backends["vertex"]["options"]


def test_check_handlers_script_passes():
    proc = subprocess.run([sys.executable, str(ROOT / ".ci" / "check_handlers.py")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(ROUTES)} routes" in proc.stdout


def test_check_handlers_names_each_offender(tmp_path):
    from check_handlers_module import problems
    from jupyter_server.base.handlers import APIHandler

    class Open(APIHandler):
        def get(self) -> None:
            self.finish("{}")

    class Plain(tornado.web.RequestHandler):
        @tornado.web.authenticated
        def get(self) -> None:
            self.finish("{}")

    spec = tmp_path / "openapi.yaml"
    spec.write_text("paths:\n  /open:\n    get: {}\n    post: {}\n  /gone:\n    get: {}\n")
    found = "\n".join(problems([("open", Open), ("plain", Plain)], spec))
    assert "Open.get (open) lacks @tornado.web.authenticated" in found
    assert "Plain (plain) does not derive from jupyter_server's APIHandler" in found
    assert "route /plain (" in found and "missing from openapi.yaml" in found
    assert "documents POST /open, which" in found
    assert "documents /gone, which no route serves" in found


@pytest.fixture(scope="module", autouse=True)
def check_handlers_module():
    """.ci/check_handlers.py imported as a module, so its checks run against hand-made routes too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_handlers_module", ROOT / ".ci" / "check_handlers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_handlers_module"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("check_handlers_module", None)
