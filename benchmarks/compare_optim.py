"""Side by side: a jitgrad Adam step over 1M float32 parameters (1 tensor and 200 tensors)
against the memory-bound 4-read/3-write kernel (the bound for Adam) and torch.optim.Adam
(default, foreach, fused) on 1 and 200 tensors, all in one process with 2 threads; then the
same for Adadelta, RAdam, ASGD and Rprop (torch default = its per-tensor loop on CPU, and
foreach=True), and LBFGS (torch has one variant): a step of max_iter=1, history_size=10 (the
two-loop recursion over a full history) whose closure writes each parameter's gradient
p - target, the target cycling through four fixed vectors so the iterates never converge.

Run:  python benchmarks/compare_optim.py [--threads 2] [--repeats 15] [--optimizers Adam,RAdam]
Blocks of the cases are interleaved and each case's median per-step time is reported.

Two OpenMP runtimes share this process (numba's libgomp and torch's bundled copy), each with
2 threads on 2 cores: with libgomp's default spin-wait, the idle runtime's threads kept spinning
through the other side's blocks and slowed both 2-20x (measured). GOMP_SPINCOUNT=20000 (set
below unless already in the environment) lets idle threads sleep after ~tens of us.
torch's 2-thread multi-tensor rows (default / foreach over 200 tensors) also collapse whenever
another process takes a core (OpenMP barriers); --torch-only and --no-torch isolate the sides.
"""
import argparse
import math
import os
import statistics
import sys
import time

os.environ.setdefault("GOMP_SPINCOUNT", "20000")

import numpy as np

N = 1_000_000
LR = 1e-3


