"""Side by side, jitgrad vs PyTorch (CPU, eager), each implementation alone in its own process:

  lenet   LeNet-style train step: conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu,
          maxpool 2, linear 400->10, mean cross-entropy, Adam(lr=1e-3); 28x28 float32 inputs,
          batch 64, 8 batches cycled (torch with Adam() default and Adam(fused=True))
  conv64  3x3 conv 64->64, padding 1, bias, on (32, 64, 32, 32) float32: forward + backward
          (gradients of input, weight and bias)

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

BATCH, NBATCH, LR = 64, 8, 1e-3
CONV64 = (32, 64, 32, 32)  # N, C, H, W; 3x3, 64 -> 64, padding 1
LENET_MACS = BATCH * (26 * 26 * 8 * 9 + 11 * 11 * 16 * 72 + 400 * 10)
CONV64_MACS = 32 * 64 * 64 * 9 * 32 * 32
FLOPS = {"lenet": 2 * LENET_MACS * 3, "conv64": 2 * CONV64_MACS * 3}

ROWS = {  # row label -> (workload, library, variant)
    "jitgrad, optim.Adam": ("lenet", "jitgrad", {}),
    "torch eager NCHW, Adam() default": ("lenet", "torch", {}),
    "torch eager NCHW, Adam(fused=True)": ("lenet", "torch", {"fused": True}),
    "jitgrad conv2d fwd+bwd": ("conv64", "jitgrad", {}),
    "torch conv2d fwd+bwd (oneDNN)": ("conv64", "torch", {}),
}


def _rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# ----------------------------------------------------------------------------- shared init
def _write_init(path):
    """jitgrad's seeded default init of both workloads, as torch-layout arrays."""
    import numpy as np
    import jitgrad as jg
    jg.manual_seed(0)
    arrays = {f"lenet.{k}": v.copy() for k, v in _jg_lenet(jg).state_dict().items()}
    conv = jg.nn.Conv2d(64, 64, 3, padding=1)
    arrays.update({f"conv64.{k}": v.copy() for k, v in conv.state_dict().items()})
    np.savez(path, **arrays)


def _jg_lenet(jg):
    nn = jg.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))


def _data():
    import numpy as np
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32) for _ in range(NBATCH)]
    ys = [rng.integers(0, 10, BATCH).astype(np.int64) for _ in range(NBATCH)]
    x64 = rng.standard_normal(CONV64).astype(np.float32)
    g64 = rng.standard_normal(CONV64).astype(np.float32)
    return xs, ys, x64, g64


# ----------------------------------------------------------------------------- children
def _jitgrad_row(workload, init, threads):
    import jitgrad as jg
    jg.set_num_threads(threads)
    xs, ys, x64, g64 = _data()
    st = {"i": 0}
    if workload == "lenet":
        model = _jg_lenet(jg)
        sd = {k[len("lenet."):]: init[k] for k in init if k.startswith("lenet.")}
        model.load_state_dict(sd)
        opt = jg.optim.Adam(model.parameters(), lr=LR)
        opt_init = opt.state_dict()
        X = [jg.from_numpy(x) for x in xs]
        Y = [jg.from_numpy(y) for y in ys]

        def step():
            i = st["i"]
            st["i"] = (i + 1) % NBATCH
            opt.zero_grad()
            loss = jg.nn.functional.cross_entropy(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss

        def reset():
            model.load_state_dict(sd)
            opt.load_state_dict(opt_init)
            st["i"] = 0

        return step, reset, lambda: float(st["loss"].item())
    conv = jg.nn.Conv2d(64, 64, 3, padding=1)
    conv.load_state_dict({"weight": init["conv64.weight"], "bias": init["conv64.bias"]})
    x = jg.from_numpy(x64).requires_grad_(True)
    g = jg.from_numpy(g64)

    def step():
        x.grad = conv.weight.grad = conv.bias.grad = None
        conv(x).backward(g)

    return step, lambda: None, lambda: float(conv.weight.grad.sum())


def _torch_row(workload, init, threads, variant):
    import torch
    torch.set_num_threads(threads)
    xs, ys, x64, g64 = _data()
    tn = torch.nn
    st = {"i": 0}
    if workload == "lenet":
        model = tn.Sequential(tn.Conv2d(1, 8, 3), tn.ReLU(), tn.MaxPool2d(2), tn.Conv2d(8, 16, 3),
                              tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(), tn.Linear(400, 10))
        sd = {k[len("lenet."):]: torch.from_numpy(init[k].copy()) for k in init
              if k.startswith("lenet.")}
        model.load_state_dict(sd)
        opt = torch.optim.Adam(model.parameters(), lr=LR, **variant)
        X = [torch.from_numpy(x) for x in xs]
        Y = [torch.from_numpy(y) for y in ys]

        def step():
            i = st["i"]
            st["i"] = (i + 1) % NBATCH
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss.detach()

        def reset():
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    v.copy_(sd[k])
            for s in opt.state.values():
                for t in s.values():
                    if torch.is_tensor(t):
                        t.zero_()
            st["i"] = 0

        return step, reset, lambda: float(st["loss"])
    conv = tn.Conv2d(64, 64, 3, padding=1)
    conv.load_state_dict({"weight": torch.from_numpy(init["conv64.weight"]),
                          "bias": torch.from_numpy(init["conv64.bias"])})
    x = torch.from_numpy(x64).requires_grad_(True)
    g = torch.from_numpy(g64)

    def step():
        x.grad = conv.weight.grad = conv.bias.grad = None
        conv(x).backward(g)

    return step, lambda: None, lambda: float(conv.weight.grad.sum())


def _child(label, init_path, threads, block):
    workload, lib, variant = ROWS[label]
    import numpy as np
    init = dict(np.load(init_path))
    if lib == "jitgrad":
        step, reset, probe = _jitgrad_row(workload, init, threads)
    else:
        step, reset, probe = _torch_row(workload, init, threads, variant)
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
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.child, args.init, args.threads, args.block)
    init_path = os.path.join(tempfile.mkdtemp(prefix="jg-cnn-"), "init.npz")
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, "
                    f"{os.path.dirname(os.path.abspath(__file__))!r}); "
                    f"import compare_cnn_workload as c; c._write_init({init_path!r})"],
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
