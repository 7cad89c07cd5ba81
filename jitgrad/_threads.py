"""One thread policy for numba's parallel kernels and for BLAS.

Both pools get the same count; numba parallel regions and BLAS calls run one after the other,
never nested (no kernel calls BLAS, and no parallel kernel runs inside a GEMM).

Wait policy. numba's 'omp' threading layer runs on GNU OpenMP, whose workers by default spin for
milliseconds after a parallel region ends. Here that spinning worker takes a core from the next
step's BLAS GEMMs: the 8 GEMMs of an MLP step (784-256-128-10, batch 64) plus a parallel Adam
over its 235k parameters took 7.9 ms with spinning workers, 0.81 ms with passive ones and
0.75 ms with a serial Adam (0.70 ms run apart). libgomp reads its wait policy once, when it is loaded, so:
- on import, if no OpenMP runtime is loaded yet and the user set neither ``OMP_WAIT_POLICY`` nor
  ``GOMP_SPINCOUNT``, jitgrad sets ``OMP_WAIT_POLICY=PASSIVE`` (also seen by an OpenMP library
  imported later, e.g. torch);
- if the runtime was loaded before jitgrad (torch imported first), or the user asked for
  spinning workers with ``OMP_WAIT_POLICY`` and set no ``GOMP_SPINCOUNT`` bound, numba kernels
  run on one thread (BLAS keeps n): two threads gain ~70 us on that Adam step, and a spinning
  worker costs milliseconds.
"""
import os

import numba
from numba.np.ufunc import parallel as _numba_parallel

_blas_limit = None
_requested = None


def _openmp_loaded():
    """True when a GNU/LLVM OpenMP runtime is already mapped into this process (Linux only)."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return False
    return "libgomp" in maps or "libomp" in maps or "libiomp" in maps


def _choose_wait_policy():
    """Make OpenMP workers wait passively when we still can; return (True if they will spin,
    a sentence saying what was chosen and why, for show_config)."""
    env = os.environ
    if "GOMP_SPINCOUNT" in env:  # the user bounded the spinning themselves
        return False, f"GOMP_SPINCOUNT={env['GOMP_SPINCOUNT']} (set by the user; kept)"
    policy = env.get("OMP_WAIT_POLICY")
    if policy is None:
        if _openmp_loaded():
            return True, ("unset, OpenMP was loaded before jitgrad (spinning workers): numba "
                          "kernels run on one thread")
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        return False, "OMP_WAIT_POLICY=PASSIVE (set by jitgrad)"
    spin = policy.strip().upper() != "PASSIVE"
    return spin, (f"OMP_WAIT_POLICY={policy} (set by the user)" +
                  ("; numba kernels run on one thread" if spin else ""))


_workers_spin, wait_policy = _choose_wait_policy()


def set_num_threads(n):
    """Use `n` threads in BLAS (numpy's matmul) and in numba kernels.

    numba kernels stay on one thread when OpenMP workers spin (see this module's docstring).
    """
    global _blas_limit, _requested
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    numba.set_num_threads(1 if _workers_spin else min(n, numba.config.NUMBA_NUM_THREADS))
    from threadpoolctl import threadpool_limits
    _blas_limit = threadpool_limits(limits=n, user_api="blas")
    _requested = n


def get_num_threads():
    """The count last given to set_num_threads (BLAS threads), else numba's default."""
    return _requested or numba.config.NUMBA_NUM_THREADS


def numba_threads():
    """The calling thread's numba thread count: numba.get_num_threads() without its per-call
    pool check (2 us -> 0.3 us; a recurrent cell step asks twice). The first call launches
    the pool, as numba's does."""
    get = getattr(_numba_parallel, "_get_num_threads", None)
    return get() if get is not None else numba.get_num_threads()


def set_numba_threads(n):
    """numba.set_num_threads(n) for 1 <= n <= NUMBA_NUM_THREADS, without its checks (call
    numba_threads first: it launches the pool)."""
    _numba_parallel._set_num_threads(n)


def _apply_env():
    n = os.environ.get("JITGRAD_NUM_THREADS")
    if n:
        set_num_threads(int(n))
    elif _workers_spin:
        numba.set_num_threads(1)