def _busy_other(interval=0.2):
    """Cores used by other processes over `interval` seconds (from /proc/stat), or 0 if unknown."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[0] + v[1] + v[2] + v[5] + v[6], time.perf_counter(), time.process_time()
    try:
        b0, t0, c0 = snap()
        time.sleep(interval)
        b1, t1, c1 = snap()
    except OSError:
        return 0.0
    return max(0.0, (b1 - b0) / os.sysconf("SC_CLK_TCK") - (c1 - c0)) / (t1 - t0)


def _wait_quiet(limit=0.3, patience=60.0):
    """Wait (up to `patience` s) until other processes use less than `limit` cores."""
    t0 = time.perf_counter()
    while _busy_other() > limit and time.perf_counter() - t0 < patience:
        time.sleep(0.5)


def _pattern_kernel():
    import numba
    from numba import prange

    from jitgrad.kernels._jit import OPTIONS

    @numba.njit(parallel=True, **OPTIONS)
    def adam_pattern(p, g, m, v):
        # Adam's memory traffic (read p, g, m, v; write p, m, v) with trivial math
        for i in prange(p.size):
            gi = g[i]
            m[i] += gi
            v[i] += gi
            p[i] += gi

    return adam_pattern


def _jitgrad_case(n_tensors, cls, **kw):
    import jitgrad as jg
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    grad = (rng.standard_normal(N) * 1e-2).astype(np.float32)
    ps = [jg.tensor(c, requires_grad=True) for c in np.array_split(data, n_tensors)]
    opt = cls(ps, lr=LR, **kw)
    for p, g in zip(ps, np.array_split(grad, n_tensors)):
        p._grad_store[...] = g       # what backward does: the gradient lands in the flat buffer
        p.grad = p._grad_store
    return opt.step


def _torch_case(torch, n_tensors, name="Adam", **kw):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    grad = (rng.standard_normal(N) * 1e-2).astype(np.float32)
    ps = []
    for c, g in zip(np.array_split(data, n_tensors), np.array_split(grad, n_tensors)):
        p = torch.nn.Parameter(torch.from_numpy(c.copy()))
        p.grad = torch.from_numpy(g.copy())
        ps.append(p)
    return getattr(torch.optim, name)(ps, lr=LR, **kw).step


LBFGS_KW = dict(lr=0.5, max_iter=1, history_size=10)


def _lbfgs_inputs(n_tensors):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    targets = [np.array_split(rng.standard_normal(N).astype(np.float32), n_tensors)
               for _ in range(4)]
    return np.array_split(data, n_tensors), targets


def _jitgrad_lbfgs(n_tensors):
    import jitgrad as jg
    data, targets = _lbfgs_inputs(n_tensors)
    ps = [jg.tensor(c, requires_grad=True) for c in data]
    opt = jg.optim.LBFGS(ps, **LBFGS_KW)
    calls = [0]

    def closure():
        calls[0] += 1
        for p, t in zip(ps, targets[calls[0] % 4]):
            np.subtract(p.data, t, out=p._grad_store)   # where backward writes
            p.grad = p._grad_store
        return 0.0

    for _ in range(12):   # fill the history
        opt.step(closure)
    return lambda: opt.step(closure)


def _torch_lbfgs(torch, n_tensors):
    data, targets = _lbfgs_inputs(n_tensors)
    targets = [[torch.from_numpy(t) for t in ts] for ts in targets]
    ps = [torch.nn.Parameter(torch.from_numpy(c.copy())) for c in data]
    for p in ps:
        p.grad = torch.zeros_like(p)
    opt = torch.optim.LBFGS(ps, **LBFGS_KW)
    calls = [0]

    def closure():
        calls[0] += 1
        for p, t in zip(ps, targets[calls[0] % 4]):
            torch.sub(p.detach(), t, out=p.grad)
        return 0.0

    for _ in range(12):
        opt.step(closure)
    return lambda: opt.step(closure)


NEW = ("Adadelta", "RAdam", "ASGD", "Rprop")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--block", type=float, default=0.1, help="seconds per timed block")
    ap.add_argument("--no-torch", action="store_true", help="jitgrad rows only")
    ap.add_argument("--torch-only", action="store_true",
                    help="torch rows only (no numba thread pool in the process)")
    ap.add_argument("--optimizers", default="Adam," + ",".join(NEW) + ",LBFGS",
                    help="comma-separated subset of Adam,%s,LBFGS" % ",".join(NEW))
    args = ap.parse_args()
    chosen = args.optimizers.split(",")

    import jitgrad as jg
    jg.set_num_threads(args.threads)
    try:
        if args.no_torch:
            raise ImportError
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch rows skipped (not installed or --no-torch)")

    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(N).astype(np.float32) * 1e-3 for _ in range(4)]
    pattern = _pattern_kernel()
    cases = {} if args.torch_only else {"bound: 4R/3W pattern kernel, 1M": lambda: pattern(*arrs)}
    if "Adam" in chosen:
        if not args.torch_only:
            cases.update({
                "jitgrad Adam, 1 tensor": _jitgrad_case(1, jg.optim.Adam),
                "jitgrad Adam, 200 tensors": _jitgrad_case(200, jg.optim.Adam),
                "jitgrad SGD(momentum=0.9), 200 tensors": _jitgrad_case(200, jg.optim.SGD,
                                                                        momentum=0.9)})
        if torch is not None:
            for n in (1, 200):
                cases[f"torch Adam(fused=True), {n} tensors"] = _torch_case(torch, n, fused=True)
                cases[f"torch Adam(foreach=True), {n} tensors"] = _torch_case(torch, n,
                                                                              foreach=True)
                cases[f"torch Adam() default, {n} tensors"] = _torch_case(torch, n,
                                                                          foreach=False)
    for name in (o for o in NEW if o in chosen):
        for n in (1, 200):
            if not args.torch_only:
                cases[f"jitgrad {name}, {n} tensors"] = _jitgrad_case(n, getattr(jg.optim, name))
            if torch is not None:
                cases[f"torch {name}() default, {n} tensors"] = _torch_case(torch, n, name,
                                                                            foreach=False)
                cases[f"torch {name}(foreach=True), {n} tensors"] = _torch_case(torch, n, name,
                                                                                foreach=True)
    if "LBFGS" in chosen:
        for n in (1, 200):
            if not args.torch_only:
                cases[f"jitgrad LBFGS, {n} tensors"] = _jitgrad_lbfgs(n)
            if torch is not None:
                cases[f"torch LBFGS, {n} tensors"] = _torch_lbfgs(torch, n)

    numbers = {}
    for name, fn in cases.items():   # warm up (JIT compile) and calibrate calls per block
        for _ in range(3):
            fn()
        k, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.block:
            fn()
            k += 1
        numbers[name] = max(k, 1)
    times = {name: [] for name in cases}
    for _ in range(args.repeats):    # interleave the cases block by block
        _wait_quiet()
        for name, fn in cases.items():
            k = numbers[name]
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            times[name].append((time.perf_counter() - t0) / k)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    bound = med.get("bound: 4R/3W pattern kernel, 1M", math.nan)
    print(f"threads={args.threads}, {N:,} float32 parameters, median of {args.repeats} "
          f"interleaved blocks (python {sys.version.split()[0]}, pid {os.getpid()})")
    print(f"{'case':45s} {'median ms':>10s} {'x bound':>8s}")
    for name, t in med.items():
        print(f"{name:45s} {t * 1e3:10.3f} {t / bound:8.2f}")
    if args.torch_only:
        return
    if "Adam" in chosen:
        j1, j200 = med["jitgrad Adam, 1 tensor"], med["jitgrad Adam, 200 tensors"]
        print(f"jitgrad Adam 200 tensors / 1 tensor: {j200 / j1:.2f}")
        if torch is not None:
            for n in (1, 200):
                t = med[f"torch Adam(fused=True), {n} tensors"]
                j = j1 if n == 1 else j200
                print(f"torch fused / jitgrad, {n} tensors: {t / j:.2f}")
    if torch is None:
        return
    for name in [o for o in NEW if o in chosen] + (["LBFGS"] if "LBFGS" in chosen else []):
        for n in (1, 200):
            j = med[f"jitgrad {name}, {n} tensors"]
            variants = ["LBFGS"] if name == "LBFGS" else [f"{name}() default",
                                                          f"{name}(foreach=True)"]
            print(f"{name}, {n} tensors: " + ", ".join(
                f"torch {v} / jitgrad {med[f'torch {v}, {n} tensors'] / j:.2f}"
                for v in variants))


if __name__ == "__main__":
    main()
