"""jitgrad.save / jitgrad.load: nested containers of arrays and tensors, without pickle.

Format (version 1): a zip archive (stored, uncompressed) holding
- ``jitgrad.json``: ``{"format": "jitgrad", "version": 1, "root": <node>}``, where a node is
  ``{"t": <tag>, ...}`` with tag one of: ``none``; ``bool``/``int``/``str`` (``"v"``: the value);
  ``float`` (``"v"``: ``float.hex()``, exact, inf/nan included); ``ndarray`` and ``scalar``
  (a NumPy scalar; ``"a"``: member name); ``tensor`` (``"a"``, ``"requires_grad"``,
  ``"parameter"``); ``list``/``tuple`` (``"v"``: nodes); ``dict``/``odict`` (``"k"``, ``"v"``:
  key nodes and value nodes, so int and tuple keys survive);
- ``arrays/<n>.npy``: one standard .npy file per array (read back with ``allow_pickle=False``).

The file is written to a temporary file in the target's directory and renamed onto exactly
``path`` (no extension is added), so a crash never leaves a half-written file behind.
"""
import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from ._tensor import Tensor

_MANIFEST = "jitgrad.json"
_VERSION = 1
_UMASK = os.umask(0o22)
os.umask(_UMASK)


class _Writer:
    def __init__(self, zf):
        self.zf = zf
        self.n = 0

    def array(self, a, where):
        if a.dtype.hasobject:
            raise TypeError(f"jitgrad.save: cannot save an object-dtype array at {where}")
        name = f"arrays/{self.n}.npy"
        self.n += 1
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
        self.zf.writestr(name, buf.getvalue())
        return name

    def encode(self, obj, where="obj"):
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, (bool, np.bool_)) and not isinstance(obj, np.ndarray):
            return {"t": "bool", "v": bool(obj)}
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter
            return {"t": "tensor", "a": self.array(obj.data, where),
                    "requires_grad": obj.requires_grad, "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, np.ndarray):
            return {"t": "ndarray", "a": self.array(obj, where)}
        if isinstance(obj, np.generic):
            return {"t": "scalar", "a": self.array(np.asarray(obj), where)}
        if isinstance(obj, int):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": float(obj).hex()}
        if isinstance(obj, str):
            return {"t": "str", "v": obj}
        if isinstance(obj, (list, tuple)):
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "v": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            keys = list(obj.keys())
            return {"t": "odict" if isinstance(obj, OrderedDict) else "dict",
                    "k": [self.encode(k, f"{where} key") for k in keys],
                    "v": [self.encode(obj[k], f"{where}[{k!r}]") for k in keys]}
        raise TypeError(f"jitgrad.save: cannot save an object of type {type(obj).__name__} at "
                        f"{where} (supported: dict, list, tuple, ndarray, Tensor, int, float, "
                        f"bool, str, None)")


def save(obj, f):
    """Save `obj` (nested dicts / lists / tuples of arrays, tensors, numbers, strings, None)
    to the file `f`, atomically, in jitgrad's pickle-free format (see module docstring)."""
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
                root = _Writer(zf).encode(obj)
                manifest = {"format": "jitgrad", "version": _VERSION, "root": root}
                zf.writestr(_MANIFEST, json.dumps(manifest))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file a normal mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _decode(node, zf):
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "int", "str"):
        return node["v"]
    if t == "float":
        return float.fromhex(node["v"])
    if t in ("ndarray", "scalar", "tensor"):
        with zf.open(node["a"]) as fh:
            arr = np.lib.format.read_array(io.BytesIO(fh.read()), allow_pickle=False)
        if t == "ndarray":
            return arr
        if t == "scalar":
            return arr[()]
        if node["parameter"]:
            from .nn.parameter import Parameter
            return Parameter(arr, requires_grad=node["requires_grad"])
        return Tensor(arr, requires_grad=node["requires_grad"])
    if t == "list":
        return [_decode(v, zf) for v in node["v"]]
    if t == "tuple":
        return tuple(_decode(v, zf) for v in node["v"])
    if t in ("dict", "odict"):
        items = [(_decode(k, zf), _decode(v, zf)) for k, v in zip(node["k"], node["v"])]
        return OrderedDict(items) if t == "odict" else dict(items)
    raise ValueError(f"unknown node tag {t!r}")


def load(f, map_location=None, weights_only=True):
    """Load an object written by :func:`save`. Arrays come back as ndarrays, tensors as
    Tensors (Parameters as Parameters). Raises ValueError naming the file if it is truncated,
    corrupt or not a jitgrad file. ``map_location`` (None or 'cpu') and ``weights_only`` are
    accepted for torch.load compatibility: everything lives on the CPU, and the format holds
    data only, so loading never runs code either way."""
    if map_location not in (None, "cpu"):
        raise ValueError(f"jitgrad.load: map_location must be None or 'cpu' (jitgrad is CPU-only), "
                         f"got {map_location!r}")
    path = os.fspath(f)
    try:
        with zipfile.ZipFile(path, "r") as zf:
            try:
                manifest = json.loads(zf.read(_MANIFEST))
            except KeyError:
                raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file (no "
                                 f"{_MANIFEST} in the archive)") from None
            if not isinstance(manifest, dict) or manifest.get("format") != "jitgrad":
                raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file")
            if manifest.get("version") != _VERSION:
                raise ValueError(f"jitgrad.load: {path!r} has format version "
                                 f"{manifest.get('version')}; this jitgrad reads version "
                                 f"{_VERSION}")
            return _decode(manifest["root"], zf)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except ValueError as exc:
        if str(exc).startswith("jitgrad.load:"):
            raise
        raise ValueError(f"jitgrad.load: {path!r} is corrupt or truncated ({exc})") from exc
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, json.JSONDecodeError,
            zipfile.LargeZipFile) as exc:
        raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file or is truncated / "
                         f"corrupt ({type(exc).__name__}: {exc})") from exc
