"""Static analysis and payload building (no engine needed), and the runner run in this interpreter."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import cloudpickle
import pytest

from containerjob.core.errors import PayloadError, SpecError
from containerjob.core.names import analyse, parse_cell
from containerjob.core.payload import build_payload
from containerjob.core.results import load_values, read_result
from containerjob.core.runtime import page_writes, pickle_frames, writeback


def names(src: str):
    return analyse(src, parse_cell(src, "<t>"))


def test_reads_and_assigns_in_execution_order():
    n = names("import numpy as np\nx = x + 1\ndef f(a):\n    return a + y + np.pi\n"
              "z = [i * w for i in range(k)]\nfor t in items:\n    total = t\n"
              "try:\n    pass\nexcept ValueError as e:\n    print(e)\n")
    assert n.reads == ("x", "range", "k", "items", "ValueError", "print", "y", "w")  # builtins too: the kernel may shadow them
    assert n.assigns == ("np", "x", "f", "z", "t", "total", "e")


def test_syntax_error_names_line():
    with pytest.raises(SpecError, match="line 1"):
        parse_cell("x = = 1", "<t>")


def test_payload_is_content_addressed_and_immutable(tmp_path):
    ns = {"a": [1, 2], "os": os}
    p1 = build_payload("b = a", home=tmp_path, kind="cell", filename="<c>", namespace=ns, inputs=["a", "os"], outputs=["b"])
    p2 = build_payload("b = a", home=tmp_path, kind="cell", filename="<c>", namespace=ns, inputs=["a", "os"], outputs=["b"])
    p3 = build_payload("b = a", home=tmp_path, kind="cell", filename="<c>", namespace={"a": [3]}, inputs=["a"], outputs=["b"])
    assert p1.path == p2.path != p3.path
    assert p1.runtime == p3.runtime and (p1.runtime / "site" / "cloudpickle" / "__init__.py").is_file()
    manifest = json.loads((p1.path / "manifest.json").read_text())
    assert manifest["inputs"] == {"a": {"pickle": "inputs/a.pkl"}, "os": {"module": "os"}}
    assert p1.inputs["a"]["type"] == "list" and not p1.code_by_value
    assert [p.name for p in (tmp_path / "payloads").iterdir() if p.name.startswith(".tmp")] == []


def test_code_by_value_detected(tmp_path):
    def local_fn():
        return 1
    p = build_payload("y = f()", home=tmp_path, kind="cell", filename="<c>", namespace={"f": local_fn}, inputs=["f"])
    assert p.code_by_value


def test_every_unpicklable_variable_named(tmp_path):
    ns = {"lock": threading.Lock(), "gen": (i for i in range(2)), "ok": 1}
    with pytest.raises(PayloadError) as info:
        build_payload("", home=tmp_path, kind="cell", filename="<c>", namespace=ns, inputs=["lock", "gen", "ok"])
    assert "lock (_thread.lock" in str(info.value) and "gen (generator" in str(info.value)
    assert not (tmp_path / "payloads").exists()  # nothing half-written


def test_payload_size_limit(tmp_path):
    with pytest.raises(PayloadError, match="over the 1.0 KiB payload limit"):
        build_payload("", home=tmp_path, kind="cell", filename="<c>", namespace={"big": b"x" * 4096},
                      inputs=["big"], max_bytes=1024)


def loaded(out, key=None):
    """What the kernel gets: the JSON, then the values."""
    result = read_result(out, key=key, job_id="cj-00000000")
    load_values(result, out)
    return result


def test_runner_end_to_end_in_this_interpreter(tmp_path):
    """The runner is stdlib-only: run it with a bare interpreter (-I, no site-packages)."""
    class Point:
        def __init__(self, x):
            self.x = x
    payload = build_payload("import math\np2 = Point(pt.x * 2)\nroot = math.sqrt(16)\nroot + 1", home=tmp_path,
                            kind="cell", filename="<cell>", namespace={"pt": Point(3), "Point": Point},
                            inputs=["pt", "Point"], outputs=["p2", "root", "math"])
    out = tmp_path / "out"
    out.mkdir()
    env = {"CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(out), "PATH": os.environ["PATH"]}
    proc = subprocess.run([sys.executable, "-I", str(payload.runtime / "runner.py")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert read_result(out).values == {}  # the JSON alone: nothing is unpickled
    result = loaded(out)
    assert result.values["p2"].x == 6 and result.values["root"] == 4.0
    assert result.values["math"].__name__ == "math" and result.last_value == 5.0


def test_only_the_chief_writes_results(tmp_path):
    """Vertex workers other than pool 0 run the same code but must not overwrite the chief's results."""
    payload = build_payload("y = 1", home=tmp_path, kind="cell", filename="<cell>", outputs=["y"])
    out = tmp_path / "out"
    out.mkdir()
    env = {"CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(out), "PATH": os.environ["PATH"],
           "CLUSTER_SPEC": json.dumps({"task": {"type": "workerpool1", "index": 0}})}
    proc = subprocess.run([sys.executable, "-I", str(payload.runtime / "runner.py")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert list(out.iterdir()) == []
    env["CLUSTER_SPEC"] = json.dumps({"task": {"type": "workerpool0", "index": 0}})
    subprocess.run([sys.executable, "-I", str(payload.runtime / "runner.py")], env=env, check=True, timeout=60)
    assert loaded(out).values == {"y": 1}


def test_a_large_file_is_written_whole_in_pieces_handed_to_the_disk(tmp_path):
    """writeback.write (payloads, and results in the runner) writes a large file in pieces and starts each
    piece's writeback once written: the bytes are the chunks' in order, across piece and chunk boundaries,
    and a MAC taken piece by piece is the whole file's."""
    chunks = [b"header", bytearray(os.urandom(writeback.FROM + writeback.PIECE + 123)), b"", memoryview(b"tail")]
    mac = hashlib.sha256()
    with open(tmp_path / "big", "wb") as fh:
        written = writeback.write(fh, chunks, mac.update)
    data = b"".join(bytes(c) for c in chunks)
    assert written == len(data) and (tmp_path / "big").read_bytes() == data
    assert mac.digest() == hashlib.sha256(data).digest()
    assert writeback._call, "sync_file_range was not found: the engine's flush waits for every dirty page"


def test_large_buffers_travel_out_of_band_and_come_back_writable(tmp_path):
    """Big buffers are written from their own memory and come back writable and private (PEP 574):
    a large one mapped copy-on-write, a small one read."""
    big, small = bytearray(os.urandom(2 << 20)), bytearray(b"xyz" * 100)
    value = {"big": pickle.PickleBuffer(big), "small": pickle.PickleBuffer(small), "n": [1, "two"]}  # as NumPy does
    frames = pickle_frames.dumps(value)
    assert len(frames.buffers) == 2 and len(frames.inband) < 200 and frames.size > 2 << 20
    pickle_frames.write(tmp_path / "v.pkl", frames)
    on_disk = (tmp_path / "v.pkl").read_bytes()
    loaded = pickle_frames.load(tmp_path / "v.pkl")
    assert bytes(loaded["big"]) == big and bytes(loaded["small"]) == small and loaded["n"] == [1, "two"]
    loaded["big"][0] ^= 1  # writable, and the change stays in this process
    loaded["small"][0] ^= 1
    assert (tmp_path / "v.pkl").read_bytes() == on_disk
    value = {"blob": big}
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(value))  # results of older versions still load
    assert pickle_frames.load(tmp_path / "old.pkl") == value
    (tmp_path / "cut.pkl").write_bytes((tmp_path / "v.pkl").read_bytes()[:-10])
    with pytest.raises(EOFError, match="truncated"):
        pickle_frames.load(tmp_path / "cut.pkl")


def test_digest_is_blake3_of_8_mib_pieces_whatever_the_chunks(tmp_path):
    """The kernel hashes a payload's pieces on several threads while writing them, in whatever chunks the
    pickler gave: the digest is the same for any chunking, and the definition a reader can check by hand."""
    from blake3 import blake3

    from containerjob.core.digests import PIECE, Digest

    data = os.urandom(3 * PIECE + 12345)
    expected = blake3(b"".join(blake3(data[i:i + PIECE]).digest() for i in range(0, len(data), PIECE))).digest()
    cuts = [[data], [data[:100], data[100:PIECE + 7], data[PIECE + 7:]],
            [data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)]]
    with ThreadPoolExecutor(2) as pool:
        for chunks in cuts:
            assert Digest(chunks).result() == expected
            assert Digest(chunks, pool).result() == expected
    assert Digest([]).result() == blake3(b"").digest()
    assert Digest([data[:-1] + b"\0"]).result() != expected


