"""Side by side: recurrent training steps, jitgrad vs PyTorch CPU, each library in its own process.

Run:  python benchmarks/compare_recurrent_workload.py [--threads 2] [--rounds 9] [--block 0.3]
      [--only lstm,lstm_cell,gru,gru_cell] [--profile]

Workloads (float32, input 32, hidden 128, T=64, batch 32, MSE of the last h against a fixed
target, default Adam() on both sides, same initial weights and the same 4 input sequences cycled):
  lstm       nn.LSTM module step            lstm_cell  a Python loop over nn.LSTMCell
  gru        nn.GRU module step             gru_cell   a Python loop over nn.GRUCell
Two worker processes (one per library, threads set before import) wait on a pipe; the parent
asks them for timed blocks in turn, round by round (interleaved), after an untimed reset of
weights and Adam state before every block. Reported: the median per-step time over rounds, the
min-max spread and the jitgrad/torch ratio. A round during which other processes used more than
--reject-load cores (from /proc/stat) is redone, up to 2x the rounds.
--profile (jitgrad only): the step's time split into GEMM (numpy.matmul) and everything else,
and the GEMM floor (the same GEMMs timed bare).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside.recurrent import B, H, I, T, _jitgrad_impl, _torch_impl  # noqa: E402

WORKLOADS = ["lstm", "lstm_cell", "gru", "gru_cell"]


# ----------------------------------------------------------------------------- worker
def worker(lib, threads, names):
    if lib == "torch":
        import torch
        torch.set_num_threads(threads)
        make = _torch_impl
    else:
        import jitgrad as jg
        jg.set_num_threads(threads)
        make = _jitgrad_impl
    impls = {}
    for n in names:
        t0 = time.perf_counter()
        im = make(n)
        impls[n] = (im.step, im.reset, im.loss_of)
        step, reset, loss = impls[n]
        reset()
        step()
        first = time.perf_counter() - t0
        l1 = loss()
        for _ in range(3):
            step()
        _reply({"name": n, "first_step_s": first, "loss1": l1})
    for line in sys.stdin:
        cmd = json.loads(line)
        step, reset, _ = impls[cmd["name"]]
        reset()
        number = cmd["number"]
        c0 = os.times()
        t0 = time.perf_counter()
        for _ in range(number):
            step()
        dt = time.perf_counter() - t0
        c1 = os.times()
        _reply({"per_step": dt / number, "wall": dt,
                "cpu": (c1.user - c0.user) + (c1.system - c0.system)})


def _reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- parent
_HZ = os.sysconf("SC_CLK_TCK")


def _busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / _HZ


class Worker:
    def __init__(self, lib, threads, names):
        env = dict(os.environ)
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "NUMBA_NUM_THREADS"):
            env[v] = str(threads)
        self.p = subprocess.Popen([sys.executable, __file__, "--worker", lib, "--threads",
                                   str(threads), "--only", ",".join(names)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                  text=True)
        self.info = {}
        for _ in names:
            r = json.loads(self.p.stdout.readline())
            self.info[r["name"]] = r

    def block(self, name, number):
        b0 = _busy()
        self.p.stdin.write(json.dumps({"name": name, "number": number}) + "\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        r["foreign"] = max(0.0, (_busy() - b0 - r["cpu"]) / r["wall"])
        return r

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def _calibrate(w, name, block):
    n = 1
    while True:
        r = w.block(name, n)
        if r["wall"] >= block or n >= 1000:
            return n
        n = max(n + 1, int(n * block / max(r["wall"], 1e-6) * 1.1))


def compare(args):
    names = args.only
    workers = {lib: Worker(lib, args.threads, names) for lib in ("jitgrad", "torch")}
    print(f"# threads={args.threads} rounds={args.rounds} block>={args.block}s; "
          f"I={I} H={H} T={T} B={B} float32, default Adam() both sides")
    rows = []
    for name in names:
        num = {lib: _calibrate(w, name, args.block) for lib, w in workers.items()}
        per = {lib: [] for lib in workers}
        fl = []
        redo = 0
        while len(per["jitgrad"]) < args.rounds:
            got = {lib: w.block(name, num[lib]) for lib, w in workers.items()}
            load = max(g["foreign"] for g in got.values())
            if load > args.reject_load and redo < 2 * args.rounds:
                redo += 1
                time.sleep(1.0)
                continue
            fl.append(load)
            for lib in workers:
                per[lib].append(got[lib]["per_step"])
        med = {lib: statistics.median(v) for lib, v in per.items()}
        ratios = [a / b for a, b in zip(per["jitgrad"], per["torch"])]
        rows.append((name, med, per, statistics.median(ratios), statistics.mean(fl), redo,
                     {lib: workers[lib].info[name] for lib in workers}))
    for w in workers.values():
        w.close()
    print("| workload | jitgrad | torch | ratio jg/torch (median of per-round ratios) | "
          "spread jg / torch | foreign load (redone) | loss@1 jg / torch | first step jg |")
    print("|---|---|---|---|---|---|---|---|")
    for name, med, per, ratio, load, redo, info in rows:
        sp = {lib: (max(v) - min(v)) / statistics.median(v) * 100 for lib, v in per.items()}
        print(f"| {name} | {med['jitgrad'] * 1e3:.2f} ms | {med['torch'] * 1e3:.2f} ms | "
              f"{ratio:.2f} | {sp['jitgrad']:.0f}% / {sp['torch']:.0f}% | {load:.2f} ({redo}) "
              f"| {info['jitgrad']['loss1']:.5f} / {info['torch']['loss1']:.5f} | "
              f"{info['jitgrad']['first_step_s']:.2f} s |")


# ----------------------------------------------------------------------------- profile
def profile(args):
    """jitgrad LSTM/GRU module step: time inside numpy.matmul vs the rest; bare GEMM floor."""
    import numpy as np
    import jitgrad as jg
    jg.set_num_threads(args.threads)
    real = np.matmul
    acc = {"t": 0.0, "n": 0}

    def timed(*a, **k):
        t0 = time.perf_counter()
        r = real(*a, **k)
        acc["t"] += time.perf_counter() - t0
        acc["n"] += 1
        return r
    for name in [n for n in args.only if not n.endswith("_cell")]:
        im = _jitgrad_impl(name)
        step, reset = im.step, im.reset
        reset()
        for _ in range(5):
            step()
        reps = []
        gemm = []
        for _ in range(args.rounds):
            reset()
            np.matmul = timed
            acc["t"], acc["n"] = 0.0, 0
            t0 = time.perf_counter()
            for _ in range(10):
                step()
            dt = (time.perf_counter() - t0) / 10
            np.matmul = real
            reps.append(dt)
            gemm.append(acc["t"] / 10)
        calls = acc["n"] // 10
        floor = _gemm_floor(4 if name == "lstm" else 3, args.rounds)
        step_med = statistics.median(reps)
        gemm_med = statistics.median(gemm)
        print(f"{name}: step {step_med * 1e3:.2f} ms (timed wrapper on), inside np.matmul "
              f"{gemm_med * 1e3:.2f} ms ({calls} calls, {gemm_med / step_med * 100:.0f}%), rest "
              f"{(step_med - gemm_med) * 1e3:.2f} ms; bare GEMM floor {floor * 1e3:.2f} ms "
              f"(floor / step = {floor / step_med:.2f})")


def _gemm_floor(gates, rounds):
    """Median time of the module step's bare GEMMs (sidebyside.recurrent._gemm_impl)."""
    from sidebyside.recurrent import _gemm_impl
    step = _gemm_impl(gates).step
    for _ in range(5):
        step()
    reps = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(20):
            step()
        reps.append((time.perf_counter() - t0) / 20)
    return statistics.median(reps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--block", type=float, default=0.3)
    ap.add_argument("--reject-load", type=float, default=0.3)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--worker", choices=["jitgrad", "torch"])
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    args.only = [n for n in args.only.split(",") if n]
    if args.worker:
        worker(args.worker, args.threads, args.only)
    elif args.profile:
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[v] = str(args.threads)
        profile(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
