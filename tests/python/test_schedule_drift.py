"""A hosted (executor) schedule and its record never drift apart: a record that cannot be written undoes the
Vertex AI change it records, a Vertex schedule deleted elsewhere does not block deleting its record, an edit
never moves a schedule to another backend, and schedulers racing to import a run import it once.

Real store, real aiplatform client against the strict local Vertex fake; the faults are real too: a full disk
under the store (faultkit.tmpfs) and the fake's Schedule API answering 503 as in an outage."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

import pytest

from containerjob.core.errors import BackendUnavailable, ResourceGone, SpecError
from containerjob.scheduling import Schedules
from containerjob.service import JobService
from faultkit import fill, tmpfs
from test_executor import SA, executor  # noqa: F401 - the Vertex fake fixture
from test_notebooks import make_notebook

PARENT = "projects/my-proj/locations/us-central1"
ON_EXECUTOR = {"backend": "executor", "project": "my-proj", "service_account": SA}
DISK_FULL = r"(?i)disk is full|no space"


def remote(fake) -> list:
    """The Vertex AI schedules the fake holds."""
    return list(fake.schedule_client().list_schedules(parent=PARENT))


@contextmanager
def outage(fake, *methods: str) -> Iterator[None]:
    """The fake's Schedule API answers these HTTP methods 503 UNAVAILABLE while inside."""
    service = fake._services["schedules"]
    service.unavailable = set(methods)
    try:
        yield
    finally:
        service.unavailable = set()


def hosted(service: JobService, tmp_path, name: str):
    return Schedules(service).create(notebook=str(make_notebook(tmp_path / f"{name}.ipynb")), cron="0 3 * * *",
                                     options=ON_EXECUTOR)


def test_a_record_that_cannot_be_written_undoes_its_vertex_change(executor, tmp_path, cj_home):  # noqa: F811
    """The store on a full disk (the snapshots and payloads beside it have room): creating takes the new Vertex
    schedule down again, editing and pausing put it back as it was; when the undo fails too, the error names
    the Vertex schedule left behind and how to delete it."""
    with tmpfs(cj_home, size="2m"):
        service = JobService()
        with tmpfs(cj_home / "schedules", size="16m"), tmpfs(cj_home / "payloads", size="16m"):
            existing = hosted(service, tmp_path, "existing")
            fill(cj_home)
            with pytest.raises(SpecError, match=DISK_FULL) as info:
                hosted(service, tmp_path, "nightly")
            assert "Vertex AI schedule" not in str(info.value)  # undone: nothing to report
            assert [r.name for r in remote(executor)] == [existing.backend_ref]
            assert [s["id"] for s in service.store.list_schedules()] == [existing.id]
            assert sorted(p.name for p in (cj_home / "schedules").iterdir()) == [existing.id]

            with pytest.raises(SpecError, match=DISK_FULL):
                Schedules(service).update(existing.id, cron="30 4 * * 1", max_concurrent=3)
            (schedule,) = remote(executor)
            assert (schedule.cron, schedule.max_concurrent_run_count) == ("TZ=UTC 0 3 * * *", 1)
            with pytest.raises(SpecError, match=DISK_FULL):
                Schedules(service).pause(existing.id)
            assert remote(executor)[0].state.name == "ACTIVE" == Schedules(service).get(existing.id).state

            with outage(executor, "DELETE"), pytest.raises(SpecError, match=DISK_FULL) as info:
                hosted(service, tmp_path, "weekly")
            (left,) = [r.name for r in remote(executor) if r.name != existing.backend_ref]
            message = str(info.value)
            assert f"its Vertex AI schedule {left} could not be deleted and fires with no record here" in message
            assert f"gcloud colab schedules delete {left}`" in message and "unreachable" in message
            assert [s["id"] for s in service.store.list_schedules()] == [existing.id]


