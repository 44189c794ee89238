"""A job cannot turn its host against itself: its containers have no MKNOD, NET_RAW or SETFCAP and a pids limit
(CONTAINERJOB_PIDS_LIMIT), and what it leaves in the folders the host keeps (output, /gcs, a local --output-dir)
carries no setuid/setgid bit, device node or FIFO once it ends, said in its message. These tests run as root,
so the jobs are root in their containers: the case the limits are for."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from containerjob.core.models import JobStatus
from containerjob.core.store import Store
from test_cli import cli

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="a job is root in its container only on a root host")


def last_record(cj_home):
    return Store(cj_home / "jobs.db").list()[0]


def test_the_dry_run_shows_the_dropped_capabilities_and_the_pids_limit(cj_home, tmp_path, monkeypatch):
    job = tmp_path / "job.py"
    job.write_text("pass\n")
    dry = json.loads(cli("run", str(job), "--dry-run").stdout)
    assert dry["cap_drop"] == ["MKNOD", "NET_RAW", "SETFCAP"] and dry["pids_limit"] == 4096
    assert dry["security_opt"] == ["no-new-privileges"] and "user" not in dry  # a root kernel's jobs stay root
    monkeypatch.setenv("CONTAINERJOB_PIDS_LIMIT", "0")
    assert json.loads(cli("run", str(job), "--dry-run").stdout)["pids_limit"] == -1  # no limit, as Docker says it
    monkeypatch.setenv("CONTAINERJOB_PIDS_LIMIT", "-7")
    refused = cli("run", str(job), "--dry-run", check_rc=2).stderr
    assert "CONTAINERJOB_PIDS_LIMIT" in refused and "0 or -1 for no limit" in refused


PROBE = """\
import errno, os, socket, stat
try:
    os.mknod('/tmp/null', stat.S_IFCHR | 0o666, os.makedev(1, 3))
    print('mknod: made')
except OSError as exc:
    print('mknod:', errno.errorcode[exc.errno])
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    print('raw socket: opened')
except OSError as exc:
    print('raw socket:', type(exc).__name__)
print('uid', os.getuid())
"""


def test_a_root_job_makes_no_device_node_and_opens_no_raw_socket(cj_home, tmp_path, labelled):
    job = tmp_path / "probe.py"
    job.write_text(PROBE)
    out = cli("run", str(job)).stdout
    assert "uid 0" in out  # root in the container, as on Vertex
    assert "mknod: EPERM" in out and "raw socket: PermissionError" in out, out
    assert labelled() == []


# Forks children that wait on a pipe until a fork fails or 200 are running (never unbounded, even where no
# limit applies), then lets them all go and says how many it had.
FORKS = """\
import os
read, write = os.pipe()
children, failure = [], 'none'
while len(children) < 200:
    try:
        pid = os.fork()
    except OSError as exc:
        failure = type(exc).__name__
        break
    if pid == 0:
        os.close(write)
        os.read(read, 1)
        os._exit(0)
    children.append(pid)
os.close(write)
for pid in children:
    os.waitpid(pid, 0)
print('forked', len(children), 'then', failure)
"""


def test_a_fork_bomb_stops_at_the_pids_limit(cj_home, tmp_path, monkeypatch, labelled):
    monkeypatch.setenv("CONTAINERJOB_PIDS_LIMIT", "64")
    job = tmp_path / "forks.py"
    job.write_text(FORKS)
    out = cli("run", str(job)).stdout
    forked = int(out.split("forked ")[1].split()[0])
    assert 0 < forked < 64 and "then BlockingIOError" in out, out  # EAGAIN at the container's limit
    assert labelled() == []


LEAVES = """\
import os, shutil, sys
out_dir = sys.argv[1]
for folder in ('/containerjob/output', '/gcs/' + 'never-mounted', out_dir):  # a bucket named at run time
    os.makedirs(folder, exist_ok=True)
    shutil.copy('/bin/sh', folder + '/sh')
    os.chmod(folder + '/sh', 0o4755)
    os.mkfifo(folder + '/pipe')
