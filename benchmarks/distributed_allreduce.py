"""Time one gradient Allreduce (in place, float32, one message per flat buffer) for the MLP
and LSTM models' gradient sizes. Not an asv benchmark (asv runs one process): launch with

    mpirun -n 2 python benchmarks/distributed_allreduce.py

Prints, on rank 0, the median over 300 calls (after 20 warm-up calls) per size."""
import time

import numpy as np


def main():
    import jitgrad.distributed as dist
    from mpi4py import MPI
    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    sizes = {"MLP 784-256-128-10 (235,146 params)": 784 * 256 + 256 + 256 * 128 + 128
             + 128 * 10 + 10,
             "LSTM(32->128) + Linear(128->1) (82,561 params)": 4 * 128 * (32 + 128) + 8 * 128
             + 128 + 1,
             "1M params": 1_000_000, "10M params": 10_000_000}
    for label, n in sizes.items():
        buf = np.ones(n, np.float32)
        for _ in range(20):
            comm.Allreduce(MPI.IN_PLACE, buf)
        ts = []
        for _ in range(300 if n < 5_000_000 else 30):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf)
            ts.append(time.perf_counter() - t0)
        if dist.get_rank() == 0:
            med = float(np.median(ts))
            print(f"{label:48s} {med * 1e6:9.1f} us  ({4 * n / med / 1e9:5.2f} GB/s of buffer)")


if __name__ == "__main__":
    main()
