"""Local schedules fired by a controllable clock against the real store and real containers: no double
fire across schedulers (a restart is a new Scheduler on the same store), missed-run and overlap policies."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from containerjob.core.errors import SpecError
from containerjob.scheduler import Scheduler
from containerjob.scheduling import Schedules, next_run
from containerjob.service import JobService
from test_notebooks import make_notebook

T0 = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("UTC")).timestamp()  # the day before Paris moves to summer time


def wait_final(service: JobService, job_id: str):
    record = service.get(job_id)
    return service.follow(record, lambda _t: None)


def test_due_run_fires_once_across_schedulers(cj_home, tmp_path):
    service = JobService()
    schedule = Schedules(service).create(notebook=str(make_notebook(tmp_path / "s.ipynb")), cron="*/15 * * * *",
                                        parameters={"epochs": 2}, now=T0)
    assert schedule.next_run_at == T0 + 900
    first, restarted = Scheduler(JobService()), Scheduler(JobService())  # a server and a restarted one
    assert first.tick(T0 + 899) == [] and restarted.tick(T0 + 899) == []
    fired = first.tick(T0 + 901) + restarted.tick(T0 + 901)
    assert len(fired) == 1
    record = wait_final(service, fired[0].id)
    assert record.status.value == "SUCCEEDED"
    assert record.spec.labels["containerjob-schedule"] == schedule.id
    assert [j.id for j in service.list()] == [record.id]  # a job like any other
    after = Schedules(service).get(schedule.id)
    assert after.last_job_id == record.id and after.next_run_at == T0 + 1800
    assert restarted.tick(T0 + 1000) == []  # same window, after the "restart": nothing more


def test_concurrent_schedulers_race_for_one_run(cj_home, tmp_path):
    service = JobService()
    schedule = Schedules(service).create(notebook=str(make_notebook(tmp_path / "r.ipynb")), cron="0 * * * *", now=T0)
    results: list = []
    barrier = threading.Barrier(4)

    def tick():
        scheduler = Scheduler(JobService())
        barrier.wait()
        results.extend(scheduler.tick(schedule.next_run_at + 1))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 1
    wait_final(service, results[0].id)


def test_missed_runs_policy(cj_home, tmp_path):
    service = JobService()
    nb = str(make_notebook(tmp_path / "m.ipynb"))
    skip = Schedules(service).create(notebook=nb, cron="0 * * * *", missed="skip", now=T0)
    once = Schedules(service).create(notebook=nb, cron="0 * * * *", missed="run_once", now=T0)
    scheduler = Scheduler(service)
    fired = scheduler.tick(T0 + 5 * 3600 + 600)  # the machine was off for five due runs
    assert [r.spec.labels["containerjob-schedule"] for r in fired] == [once.id]
    skipped = Schedules(service).get(skip.id)
    assert "skipped 5 run(s) missed" in skipped.message
    assert skipped.next_run_at == T0 + 6 * 3600 and Schedules(service).get(once.id).next_run_at == T0 + 6 * 3600
    wait_final(service, fired[0].id)


def test_overlap_cap_skips_while_a_run_is_active(cj_home, tmp_path):
    service = JobService()
    path = tmp_path / "slow.ipynb"
    make_notebook(path, magic="import time; time.sleep(30)")
    schedule = Schedules(service).create(notebook=str(path), cron="* * * * *", max_concurrent=1, now=T0,
                                        options={"image": "python:3.11-slim"})
    scheduler = Scheduler(service)
    (first,) = scheduler.tick(T0 + 61)
    assert scheduler.tick(T0 + 121) == []
    assert "1 run(s) still active (max_concurrent 1)" in Schedules(service).get(schedule.id).message
    with pytest.raises(SpecError, match="already has 1 run"):
        Schedules(service).run_now(schedule.id)
    service.cancel(first.id)
    second = Schedules(service).run_now(schedule.id)  # room again
    assert service.cancel(second.id).status.value == "CANCELLED"


def test_pause_resume_edit_delete_and_validation(cj_home, tmp_path):
    service = JobService()
    nb = str(make_notebook(tmp_path / "e.ipynb"))
    schedule = Schedules(service).create(notebook=nb, cron="30 2 * * *", timezone="Europe/Paris", now=T0)
    # 02:30 Paris does not exist on 29 March 2026 (clocks jump 02:00 -> 03:00): croniter moves on correctly
    assert schedule.next_run_at == next_run("30 2 * * *", "Europe/Paris", T0)
    paused = Schedules(service).pause(schedule.id)
    assert paused.state == "PAUSED" and paused.next_run_at is None
    assert Scheduler(service).tick(T0 + 10 * 86400) == []
    resumed = Schedules(service).resume(schedule.id, now=T0 + 10 * 86400)
    assert resumed.next_run_at > T0 + 10 * 86400
    edited = Schedules(service).update(schedule.id, cron="0 4 * * 1", parameters={"epochs": 9}, now=T0)
    assert edited.cron == "0 4 * * 1" and edited.parameters == {"epochs": 9}
    for bad, message in (({"cron": "61 * * * *"}, "not a 5-field cron"), ({"timezone": "Mars/Olympus"}, "IANA"),
                         ({"parameters": {"epochz": 1}}, "'epochz' is not a parameter"),
                         ({"missed": "later"}, "--missed"), ({"max_concurrent": 0}, "1..100"),
                         ({"options": {"gpus": "x"}}, "--gpus"), ({"color": "red"}, "cannot change")):
        with pytest.raises(SpecError, match=message):
            Schedules(service).update(schedule.id, **bad)
    assert Schedules(service).get(schedule.id).cron == "0 4 * * 1"  # a refused edit changed nothing
    with pytest.raises(SpecError, match="executor"):
        Schedules(service).create(notebook=nb, cron="0 * * * *", options={"backend": "vertex"})
    Schedules(service).delete(schedule.id)
    assert Schedules(service).list() == []
    assert not (cj_home / "schedules" / schedule.id).exists()


def test_snapshot_runs_what_was_scheduled(cj_home, tmp_path):
    service = JobService()
    path = make_notebook(tmp_path / "snap.ipynb")
    schedule = Schedules(service).create(notebook=str(path), cron="0 * * * *", now=T0)
    path.write_text("not a notebook any more")
    record = wait_final(service, Schedules(service).run_now(schedule.id).id)
    assert record.status.value == "SUCCEEDED"


def test_cli_schedule_and_scheduler_once(cj_home, tmp_path):
    nb = make_notebook(tmp_path / "c.ipynb")
    cli = [sys.executable, "-m", "containerjob.cli"]
    created = subprocess.run([*cli, "schedule", "create", str(nb), "--cron", "* * * * *", "-p", "epochs", "4"],
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    schedule_id = created.stdout.split()[0]
    listed = subprocess.run([*cli, "schedule", "list"], capture_output=True, text=True, timeout=60)
    assert schedule_id in listed.stdout and "ACTIVE" in listed.stdout
    service = JobService()
    data = service.store.get_schedule(schedule_id)
    data["next_run_at"] = 1.0  # due long ago, and missed=skip: a pass skips it and says so
    service.store.save_schedule(data)
    once = subprocess.run([*cli, "scheduler", "--once"], capture_output=True, text=True, timeout=60)
    assert once.returncode == 0 and once.stdout.strip() == ""
    assert "missed" in Schedules(service).get(schedule_id).message
    paused = subprocess.run([*cli, "schedule", "pause", schedule_id], capture_output=True, text=True, timeout=60)
    assert "PAUSED" in paused.stdout
    run = subprocess.run([*cli, "schedule", "run", schedule_id], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    assert wait_final(service, run.stdout.strip()).status.value == "SUCCEEDED"
    bad = subprocess.run([*cli, "schedule", "show", "cs-00000000"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 3 and "no schedule" in bad.stderr
