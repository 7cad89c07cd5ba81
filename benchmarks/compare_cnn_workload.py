"""Side by side, jitgrad vs PyTorch (CPU, eager), each implementation alone in its own process:

  lenet   LeNet-style train step: conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu,
          maxpool 2, linear 400->10, mean cross-entropy, Adam(lr=1e-3); 28x28 float32 inputs,
          batch 64, 8 batches cycled (torch with Adam() default and Adam(fused=True))
  conv64  3x3 conv 64->64, padding 1, bias, on (32, 64, 32, 32) float32: forward + backward
          (gradients of input, weight and bias)

The rows are built by benchmarks/sidebyside/cnn.py (the "cnn" workload of compare.py); this
script adds one process per row and memory numbers.

Run:  python benchmarks/compare_cnn_workload.py [--threads 2] [--rounds 9] [--block 0.2]
      [--workload lenet] [--no-torch]

Method: the driver (which imports neither library) starts one child process per row; a child
sets the thread variables, imports only its library, builds the workload from the same initial
weights (jitgrad's seeded default init, written once by a helper process) and the same data,
warms up, and then runs one timed block of back-to-back steps per request. The driver asks
every child for one block per round, in rotating order, and reports the median per-step time
over the rounds (plus min and max): the rows are interleaved block by block, so load from other
processes hits all of them alike. Weights and optimizer state are reset (untimed) before every
block. Memory: each child reports its resident-set high-water mark (VmHWM) and how far it rose
above the resident size it had just before the first step (the steps' working memory plus
whatever the first step loads: caches, kernels);
jitgrad rows also report tracemalloc's peak of one step (NumPy buffers). The thread count goes
to OMP/BLAS/NUMBA variables before import and to torch.set_num_threads / jg.set_num_threads;
each library keeps its own OpenMP wait policy (jitgrad sets passive waiting on import).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.sidebyside import cnn as W  # noqa: E402  (imports neither library)

ROWS = {  # row label -> (workload, library, torch Adam keywords)
    "jitgrad, optim.Adam": ("lenet", "jitgrad", {}),
    "torch eager NCHW, Adam() default": ("lenet", "torch", {}),
    "torch eager NCHW, Adam(fused=True)": ("lenet", "torch", {"fused": True}),
    "jitgrad conv2d fwd+bwd": ("conv64", "jitgrad", {}),
    "torch conv2d fwd+bwd (oneDNN)": ("conv64", "torch", {}),
}
FLOPS = W.FLOPS


def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _write_init(path):
    import numpy as np
    np.savez(path, **W.init_arrays())


# ----------------------------------------------------------------------------- children
def _child(label, init_path, threads, block):
    workload, lib, variant = ROWS[label]
    import numpy as np
    init = dict(np.load(init_path))
    if lib == "jitgrad":
        im = W.jitgrad_impl(workload, init, threads)
    else:
        im = W.torch_impl(workload, init, threads, **variant)
    step, reset, probe = im.step, im.reset, im.loss_of
    rss0 = _rss_kb("VmRSS")
    reset()
    step()
    first = probe()
    peak_py = None
    if lib == "jitgrad":
        import tracemalloc
        tracemalloc.start()
        step()
        peak_py = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 1.0 or n < 5:  # warm-up, and calibrate the block size
        step()
        n += 1
    number = max(1, int(block * n / (time.perf_counter() - t0)))
    print(json.dumps({"ready": True, "number": number, "first": first}), flush=True)
    for line in sys.stdin:
        if line.strip() != "block":
            break
        reset()
        t = time.perf_counter()
        for _ in range(number):
            step()
        dt = (time.perf_counter() - t) / number
        print(json.dumps({"t": dt, "hwm_kb": _rss_kb("VmHWM"), "rss0_kb": rss0,
                          "tracemalloc_peak": peak_py}), flush=True)


# ----------------------------------------------------------------------------- driver
def _spawn(label, init_path, args):
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[v] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", label, "--init", init_path,
           "--threads", str(args.threads), "--block", str(args.block)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env=env)
    return p


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--block", type=float, default=0.2, help="seconds per timed block")
    ap.add_argument("--workload", action="append", choices=["lenet", "conv64"])
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--init")
    ap.add_argument("--write-init")
    args = ap.parse_args(argv)
    if args.write_init:
        return _write_init(args.write_init)
    if args.child:
        return _child(args.child, args.init, args.threads, args.block)
    init_path = os.path.join(tempfile.mkdtemp(prefix="jg-cnn-"), "init.npz")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--write-init", init_path],
                   check=True)
    labels = [lab for lab, (w, lib, _) in ROWS.items()
              if (not args.workload or w in args.workload)
              and not (args.no_torch and lib == "torch")]
    procs = {}
    for lab in labels:  # start one at a time so warm-ups (and JIT compiles) do not overlap
        procs[lab] = _spawn(lab, init_path, args)
        ready = json.loads(procs[lab].stdout.readline())
        procs[lab].first = ready["first"]
    times = {lab: [] for lab in labels}
    last = {}
    for r in range(args.rounds):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        for lab in order:
            procs[lab].stdin.write("block\n")
            procs[lab].stdin.flush()
            res = json.loads(procs[lab].stdout.readline())
            times[lab].append(res["t"])
            last[lab] = res
            time.sleep(0.05)  # let spinning OpenMP workers of the last row go to sleep
    for p in procs.values():
        p.stdin.close()
        p.wait()
    print(f"threads={args.threads}, {args.rounds} interleaved rounds, one process per row "
          f"(machine shared: read the ratios)")
    med = {}
    for w in ("lenet", "conv64"):
        rows = [lab for lab in labels if ROWS[lab][0] == w]
        if not rows:
            continue
        title = ("LeNet-style train step, batch 64, 1x28x28" if w == "lenet" else
                 "3x3 conv 64->64 pad 1, (32, 64, 32, 32), forward + backward")
        print(f"\n{title} (float32)")
        print(f"{'row':<38} {'median':>9} {'min':>9} {'max':>9} {'GFLOP/s':>8} "
              f"{'VmHWM':>8} {'step +RSS':>9} {'np peak':>8} {'check':>10}")
        for lab in rows:
            ts = times[lab]
            med[lab] = m = statistics.median(ts)
            res = last[lab]
            npk = res["tracemalloc_peak"]
            print(f"{lab:<38} {m * 1e3:8.2f}ms {min(ts) * 1e3:8.2f}ms {max(ts) * 1e3:8.2f}ms "
                  f"{FLOPS[w] / m / 1e9:8.1f} {res['hwm_kb'] / 1024:7.0f}M "
                  f"{(res['hwm_kb'] - res['rss0_kb']) / 1024:8.1f}M "
                  f"{'' if npk is None else f'{npk / 2**20:7.1f}M':>8} {procs[lab].first:10.5g}")
    pairs = [("LeNet step: jitgrad / torch Adam() default", "jitgrad, optim.Adam",
              "torch eager NCHW, Adam() default", "goal <= 1.0"),
             ("LeNet step: jitgrad / torch Adam(fused=True)", "jitgrad, optim.Adam",
              "torch eager NCHW, Adam(fused=True)", ""),
             ("conv 64->64 fwd+bwd: jitgrad / torch", "jitgrad conv2d fwd+bwd",
              "torch conv2d fwd+bwd (oneDNN)", "goal <= 2.0")]
    print(f"\n{'ratio':<48} {'medians':>7} {'minima':>7}")
    for text, a, b, goal in pairs:
        if a in med and b in med:
            print(f"{text:<48} {med[a] / med[b]:7.2f} {min(times[a]) / min(times[b]):7.2f}"
                  f"  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
