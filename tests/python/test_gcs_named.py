"""/gcs as Vertex AI mounts it: every bucket a local job names under /gcs/<bucket> (command, args, env, a
CustomJob file's fields, --output-dir, string literals of its code) is there without --mount, in sync mode,
with only what the job names downloaded. Real engine, real fake-gcs-server, the real CLI and magic."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st
from IPython.core.error import UsageError

from cjtest import IMAGE, build_dockerfile
from containerjob.core.store import Store
from test_cli import cli

SEED_IMAGE = "containerjob-test/seed-entrypoint:1"
# The seed workflow's file: an image with its own ENTRYPOINT, `args` naming /gcs paths, no mounts anywhere.
SEED = """\
workerPoolSpecs:
  machineSpec:
    machineType: n1-standard-4
  replicaCount: 1
  containerSpec:
    imageUri: {image}
    args:
      - --input=/gcs/{bucket}/in/data.csv
      - --output=/gcs/{bucket}/out/
"""
# What the image runs: reads --input, writes --output/result.csv, says what it sees of the bucket.
PROGRAM = ("import os, sys; a = dict(x.split('=', 1) for x in sys.argv[1:]); bucket = a['--input'].split('/')[2]; "
           "print('sees', sorted(os.listdir('/gcs/' + bucket)), sorted(os.listdir('/gcs/' + bucket + '/in'))); "
           "open(a['--output'] + 'result.csv', 'w').write(open(a['--input']).read().upper())")


@pytest.fixture(scope="module")
def seed_image(engine):
    build_dockerfile(engine, f"FROM {IMAGE}\nENTRYPOINT {json.dumps(['python3', '-c', PROGRAM])}\n", SEED_IMAGE)
    yield SEED_IMAGE
    engine.images.remove(SEED_IMAGE, force=True)


def records(cj_home):
    return Store(cj_home / "jobs.db").list()


def test_the_seed_file_runs_here_unchanged_and_writes_to_the_bucket(seed_image, cj_home, gcs, tmp_path, labelled):
    gcs.bucket.blob("in/data.csv").upload_from_string(b"a,b\n1,2\n")
    gcs.bucket.blob("in/data.csv.old").upload_from_string(b"a name it starts: downloaded too")
    gcs.bucket.blob("in/other.csv").upload_from_string(b"not named: stays in the bucket")
    gcs.bucket.blob("elsewhere/big.bin").upload_from_string(b"x" * 1000)
    config = tmp_path / "config.yaml"
    config.write_text(SEED.format(image=seed_image, bucket=gcs.name))
    done = cli("run", "--config", str(config))
    assert "sees ['in', 'out'] ['data.csv', 'data.csv.old']" in done.stdout
    assert f"gs://{gcs.name}: downloaded 2 files" in done.stderr
    assert gcs.bucket.blob("out/result.csv").download_as_bytes() == b"A,B\n1,2\n"
    (record,) = records(cj_home)
    assert record.status.value == "SUCCEEDED", record.message
    assert "uploaded 1 files" in record.message
    assert labelled() == []
    # The same file, unchanged, for Vertex AI: the args as written, no mount of containerjob's own.
    on_vertex = json.loads(cli("run", "--config", str(config), "--backend", "vertex", "--project", "p",
                               "--dry-run").stdout)
    container = on_vertex["customJob"]["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]
    assert container["args"] == [f"--input=/gcs/{gcs.name}/in/data.csv", f"--output=/gcs/{gcs.name}/out/"]
    assert "command" not in container and container["imageUri"] == seed_image


def test_the_dry_run_shows_the_buckets_found_and_where(seed_image, cj_home, gcs, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(SEED.format(image=seed_image, bucket=gcs.name))
    dry = json.loads(cli("run", "--config", str(config), "--env", "EXTRA=/gcs/other-bucket-x/ref/",
                         "--output-dir", f"gs://{gcs.name}/runs/1", "--dry-run").stdout)
    shown = {m["target"]: m.get("gcs") for m in dry["mounts"]}
    assert shown[f"/gcs/{gcs.name}"] == {
        "mode": "sync",
        "downloads": [f"gs://{gcs.name}/runs/1/*", f"gs://{gcs.name}/in/data.csv*", f"gs://{gcs.name}/out/*"],
        "named": [f"--output-dir gs://{gcs.name}/runs/1", f"/gcs/{gcs.name}/in/data.csv in its args",
                  f"/gcs/{gcs.name}/out/ in its args"]}
    assert shown["/gcs/other-bucket-x"] == {"mode": "sync", "downloads": ["gs://other-bucket-x/ref/*"],
                                            "named": ["/gcs/other-bucket-x/ref/ in its environment, EXTRA"]}
    # An explicit --mount of the bucket says what the job sees of it: the names add nothing there.
    dry = json.loads(cli("run", "--config", str(config), "--mount", f"gs://{gcs.name}/in", "--dry-run").stdout)
    assert {m["target"]: m.get("gcs") for m in dry["mounts"]}[f"/gcs/{gcs.name}"] == {
        "mode": "sync", "downloads": [f"gs://{gcs.name}/in/*"]}
    assert records(cj_home) == []


def test_a_cell_reads_a_bucket_it_names_with_no_flag(ip, cj_home, gcs, labelled):
    gcs.bucket.blob("x.csv").upload_from_string(b"1,2,3")
    gcs.bucket.blob("y.csv").upload_from_string(b"not named")
    result = ip.run_cell(f"%%containerjob\nimport os\npath = f'/gcs/{gcs.name}/x.csv'\ntext = open(path).read()\n"
                         "seen = sorted(os.listdir(os.path.dirname(path)))\n")  # only what it names came down
    assert result.success, result.error_in_exec
    assert ip.user_ns["text"] == "1,2,3" and ip.user_ns["seen"] == ["x.csv"]
    (record,) = records(cj_home)
    assert record.status.value == "SUCCEEDED", record.message
    assert [(m.bucket, m.prefix, m.mode) for m in record.spec.mounts] == [(gcs.name, "x.csv", "sync")]
    assert labelled() == []


def test_a_named_bucket_that_does_not_exist_is_one_error_before_anything_starts(ip, cj_home, gcs, labelled,
                                                                                  tmp_path):
    with pytest.raises(UsageError, match=r"bucket gs://no-such-bucket-here \(the job names it: "
                                         r"/gcs/no-such-bucket-here/x.csv in the cell\) does not exist"):
        ip.run_cell_magic("containerjob", "", "x = open('/gcs/no-such-bucket-here/x.csv').read()")
    script = tmp_path / "job.py"
    script.write_text("print(open('/gcs/no-such-bucket-either/data/in.csv').read())\n")
    failed = cli("run", str(script), check_rc=4)  # a storage error, as for --mount
    assert ("bucket gs://no-such-bucket-either (the job names it: /gcs/no-such-bucket-either/data/in.csv in "
            "job.py) does not exist") in failed.stderr
    assert records(cj_home) == [] and labelled() == []


def test_a_job_that_names_no_bucket_gets_no_mount(cj_home, gcs, labelled):
    dry = json.loads(cli("run", "--image", IMAGE, "--command", "python3 -c 'print(1)'", "--dry-run").stdout)
    assert [m["target"] for m in dry["mounts"] if m["target"].startswith("/gcs")] == ["/gcs"]
    assert cli("run", "--image", IMAGE, "--command", "python3 -c 'print(1)'").stdout == "1\n"
    (record,) = records(cj_home)
    assert record.spec.mounts == [] and record.message == ""
    # On Vertex AI nothing is added: it mounts every bucket itself
    on_vertex = json.loads(cli("run", "--image", IMAGE, "--backend", "vertex", "--project", "p", "--dry-run", "--",
                               "/gcs/no-such-bucket-here/x").stdout)
    assert on_vertex["customJob"]["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["args"] == [
        "/gcs/no-such-bucket-here/x"]


def test_a_bucket_named_only_at_run_time_is_read_through_the_view_of_every_bucket(ip, cj_home, gcs, labelled):
    """Vertex AI shows every bucket at /gcs, so a name made at run time reads there; here /gcs is then a view of
    the project's buckets (rclone, read-only: a `mkdir` at its root would make a bucket), the named ones bound
    over it, and unmounted before anything walks the job's folder."""
    gcs.bucket.blob("x.csv").upload_from_string(b"1")
    ip.user_ns["bucket"] = gcs.name
    ip.run_cell_magic("containerjob", "", "x = open('/gcs/' + bucket + '/x.csv').read()")
    assert ip.user_ns["x"] == "1"
    (record,) = records(cj_home)
    assert record.status.value == "SUCCEEDED", record.message
    assert [(m.bucket, m.mode, m.named) for m in record.spec.mounts] == [("", "view", "/gcs/ in the cell")]
    job_dir = record.job_dir
    from containerjob.mounts.fuse import active_mounts

    assert [p for _, p in active_mounts() if p.startswith(job_dir)] == []  # the view went with the job
    assert labelled() == []