def test_deleting_a_schedule_whose_vertex_schedule_is_gone(executor, tmp_path, cj_home):  # noqa: F811
    """Deleted in the console first: pausing says to delete, deleting removes the record. Any other failure of
    the Vertex delete keeps the record (deleting again then works)."""
    service = JobService()
    kept, gone = hosted(service, tmp_path, "kept"), hosted(service, tmp_path, "gone")
    executor.schedule_client().delete_schedule(name=gone.backend_ref).result(timeout=60)
    with pytest.raises(ResourceGone, match=rf"`containerjob schedule delete {gone.id}`\) and create it again"):
        Schedules(service).pause(gone.id)
    assert Schedules(service).get(gone.id).state == "ACTIVE"
    Schedules(service).delete(gone.id)
    assert [s.id for s in Schedules(service).list()] == [kept.id]
    assert not (cj_home / "schedules" / gone.id).exists()

    with outage(executor, "DELETE"), pytest.raises(BackendUnavailable, match=r"delete the Schedule.*unavailable"):
        Schedules(service).delete(kept.id)
    assert [s.id for s in Schedules(service).list()] == [kept.id]
    assert [r.name for r in remote(executor)] == [kept.backend_ref]
    Schedules(service).delete(kept.id)
    assert Schedules(service).list() == [] and remote(executor) == []


def test_an_edit_never_moves_a_schedule_to_another_backend(executor, tmp_path, cj_home, monkeypatch):  # noqa: F811
    """Asked for another backend, an edit is refused with the fix and changes nothing on either side; a changed
    default backend moves nothing either, and an edit on the same backend updates Vertex."""
    service = JobService()
    local = Schedules(service).create(notebook=str(make_notebook(tmp_path / "local.ipynb")), cron="0 3 * * *")
    on_vertex = hosted(service, tmp_path, "nightly")
    for schedule, options, to in ((local, ON_EXECUTOR, "executor"), (on_vertex, {"backend": "local"}, "local")):
        with pytest.raises(SpecError, match=rf"schedule {schedule.id} runs on {schedule.backend} and an edit cannot "
                                            rf"move it to {to}: delete it \(`containerjob schedule delete "
                                            rf"{schedule.id}`\) and create it again with --backend {to}"):
            Schedules(service).update(schedule.id, options=options, cron="0 4 * * *")
        assert Schedules(service).get(schedule.id) == schedule
    (remote_schedule,) = remote(executor)
    assert (remote_schedule.name, remote_schedule.cron, remote_schedule.state.name) == \
        (on_vertex.backend_ref, "TZ=UTC 0 3 * * *", "ACTIVE")

    edited = Schedules(service).update(on_vertex.id, cron="0 4 * * *")
    assert edited.backend_ref == on_vertex.backend_ref and remote(executor)[0].cron == "TZ=UTC 0 4 * * *"

    monkeypatch.setenv("CONTAINERJOB_DEFAULT_BACKEND", "executor")
    service = JobService()
    moved = Schedules(service).update(local.id, cron="0 5 * * *")
    assert (moved.backend, moved.backend_ref, len(remote(executor))) == ("local", "", 1)
    run = Schedules(service).run_now(local.id)
    assert run.backend == "local"
    assert service.follow(run, lambda _t: None).status.value == "SUCCEEDED"


def test_schedulers_racing_to_import_a_run_import_it_once(executor, tmp_path, cj_home):  # noqa: F811
    """Four schedulers (each its own service and store connection) list the same new Vertex run at once: one
    job record, one job directory, and the losers return nothing rather than fail."""
    schedule = hosted(JobService(), tmp_path, "nightly")
    due = executor.schedule_client().get_schedule(name=schedule.backend_ref).next_run_time
    (run,) = executor.fire_due(due + timedelta(minutes=1))
    barrier = threading.Barrier(4)
    imported: list = []
    errors: list[BaseException] = []

    def import_runs() -> None:
        schedules = Schedules(JobService())
        barrier.wait()
        try:
            imported.extend(schedules.import_runs(schedule))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=import_runs) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    (job,) = JobService().list(refresh=False)
    assert [r.id for r in imported] == [job.id] and job.backend_ref == run
    assert [p.name for p in (cj_home / "jobs").iterdir()] == [job.id]
    assert Schedules(JobService()).import_runs(schedule) == []