shutil.copy('/bin/sh', '/containerjob/output/sg')
os.chmod('/containerjob/output/sg', 0o2755)
os.symlink('/bin/su', '/containerjob/output/su-link')  # a link is left alone, and what it names untouched
print('left them')
"""


def test_setuid_files_and_fifos_a_job_leaves_are_made_safe_and_said(cj_home, tmp_path, labelled):
    job, out_dir = tmp_path / "leaves.py", tmp_path / "out"
    job.write_text(LEAVES)
    cli("run", str(job), "--output-dir", str(out_dir), "--", str(out_dir))
    record = last_record(cj_home)
    assert record.status is JobStatus.SUCCEEDED, record.message
    job_dir = Path(record.job_dir)
    left = [job_dir / "output" / "sh", job_dir / "output" / "sg", job_dir / "unsaved/gcs/never-mounted/sh",
            out_dir / "sh"]
    for path in left:
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) and not mode & (stat.S_ISUID | stat.S_ISGID) and mode & 0o755 == 0o755, path
    fifos = [p for root in (job_dir, out_dir) for p in root.rglob("*") if stat.S_ISFIFO(p.lstat().st_mode)]
    assert fifos == []
    assert (job_dir / "output" / "su-link").is_symlink()
    if os.path.exists("/bin/su"):
        assert os.stat("/bin/su").st_mode & stat.S_ISUID  # the host's own setuid program, never reached
    assert "the job left files unsafe to keep on this machine: removed 3 FIFOs (" in record.message
    assert "/containerjob/output/pipe" in record.message and f"{out_dir}/pipe" in record.message
    assert "cleared setuid/setgid on 4 files (" in record.message and "/containerjob/output/sh" in record.message
    assert labelled() == []


def test_a_fifo_as_error_json_neither_blocks_nor_is_read(cj_home, tmp_path, labelled):
    """The sweep runs before the host reads a job's results: the FIFO is gone, and said, before any reader
    could open it (and wait for ever for a writer)."""
    job = tmp_path / "fifo.py"
    job.write_text("import os, sys\nos.mkfifo('/containerjob/output/error.json')\nsys.exit(3)\n")
    cli("run", str(job), check_rc=3, timeout=60)
    record = last_record(cj_home)
    assert record.status is JobStatus.FAILED and record.exit_code == 3
    assert "the container exited with code 3" in record.message
    assert "removed 1 FIFO (/containerjob/output/error.json)" in record.message
    assert labelled() == []


def test_device_nodes_sockets_and_setgid_files_on_the_host_are_swept_without_following_links(tmp_path):
    """What MKNOD's drop prevents, if an engine or an older container left it anyway: the sweep itself."""
    import socket

    from containerjob.backends.host_files import make_safe

    out = tmp_path / "output"
    (out / "deep").mkdir(parents=True)
    os.mknod(out / "deep" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(out / "sock"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    os.chmod(elsewhere / "keep", 0o4755)
    (out / "linked").symlink_to(elsewhere, target_is_directory=True)
    (out / "deep" / "file-link").symlink_to(elsewhere / "keep")
    said = make_safe([(str(out), "/containerjob/output")])
    assert said == ("the job left files unsafe to keep on this machine: removed 1 device node "
                    "(/containerjob/output/deep/null), 1 socket (/containerjob/output/sock)")
    assert sorted(p.name for p in out.rglob("*")) == ["deep", "file-link", "linked"]
    assert os.stat(elsewhere / "keep").st_mode & stat.S_ISUID  # reached only through links: untouched
    assert make_safe([(str(out), "/containerjob/output"), (str(tmp_path / "missing"), "/gcs")]) == ""


def test_a_synced_buckets_stage_is_swept_before_its_upload(cj_home, tmp_path, gcs, labelled):
    job = tmp_path / "stage.py"
    job.write_text(f"import os, shutil\nbase = '/gcs/{gcs.name}/runs'\nos.mkfifo(base + '/pipe')\n"
                   "shutil.copy('/bin/sh', base + '/sh')\nos.chmod(base + '/sh', 0o4755)\n")
    cli("run", str(job), "--mount", f"gs://{gcs.name}/runs")
    record = last_record(cj_home)
    assert record.status is JobStatus.SUCCEEDED, record.message
    assert (f"removed 1 FIFO (/gcs/{gcs.name}/runs/pipe); cleared setuid/setgid on 1 file (/gcs/{gcs.name}/runs/sh)"
            in record.message) and "skipped" not in record.message
    assert [b.name for b in gcs.bucket.list_blobs()] == ["runs/sh"]  # the program as data; no FIFO went up
    assert labelled() == []


def test_every_replica_of_a_pool_job_is_limited_and_its_files_swept(cj_home, tmp_path, labelled):
    """Replicas share the output folder: each one's leavings are swept when the job ends."""
    job = tmp_path / "replica.py"
    job.write_text("import glob, os, shutil, time\nname = os.environ['HOSTNAME']\n"
                   "shutil.copy('/bin/sh', f'/containerjob/output/sh-{name}')\nos.chmod(f'/containerjob/output/sh-{name}', 0o4755)\n"
                   "deadline = time.time() + 60\n"  # the chief's end ends the job: both have written by then
                   "while len(glob.glob('/containerjob/output/sh-*')) < 2 and time.time() < deadline:\n"
                   "    time.sleep(0.1)\n")
    cli("run", str(job), "--replicas", "2")
    record = last_record(cj_home)
    assert record.status is JobStatus.SUCCEEDED, record.message
    left = sorted((Path(record.job_dir) / "output").glob("sh-*"))
    assert len(left) == 2 and not any(p.lstat().st_mode & stat.S_ISUID for p in left)
    assert "cleared setuid/setgid on 2 files (" in record.message
    dry = json.loads(cli("run", str(job), "--replicas", "2", "--dry-run").stdout)
    assert all(r["cap_drop"] == ["MKNOD", "NET_RAW", "SETFCAP"] and r["pids_limit"] == 4096 for r in dry["replicas"])
    assert labelled() == []
