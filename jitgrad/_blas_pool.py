"""One thread pool for numpy's BLAS and jitgrad's parallel kernels.

numpy's OpenBLAS keeps its own pthreads, which busy-wait for ~0.1 s after every threaded call
(a nop loop that never yields). In a training step that is all the time: after each GEMM the
second core stayed taken through the kernels that followed, so a parallel kernel there got no
second thread (Adam over 262k parameters right after a GEMM: 316 us on one thread, 344 us on
two). OpenBLAS 0.3.27+ accepts a threads callback; ``install`` gives it kernels/blas_jobs.py's,
which runs BLAS's jobs on numba's OpenMP threads, so GEMMs and kernels take turns on the same
threads (the same Adam pass: 124 us on one thread, 79 us on two). Small GEMMs got faster too:
the LSTM's 64 recurrent 32x128 @ 128x512 products took 2.6 ms on the pool against 4.5 ms on
OpenBLAS's threads (3.9 ms on one thread). BLAS calls from several Python threads take turns
(the callback's mutex, kernels/blas_jobs.py). The pool's idle workers spin ~30 ms before they sleep
(jitgrad/_threads.py), as OpenBLAS's own do for 0.1 s.

Installed on import when it is safe: numba's threading layer is 'omp', OpenMP was not loaded
before jitgrad, the user set no OMP_WAIT_POLICY (their PASSIVE or ACTIVE stays as it was),
OMP_DYNAMIC / OMP_THREAD_LIMIT (which could give a region fewer threads than it has jobs) are
unset, numpy's BLAS is an OpenBLAS exporting the callback, the C library is glibc (the
callback's mutex is a zero-filled pthread_mutex_t) and ``JITGRAD_BLAS_POOL`` is not ``0``. A
forked child goes back to OpenBLAS's own threads (GNU OpenMP cannot run a region there;
OpenBLAS re-creates its threads itself).
"""
import ctypes
import os

from ._malloc import glibc

_SETTERS = ("scipy_openblas_set_threads_callback_function64_",
            "scipy_openblas_set_threads_callback_function",
            "openblas_set_threads_callback_function64_",
            "openblas_set_threads_callback_function")

# room for a pthread_mutex_t (40 bytes on x86_64 / aarch64 glibc); all zeros is
# PTHREAD_MUTEX_INITIALIZER on glibc
_MUTEX_BYTES = 64

active = False     # True while numpy's BLAS jobs run on numba's pool
status = "off: not installed yet"
_found = None      # (ctypes library, setter name) or (None, why not)
_setter = None
_callback = None
_cells = {}


def _mapped_openblas():
    """Paths of the OpenBLAS libraries mapped into this process, numpy's first (Linux)."""
    import numpy as np
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line}
    except OSError:
        return []
    numpy_dir = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    return sorted(paths, key=lambda p: not p.startswith(numpy_dir))


def _numpy_openblas():
    """(ctypes handle, setter name) of the OpenBLAS numpy uses, or (None, why not)."""
    global _found
    if _found is None:
        _found = None, "numpy's BLAS is not an OpenBLAS found in /proc/self/maps"
        for path in _mapped_openblas()[:1]:
            lib = ctypes.CDLL(path)
            name = next((n for n in _SETTERS if hasattr(lib, n)), None)
            _found = ((lib, name) if name and hasattr(lib, "exec_blas") else
                      (None, f"{os.path.basename(path)} has no threads callback (0.3.27+)"))
    return _found


def available():
    """'' when install() can work, else why not (checked without loading OpenMP)."""
    env = os.environ
    if env.get("JITGRAD_BLAS_POOL", "").strip() == "0":
        return "JITGRAD_BLAS_POOL=0"
    for v in ("OMP_DYNAMIC", "OMP_THREAD_LIMIT"):
        if v in env:
            return f"{v} is set"
    if not glibc():
        return "the C library is not glibc"
    lib, why = _numpy_openblas()
    return "" if lib is not None else why


def install():
    """Run numpy's BLAS jobs on numba's pool from now on; returns the status line."""
    global active, status, _setter, _callback
    why = available()
    if why:
        status = f"off: {why}"
        return status
    import numba
    from llvmlite import binding as ll

    from ._threads import numba_threads
    numba_threads()  # starts numba's pool, which registers the threading layer's symbols
    if numba.threading_layer() != "omp":
        status = f"off: numba threading layer {numba.threading_layer()!r} (needs 'omp')"
        return status
    lib, name = _numpy_openblas()
    _setter = getattr(lib, name)
    _setter.argtypes, _setter.restype = [ctypes.c_void_p], None
    gomp = ctypes.CDLL("libgomp.so.1")  # the runtime numba's pool runs on (loaded by now)
    libc = ctypes.CDLL(None)
    for cell in ("jitgrad_blas_pool_size", "jitgrad_blas_callback", "jitgrad_blas_mutex"):
        _cells[cell] = ctypes.c_int64(0)
        ll.add_symbol(cell, ctypes.addressof(_cells[cell]))
    _cells["jitgrad_blas_pool_size"].value = numba.config.NUMBA_NUM_THREADS
    _cells["mutex"] = ctypes.create_string_buffer(_MUTEX_BYTES)  # zeros: an unlocked mutex
    _cells["jitgrad_blas_mutex"].value = ctypes.addressof(_cells["mutex"])
    for sym, fn in (("jitgrad_openblas_exec_blas", lib.exec_blas),
                    ("jitgrad_openblas_set_threads_callback", _setter),
                    ("jitgrad_omp_in_parallel", gomp.omp_in_parallel),
                    ("jitgrad_mutex_lock", libc.pthread_mutex_lock),
                    ("jitgrad_mutex_unlock", libc.pthread_mutex_unlock)):
        ll.add_symbol(sym, ctypes.cast(fn, ctypes.c_void_p).value)
    try:
        from .kernels import blas_jobs
        from .kernels._jit import c_callback
        _callback = c_callback(blas_jobs.run_jobs, blas_jobs.SIGNATURE, parallel=True)
    except Exception as e:  # noqa: BLE001 (a numba/llvmlite that cannot build it: stay off)
        import warnings
        status = f"off: the threads callback did not compile ({type(e).__name__}: {e})"
        warnings.warn(f"jitgrad: BLAS keeps its own threads; {status}", RuntimeWarning)
        return status
    _cells["jitgrad_blas_callback"].value = _callback.address
    _setter(_callback.address)
    active = True
    status = "on: numpy's OpenBLAS runs its jobs on numba's OpenMP threads"
    return status


def installed():
    """True while OpenBLAS's threads callback is jitgrad's (read from OpenBLAS itself)."""
    lib = _found[0] if _found else None
    if lib is None or _callback is None:
        return False
    try:
        return ctypes.c_void_p.in_dll(lib, "openblas_threads_callback_").value == \
            _callback.address
    except ValueError:  # the variable is not exported under that name
        return active


def _off(why):
    global active, status
    if _setter is not None:
        _setter(None)
    active = False
    status = f"off: {why}"


def uninstall():
    """Back to OpenBLAS's own threads."""
    _off("uninstalled")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: active and _off(
        "forked child (OpenBLAS's own threads)"))