def test_the_view_is_read_only_and_a_write_there_says_the_fix(ip, cj_home, gcs, labelled):
    ip.user_ns["bucket"] = gcs.name
    buckets = sorted(b.name for b in gcs.client.list_buckets())
    with pytest.raises(OSError, match="Read-only file system"):
        ip.run_cell_magic("containerjob", "", "import os\nos.makedirs(f'/gcs/{bucket}-new/out')")
    with pytest.raises(OSError, match="Read-only file system"):
        ip.run_cell_magic("containerjob", "", "open(f'/gcs/{bucket}/y.txt', 'w').write('y')")
    assert sorted(b.name for b in gcs.client.list_buckets()) == buckets  # no bucket made, nothing written
    assert gcs.bucket.get_blob("y.txt") is None
    record = records(cj_home)[0]
    assert (f"/gcs/{gcs.name} is read-only here: the job makes the name only at run time" in record.message
            and f"--mount gs://{gcs.name}" in record.message), record.message
    # a bucket named in the job lies over the view, read and written as before
    ip.run_cell_magic("containerjob", "", f"import os\nopen('/gcs/{gcs.name}/z.txt', 'w').write('z')\n"
                                          "x = sorted(os.listdir('/gcs/' + bucket))")
    assert ip.user_ns["x"] == ["z.txt"]
    assert gcs.bucket.get_blob("z.txt").download_as_bytes() == b"z"
    assert labelled() == []


