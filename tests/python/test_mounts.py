"""/gcs/<bucket> in local jobs (sync and fuse), in the notebook, and the semantics we promise.

Real fake-gcs-server, real rclone FUSE mounts, real containers.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time

import pytest
from IPython.core.error import UsageError

from containerjob import gcs_path, gs_uri
from containerjob.core.errors import SpecError
from containerjob.core.store import Store


def only_record(cj_home):
    (record,) = Store(cj_home / "jobs.db").list(limit=10)
    return record


def fuse_mounts_under(path) -> list[str]:
    return [line.split()[1] for line in open("/proc/mounts") if line.split()[1].startswith(str(path))]


def test_path_translation():
    assert gcs_path("gs://bkt/a/b.txt") == "/gcs/bkt/a/b.txt" and gcs_path("gs://bkt") == "/gcs/bkt"
    assert gs_uri("/gcs/bkt/a/b.txt") == "gs://bkt/a/b.txt" and gs_uri(gcs_path("gs://bkt/x")) == "gs://bkt/x"
    for bad in ("/tmp/x", "/gcs/", "gs:/x"):
        with pytest.raises(SpecError):
            gs_uri(bad) if bad.startswith("/") else gcs_path(bad)


@pytest.mark.parametrize("mode", ["sync", "fuse"])
def test_read_inputs_write_outputs(ip, cj_home, gcs, mode, labelled):
    gcs.bucket.blob("in/a.txt").upload_from_string(b"alpha")
    gcs.bucket.blob("in/deep/b.txt").upload_from_string(b"beta")  # implicit directory in/deep
    cell = (f"import os\nbase = '/gcs/{gcs.name}/in'\n"
            "seen = sorted(os.listdir(base))\nb = open(base + '/deep/b.txt').read()\n"
            "os.makedirs(base + '/out', exist_ok=True)\nopen(base + '/out/c.txt', 'w').write(open(base + '/a.txt').read().upper())\n")
    result = ip.run_cell(f"%%containerjob --mount gs://{gcs.name}/in:{mode}\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["seen"] == ["a.txt", "deep"] and ip.user_ns["b"] == "beta"
    assert gcs.bucket.blob("in/out/c.txt").download_as_bytes() == b"ALPHA"
    record = only_record(cj_home)
    assert record.status.value == "SUCCEEDED"
    if mode == "sync":
        assert "uploaded 1 files" in record.message
        assert not (cj_home / "jobs" / record.id / "gcs" / gcs.name).exists()  # clean upload removes the stage
    assert fuse_mounts_under(cj_home) == [] and labelled() == []


def test_thousand_small_files_and_a_large_one(ip, cj_home, gcs):
    for i in range(1000):
        gcs.bucket.blob(f"many/f{i:04d}.txt").upload_from_string(f"{i}".encode())
    cell = (f"import os\nroot = '/gcs/{gcs.name}'\ncount = len(os.listdir(root + '/many'))\n"
            "os.makedirs(root + '/made', exist_ok=True)\n"
            "for i in range(1000):\n    open(f'{root}/made/g{i:04d}.txt', 'w').write(str(i * 2))\n"
            "with open(root + '/big.bin', 'wb') as fh:\n"
            "    for i in range(65):\n        fh.write(bytes([i % 256]) * (1 << 20))\n")
    result = ip.run_cell(f"%%containerjob --mount gs://{gcs.name}/many\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["count"] == 1000
    assert "uploaded 1001 files" in only_record(cj_home).message
    made = [b.name for b in gcs.client.list_blobs(gcs.name, prefix="made/")]
    assert len(made) == 1000 and gcs.bucket.blob("made/g0999.txt").download_as_bytes() == b"1998"
    big = gcs.bucket.get_blob("big.bin")
    expected = hashlib.md5(b"".join(bytes([i % 256]) * (1 << 20) for i in range(65))).digest()
    assert big.size == 65 << 20 and big.md5_hash == base64.b64encode(expected).decode()
    assert "uploadType=resumable" in gcs.log.read_text()  # over 64 MiB goes through a resumable upload


def test_large_object_read_in_ranges_and_an_empty_one(ip, cj_home, gcs):
    """An object over RANGED_BYTES is downloaded as concurrent ranges written in place (a size not a multiple
    of the part, so the last part is short; over writeback.FROM, so pieces are handed to the disk): the job
    sees every byte where it belongs; an empty object stays an empty file."""
    from containerjob.core.runtime.writeback import FROM
    from containerjob.mounts.transfer import RANGED_BYTES

    data = b"".join(i.to_bytes(4, "big") for i in range((max(RANGED_BYTES, FROM) + 4099) // 4)) + b"end"
    gcs.bucket.blob("in/big.bin").upload_from_string(data)
    gcs.bucket.blob("in/empty").upload_from_string(b"")
    cell = (f"import hashlib, os\nbig = hashlib.md5(open('/gcs/{gcs.name}/in/big.bin', 'rb').read()).hexdigest()\n"
            f"empty = os.path.getsize('/gcs/{gcs.name}/in/empty')\n")
    result = ip.run_cell(f"%%containerjob --mount gs://{gcs.name}/in\n{cell}")
    assert result.success, result.error_in_exec
    assert (ip.user_ns["big"], ip.user_ns["empty"]) == (hashlib.md5(data).hexdigest(), 0)
    assert "uploaded 0 files" in only_record(cj_home).message  # downloaded bytes match: nothing to send back


def test_concurrent_change_is_a_conflict_not_an_overwrite(ip, cj_home, gcs):
    blob = gcs.bucket.blob("shared.txt")
    blob.upload_from_string(b"v1")
    def change_once_staged() -> None:  # after the download, whatever the machine's load
        deadline = time.monotonic() + 60
        while not list(cj_home.glob(f"jobs/*/gcs/{gcs.name}/shared.txt")) and time.monotonic() < deadline:
            time.sleep(0.05)
        gcs.bucket.blob("shared.txt").upload_from_string(b"changed elsewhere")

    changer = threading.Thread(target=change_once_staged)
    changer.start()
    cell = (f"import time\npath = '/gcs/{gcs.name}/shared.txt'\nbefore = open(path).read()\ntime.sleep(4)\n"
            "open(path, 'w').write('written by the job')\n")
    result = ip.run_cell(f"%%containerjob --mount gs://{gcs.name}\n{cell}")
    changer.join()
    assert result.success, result.error_in_exec
    assert ip.user_ns["before"] == "v1"
    assert gcs.bucket.blob("shared.txt").download_as_bytes() == b"changed elsewhere"
    record = only_record(cj_home)
    assert "1 conflicts" in record.message and "shared.txt" in record.message and "stage kept" in record.message


def test_failed_job_still_uploads_unless_told_not_to(ip, cj_home, gcs):
    cell = f"open('/gcs/{gcs.name}/partial.txt', 'w').write('half')\nraise RuntimeError('late failure')"
    with pytest.raises(RuntimeError):
        ip.run_cell_magic("containerjob", f"--mount gs://{gcs.name}", cell)
    assert gcs.bucket.blob("partial.txt").download_as_bytes() == b"half"
    cell2 = f"open('/gcs/{gcs.name}/kept-local.txt', 'w').write('x')\nraise RuntimeError('again')"
    with pytest.raises(RuntimeError):
        ip.run_cell_magic("containerjob", f"--mount gs://{gcs.name} --no-upload-on-failure", cell2)
    assert gcs.bucket.get_blob("kept-local.txt") is None


def test_interrupt_mid_job_leaves_no_mount_or_container(ip, cj_home, gcs, labelled):
    import signal

    timer = threading.Timer(4.0, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell_magic("containerjob", f"--mount gs://{gcs.name}:fuse",
                          f"import time\nopen('/gcs/{gcs.name}/early.txt', 'w').write('e')\ntime.sleep(120)")
    assert only_record(cj_home).status.value == "CANCELLED"
    assert fuse_mounts_under(cj_home) == [] and labelled() == []
    assert gcs.bucket.blob("early.txt").download_as_bytes() == b"e"  # drained before the unmount


def test_missing_bucket_fails_before_start(ip, cj_home, gcs, labelled):
    with pytest.raises(UsageError, match="bucket gs://no-such-bucket-here does not exist"):
        ip.run_cell_magic("containerjob", "--mount gs://no-such-bucket-here/x", "x = 1")
    assert Store(cj_home / "jobs.db").list() == [] and labelled() == []
    with pytest.raises(UsageError, match="not a valid bucket name"):
        ip.run_cell_magic("containerjob", "--mount gs://UPPER", "x = 1")
    with pytest.raises(UsageError, match="unknown mode 'rw'"):
        ip.run_cell_magic("containerjob", f"--mount gs://{gcs.name}:rw", "x = 1")


def test_output_dir_in_cloud_storage(ip, cj_home, gcs):
    cell = ("import os\nmodel_dir = os.environ['AIP_MODEL_DIR']\n"
            "open(model_dir.replace('gs://', '/gcs/', 1) + 'weights.bin', 'w').write('w')\n")
    result = ip.run_cell(f"%%containerjob --output-dir gs://{gcs.name}/runs/7\n{cell}")
    assert result.success, result.error_in_exec
    assert ip.user_ns["model_dir"] == f"gs://{gcs.name}/runs/7/model/"  # as on Vertex
    assert gcs.bucket.blob("runs/7/model/weights.bin").download_as_bytes() == b"w"


def test_semantics_rename_delete_symlink(ip, cj_home, gcs):
    """Rename is copy+delete, deletes propagate, symlinks do not exist in Cloud Storage (reported, skipped)."""
    gcs.bucket.blob("old.txt").upload_from_string(b"o")
    gcs.bucket.blob("gone.txt").upload_from_string(b"g")
    cell = (f"import os\nr = '/gcs/{gcs.name}'\nos.rename(r + '/old.txt', r + '/new.txt')\nos.remove(r + '/gone.txt')\n"
            "os.symlink(r + '/new.txt', r + '/link.txt')\n")
    assert ip.run_cell(f"%%containerjob --mount gs://{gcs.name}\n{cell}").success
    names = sorted(b.name for b in gcs.client.list_blobs(gcs.name))
    assert names == ["new.txt"]
    assert gcs.bucket.blob("new.txt").download_as_bytes() == b"o"
    message = only_record(cj_home).message
    assert "deleted 2" in message and "skipped 1 symlinks" in message and "link.txt" in message


def test_notebook_mount(ip, cj_home, gcs, tmp_path, capsys):
    gcs.bucket.blob("nb/data.csv").upload_from_string(b"a,b\n1,2\n")
    point = tmp_path / "mnt"
    ip.run_line_magic("gcsmount", f"gs://{gcs.name}/nb {point}")
    try:
        assert (point / "data.csv").read_text() == "a,b\n1,2\n"
        (point / "written.txt").write_text("from the notebook")
        ip.run_line_magic("gcsmount", "--list")
        assert f"gs://{gcs.name}/nb -> {point} (rclone)" in capsys.readouterr().out
        with pytest.raises(UsageError, match="already a mount point"):
            ip.run_line_magic("gcsmount", f"gs://{gcs.name} {point}")
    finally:
        ip.run_line_magic("gcsunmount", str(point))
    assert not os.path.ismount(point)
    assert gcs.bucket.blob("nb/written.txt").download_as_bytes() == b"from the notebook"
    with pytest.raises(UsageError, match="not mounted"):
        ip.run_line_magic("gcsunmount", str(point))


def test_credentials_are_mounted_read_only(ip, cj_home, tmp_path, monkeypatch):
    adc = tmp_path / "adc.json"
    adc.write_text('{"type": "authorized_user", "quota_project_id": "from-adc"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    cell = ("import os\npath = os.environ['GOOGLE_APPLICATION_CREDENTIALS']\ncontent = open(path).read()\n"
            "try:\n    open(path, 'a').write('x')\n    writable = True\nexcept OSError:\n    writable = False\n")
    assert ip.run_cell(f"%%containerjob --credentials\n{cell}").success
    assert ip.user_ns["path"] == "/etc/containerjob/application_default_credentials.json"
    assert "from-adc" in ip.user_ns["content"] and ip.user_ns["writable"] is False
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(UsageError, match="--credentials: no application default credentials"):
        ip.run_cell_magic("containerjob", "--credentials", "x = 1")


def test_fuse_mode_keeps_files_saved_by_rename(ip, cj_home, gcs):
    """Most libraries save as write-temporary-then-rename; in fuse mode that object must arrive."""
    cell = (f"import os\nr = '/gcs/{gcs.name}/models'\nos.makedirs(r, exist_ok=True)\n"
            "open(r + '/w.tmp', 'w').write('weights')\nos.replace(r + '/w.tmp', r + '/w.bin')\n")
    assert ip.run_cell(f"%%containerjob --mount gs://{gcs.name}:fuse\n{cell}").success
    assert gcs.bucket.blob("models/w.bin").download_as_bytes() == b"weights"
    assert gcs.bucket.get_blob("models/w.tmp") is None


def test_rewritten_with_same_content_is_not_uploaded(ip, cj_home, gcs):
    """Checksum, not mtime alone: a file touched but unchanged causes no upload (and keeps its generation)."""
    blob = gcs.bucket.blob("same.txt")
    blob.upload_from_string(b"same")
    generation = gcs.bucket.get_blob("same.txt").generation
    cell = f"import os, time\np = '/gcs/{gcs.name}/same.txt'\ntime.sleep(0.01)\ndata = open(p).read()\nopen(p, 'w').write(data)\n"
    assert ip.run_cell(f"%%containerjob --mount gs://{gcs.name}\n{cell}").success
    assert "uploaded 0 files" in only_record(cj_home).message
    assert gcs.bucket.get_blob("same.txt").generation == generation


def test_fuse_write_outside_the_declared_prefix_lands_in_the_bucket(ip, cj_home, gcs):
    cell = f"import os\nos.makedirs('/gcs/{gcs.name}/elsewhere', exist_ok=True)\nopen('/gcs/{gcs.name}/elsewhere/x.txt', 'w').write('x')\n"
    assert ip.run_cell(f"%%containerjob --mount gs://{gcs.name}/declared:fuse\n{cell}").success
    assert gcs.bucket.blob("elsewhere/x.txt").download_as_bytes() == b"x"


def test_dead_notebook_mount_is_listed_and_cleaned(ip, cj_home, gcs, tmp_path, capsys):
    import signal

    point = tmp_path / "dead"
    ip.run_line_magic("gcsmount", f"gs://{gcs.name} {point}")
    pid = next(int(p.name) for p in __import__("pathlib").Path("/proc").iterdir() if p.name.isdigit()
               and str(point) in (p / "cmdline").read_bytes().decode(errors="replace").replace("\0", " "))
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert not os.path.ismount(point) and fuse_mounts_under(tmp_path) == [str(point)]  # dead, still in the table
    ip.run_line_magic("gcsmount", "--list")
    assert str(point) in capsys.readouterr().out
    with pytest.raises(UsageError, match="died before its uploads finished"):  # said, not hidden
        ip.run_line_magic("gcsunmount", str(point))
    assert fuse_mounts_under(tmp_path) == []  # and cleaned up all the same


def test_failed_upload_keeps_the_stage_and_sync_retries(ip, cj_home, gcs, capsys):
    """The bucket is gone when the job ends: the job says so, keeps its stage, and `sync` finishes later."""
    ip.run_cell_magic("containerjob", f"--detach --mount gs://{gcs.name}",
                      f"import time\nopen('/gcs/{gcs.name}/out.txt', 'w').write('late')\ntime.sleep(2)")
    job_id = capsys.readouterr().out.split("submitted ")[1].split(";")[0]
    gcs.bucket.delete()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ip.run_line_magic("containerjob", f"status {job_id}")
        status = json.loads(capsys.readouterr().out)
        if status["status"] != "RUNNING":
            break
        time.sleep(0.5)
    assert status["status"] == "FAILED" and f"containerjob sync {job_id}" in status["message"]
    assert (cj_home / "jobs" / job_id / "gcs" / gcs.name / "out.txt").read_text() == "late"  # stage kept
    gcs.client.create_bucket(gcs.name)
    ip.run_line_magic("containerjob", f"sync {job_id}")
    assert "uploaded 1 files" in capsys.readouterr().out
    assert gcs.client.bucket(gcs.name).blob("out.txt").download_as_bytes() == b"late"


def test_an_emulator_needs_no_other_variable(gcs, tmp_path):
    """STORAGE_EMULATOR_HOST alone: gcsfs's default class would stall 60 s per bucket on a gRPC probe."""
    import subprocess
    import sys

    gcs.bucket.blob("data/x.txt").upload_from_string("hello")
    script = ("import sys; from containerjob.mounts.transfer import Transfer; "
              "print(sorted(Transfer(None).list(sys.argv[1], 'data')))")
    env = {k: v for k, v in os.environ.items() if k != "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, gcs.name], env=env, capture_output=True, text=True,
                          timeout=50)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['data/x.txt']" and time.monotonic() - started < 30


