"""The one place that decides numba options and the on-disk cache policy for every kernel.

Policy (why each choice, measured numbers in README "JIT and caching"):
- ``fastmath`` uses the flag set {nsz, arcp, contract, reassoc}: it lets LLVM vectorise
  reductions but keeps NaN/Inf semantics (no ``nnan``/``ninf``, which delete NaN checks).
- ``error_model='numpy'``: division by zero gives inf/nan like NumPy instead of raising.
- Cache: numba's own cache keys an entry on the *caller's* file only, so an edited helper in
  another kernels file can leave stale machine code behind. We stamp each kernels file with a
  hash of its source, of every kernels module it imports (transitively), of this file (the
  options) and of numba's and Python's versions, and keep its entries in a directory named
  after that stamp: an edit selects a fresh directory for exactly the files it can affect. The directory is ``$JITGRAD_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/jitgrad`` (or
  ``~/.cache/jitgrad``), else a per-user temp directory; if none is writable the cache is off.
  ``JITGRAD_DISABLE_CACHE=1`` turns it off (cold-start benchmarks). A corrupt or truncated
  entry is dropped and recompiled instead of crashing. Users' own numba functions keep
  numba's default locations (we never touch NUMBA_CACHE_DIR).
- Concurrent processes (MPI ranks, pytest-xdist, several fresh interpreters) may compile into
  one cache directory at once: every data file has a writer-unique name and is written before
  the index naming it (``_CacheFile``), so no index points at another key's code.
- Fork: a child forked after numba's 'omp' pool started runs serial twins of the parallel
  kernels (GNU OpenMP kills such a child otherwise; see "fork safety" below).
- The locator plugs into numba's caching classes (``numba.core.caching``), a private API: numba
  is pinned below the next minor version in pyproject.toml and tests/test_jit_cache.py covers it.
"""
import ast
import hashlib
import os
import sys
import tempfile
import uuid
import warnings

import numba
from numba.core import caching

FASTMATH = frozenset({"nsz", "arcp", "contract", "reassoc"})
OPTIONS = dict(nogil=True, error_model="numpy", fastmath=set(FASTMATH))

_HERE = os.path.dirname(os.path.abspath(__file__))


def _kernel_imports(source):
    """Names of the kernels modules a kernels file imports (``from .x import``, ``from . import x``)."""
    deps = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                deps.add(node.module.split(".")[0])
            else:
                deps.update(a.name for a in node.names)
    return deps