def test_the_dry_run_shows_the_view_and_where_the_name_is_made(cj_home, gcs):
    dry = json.loads(cli("run", "--image", IMAGE, "--dry-run", "--", "sh", "-c", "ls /gcs/$BUCKET").stdout)
    (view,) = [m for m in dry["mounts"] if m["target"] == "/gcs"]
    assert view["gcs"] == {"mode": "view", "named": ["/gcs/$BUCKET in its args"]}


@pytest.mark.parametrize("text, found", [
    ("--input=/gcs/my-bucket/in/data.csv", [("my-bucket", "in/data.csv")]),
    ("/gcs/my-bucket/out/", [("my-bucket", "out/")]),
    ("/gcs/my-bucket", [("my-bucket", "")]),
    ("/gcs/my-bucket/data/part-*.csv", [("my-bucket", "data/part-")]),  # a pattern: the names it starts
    ("/gcs/my-bucket/a/../b", [("my-bucket", "a/")]),  # a filesystem resolves `..`, Cloud Storage keeps it
    ("a /gcs/b-one/x,/gcs/b-two/y:/gcs/b-three/z", [("b-one", "x"), ("b-two", "y"), ("b-three", "z")]),
    ("/home/me/gcs/my-bucket/x", []),  # not /gcs
    ("/gcs/UPPER/x", []), ("/gcs/ab/x", []), ("/gcs/goog-x/y", []),  # not a bucket's name: not a name
    ("/gcs/my-bucket*/x", []), ("/gcs/{bucket}/x", []), ("/gcs/%s/x", []), ("/gcs/", []),
    ("gs://my-bucket/x", []),
])
def test_names_in_text(text, found):
    from containerjob.core.gcs_names import names_in_text

    assert [(n.bucket, n.key) for n in names_in_text(text, "args")] == found


