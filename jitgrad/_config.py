"""jitgrad.show_config(): what this process runs on, for bug reports and for checking a setup."""
import os
import platform
import sys

import numba
import numpy as np


def _threading_layer():
    """The numba threading layer in use; starts numba's pool if no parallel kernel has yet."""
    from numba.np.ufunc import parallel
    try:
        parallel._launch_threads()
        return numba.threading_layer()
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is a diagnostic
        return f"unavailable ({type(exc).__name__}: {exc})"


def _cache_state(directory):
    if directory is None:
        why = ("disabled by JITGRAD_DISABLE_CACHE" if os.environ.get("JITGRAD_DISABLE_CACHE",
                                                                      "") not in ("", "0")
               else "off: no writable directory")
        return "none", why
    entries = size = 0
    for root, _, files in os.walk(directory):
        for f in files:
            entries += f.endswith(".nbi")
            try:
                size += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    src = "JITGRAD_CACHE_DIR" if os.environ.get("JITGRAD_CACHE_DIR") else "default location"
    return directory, f"on ({src}); {entries} kernel index files, {size / 2**20:.1f} MiB"


def _usable_cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"


def show_config(file=None):
    """Print (to `file`, default stdout) and return versions, thread counts, the numba
    threading layer in use, the OpenMP wait policy jitgrad chose, fork handling, and the kernel
    cache directory and state."""
    import jitgrad
    from threadpoolctl import threadpool_info
    from . import _blas_pool, _malloc, _threads
    from .autograd import anomaly
    from .kernels import _jit
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    cache_dir, cache_state = _cache_state(_jit.CACHE_DIR)
    rows = [
        ("jitgrad", jitgrad.__version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("numpy", np.__version__),
        ("numba", numba.__version__),
        ("llvmlite", __import__("llvmlite").__version__),
        ("CPUs", f"{os.cpu_count()} (usable: {_usable_cpus()})"),
        ("threads", f"jitgrad {jitgrad.get_num_threads()}, numba kernels "
                    f"{numba.get_num_threads()} (max {numba.config.NUMBA_NUM_THREADS})"),
        ("BLAS", "; ".join(blas) or "not found by threadpoolctl"),
        ("numba threading layer", f"{_threading_layer()} (requested: "
                                  f"{numba.config.THREADING_LAYER})"),
        ("BLAS thread pool", _blas_pool.status),
        ("OpenMP wait policy", _threads.wait_policy),
        ("malloc", _malloc.status),
        ("fork", "serial kernel twins in this forked child" if _jit.forked_serial else
         "a child forked after an 'omp' parallel kernel runs serial twins"),
        ("kernel cache", f"{cache_dir}: {cache_state}"),
        ("anomaly mode", "on" if anomaly.enabled else "off"),
    ]
    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    print(text, file=file if file is not None else sys.stdout)
    return text
