"""The server extension loads in a real Jupyter server and its routes require authentication."""
from __future__ import annotations

import json

import pytest
import tornado.httpclient

import containerjob


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"containerjob": True}, "allow_root": True}}


async def test_version_route(jp_fetch):
    response = await jp_fetch("containerjob", "version")
    assert response.code == 200
    assert json.loads(response.body) == {"version": containerjob.__version__}


async def test_unauthenticated_is_refused(jp_fetch):
    with pytest.raises(tornado.httpclient.HTTPClientError) as info:
        await jp_fetch("containerjob", "version", headers={"Authorization": ""})
    assert info.value.code == 403
