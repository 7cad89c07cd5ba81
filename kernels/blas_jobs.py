"""The threads callback that runs numpy's OpenBLAS jobs on numba's OpenMP threads.

OpenBLAS (0.3.27 and newer) can hand the jobs of a threaded call to a callback instead of its
own pthreads: ``run_jobs(sync, dojob, numjobs, elsize, jobdata, dojob_data)`` must run
``dojob(i, jobdata + i * elsize, dojob_data)`` for every job i and return when all are done.
Its own pthreads busy-wait (a nop loop, no yield) for ~0.1 s after every call, so after each GEMM
they held the second core through the kernels that followed and a parallel kernel got no second
thread. On the callback, BLAS and the kernels share one pool (jitgrad/_blas_pool.py installs it).

The jobs of one call must run at the same time: OpenBLAS's threaded GEMM passes packed panels
from job to job and spins until they arrive, so two jobs on one thread never finish. So each job
gets its own thread (static schedule, the calling thread's numba count raised to numjobs for the
call); a call with more jobs than the pool has threads (BLAS threads raised above
NUMBA_NUM_THREADS), or made inside a parallel region (whose nested region would get one
thread), goes to OpenBLAS's own threads instead: the callback is switched off around a plain
``exec_blas`` call and back on after it.

One call at a time: the jobs of a call use OpenBLAS's per-thread slots (``thread_status[i]``,
``blas_thread_buffer[i]``, i the job's thread index), which its own pthreads keep for
themselves, so two calls from two Python threads at once would share slot i. A pthread mutex
makes the second caller sleep until the first call's jobs are done (two threads training
LSTMs at once otherwise got different weights, 3e-5 off). A call with more jobs than the pool
has threads, or one made inside a parallel region, still switches the callback off for its
span, and a plain call made by another thread in that span runs on OpenBLAS's pthreads; such a
call overlapping a later pooled one could share a slot, so keep BLAS threads at most numba's
(jitgrad.set_num_threads does) when several Python threads run BLAS at once.

The foreign functions are named symbols that jitgrad/_blas_pool.py registers with llvmlite
before this file's code is compiled or loaded from the cache (machine code holds no
addresses, so the cache stays valid across processes):
- numba's threading layer: ``get_num_threads``, ``set_num_threads``, ``get_parallel_chunksize``
  and ``set_parallel_chunksize`` (registered by numba when its pool starts);
- ``jitgrad_openblas_exec_blas``, ``jitgrad_openblas_set_threads_callback``,
  ``jitgrad_omp_in_parallel``, ``jitgrad_mutex_lock`` / ``jitgrad_mutex_unlock`` (libc's
  pthread_mutex_lock / unlock), and the int64 cells ``jitgrad_blas_mutex`` (the mutex's
  address), ``jitgrad_blas_pool_size`` (threads in numba's pool) and ``jitgrad_blas_callback``
  (this callback's own address).
"""
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

_get_num_threads = types.ExternalFunction("get_num_threads", types.intp())
_set_num_threads = types.ExternalFunction("set_num_threads", types.void(types.intp))
_set_chunksize = types.ExternalFunction("set_parallel_chunksize", types.uintp(types.uintp))
_exec_blas = types.ExternalFunction("jitgrad_openblas_exec_blas",
                                    types.intc(types.intp, types.intp))
_set_callback = types.ExternalFunction("jitgrad_openblas_set_threads_callback",
                                       types.void(types.intp))
_omp_in_parallel = types.ExternalFunction("jitgrad_omp_in_parallel", types.intc())
_lock = types.ExternalFunction("jitgrad_mutex_lock", types.intc(types.intp))
_unlock = types.ExternalFunction("jitgrad_mutex_unlock", types.intc(types.intp))

SIGNATURE = types.void(types.intc, types.intp, types.intc, types.uintp, types.intp, types.intc)


def _cell(name):
    """An intrinsic reading the int64 cell exported under `name`."""
    @intrinsic
    def read(typingctx):
        def codegen(context, builder, sig, args):
            gv = cgutils.add_global_variable(builder.module, ir.IntType(64), name)
            gv.linkage = "external"
            return builder.load(gv)
        return types.int64(), codegen
    return read


_pool_size = _cell("jitgrad_blas_pool_size")
_own_address = _cell("jitgrad_blas_callback")
_mutex = _cell("jitgrad_blas_mutex")


@intrinsic
def _dojob(typingctx, fn, thread, job, data):
    """Call OpenBLAS's void dojob(int thread, void *job, int data) at address fn."""
    def codegen(context, builder, sig, args):
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(32), i8p, ir.IntType(32)])
        f = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(f, [builder.trunc(args[1], ir.IntType(32)), builder.inttoptr(args[2], i8p),
                         builder.trunc(args[3], ir.IntType(32))])
        return context.get_dummy_value()
    return types.void(types.intp, types.intp, types.intp, types.intp), codegen


def run_jobs(sync, dojob, numjobs, elsize, jobdata, dojob_data):
    """OpenBLAS's threads callback (openblas_threads_callback in its common_thread.h); compiled
    as a parallel cfunc by jitgrad/_blas_pool.py (kernels/_jit.py c_callback)."""
    # early returns, not if/elif/else: with the prange in an else branch (numba 0.68) the
    # compiled cfunc crashed on the first GEMM
    n = np.intp(numjobs)
    mutex = _mutex()
    _lock(mutex)
    if n <= 1:
        if n == 1:
            _dojob(dojob, 0, jobdata, dojob_data)
        _unlock(mutex)
        return
    if n > _pool_size() or _omp_in_parallel() != 0:
        _set_callback(0)
        _exec_blas(n, jobdata)
        _set_callback(_own_address())
        _unlock(mutex)
        return
    before = _get_num_threads()
    if before < n:
        _set_num_threads(n)
    chunk = _set_chunksize(0)   # static schedule: job i on thread i
    step = np.intp(elsize)
    for i in prange(n):
        _dojob(dojob, i, jobdata + i * step, dojob_data)
    _set_chunksize(chunk)
    if before < n:
        _set_num_threads(before)
    _unlock(mutex)
