"""One thread policy for numba's parallel kernels and for BLAS.

Both pools get the same count; numba parallel regions and BLAS calls run one after the other,
never nested (no kernel calls BLAS, and no parallel kernel runs inside a GEMM).
"""
import os

import numba

_blas_limit = None


def set_num_threads(n):
    """Use `n` threads in numba kernels and in BLAS (numpy's matmul)."""
    global _blas_limit
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    from threadpoolctl import threadpool_limits
    _blas_limit = threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    return numba.get_num_threads()


def _apply_env():
    n = os.environ.get("JITGRAD_NUM_THREADS")
    if n:
        set_num_threads(int(n))
