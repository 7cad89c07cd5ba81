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
``path`` (no extension is added), so a crash never leaves a half-written file behind. The
temporary is named ``.<name>.jitgrad-<pid>-<random>.tmp`` after its writer's process id; a
writer killed mid-write (SIGKILL, power loss) leaves it behind, and the next ``save`` into that
directory removes every such temporary whose writer process is gone (``load`` deletes nothing).

Loading trusts nothing in the file. Limits (each violation raises ValueError naming the file):
the manifest is at most ``MAX_MANIFEST_BYTES`` and nests at most ``MAX_DEPTH`` containers;
every node is checked (a tag, the fields that tag needs, hashable keys); each array member
must be stored uncompressed (as ``save`` writes them: a compressed member, e.g. one inflating
far past its declared shape, is refused unread), no larger than the archive, and its ``.npy``
header's shape and dtype must account for exactly the member's size, checked before anything
is allocated: loading never allocates more than the file's size. Non-native byte order comes
back as native.
"""
import io
import json
import os
import re
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from ._dtypes import admit
from ._tensor import Tensor

_MANIFEST = "jitgrad.json"
_VERSION = 1
MAX_MANIFEST_BYTES = 64 << 20
MAX_DEPTH = 100
_TMP = re.compile(r"^\..*\.jitgrad-(\d+)-[^.]*\.tmp$")
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
        if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
            raise TypeError(f"jitgrad.save: cannot save a {type(obj).__name__} object itself "
                            f"(at {where}): save its state_dict() instead, e.g. "
                            f"jg.save(model.state_dict(), path), and load it back with "
                            f"load_state_dict(jg.load(path))")
        raise TypeError(f"jitgrad.save: cannot save an object of type {type(obj).__name__} at "
                        f"{where} (supported: dict, list, tuple, ndarray, Tensor, int, float, "
                        f"bool, str, None)")


def _write_archive(obj, fh):
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
        root = _Writer(zf).encode(obj)
        manifest = {"format": "jitgrad", "version": _VERSION, "root": root}
        zf.writestr(_MANIFEST, json.dumps(manifest))


def save(obj, f):
    """Save `obj` (nested dicts / lists / tuples of arrays, tensors, numbers, strings, None)
    to `f` in jitgrad's pickle-free format (see module docstring). `f` is a path (written
    atomically: a temporary file renamed onto it) or a binary file object with ``write``
    (the archive is built in memory first, so a failure writes nothing)."""
    if hasattr(f, "write"):
        buf = io.BytesIO()
        _write_archive(obj, buf)
        f.write(buf.getvalue())
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_orphans(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.jitgrad-{os.getpid()}-",
                               suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_archive(obj, fh)
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


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or unknowable): leave its file alone
    return True


def _remove_orphans(directory):
    """Delete save() temporaries in `directory` whose writer process no longer exists."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = _TMP.match(name)
        if m and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


class _Malformed(Exception):
    """A manifest or member that breaks the format (load turns it into ValueError)."""


def _read_member(src, name):
    """The array stored in member `name`, read without trusting its sizes (module docstring)."""
    zf, archive_size = src
    if not isinstance(name, str):
        raise _Malformed(f"array member name must be a string, got {type(name).__name__}")
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _Malformed(f"missing array member {name!r}") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Malformed(f"member {name!r} is compressed (method {info.compress_type}); "
                         f"jitgrad stores members uncompressed and refuses to inflate them")
    if info.compress_size != info.file_size or info.file_size > archive_size:
        raise _Malformed(f"member {name!r} declares {info.file_size} bytes, more than the "
                         f"{archive_size}-byte archive holds for it")
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise _Malformed(f"member {name!r} has .npy version {version}")
        if dtype.hasobject:
            raise _Malformed(f"member {name!r} holds an object array (pickled data is refused)")
        count = 1
        for d in shape:
            count *= int(d)
        nbytes = count * dtype.itemsize
        declared = fh.tell() + nbytes
        if info.file_size != declared:
            raise _Malformed(f"member {name!r} declares shape {tuple(shape)} of {dtype} "
                             f"({declared} bytes with its header) but holds {info.file_size} "
                             f"bytes")
        data = fh.read(nbytes)
        if len(data) != nbytes or fh.read(1):
            raise _Malformed(f"member {name!r} does not hold exactly its declared "
                             f"{nbytes} bytes of data")
    arr = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C").copy()
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


_FIELDS = {"none": (), "bool": ("v",), "int": ("v",), "str": ("v",), "float": ("v",),
           "ndarray": ("a",), "scalar": ("a",), "tensor": ("a",), "list": ("v",),
           "tuple": ("v",), "dict": ("k", "v"), "odict": ("k", "v")}
_SCALAR_TYPES = {"bool": bool, "int": int, "str": str, "float": str}