def _blob_class():
    class Blob:
        """A buffer that pickles out of band, as a NumPy array does (by value: defined in a function)."""

        def __init__(self, data):
            self.data = data

        def __reduce_ex__(self, protocol):
            return Blob, (pickle.PickleBuffer(self.data),)
    return Blob


def test_inputs_changed_in_place_are_told_by_the_pages_written(tmp_path):
    """Large inputs come in as copy-on-write mappings of the payload: one the cell only read is unchanged
    without a pass over it, one written is compared where it was written; small ones with the payload file."""
    Blob = _blob_class()  # noqa: N806 - a class
    big = 3 << 20
    ns = {name: Blob(bytearray(os.urandom(size))) for name, size in
          (("kept", big), ("poked", big), ("rewritten", big), ("small", 100), ("small2", 100))}
    cell = ("poked.data[2**21 + 5] ^= 1\nrewritten.data[7] = rewritten.data[7]\nsmall.data[0] ^= 1\n"
            "n = len(kept.data) + len(small2.data)")
    payload = build_payload(cell, home=tmp_path, kind="cell", filename="<cell>", namespace=ns,
                            inputs=list(ns), outputs=["n"])
    out = tmp_path / "out"
    out.mkdir()
    env = {"CONTAINERJOB_PAYLOAD": str(payload.path), "CONTAINERJOB_OUTPUT": str(out), "PATH": os.environ["PATH"]}
    proc = subprocess.run([sys.executable, "-I", str(payload.runtime / "runner.py")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = loaded(out)
    assert sorted(result.updated) == ["poked", "small"] and sorted(result.unchanged) == ["kept", "rewritten", "small2"]
    flipped = bytearray(ns["poked"].data)
    flipped[2**21 + 5] ^= 1
    assert bytes(result.values["poked"].data) == flipped and result.values["n"] == big + 100
    assert result.values["small"].data[1:] == ns["small"].data[1:] != result.values["small"].data


def test_mapped_buffers_are_proven_unchanged_from_their_pages(tmp_path):
    """For buffers still mapped from the file, the answer comes from the pages written (True or False),
    never "compare it all" (None): what spares the runner a pass over a large input the cell only read."""
    Blob = _blob_class()  # noqa: N806 - a class
    path = tmp_path / "v.pkl"
    pickle_frames.write(path, pickle_frames.dumps(Blob(bytearray(os.urandom(2 << 20))), cloudpickle.dumps))
    mapped: list = []
    blob = pickle_frames.load(path, mapped=mapped)

    def same(value):
        with open(path, "rb") as fh:
            frames = pickle_frames.dumps(value, cloudpickle.dumps)
            return page_writes.same_bytes(frames, pickle_frames.layout(fh), fh.fileno(), mapped)
    assert len(mapped) == 1 and mapped[0] is not None and same(blob) is True
    blob.data[100] = blob.data[100]  # a write: the page is now a private copy, with the same bytes
    assert same(blob) is True
    blob.data[(1 << 20) + 3] ^= 1
    assert same(blob) is False
    blob.data[(1 << 20) + 3] ^= 1
    assert same(blob) is True
    assert same(Blob(bytearray(blob.data))) is None  # the same bytes elsewhere in memory: only a full comparison tells
    assert same(Blob(bytearray(10))) is False  # another size
