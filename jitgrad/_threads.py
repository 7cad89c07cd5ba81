"""One thread policy for numba's parallel kernels and for BLAS.

Both get the same count; numba parallel regions and BLAS calls run one after the other, never
nested (no kernel calls BLAS). Where it can, jitgrad runs numpy's BLAS jobs on numba's own
OpenMP threads (jitgrad/_blas_pool.py), so the two share one pool.

Wait policy. numba's 'omp' threading layer runs on GNU OpenMP, whose workers spin for a while
after a parallel region ends. Next to OpenBLAS's own threads that spinning worker takes a core
from the next step's GEMMs: the 8 GEMMs of an MLP step (784-256-128-10, batch 64) plus a
parallel Adam over its 235k parameters took 7.9 ms with spinning workers, 0.81 ms with passive
ones and 0.75 ms with a serial Adam (0.70 ms run apart). libgomp reads its wait policy once,
when it is loaded, so on import, if no OpenMP runtime is loaded yet and the user set neither
``OMP_WAIT_POLICY`` nor ``GOMP_SPINCOUNT``:
- with the shared pool available, jitgrad sets ``GOMP_SPINCOUNT`` (SHARED_POOL_SPINCOUNT): the
  workers are the GEMM threads then, and must not fall asleep between a step's GEMMs;
- else it sets ``OMP_WAIT_POLICY=PASSIVE`` (also seen by an OpenMP library imported later,
  e.g. torch), and work below a size limit runs on one numba thread (one_thread_below).
If the runtime was loaded before jitgrad (torch imported first), or the user asked for spinning
workers with ``OMP_WAIT_POLICY`` and set no ``GOMP_SPINCOUNT`` bound, numba kernels run on one
thread (BLAS keeps n on its own threads): a spinning worker costs milliseconds.
"""
import os

import numba
from numba.np.ufunc import parallel as _numba_parallel

from . import _blas_pool

# When BLAS runs on numba's pool (jitgrad/_blas_pool.py) its workers are also the GEMM threads,
# so they may spin between regions. Spin counts measured on a 512x784 @ 784x256 GEMM in a loop
# (2 cores): 10k spins 2.75 ms and 100k 1.79 ms against 1.25 ms on OpenBLAS's threads, 1M
# 1.30 ms; an idle worker then burns ~30 ms of CPU before it sleeps (OpenBLAS's: ~100 ms).
SHARED_POOL_SPINCOUNT = 1000000

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
        if _blas_pool.available() == "":
            env["GOMP_SPINCOUNT"] = str(SHARED_POOL_SPINCOUNT)
            return False, (f"GOMP_SPINCOUNT={SHARED_POOL_SPINCOUNT} (set by jitgrad: BLAS "
                           f"and kernels share numba's pool)")
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        return False, "OMP_WAIT_POLICY=PASSIVE (set by jitgrad)"
    spin = policy.strip().upper() != "PASSIVE"
    return spin, (f"OMP_WAIT_POLICY={policy} (set by the user)" +
                  ("; numba kernels run on one thread" if spin else ""))


_workers_spin, wait_policy = _choose_wait_policy()
_spin_for_pool = wait_policy.startswith(f"GOMP_SPINCOUNT={SHARED_POOL_SPINCOUNT} (set by jitgrad")


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


def one_thread_below(size, limit):
    """numba on one thread for work below `limit` elements while BLAS keeps its own spinning
    threads (no shared pool: a second numba thread would find no free core right after a GEMM);
    returns the count to hand to restore_threads (None: unchanged)."""
    if size < limit and not _blas_pool.active:
        nt = numba_threads()
        if nt > 1:
            set_numba_threads(1)
            return nt
    return None


def restore_threads(nt):
    if nt is not None:
        set_numba_threads(nt)


def _apply_env():
    global _workers_spin, wait_policy
    if not _workers_spin and "OMP_WAIT_POLICY" not in os.environ:  # a user's PASSIVE stays
        _blas_pool.install()
        if not _blas_pool.active and _spin_for_pool and numba.threading_layer() == "omp":
            # spinning workers next to OpenBLAS's own threads: the case PASSIVE exists for
            _workers_spin = True
            wait_policy += (f"; the shared pool is {_blas_pool.status}: numba kernels run on "
                            f"one thread")
    n = os.environ.get("JITGRAD_NUM_THREADS")
    if n:
        set_num_threads(int(n))
    elif _workers_spin:
        numba.set_num_threads(1)