def test_names_in_source():
    from containerjob.core.gcs_names import names_in_source

    source = '''
"""A docstring naming /gcs/doc-bucket/x is never used."""
a = '/gcs/lit-bucket/x.csv'
b = f'/gcs/fstr-bucket/data/train-{i}.csv'
c = f'{root}/gcs/not-this-one/x'
d = '/gcs/' + name + '/x.csv'
e = '/gcs/part' + suffix
f = '/gcs/whole-bucket' + '/y'
g = f'/gcs/pre{n}/x'
shell = "gsutil cp /gcs/shell-bucket/in/a.txt ."
'''
    assert sorted((n.bucket, n.key, n.path) for n in names_in_source(source, "the cell")) == [
        ("", "", "/gcs/"), ("", "", "/gcs/part"), ("", "", "/gcs/pre"),  # made at run time: the view of every bucket
        ("fstr-bucket", "data/train-", "/gcs/fstr-bucket/data/train-"), ("lit-bucket", "x.csv", "/gcs/lit-bucket/x.csv"),
        ("shell-bucket", "in/a.txt", "/gcs/shell-bucket/in/a.txt"), ("whole-bucket", "", "/gcs/whole-bucket")]
    assert names_in_source("x = '/gcs/lit-bucket/x' +", "the cell") == []  # does not parse: it fails anyway


def test_a_notebook_gets_the_bucket_a_parameter_names(cj_home, gcs, tmp_path, labelled):
    import nbformat

    from containerjob.core.spec import RunOptions
    from containerjob.service import JobService

    gcs.bucket.blob("nb/x.csv").upload_from_string(b"from the bucket")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("data = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('read:', open(data).read())")]
    path = tmp_path / "read.ipynb"
    nbformat.write(nb, str(path))
    service = JobService()
    prepared = service.prepare_notebook(RunOptions(image=IMAGE), path, {"data": f"/gcs/{gcs.name}/nb/x.csv"})
    record = service.follow(service.submit(prepared), lambda _text: None)
    assert record.status.value == "SUCCEEDED", record.message
    assert [(m.bucket, m.key_prefix) for m in record.spec.mounts] == [(gcs.name, "nb/x.csv")]
    assert "read: from the bucket" in "".join(service.backend("local").saved_logs(record))
    assert labelled() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["/gcs/", "/", "..", ".", "my-bucket", "b", "*", "{x}", "\n", "'", " ", "\x00", "é",
                                 "a" * 256, "x.csv", "=", "//"]), max_size=12).map("".join))
def test_any_text_names_only_buckets_and_stage_safe_prefixes(text):
    """Whatever a job writes, a name is a valid bucket and a prefix the stage can hold: never absolute, no `.`
    or `..` segment, no control character, no segment longer than a file's name."""
    from containerjob.core.gcs_names import names_in_source, names_in_text
    from containerjob.core.gcs_uri import validate_bucket

    for name in [*names_in_text(text, "args"), *names_in_source(f"x = {text!r}", "the cell")]:
        if not name.bucket:  # a name made at run time: it brings the view of every bucket, and no object
            assert name.key == "" and name.path.startswith("/gcs")
            continue
        assert validate_bucket(name.bucket) == name.bucket
        parts = name.key.split("/")
        assert not name.key.startswith("/") and not {".", ".."} & set(parts)
        assert all(part for part in parts[:-1]) and all(len(p.encode()) <= 255 for p in parts)
        assert not any(ord(c) < 32 or c == "\x7f" for c in name.key)
