"""jitgrad.load is safe against hostile files; save's temporaries are cleaned (issue 12)."""
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import jitgrad as jg
from jitgrad import _serialization


def _npy(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _archive(path, root, members=(), manifest_bytes=None, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, method in members:
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
        text = manifest_bytes if manifest_bytes is not None else json.dumps(
            {"format": "jitgrad", "version": 1, "root": root})
        zf.writestr(zipfile.ZipInfo("jitgrad.json"), text, compress_type=compress)
    return path


def test_member_inflating_past_declared_shape_is_refused(tmp_path):
    """A deflated member whose data runs ~10 MB past its 4-element header: refused unread."""
    header = _npy(np.zeros(4, np.float32))
    bomb = header + bytes(10 << 20)
    path = _archive(tmp_path / "bomb", {"t": "ndarray", "a": "arrays/0.npy"},
                    [("arrays/0.npy", bomb, zipfile.ZIP_DEFLATED)])
    assert os.path.getsize(path) < 100_000
    with pytest.raises(ValueError, match="compressed"):
        jg.load(path)


def test_stored_member_longer_than_its_shape_is_refused(tmp_path):
    data = _npy(np.zeros(4, np.float32)) + bytes(1000)
    path = _archive(tmp_path / "long", {"t": "ndarray", "a": "arrays/0.npy"},
                    [("arrays/0.npy", data, zipfile.ZIP_STORED)])
    with pytest.raises(ValueError, match="declares shape"):
        jg.load(path)


def test_huge_declared_shape_raises_before_allocating(tmp_path):
    """A header declaring 1e12 float32 elements (3.6 TiB) over 16 bytes of data."""
    hdr = {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, hdr)
    data = buf.getvalue() + bytes(16)
    path = _archive(tmp_path / "huge", {"t": "tensor", "a": "arrays/0.npy",
                                         "requires_grad": False, "parameter": False},
                    [("arrays/0.npy", data, zipfile.ZIP_STORED)])
    with pytest.raises(ValueError, match="declares shape"):
        jg.load(path)


def test_member_size_beyond_the_archive_is_refused(tmp_path):
    path = tmp_path / "liar"
    jg.save({"w": np.arange(8.0)}, path)
    raw = bytearray(path.read_bytes())
    # inflate the central directory's sizes of the array member to 2**31
    cd = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"jitgrad.json"))
    raw[cd + 20:cd + 28] = (2 ** 31).to_bytes(4, "little") * 2
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError):
        jg.load(path)


def _nested(depth, leaf):
    return '{"t": "list", "v": [' * depth + leaf + "]}" * depth


@pytest.mark.parametrize("depth", [150, 2000, 20_000])
def test_deep_manifest_raises_value_error(tmp_path, depth):
    body = '{"format": "jitgrad", "version": 1, "root": ' + _nested(depth, '{"t": "none"}') + "}"
    path = _archive(tmp_path / "deep", None, manifest_bytes=body)
    with pytest.raises(ValueError, match="deeper"):
        jg.load(path)


def test_nesting_within_the_limit_loads(tmp_path):
    obj = None
    for _ in range(_serialization.MAX_DEPTH - 1):
        obj = [obj]
    jg.save(obj, tmp_path / "ok")
    back = jg.load(tmp_path / "ok")
    for _ in range(_serialization.MAX_DEPTH - 1):
        back = back[0]
    assert back is None


@pytest.mark.parametrize("root", [
    [1, 2], "text", 3, {"no": "tag"}, {"t": 5}, {"t": "mystery"}, {"t": "list"},
    {"t": "list", "v": {"a": 1}}, {"t": "dict", "k": [{"t": "list", "v": []}], "v": [{"t": "none"}]},
    {"t": "dict", "k": [{"t": "none"}], "v": []}, {"t": "int", "v": "7"},
    {"t": "float", "v": "not-hex"}, {"t": "ndarray", "a": 3}, {"t": "ndarray", "a": "nope"},
    {"t": "str"},
])
def test_malformed_manifests_raise_value_error(tmp_path, root):
    path = _archive(tmp_path / "bad", root)
    with pytest.raises(ValueError, match="jitgrad.load"):
        jg.load(path)


def test_manifest_size_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(_serialization, "MAX_MANIFEST_BYTES", 1000)
    body = json.dumps({"format": "jitgrad", "version": 1,
                       "root": {"t": "str", "v": "x" * 5000}})
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = _archive(tmp_path / f"big{method}", None, manifest_bytes=body, compress=method)
        with pytest.raises(ValueError, match="manifest"):
            jg.load(path)


def test_missing_root_and_non_object_manifest(tmp_path):
    for i, body in enumerate(['{"format": "jitgrad", "version": 1}', "[1]", "\xff\xfe"]):
        path = _archive(tmp_path / f"m{i}", None, manifest_bytes=body)
        with pytest.raises(ValueError, match="jitgrad.load"):
            jg.load(path)


@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i8", ">i4"])
def test_big_endian_members_load_native(tmp_path, dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    for node in ({"t": "ndarray", "a": "arrays/0.npy"},
                 {"t": "tensor", "a": "arrays/0.npy", "requires_grad": False,
                  "parameter": False}):
        path = _archive(tmp_path / f"be{node['t']}", node, [("arrays/0.npy", _npy(a),
                                                              zipfile.ZIP_STORED)])
        back = jg.load(path)
        arr = back.numpy() if isinstance(back, jg.Tensor) else back
        assert arr.dtype.isnative and arr.dtype == a.dtype.newbyteorder("=")
        np.testing.assert_array_equal(arr, a)
    t = jg.load(path)
    np.testing.assert_array_equal((t * 2).sum(1).numpy(), (a * 2).sum(1))


def test_fortran_member_round_trips(tmp_path):
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    jg.save({"a": a}, tmp_path / "f")
    np.testing.assert_array_equal(jg.load(tmp_path / "f")["a"], a)


_WRITER = """
import sys, numpy as np, jitgrad as jg
obj = {"w": np.ones(8 << 20, np.float32)}  # 32 MB: each save takes a while
while True:
    jg.save(obj, sys.argv[1])
"""


def _tmps(directory):
    return [n for n in os.listdir(directory) if n.endswith(".tmp")]


def test_killed_writer_leaves_target_intact_and_next_save_cleans(tmp_path):
    target = tmp_path / "ckpt"
    jg.save({"v": 1}, target)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)])
    try:
        deadline = time.monotonic() + 60
        while not _tmps(tmp_path):
            assert time.monotonic() < deadline, "writer never started a save"
            assert proc.poll() is None, "writer died"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _tmps(tmp_path)
    assert left and all(f".jitgrad-{proc.pid}-" in n for n in left)
    back = jg.load(target)  # intact: the old {"v": 1} or a full 32 MB save
    assert back == {"v": 1} or back["w"].shape == (8 << 20,)
    assert _tmps(tmp_path) == left  # load deletes nothing
    # a live writer's temporary (this process's) is kept; the dead writer's goes
    mine = tmp_path / f".other.jitgrad-{os.getpid()}-abc.tmp"
    mine.write_bytes(b"in progress")
    jg.save({"v": 2}, tmp_path / "another")
    assert _tmps(tmp_path) == [mine.name]
    assert jg.load(target) is not None and jg.load(tmp_path / "another") == {"v": 2}
