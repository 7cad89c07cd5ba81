"""jitgrad.save / jitgrad.load: round trips, exact path, atomic writes, bad files."""
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import jitgrad as jg
from jitgrad import nn


def test_round_trip_nested_structures(tmp_path):
    obj = {
        "state": {0: {"step": 3, "exp_avg": np.arange(4, dtype=np.float32)},
                  1: {"step": 3, "exp_avg": np.ones((2, 2))}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "name": None,
                          "nesterov": False}],
        "od": OrderedDict([("b", 1), ("a", 2)]),
        (1, "x"): "tuple key",
        "floats": [float("inf"), -0.0, 1 / 3, float("nan")],
        "np_scalars": (np.float32(1.5), np.int64(7)),
        "big": 2 ** 70,
        "ints": np.array([[1, 2]], dtype=np.int64),
        "bools": np.array([True, False]),
        "empty": np.zeros((0, 3)),
    }
    path = tmp_path / "ckpt"
    jg.save(obj, path)
    assert os.listdir(tmp_path) == ["ckpt"]  # exactly `path`, no temp file left behind
    back = jg.load(path)
    assert back["state"][0]["step"] == 3 and isinstance(back["state"][1]["exp_avg"], np.ndarray)
    np.testing.assert_array_equal(back["state"][0]["exp_avg"], obj["state"][0]["exp_avg"])
    assert back["state"][0]["exp_avg"].dtype == np.float32
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["name"] is None and back["param_groups"][0]["nesterov"] is False
    assert type(back["od"]) is OrderedDict and list(back["od"]) == ["b", "a"]
    assert type(back) is dict and back[(1, "x")] == "tuple key"
    f = back["floats"]
    assert f[0] == float("inf") and str(f[1]) == "-0.0" and f[2] == 1 / 3 and f[3] != f[3]
    assert back["np_scalars"][0] == np.float32(1.5) and back["np_scalars"][0].dtype == np.float32
    assert back["np_scalars"][1].dtype == np.int64
    assert back["big"] == 2 ** 70
    assert back["bools"].dtype == np.bool_ and back["empty"].shape == (0, 3)


def test_tensors_and_parameters_keep_their_type(tmp_path):
    t = jg.tensor([1.0, 2.0], requires_grad=True)
    p = nn.Parameter(jg.ones(2, 2, dtype=jg.float64))
    jg.save({"t": t, "p": p, "plain": jg.arange(3)}, str(tmp_path / "t.jg"))
    back = jg.load(str(tmp_path / "t.jg"))
    assert type(back["t"]) is jg.Tensor and back["t"].requires_grad
    assert isinstance(back["p"], nn.Parameter) and back["p"].dtype == np.float64
    assert back["plain"].tolist() == [0, 1, 2] and not back["plain"].requires_grad


def test_model_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Embedding(5, 2))
    jg.save(model.state_dict(), tmp_path / "model.pt")
    other = nn.Sequential(nn.Linear(3, 4), nn.Embedding(5, 2))
    other.load_state_dict(jg.load(tmp_path / "model.pt"))
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_overwrite_is_atomic(tmp_path):
    path = tmp_path / "ckpt"
    jg.save({"v": 1}, path)
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        jg.save({"v": 2, "bad": object()}, path)
    assert jg.load(path) == {"v": 1}  # the old file survived the failed save
    assert os.listdir(tmp_path) == ["ckpt"]
    with pytest.raises(TypeError, match="object-dtype"):
        jg.save(np.array([None]), tmp_path / "obj")


def test_truncated_and_foreign_files_raise_value_error(tmp_path):
    path = tmp_path / "ckpt"
    jg.save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        bad = tmp_path / f"cut{cut}"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=str(bad.name)):
            jg.load(bad)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt"):
        jg.load(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("data.pkl", b"x")
    with pytest.raises(ValueError, match="not a jitgrad file"):
        jg.load(other_zip)
    future = tmp_path / "future"
    with zipfile.ZipFile(future, "w") as zf:
        zf.writestr("jitgrad.json", json.dumps({"format": "jitgrad", "version": 99}))
    with pytest.raises(ValueError, match="version 99"):
        jg.load(future)
    with pytest.raises(FileNotFoundError):
        jg.load(tmp_path / "missing")


def test_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil"
    with zipfile.ZipFile(path, "w") as zf:
        import io
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        zf.writestr("arrays/0.npy", buf.getvalue())
        zf.writestr("jitgrad.json", json.dumps(
            {"format": "jitgrad", "version": 1, "root": {"t": "ndarray", "a": "arrays/0.npy"}}))
    with pytest.raises(ValueError, match="evil"):
        jg.load(path)


def test_torch_file_is_foreign(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="not a jitgrad file"):
        jg.load(path)


def test_load_accepts_torch_style_keywords(tmp_path):
    p = tmp_path / "w.jg"
    jg.save({"w": np.arange(3.0)}, p)
    for kw in ({"map_location": "cpu"}, {"weights_only": True}, {"weights_only": False}):
        np.testing.assert_array_equal(jg.load(p, **kw)["w"], np.arange(3.0))
    with pytest.raises(ValueError, match="map_location"):
        jg.load(p, map_location="cuda:0")


def test_save_and_load_take_file_objects(tmp_path):
    import io
    obj = {"w": jg.tensor([1.0, 2.0]), "step": 3, "a": np.arange(4)}
    buf = io.BytesIO()
    jg.save(obj, buf)
    buf.seek(0)
    back = jg.load(buf)
    assert back["step"] == 3 and np.array_equal(back["a"], obj["a"])
    assert back["w"].tolist() == [1.0, 2.0]
    with open(tmp_path / "ck.jg", "wb") as f:
        jg.save(obj, f)
    with open(tmp_path / "ck.jg", "rb") as f:
        assert jg.load(f)["step"] == 3
    out = io.BytesIO()
    with pytest.raises(TypeError):
        jg.save({"bad": object()}, out)
    assert out.getvalue() == b""                      # a failed save wrote nothing


def test_saving_a_module_says_to_save_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"save its state_dict\(\) instead"):
        jg.save(jg.nn.Linear(2, 2), tmp_path / "m.jg")
