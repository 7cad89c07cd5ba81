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

I, H, T, B = 32, 128, 64, 32
NSEQ = 4
WORKLOADS = ["lstm", "lstm_cell", "gru", "gru_cell"]


def _data():
    import numpy as np
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((T, B, I)).astype(np.float32) for _ in range(NSEQ)]
    target = (rng.standard_normal((B, H)) * 0.5).astype(np.float32)
    return xs, target


def _init(gates):
    import numpy as np
    rng = np.random.default_rng(0)
    k = 1.0 / np.sqrt(H)
    shapes = {"weight_ih": (gates * H, I), "weight_hh": (gates * H, H),
              "bias_ih": (gates * H,), "bias_hh": (gates * H,)}
    return {n: rng.uniform(-k, k, s).astype(np.float32) for n, s in shapes.items()}


# ----------------------------------------------------------------------------- jitgrad side
def _jitgrad_impl(name):
    import jitgrad as jg
    F = jg.nn.functional
    gates = 4 if name.startswith("lstm") else 3
    init = _init(gates)
    cell = name.endswith("_cell")
    if cell:
        mod = (jg.nn.LSTMCell if gates == 4 else jg.nn.GRUCell)(I, H)
        sd = init
    else:
        mod = (jg.nn.LSTM if gates == 4 else jg.nn.GRU)(I, H)
        sd = {k + "_l0": v for k, v in init.items()}
    mod.load_state_dict(sd)
    opt = jg.optim.Adam(mod.parameters())
    opt_init = opt.state_dict()
    xs, target = _data()
    X = [jg.from_numpy(x) for x in xs]
    tgt = jg.from_numpy(target)
    st = {"i": 0}

    def forward(x):
        if not cell:
            out, hn = mod(x)
            h = hn[0][0] if gates == 4 else hn[0]
            return F.mse_loss(h, tgt)
        state = None
        for t in range(T):
            state = mod(x[t], state)
        return F.mse_loss(state[0] if gates == 4 else state, tgt)

    def step():
        i = st["i"]
        st["i"] = (i + 1) % NSEQ
        opt.zero_grad()
        loss = forward(X[i])
        loss.backward()
        opt.step()
        st["loss"] = loss

    def reset():
        mod.load_state_dict(sd)
        opt.load_state_dict(opt_init)
        st["i"] = 0

    return step, reset, lambda: float(st["loss"].item())


# ----------------------------------------------------------------------------- torch side
def _torch_impl(name):
    import torch
    import torch.nn.functional as F
    gates = 4 if name.startswith("lstm") else 3
    init = _init(gates)
    cell = name.endswith("_cell")
    if cell:
        mod = (torch.nn.LSTMCell if gates == 4 else torch.nn.GRUCell)(I, H)
        sd = {k: torch.from_numpy(v) for k, v in init.items()}
    else:
        mod = (torch.nn.LSTM if gates == 4 else torch.nn.GRU)(I, H)
        sd = {k + "_l0": torch.from_numpy(v) for k, v in init.items()}
    mod.load_state_dict(sd)
    opt = torch.optim.Adam(mod.parameters())
    xs, target = _data()
    X = [torch.from_numpy(x) for x in xs]
    tgt = torch.from_numpy(target)
    st = {"i": 0}

    def forward(x):
        if not cell:
            out, hn = mod(x)
            h = hn[0][0] if gates == 4 else hn[0]
            return F.mse_loss(h, tgt)
        h = torch.zeros(B, H)
        state = (h, torch.zeros(B, H)) if gates == 4 else h
        for t in range(T):
            state = mod(x[t], state)
        return F.mse_loss(state[0] if gates == 4 else state, tgt)

    def step():
        i = st["i"]
        st["i"] = (i + 1) % NSEQ
        opt.zero_grad(set_to_none=True)
        loss = forward(X[i])
        loss.backward()
        opt.step()
        st["loss"] = loss.detach()

    def reset():
        with torch.no_grad():
            mod.load_state_dict(sd)
            for s in opt.state.values():
                for v in s.values():
                    if torch.is_tensor(v):
                        v.zero_()
        st["i"] = 0

    return step, reset, lambda: float(st["loss"])


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
        impls[n] = make(n)
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
        step, reset, _ = _jitgrad_impl(name)
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
    """The step's GEMMs alone, same shapes and calls (input projection, T recurrent forward,
    T recurrent backward, dW_ih, dW_hh), with preallocated outputs."""
    import numpy as np
    rng = np.random.default_rng(0)
    G = gates * H
    x = rng.standard_normal((T * B, I)).astype(np.float32)
    wi = rng.standard_normal((G, I)).astype(np.float32)
    wh = rng.standard_normal((G, H)).astype(np.float32) * 0.05
    hs = rng.standard_normal((T + 1, B, H)).astype(np.float32)
    xg = np.empty((T * B, G), np.float32)
    hg = np.empty((B, G), np.float32)
    dg = rng.standard_normal((T, B, G)).astype(np.float32)
    dh = np.empty((B, H), np.float32)
    dwi = np.empty((G, I), np.float32)
    dwh = np.empty((G, H), np.float32)

    def run():
        np.matmul(x, wi.T, out=xg)
        for t in range(T):
            np.matmul(hs[t], wh.T, out=hg)
        for t in range(T):
            np.matmul(dg[t], wh, out=dh)
        np.matmul(dg.reshape(T * B, G).T, x, out=dwi)
        np.matmul(dg.reshape(T * B, G).T, hs[:T].reshape(T * B, H), out=dwh)
    for _ in range(5):
        run()
    reps = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(20):
            run()
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