def _file_stamps(folder=_HERE):
    """{module name: stamp} for every kernels file; a stamp covers the file and its imports."""
    sources, deps = {}, {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                sources[name[:-3]] = f.read()
            deps[name[:-3]] = _kernel_imports(sources[name[:-3]]) | {"_jit"}
    env = (numba.__version__ + sys.version).encode()
    stamps = {}
    for mod in sources:
        closure, todo = set(), [mod]
        while todo:
            m = todo.pop()
            if m in closure or m not in sources:
                continue
            closure.add(m)
            todo.extend(deps[m])
        h = hashlib.sha256(env)
        for m in sorted(closure):
            h.update(m.encode() + b"\0" + sources[m])
        stamps[mod] = h.hexdigest()[:16]
    return stamps


def _writable_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _candidate_roots():
    env = os.environ.get("JITGRAD_CACHE_DIR")
    if env:
        yield env
        return
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    yield os.path.join(xdg, "jitgrad")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    yield os.path.join(tempfile.gettempdir(), f"jitgrad-cache-{uid}")


def _choose_cache_dir():
    if os.environ.get("JITGRAD_DISABLE_CACHE", "") not in ("", "0"):
        return None
    for root in _candidate_roots():
        if _writable_dir(root):
            return root
    return None


STAMPS = _file_stamps()
CACHE_DIR = _choose_cache_dir()


class _KernelsLocator(caching._CacheLocator):
    """A kernel's entries live in CACHE_DIR/<module>-<stamp>; the stamp is also the freshness."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file  # numba's "cannot cache" warning reads it
        self._lineno = py_func.__code__.co_firstlineno
        mod = os.path.splitext(os.path.basename(py_file))[0]
        self._stamp = STAMPS.get(mod, "unknown")
        self._path = os.path.join(CACHE_DIR, f"{mod}-{self._stamp}")

    def get_cache_path(self):
        return self._path

    def get_source_stamp(self):
        return self._stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        return cls(py_func, py_file)


class _SerialKernelsLocator(_KernelsLocator):
    """The serial twin of a parallel kernel: same directory, its own index file (numba's index
    key holds no compile flags, so the twins must not share one)."""

    def get_disambiguator(self):
        return f"{self._lineno}-serial"


class _KernelsCacheImpl(caching.CompileResultCacheImpl):
    _locator_classes = [_KernelsLocator]


class _SerialKernelsCacheImpl(caching.CompileResultCacheImpl):
    _locator_classes = [_SerialKernelsLocator]


class _CacheFile(caching.IndexDataCacheFile):
    """numba's index + data files, safe when several processes compile into one directory.

    numba numbers a new entry's data file by the entries it sees in the index (1, 2, ...) and
    writes the index before the data: two processes adding different signatures at once both
    pick number 1, and one's index can end up naming the other's machine code. Here every data
    file gets a name no other writer uses and is written (atomically, as numba writes every
    file: temporary + os.replace) before the index that names it, so an index only ever points
    at complete data of its own key; a concurrent index update may drop an entry (a later
    miss, recompiled), never corrupt one."""

    def save(self, key, data):
        name = self._data_name_pattern.replace("{number:d}",
                                               f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
        self._save_data(name, data)
        overloads = self._load_index()
        old = overloads.get(key)
        overloads[key] = name
        self._save_index(overloads)
        if old is not None and old != name:
            try:
                os.unlink(self._data_path(old))
            except OSError:
                pass


class _KernelsCache(caching.FunctionCache):
    """numba's FunctionCache with our locator and concurrency-safe files (_CacheFile), and a
    corrupt entry treated as a miss."""

    _impl_class = _KernelsCacheImpl

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = _CacheFile(cache_path=self._cache_path,
                                      filename_base=self._impl.filename_base,
                                      source_stamp=self._impl.locator.get_source_stamp())

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # truncated / foreign file: drop the index, recompile
            warnings.warn(f"jitgrad: discarding unreadable kernel cache entry for "
                          f"{self._name} ({type(exc).__name__}: {exc}); recompiling",
                          RuntimeWarning, stacklevel=2)
            try:
                os.unlink(self._cache_file._index_path)
            except OSError:
                pass
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError:  # cache dir vanished or became read-only: keep running uncached
            pass


class _SerialKernelsCache(_KernelsCache):
    _impl_class = _SerialKernelsCacheImpl


# ---------------------------------------------------------------------------- fork safety
# GNU OpenMP kills a forked child that runs a parallel region once its parent has run one
# ("fork() called from a process already using GNU OpenMP"); a multiprocessing.Pool then never
# returns. So in a child forked after numba started its 'omp' thread pool, every parallel
# kernel is replaced, in its module, by a serial twin (the same function compiled without
# parallel=True, cached separately). Callers reach kernels as module attributes (``K.name``),
# as everywhere in jitgrad, so they pick the twin up. The 'tbb' and 'workqueue' layers, a
# parent that never ran a parallel kernel and plain threads are left alone.
PARALLEL_KERNELS = []  # (python function, parallel dispatcher)
forked_serial = False  # True in a child that runs the serial twins


def _serial_twin(f):
    disp = numba.njit(parallel=False, inline="never", **OPTIONS)(f)
    if CACHE_DIR is not None:
        disp._cache = _SerialKernelsCache(f)
    return disp


def _parent_used_openmp():
    from numba.np.ufunc import parallel as _par
    if not getattr(_par, "_is_initialized", False):
        return False
    try:
        return numba.threading_layer() == "omp"
    except ValueError:
        return False


def _after_fork_in_child():
    global forked_serial
    if forked_serial or not _parent_used_openmp():
        return
    forked_serial = True
    for f, disp in PARALLEL_KERNELS:
        mod = sys.modules.get(f.__module__)
        if mod is not None and getattr(mod, f.__name__, None) is disp:
            setattr(mod, f.__name__, _serial_twin(f))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def kernel(fn=None, *, parallel=False, inline="never"):
    """Decorate a kernel: ``@kernel`` or ``@kernel(parallel=True)``; options and cache from here.
    ``inline="always"`` (scalar helpers such as kernels/_math.py) inlines the body into callers
    at numba IR level, where LLVM's size-based inliner would leave a call that blocks SIMD."""
    def wrap(f):
        disp = numba.njit(parallel=parallel, inline=inline, **OPTIONS)(f)
        # only files of this folder have stamps; a kernel defined elsewhere is not cached
        in_folder = os.path.dirname(os.path.abspath(f.__code__.co_filename)) == _HERE
        if CACHE_DIR is not None and in_folder:
            disp._cache = _KernelsCache(f)
        if parallel:
            PARALLEL_KERNELS.append((f, disp))
        return disp
    return wrap(fn) if fn is not None else wrap


def c_callback(f, signature, *, parallel=False):
    """A C-callable function (numba cfunc) of `f` with the kernels' options and cache; compiled
    or loaded when this is called, so any foreign symbols it names can be registered first."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc
    cf = CFunc(f, sigutils.normalize_signature(signature), locals={},
               options=dict(nogil=True, error_model="numpy", parallel=parallel))
    if CACHE_DIR is not None:
        cf._cache = _KernelsCache(f)
    cf.compile()
    return cf
