"""Helpers for the abuse tests: a real `jupyter server` subprocess with the extension (so sync hypothesis
tests and raw, unnormalised URLs can reach it), and the route table as concrete URLs."""
from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import containerjob

ROOT = Path(__file__).resolve().parents[2]
PKG_DIR = str(Path(containerjob.__file__).resolve().parents[1])  # python_pkg: the checkout, not an installed copy
FAKE_IDS = {"job_id": "cj-0123abcd", "schedule_id": "cs-0123abcd", "path": "output/result.json"}


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment for a `python -m containerjob.cli` subprocess that imports this checkout."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (PKG_DIR, os.environ.get("PYTHONPATH")) if p),
            **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_handlers():
    """.ci/check_handlers.py as a module: the one definition of which methods a handler serves."""
    spec = importlib.util.spec_from_file_location("abuse_check_handlers", ROOT / ".ci" / "check_handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def route_requests() -> list[tuple[str, str, str]]:
    """(pattern, METHOD, concrete path) for every method every route serves: new routes are covered as added."""
    from containerjob.server.routes import PREFIX, ROUTES

    served = check_handlers().served_methods
    out = []
    for pattern, handler in ROUTES:
        path = "/" + PREFIX + "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: FAKE_IDS[m.group(1)], pattern)
        out += [(pattern, method.upper(), path) for method in served(handler)]
    return out


@dataclass
class Reply:
    status: int
    body: bytes
    headers: http.client.HTTPMessage

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Server:
    """A running `jupyter server` with containerjob enabled, its own CONTAINERJOB_HOME, root dir and log."""

    port: int
    token: str
    home: Path
    root: Path
    log: Path
    proc: subprocess.Popen

    def request(self, method: str, path: str, body: bytes | str | None = None, *, token: bool = True,
                headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
        """`path` goes on the wire as given (no dot-segment normalisation, no re-encoding)."""
        all_headers = {"Authorization": f"token {self.token}"} if token else {}
        all_headers.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        if body is None and method in ("POST", "PATCH", "PUT"):
            body = b""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_host="Host" in all_headers, skip_accept_encoding=True)
            for name, value in all_headers.items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return Reply(response.status, response.read(), response.headers)
        finally:
            conn.close()

    def api(self, method: str, path: str, data: object = None, **kwargs) -> Reply:
        body = None if data is None else json.dumps(data)
        return self.request(method, f"/containerjob/{path}", body, **kwargs)

    def login_cookie(self) -> str:
        """The browser session a token login leaves behind (jupyter_server's `username-...` cookie)."""
        reply = self.request("GET", "/containerjob/version")
        jar = SimpleCookie()
        for header in reply.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        name = next(n for n in jar if n.startswith("username-"))
        return f"{name}={jar[name].value}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_job(self, job_id: str, timeout_s: float = 60) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.api("GET", f"jobs/{job_id}").json()
            if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED", "LOST") or time.monotonic() > deadline:
                return job
            time.sleep(0.2)


def start_server(base: Path, extra_env: dict[str, str] | None = None, extension: dict | None = None) -> Server:
    """Start the server with everything (config, data, runtime, home, root) under `base`, and `extension` over
    the ContainerJobExtension settings; fails with the log's tail."""
    for name in ("config", "data", "runtime", "home", "root"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "config" / "jupyter_server_config.json").write_text(json.dumps({
        # only ours: what other extensions add is not under test, and they triple the start-up time
        "ServerApp": {"jpserver_extensions": {"containerjob": True, "jupyterlab": False, "jupyter_lsp": False,
                                              "jupyter_server_terminals": False, "notebook_shim": False}},
        # no schedule fires by itself while a test runs; no reattach sweep racing the test's own polling
        "ContainerJobExtension": {"schedule_interval_s": 3600.0, **(extension or {})},
    }))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "JPY_", "CONTAINERJOB_", "GOOGLE_", "CLOUDSDK_"))}
    env.update({"JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_DATA_DIR": str(base / "data"),
                "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "CONTAINERJOB_HOME": str(base / "home"),
                "CONTAINERJOB_CONFIG": str(base / "no-config.json"), "CLOUDSDK_CONFIG": str(base / "no-gcloud"),
                "PYTHONPATH": os.pathsep.join(p for p in (PKG_DIR, env.get("PYTHONPATH", "")) if p)})
    env.update(extra_env or {})
    token, port, log = secrets.token_hex(16), free_port(), base / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={port}",
         "--port-retries=0", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={base / 'root'}"],
        env=env, cwd=base, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    server = Server(port, token, base / "home", base / "root", log, proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if server.request("GET", "/containerjob/version", timeout=2).status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"jupyter server never answered:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(5)


def store_label(home: Path) -> str:
    """The label the local backend puts on the containers of the store under `home` (conftest's rule)."""
    return hashlib.sha256(str((home / "jobs.db").resolve()).encode()).hexdigest()[:12]


def containers_of(engine, home: Path, job_id: str | None = None) -> list:
    labels = [f"containerjob.store={store_label(home)}"] + ([f"containerjob.job={job_id}"] if job_id else [])
    from conftest import listed, waiting_warm

    return [c for c in listed(engine, {"label": labels}) if not waiting_warm(c, home)]  # warm: counted apart
