"""Side by side: jitgrad against PyTorch (CPU, eager) and JAX (jit) on whole training steps.

Run:  python benchmarks/compare.py [--threads N] [--quick] [--workload mlp] [--no-cold]
                                   [--mode solo|inprocess] [--rounds R]

Every workload builds each implementation from the same initial weights (jitgrad's, copied into
the others) and the same data (several batches, cycled). Each implementation is warmed up (JIT
compiles, allocator, oneDNN/XLA autotuning), then timed in blocks of back-to-back steps, weights
and optimizer state reset (untimed) before every block so the workload cannot drift into
denormals. Reported: the median per-step time, min and max, and ratios with plain-words goals.
PyTorch and JAX rows are skipped cleanly when the library is not installed.

Modes. solo (the default): each implementation runs alone in its own fresh process (3 blocks),
the processes alternate over --rounds rounds (the order rotating), and the medians are taken
over all blocks: two OpenMP runtimes in one process on 2 cores slow both sides (torch's MLP
batch-512 step measured 4.3-4.8 ms alone against 6.7 ms with jitgrad loaded beside it), so only
solo ratios are fair. inprocess: everything in this one process, blocks interleaved round by
round, a round during which other processes used more than --reject-load cores dropped and
redone; the notes below on thread pools apply to it.

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