def _decode(node, src, depth=0):
    if depth > MAX_DEPTH:
        raise _Malformed(f"containers nest deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _Malformed(f"a node must be an object with a string tag 't', got "
                         f"{type(node).__name__}")
    t = node["t"]
    fields = _FIELDS.get(t)
    if fields is None:
        raise _Malformed(f"unknown node tag {t!r}")
    for k in fields:
        if k not in node:
            raise _Malformed(f"a {t!r} node lacks its {k!r} field")
    if t == "none":
        return None
    if t in _SCALAR_TYPES:
        v = node["v"]
        if type(v) is not _SCALAR_TYPES[t]:
            raise _Malformed(f"a {t!r} node holds a {type(v).__name__}")
        if t == "float":
            try:
                return float.fromhex(v)
            except (ValueError, OverflowError):
                raise _Malformed(f"bad float literal {v[:40]!r}") from None
        return v
    if t in ("ndarray", "scalar", "tensor"):
        arr = _read_member(src, node["a"])
        if t == "ndarray":
            return arr
        if t == "scalar":
            return arr[()]
        try:
            arr = admit(arr, "jitgrad.load")
        except TypeError as exc:
            raise _Malformed(str(exc)) from None
        requires_grad = bool(node.get("requires_grad", False))
        if requires_grad and arr.dtype.kind != "f":
            raise _Malformed(f"a tensor of dtype {arr.dtype} cannot require grad")
        if node.get("parameter"):
            from .nn.parameter import Parameter
            return Parameter(arr, requires_grad=requires_grad)
        return Tensor(arr, requires_grad=requires_grad)
    values = node["v"]
    if not isinstance(values, list):
        raise _Malformed(f"a {t!r} node's 'v' must be a list")
    if t == "list":
        return [_decode(v, src, depth + 1) for v in values]
    if t == "tuple":
        return tuple(_decode(v, src, depth + 1) for v in values)
    keys = node["k"]
    if not isinstance(keys, list) or len(keys) != len(values):
        raise _Malformed(f"a {t!r} node needs as many keys as values")
    items = []
    for k, v in zip(keys, values):
        key = _decode(k, src, depth + 1)
        try:
            hash(key)
        except TypeError:
            raise _Malformed(f"unhashable dict key of type {type(key).__name__}") from None
        items.append((key, _decode(v, src, depth + 1)))
    return OrderedDict(items) if t == "odict" else dict(items)


def _read_manifest(zf, path):
    try:
        info = zf.getinfo(_MANIFEST)
    except KeyError:
        raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file (no {_MANIFEST} in "
                         f"the archive)") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _Malformed(f"the manifest declares {info.file_size} bytes (limit "
                         f"{MAX_MANIFEST_BYTES})")
    with zf.open(info) as fh:
        raw = fh.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _Malformed(f"the manifest inflates past {MAX_MANIFEST_BYTES} bytes")
    try:
        return json.loads(raw)
    except RecursionError:
        raise _Malformed(f"the manifest nests deeper than the JSON parser allows (limit "
                         f"{MAX_DEPTH} levels)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Malformed(f"the manifest is not valid JSON ({exc})") from None


def load(f, map_location=None, weights_only=True):
    """Load an object written by :func:`save`. Arrays come back as ndarrays, tensors as
    Tensors (Parameters as Parameters). Raises ValueError naming the file if it is truncated,
    corrupt, malformed or exceeds a limit (module docstring) or is not a jitgrad file; it
    never allocates more than the file's size. ``map_location`` (None or 'cpu') and
    ``weights_only`` are accepted for torch.load compatibility: everything lives on the CPU, and the format holds
    data only, so loading never runs code either way."""
    if map_location not in (None, "cpu"):
        raise ValueError(f"jitgrad.load: map_location must be None or 'cpu' (jitgrad is CPU-only), "
                         f"got {map_location!r}")
    if hasattr(f, "read"):   # a binary file object: read it whole (bounded by its size)
        data = f.read()
        if not isinstance(data, bytes):
            raise TypeError(f"jitgrad.load: expected a binary file object (mode 'rb'), got "
                            f"{type(data).__name__} from read()")
        path, source, size = getattr(f, "name", "<file object>"), io.BytesIO(data), len(data)
    else:
        path = os.fspath(f)
        source, size = path, None
    try:
        with zipfile.ZipFile(source, "r") as zf:
            manifest = _read_manifest(zf, path)
            if not isinstance(manifest, dict) or manifest.get("format") != "jitgrad":
                raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file")
            if manifest.get("version") != _VERSION:
                raise ValueError(f"jitgrad.load: {path!r} has format version "
                                 f"{manifest.get('version')}; this jitgrad reads version "
                                 f"{_VERSION}")
            if "root" not in manifest:
                raise _Malformed("the manifest has no 'root'")
            return _decode(manifest["root"], (zf, os.path.getsize(path) if size is None
                                              else size))
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except _Malformed as exc:
        raise ValueError(f"jitgrad.load: {path!r} is malformed: {exc}") from None
    except ValueError as exc:
        if str(exc).startswith("jitgrad.load:"):
            raise
        raise ValueError(f"jitgrad.load: {path!r} is corrupt or truncated ({exc})") from exc
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, json.JSONDecodeError,
            zipfile.LargeZipFile) as exc:
        raise ValueError(f"jitgrad.load: {path!r} is not a jitgrad file or is truncated / "
                         f"corrupt ({type(exc).__name__}: {exc})") from exc
