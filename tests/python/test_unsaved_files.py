"""No silent loss: what a job writes under an unmounted /gcs/<bucket> (a name the job makes out of sight: one made
in view of its code brings the view of every bucket, test_gcs_named.py) or under a gs:// URI used as a file
name is kept in the job folder and reported; a mounted prefix exists at start, and a write beside it lands
in the bucket (the whole bucket is mounted, as on Vertex)."""
from __future__ import annotations

from pathlib import Path

from containerjob.core.store import Store
from test_cli import cli

WRITES = """\
import os
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'w').write(text)
# a name made where containerjob cannot see it (no /gcs in the code): neither mounted nor the view of every bucket
write('/'.join(['', 'gcs', 'never-mounted', 'run', 'model.txt']), 'weights')
write('gs://{bucket}/uri/as/name.txt', 'uri')  # a relative path: ./gs:/bucket/...
write('/gcs/{bucket}/beside/x.txt', 'beside the mounted prefix')
open('/gcs/{bucket}/fresh/prefix/first.txt', 'w').write('the mounted prefix exists at start')
print('done')
"""


def test_unmounted_writes_are_kept_and_reported(ip, cj_home, gcs, labelled, capsys):
    ip.run_cell_magic("containerjob", f"--mount gs://{gcs.name}/fresh/prefix", WRITES.format(bucket=gcs.name))
    out = capsys.readouterr().out
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.status.value == "SUCCEEDED", record.message
    kept = Path(record.job_dir) / "unsaved"
    assert (kept / "gcs/never-mounted/run/model.txt").read_text() == "weights"
    assert gcs.bucket.blob("beside/x.txt").download_as_bytes() == b"beside the mounted prefix"
    (uri,) = [p for p in kept.rglob("name.txt")]
    assert uri.read_text() == "uri" and "gs:" in uri.parts
    assert "2 file(s) written under /gcs/never-mounted, /gs:, where" in record.message and "on Vertex AI these would be lost too" in record.message
    assert "/gcs/never-mounted" in out and "these would be lost too" in out  # the cell says so
    assert gcs.bucket.blob("fresh/prefix/first.txt").download_as_bytes() == b"the mounted prefix exists at start"
    assert not list(kept.rglob("first.txt")) and not list(kept.rglob("x.txt"))  # what a mount kept is not reported
    listed = cli("outputs", record.id).stdout
    assert "unsaved/gcs/never-mounted/run/model.txt" in listed and "gs:" in listed
    assert labelled() == []


def test_a_job_that_writes_only_where_it_should_reports_nothing(cj_home, tmp_path):
    script = tmp_path / "ok.py"
    script.write_text("import os\nos.makedirs('/tmp/scratch', exist_ok=True)\nopen('/tmp/scratch/a', 'w').write('a')\n")
    cli("run", str(script))
    (record,) = Store(cj_home / "jobs.db").list()
    assert record.message == "" and not (Path(record.job_dir) / "unsaved").exists()


def test_links_a_job_made_are_never_followed(tmp_path):
    """A job owns output/: a link there to a folder of this machine must not make the host move its files."""
    from containerjob.backends.unsaved import keep_unsaved

    secret = tmp_path / "home" / ".ssh"
    secret.mkdir(parents=True)
    (secret / "id_rsa").write_text("key")
    job_dir = tmp_path / "job"
    (job_dir / "output").mkdir(parents=True)
    (job_dir / "output" / "unsaved").symlink_to(secret)
    (job_dir / "gcs-root" / "other").mkdir(parents=True)
    (job_dir / "gcs-root" / "other" / "link").symlink_to(secret / "id_rsa")
    assert keep_unsaved(job_dir, []) == ""
    assert (secret / "id_rsa").read_text() == "key" and not (job_dir / "unsaved").exists()