def test_a_failed_range_of_a_download_writes_nothing_after_the_file_closes():
    """A download whose next ranges fail (an object deleted mid-download) must not leave a write of the
    ranges before them running once it has returned: the caller closes the file descriptor then, and the
    number may already name another file. The write under way is waited for; none starts after."""
    from containerjob.mounts.transfer import _overlapped

    events: list[str] = []

    def slow_write(data: str) -> None:
        time.sleep(0.3)
        events.append(f"wrote {data}")

    def failing_fetch() -> str:
        raise FileNotFoundError("deleted")

    with pytest.raises(FileNotFoundError):
        _overlapped([(lambda: "first", slow_write), (failing_fetch, slow_write), (lambda: "third", slow_write)])
    events.append("returned")
    time.sleep(0.4)
    assert events == ["wrote first", "returned"]


def test_a_striped_download_reads_the_listed_generation_only(gcs, tmp_path):
    """A big object replaced after the listing is not read as the new one (gcsfs before 2026.7 ignored
    cat_file's generation=): the download fails, saying to start again."""
    from containerjob.core.errors import MountError
    from containerjob.mounts.transfer import PART_BYTES, Transfer

    gcs.bucket.blob("big.bin").upload_from_string(b"\1" * (PART_BYTES + 1))
    transfer = Transfer(None)
    listed = transfer.list(gcs.name, "big.bin")["big.bin"]
    gcs.bucket.blob("big.bin").upload_from_string(b"\2" * (PART_BYTES + 1))
    with pytest.raises(MountError, match="changed or was deleted while it was downloaded"):
        transfer.download(gcs.name, [("big.bin", tmp_path / "big.bin", listed["size"], listed["generation"])])
