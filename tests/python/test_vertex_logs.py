"""Vertex job logs come from Cloud Logging: the real google-cloud-logging client against the local fake of
the Logging v2 REST API (tests/python/logging_fake.py), which refuses what the real API refuses."""
from __future__ import annotations

import time

import pytest
import requests

from containerjob.backends.vertex_logs import JobLog, logging_client
from containerjob.core.errors import BackendError
from logging_fake import LoggingFake


@pytest.fixture
def logging_api():
    fake = LoggingFake()
    yield fake
    fake.close()


def write(fake: LoggingFake, job: str, text: str, task: str = "workerpool0-0") -> None:
    fake.write("proj-1", "ml_job", {"job_id": job, "task_name": task, "project_id": "proj-1"}, text, log_id=task)


def test_the_fake_refuses_what_the_api_refuses(logging_api):
    url = f"{logging_api.url}/v2/entries:list"
    unknown = requests.post(url, json={"resourceNames": ["projects/proj-1"], "filterr": "x"}, timeout=10)
    assert unknown.status_code == 400 and unknown.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "filterr"' in unknown.json()["error"]["message"]
    assert requests.post(url, json={"resourceNames": ["projects/proj-1"], "filter": "severity>=ERROR OR x"},
                         timeout=10).status_code == 400
    assert requests.post(url, json={"resourceNames": ["projects/proj-1"], "pageSize": 5000},
                         timeout=10).status_code == 400
    assert requests.post(url, json={"filter": 'resource.type="ml_job"'}, timeout=10).status_code == 400


def test_reads_are_incremental_paged_and_never_repeat(logging_api):
    client = logging_client("proj-1", logging_api.url, anonymous=True, timeout_s=10)
    log = JobLog(client, "proj-1", "42", since=time.time())
    write(logging_api, "7", "another job's line")
    for i in range(2500):
        write(logging_api, "42", f"line {i}")
    first = log.read()
    assert first.splitlines() == [f"line {i}" for i in range(2500)]  # three pages of 1000, in order
    assert log.read() == ""  # asked again from the last timestamp: nothing shown twice
    write(logging_api, "42", "late line")
    assert log.read() == "late line\n"
    query = logging_api.requests[-1]
    assert query["filter"].startswith('resource.type="ml_job" AND resource.labels.job_id="42" AND timestamp>="')
    assert query["orderBy"] == "timestamp asc" and query["resourceNames"] == ["projects/proj-1"]


def test_replicas_are_prefixed_when_there_are_several(logging_api):
    client = logging_client("proj-1", logging_api.url, anonymous=True, timeout_s=10)
    write(logging_api, "9", "chief ready")
    write(logging_api, "9", "worker ready", task="workerpool1-0")
    assert JobLog(client, "proj-1", "9", since=time.time(), replica_prefix=True).read() == \
        "[workerpool0-0] chief ready\n[workerpool1-0] worker ready\n"
    assert JobLog(client, "proj-1", "9", since=time.time()).read() == "chief ready\nworker ready\n"


def test_a_refused_read_is_a_clear_error(logging_api):
    client = logging_client("proj-1", f"{logging_api.url}/nowhere", anonymous=True, timeout_s=10)
    with pytest.raises(BackendError, match="Cloud Logging"):
        JobLog(client, "proj-1", "1", since=time.time()).read()
