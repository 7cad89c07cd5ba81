"""Side by side: jitgrad against PyTorch (CPU, eager) and JAX (jit) on whole training steps.

Run:  python benchmarks/compare.py [--threads N] [--quick] [--workload mlp] [--no-cold]

Every workload builds each implementation from the same initial weights (jitgrad's, copied into
the others) and the same data (several batches, cycled). Timing: each implementation is warmed up
(JIT compiles, allocator, oneDNN/XLA autotuning), then timed in blocks of back-to-back steps; the
blocks of all implementations are interleaved round by round, weights and optimizer state are reset
(untimed) before every block so the workload cannot drift into denormals, and a round during which
other processes used more than --reject-load cores is dropped and redone (up to a limit; the count
is printed). Reported: the median per-step time over the kept rounds, min and max, and ratios.
PyTorch and JAX rows are skipped cleanly when the library is not installed.

Threads: jitgrad.set_num_threads(N) and torch.set_num_threads(N) get the same N; OMP/BLAS/numba
environment variables are set to N before anything is imported (XLA is limited to one thread when
N is 1). torch and jax are imported before jitgrad starts numba's OpenMP pool (the other order
made torch's eager steps 5-50x slower here). numba's 'omp' layer and torch share one GNU OpenMP
runtime in this process, so its wait policy is shared. By default torch loads it first with
spinning workers, and jitgrad then keeps its numba kernels on one thread (a spinning numba worker
slowed the next BLAS call ~10x, see jitgrad/threads.py); --omp-passive makes every worker wait
passively, so jitgrad's parallel kernels use all threads, but it slows torch's many small
parallel ops. Compare both runs.

Layout: benchmarks/sidebyside/harness.py (timing, report, cold start) plus one file per
workload (mlp.py, ...): a new workload subclasses Workload, registers with @register and is
listed in sidebyside/__init__.py.
"""
import os
import sys


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.sidebyside.harness import main
    main(doc=__doc__)
