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

New workloads (CNN, LSTM, ...) subclass Workload and register with @register.
"""
import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time


def _parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="threads for jitgrad, BLAS, torch")
    ap.add_argument("--quick", action="store_true", help="fewer and shorter blocks (smoke run)")
    ap.add_argument("--workload", action="append", help="run only these workloads (repeatable)")
    ap.add_argument("--repeats", type=int, default=None, help="timed rounds, >= 7 (default 9, quick 7)")
    ap.add_argument("--block", type=float, default=None,
                    help="seconds per timed block (default 0.15, quick 0.04)")
    ap.add_argument("--reject-load", type=float, default=0.3,
                    help="redo a round if other processes used more cores than this")
    ap.add_argument("--no-cold", action="store_true", help="skip the import / first-step runs")
    ap.add_argument("--omp-passive", action="store_true",
                    help="set OMP_WAIT_POLICY=PASSIVE for the whole process (torch included): "
                         "OpenMP workers sleep at once instead of spinning after a parallel "
                         "region, so they do not take cores from BLAS threads")
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 7 if args.quick else 9
    if args.repeats < 7:
        ap.error("--repeats must be at least 7 (medians over >= 7 interleaved rounds)")
    if args.block is None:
        args.block = 0.04 if args.quick else 0.15
    return args


def _set_thread_env(n, omp_passive=False):
    if omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[v] = str(n)
    if n == 1:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                           "intra_op_parallelism_threads=1")


# ----------------------------------------------------------------------------- machine load
_HZ = os.sysconf("SC_CLK_TCK")


def _busy_seconds():
    """CPU seconds all processes have used so far (from /proc/stat), or None if unknown."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / _HZ


class LoadMeter:
    """Cores used by *other* processes between start() and stop() (0 where unknown)."""

    def start(self):
        t = os.times()
        self.w0, self.b0, self.s0 = time.perf_counter(), _busy_seconds(), t.user + t.system

    def stop(self):
        t = os.times()
        dw, b1 = time.perf_counter() - self.w0, _busy_seconds()
        if b1 is None or self.b0 is None or dw <= 0:
            return 0.0
        return max(0.0, (b1 - self.b0 - (t.user + t.system - self.s0)) / dw)


def foreign_load(window=0.3):
    m = LoadMeter()
    m.start()
    time.sleep(window)
    return m.stop()


def wait_quiet(limit=0.25, patience=20.0):
    """Wait (up to `patience` s) until other processes use fewer than `limit` cores."""
    t0 = time.perf_counter()
    while True:
        fl = foreign_load()
        if fl < limit or time.perf_counter() - t0 > patience:
            return fl


# ----------------------------------------------------------------------------- timing
class Impl:
    """One implementation of a workload: step() runs one training step and leaves the loss in
    self.loss; reset() restores the initial weights, optimizer state and batch counter."""

    def __init__(self, step, reset, loss_of):
        self.step, self.reset, self.loss_of = step, reset, loss_of


def measure(impls, args):
    """Interleaved blocks over {name: Impl}; returns {name: dict(median, min, max, ...)}."""
    numbers = {}
    for name, im in impls.items():          # warm up, then calibrate calls per block
        im.reset()
        for _ in range(3):
            im.step()
        n = 1
        while True:
            im.reset()
            t0 = time.perf_counter()
            for _ in range(n):
                im.step()
            dt = time.perf_counter() - t0
            if dt >= args.block or n >= 2000:
                break
            n = min(2000, max(2 * n, int(n * args.block / max(dt, 1e-9) * 1.2)))
        numbers[name] = n
    per = {name: [] for name in impls}
    loads, rejected, meter = [], 0, LoadMeter()
    names = list(impls)
    rnd = 0
    wait_quiet()
    while len(loads) < args.repeats:
        order = names[rnd % len(names):] + names[:rnd % len(names)]  # rotate who goes first
        rnd += 1
        times = {}
        meter.start()
        for name in order:
            im, n = impls[name], numbers[name]
            im.reset()
            t0 = time.perf_counter()
            for _ in range(n):
                im.step()
            times[name] = (time.perf_counter() - t0) / n
        fl = meter.stop()
        if fl > args.reject_load and rejected < 3 * args.repeats:
            rejected += 1
            wait_quiet(patience=10.0)
            continue
        loads.append(fl)
        for name, t in times.items():
            per[name].append(t)
    return {name: {"median": statistics.median(ts), "min": min(ts), "max": max(ts),
                   "number": numbers[name], "blocks": len(ts), "load": statistics.mean(loads),
                   "rejected": rejected} for name, ts in per.items()}


def fmt_time(s):
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.1f} us"


# ----------------------------------------------------------------------------- workloads
WORKLOADS = {}


def register(cls):
    WORKLOADS[cls.name] = cls
    return cls


class Workload:
    """A family of comparable training steps. Subclasses set `name` and implement configs()
    (a list of config dicts, each with a 'title'), implementations(cfg) (a list of (label,
    factory) with factory() -> Impl, raising to mark the row skipped/failed), goals(cfg,
    medians) (a list of (label, ratio, goal) lines) and cold_start_code(cfg) (a script that
    imports jitgrad and runs one step; '' for none)."""

    name = ""

    def __init__(self, args):
        self.args = args

    def configs(self):
        return []

    def implementations(self, cfg):
        return []

    def goals(self, cfg, med):
        return []

    def cold_start_code(self):
        return ""


# ----------------------------------------------------------------------------- MLP
@register
class MLP(Workload):
    """784-256-128-10 MLP (Linear + ReLU), mean cross-entropy over class indices, Adam(lr=1e-3),
    float32, 8 batches cycled."""

    name = "mlp"
    SIZES = (784, 256, 128, 10)
    NBATCH = 8
    LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8

    def configs(self):
        return [{"batch": b, "title": f"MLP 784-256-128-10 train step (ReLU, cross-entropy, "
                                      f"Adam lr 1e-3), float32, batch {b}"} for b in (64, 512)]

    # ---- shared init and data
    def _init(self):
        """jitgrad's default initialisation (seeded) as a torch-layout state dict of arrays."""
        import jitgrad as jg
        jg.manual_seed(0)
        model = self._jg_model()
        return {k: v.copy() for k, v in model.state_dict().items()}

    def _jg_model(self):
        import jitgrad as jg
        S = self.SIZES
        return jg.nn.Sequential(jg.nn.Linear(S[0], S[1]), jg.nn.ReLU(),
                                jg.nn.Linear(S[1], S[2]), jg.nn.ReLU(),
                                jg.nn.Linear(S[2], S[3]))

    def _data(self, batch):
        import numpy as np
        rng = np.random.default_rng(1)
        xs = [rng.standard_normal((batch, self.SIZES[0])).astype(np.float32)
              for _ in range(self.NBATCH)]
        ys = [rng.integers(0, self.SIZES[-1], size=batch).astype(np.int64)
              for _ in range(self.NBATCH)]
        return xs, ys

    def _weights(self, init):
        """[(W (out, in), b)] per layer, from the torch-layout state dict."""
        return [(init[f"{i}.weight"], init[f"{i}.bias"]) for i in (0, 2, 4)]

    # ---- implementations
    def implementations(self, cfg):
        init = self._init()
        xs, ys = self._data(cfg["batch"])
        rows = [("jitgrad eager (nn.Linear, nn.CrossEntropyLoss, optim.Adam)",
                 lambda: self._jitgrad(init, xs, ys))]
        for label, kw in (("Adam() default", {}), ("Adam(foreach=True)", {"foreach": True}),
                          ("Adam(fused=True)", {"fused": True})):
            rows.append((f"torch eager, {label}",
                         lambda kw=kw: self._torch(init, xs, ys, **kw)))
        rows.append(("JAX jit (whole step incl. Adam)", lambda: self._jax(init, xs, ys)))
        rows.append(("bare GEMMs (8 numpy.matmul: 3 fwd + 5 bwd)",
                     lambda: self._gemms(init, xs)))
        rows.append(("bare GEMMs + jitgrad Adam step (a floor)",
                     lambda: self._gemms(init, xs, adam=True)))
        return rows

    def _jitgrad(self, init, xs, ys):
        import jitgrad as jg
        model = self._jg_model()
        model.load_state_dict(init)
        loss_fn = jg.nn.CrossEntropyLoss()
        X = [jg.from_numpy(x) for x in xs]
        Y = [jg.from_numpy(y) for y in ys]
        opt = jg.optim.Adam(model.parameters(), lr=self.LR, betas=self.BETAS, eps=self.EPS)
        opt_init = opt.state_dict()
        st = {"i": 0, "loss": None}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            opt.zero_grad()
            loss = loss_fn(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss

        def reset():
            model.load_state_dict(init)   # copies into the existing parameter arrays
            opt.load_state_dict(opt_init)  # step 0, zero moments, in place
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"].item()))

    def _torch(self, init, xs, ys, **adam_kw):
        import torch
        S = self.SIZES
        model = torch.nn.Sequential(torch.nn.Linear(S[0], S[1]), torch.nn.ReLU(),
                                    torch.nn.Linear(S[1], S[2]), torch.nn.ReLU(),
                                    torch.nn.Linear(S[2], S[3]))
        init_t = {k: torch.from_numpy(v.copy()) for k, v in init.items()}
        model.load_state_dict(init_t)
        opt = torch.optim.Adam(model.parameters(), lr=self.LR, betas=self.BETAS, eps=self.EPS,
                               **adam_kw)
        loss_fn = torch.nn.CrossEntropyLoss()
        X = [torch.from_numpy(x) for x in xs]
        Y = [torch.from_numpy(y) for y in ys]
        st = {"i": 0, "loss": None}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss.detach()

        def reset():
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    v.copy_(init_t[k])
            for st_p in opt.state.values():   # zero moments and step counters in place
                for t in st_p.values():
                    if torch.is_tensor(t):
                        t.zero_()
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"]))

    def _jax(self, init, xs, ys):
        import jax
        import jax.numpy as jnp
        import numpy as np
        lr, (b1, b2), eps = self.LR, self.BETAS, self.EPS
        p0 = [a for wb in self._weights(init) for a in wb]
        X = [jnp.asarray(x) for x in xs]
        Y = [jnp.asarray(y.astype(np.int32)) for y in ys]

        def loss_fn(params, x, y):
            w1, c1, w2, c2, w3, c3 = params
            h = jax.nn.relu(x @ w1.T + c1)
            h = jax.nn.relu(h @ w2.T + c2)
            logp = jax.nn.log_softmax(h @ w3.T + c3)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def train_step(params, m, v, t, x, y):
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            t = t + 1
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            out_p, out_m, out_v = [], [], []
            for p, gi, mi, vi in zip(params, g, m, v):
                mi = b1 * mi + (1 - b1) * gi
                vi = b2 * vi + (1 - b2) * gi * gi
                out_p.append(p - lr * (mi / bc1) / (jnp.sqrt(vi / bc2) + eps))
                out_m.append(mi)
                out_v.append(vi)
            return out_p, out_m, out_v, t, loss

        train_step = jax.jit(train_step, donate_argnums=(0, 1, 2))
        st = {"i": 0}

        def reset():
            st["p"] = [jnp.array(p) for p in p0]
            st["m"] = [jnp.zeros_like(p) for p in st["p"]]
            st["v"] = [jnp.zeros_like(p) for p in st["p"]]
            st["t"] = jnp.float32(0.0)
            jax.block_until_ready(st["v"])
            st["i"] = 0

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            st["p"], st["m"], st["v"], st["t"], loss = train_step(
                st["p"], st["m"], st["v"], st["t"], X[i], Y[i])
            loss.block_until_ready()
            st["loss"] = loss

        reset()
        return Impl(step, reset, lambda: float(st["loss"]))

    def _gemms(self, init, xs, adam=False):
        """The step's GEMMs alone, in jitgrad's operand layouts: y = x @ W.T (3 forward),
        gW = g.T @ x (3) and gx = g @ W (2, none for the input layer); with `adam`, followed by
        jitgrad's Adam step over the same parameters (fixed stand-in gradients): what no
        eager step can go below."""
        import numpy as np
        ws = [w for w, _ in self._weights(init)]
        opt = None
        if adam:
            import jitgrad as jg
            params = [jg.nn.Parameter(a.copy()) for wb in self._weights(init) for a in wb]
            opt = jg.optim.Adam(params, lr=self.LR, betas=self.BETAS, eps=self.EPS)
            opt_init = opt.state_dict()
            grng = np.random.default_rng(3)
            for p in params:
                p.grad = (grng.standard_normal(p.shape) * 1e-2).astype(np.float32)
        B = xs[0].shape[0]
        rng = np.random.default_rng(2)
        gs = [rng.standard_normal((B, w.shape[0])).astype(np.float32) * 1e-2 for w in ws]
        st = {"i": 0}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            h0 = xs[i]
            h1 = h0 @ ws[0].T
            h2 = h1 @ ws[1].T
            _ = h2 @ ws[2].T
            _ = gs[2].T @ h2
            _ = gs[2] @ ws[2]
            _ = gs[1].T @ h1
            _ = gs[1] @ ws[1]
            _ = gs[0].T @ h0
            if opt is not None:
                opt.step()

        def reset():
            st["i"] = 0
            if opt is not None:
                opt.load_state_dict(opt_init)

        return Impl(step, reset, lambda: float("nan"))

    # ---- goals (issue 3, Performance)
    def goals(self, cfg, med):
        jg = med.get("jitgrad eager (nn.Linear, nn.CrossEntropyLoss, optim.Adam)")
        out = []
        if jg is None:
            return out
        if cfg["batch"] == 64:
            for label, other, goal in (("jitgrad / torch Adam() default", "torch eager, "
                                        "Adam() default", 0.5),
                                       ("jitgrad / torch Adam(fused=True)", "torch eager, "
                                        "Adam(fused=True)", None),
                                       ("jitgrad / JAX jit", "JAX jit (whole step incl. Adam)",
                                        1.0)):
                if other in med:
                    out.append((label, jg / med[other], goal))
        if cfg["batch"] == 512:
            for label, other, goal in (("jitgrad / bare GEMMs", "bare GEMMs (8 numpy.matmul: "
                                        "3 fwd + 5 bwd)", 1.15),
                                       ("jitgrad / torch Adam() default", "torch eager, "
                                        "Adam() default", None),
                                       ("jitgrad / JAX jit", "JAX jit (whole step incl. Adam)",
                                        None)):
                if other in med:
                    out.append((label, jg / med[other], goal))
        return out

    def cold_start_code(self):
        return textwrap.dedent("""
            import time
            t0 = time.perf_counter()
            import numpy as np
            import jitgrad as jg
            t1 = time.perf_counter()
            jg.manual_seed(0)
            S = (784, 256, 128, 10)
            model = jg.nn.Sequential(jg.nn.Linear(S[0], S[1]), jg.nn.ReLU(),
                                     jg.nn.Linear(S[1], S[2]), jg.nn.ReLU(),
                                     jg.nn.Linear(S[2], S[3]))
            opt = jg.optim.Adam(model.parameters(), lr=1e-3)
            rng = np.random.default_rng(1)
            x = jg.from_numpy(rng.standard_normal((64, S[0])).astype(np.float32))
            y = jg.from_numpy(rng.integers(0, S[-1], size=64).astype(np.int64))
            opt.zero_grad()
            loss = jg.nn.CrossEntropyLoss()(model(x), y)
            loss.backward()
            opt.step()
            assert np.isfinite(loss.item())
            t2 = time.perf_counter()
            print(RESULT_TAG, t1 - t0, t2 - t1)
        """)


# ----------------------------------------------------------------------------- driver
def _versions():
    import numba
    import numpy as np
    out = [f"python {sys.version.split()[0]}", f"numpy {np.__version__}",
           f"numba {numba.__version__}"]
    for mod in ("torch", "jax"):
        try:
            out.append(f"{mod} {__import__(mod).__version__}")
        except Exception as e:  # noqa: BLE001
            out.append(f"{mod} unavailable ({type(e).__name__})")
    return out


def run_workload(w, args):
    for cfg in w.configs():
        impls, skipped, losses = {}, {}, {}
        for label, factory in w.implementations(cfg):
            try:
                im = factory()
                im.reset()
                im.step()
                losses[label] = im.loss_of()
                impls[label] = im
            except Exception as e:  # noqa: BLE001  (missing library, unsupported variant)
                skipped[label] = f"{type(e).__name__}: {str(e).splitlines()[0][:100]}" \
                    if str(e) else type(e).__name__
        res = measure(impls, args)
        base = next(iter(res.values()))["median"] if res else 1.0
        print(f"\n### {cfg['title']}  [threads={args.threads}]")
        print(f"{'implementation':58s} {'median':>10s} {'min':>10s} {'max':>10s} "
              f"{'x first':>8s} {'calls':>6s} {'loss@1':>8s}")
        for label, r in res.items():
            print(f"{label:58s} {fmt_time(r['median']):>10s} {fmt_time(r['min']):>10s} "
                  f"{fmt_time(r['max']):>10s} {r['median'] / base:8.2f} {r['number']:6d} "
                  f"{losses[label]:8.4f}")
        for label, why in skipped.items():
            print(f"{label:58s} SKIPPED: {why}")
        if res:
            r = next(iter(res.values()))
            print(f"(median of {r['blocks']} interleaved rounds, each block = 'calls' steps after "
                  f"an untimed reset; other processes used {r['load']:.2f} cores on average "
                  f"during kept rounds; {r['rejected']} rounds dropped for load)")
        med = {k: r["median"] for k, r in res.items()}
        for label, ratio, goal in w.goals(cfg, med):
            verdict = "" if goal is None else \
                f"  (goal <= {goal}: {'met' if ratio <= goal else 'NOT met'})"
            print(f"  {label:36s} {ratio:6.2f}{verdict}")
        sys.stdout.flush()


RESULT_TAG = "@@COLD@@"


def cold_start(w, args):
    """Import time and the first step (kernel compile or cache load) in fresh interpreters."""
    code = w.cold_start_code()
    if not code:
        return
    code = f"RESULT_TAG = {RESULT_TAG!r}\n" + code
    print(f"\n### {w.name}: fresh interpreter, import jitgrad + first training step (batch 64)")
    for label, extra in (("warm kernel cache", {}),
                         ("JITGRAD_DISABLE_CACHE=1 (compile everything)",
                          {"JITGRAD_DISABLE_CACHE": "1"})):
        env = dict(os.environ, **extra)
        runs = 2 if not extra else 1  # the first warm run may still be filling the cache
        res = None
        for _ in range(runs):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                print(f"{label}: FAILED\n{p.stderr[-2000:]}")
                break
            line = [ln for ln in p.stdout.splitlines() if ln.startswith(RESULT_TAG)][-1]
            imp, first = (float(v) for v in line.split()[1:])
            res = (imp, first, wall)
        if res:
            print(f"{label:46s} import {res[0]:7.3f} s   first step {res[1]:7.3f} s   "
                  f"process wall {res[2]:7.3f} s")
    sys.stdout.flush()


def main(argv=None):
    args = _parse_args(argv)
    _set_thread_env(args.threads, args.omp_passive)
    # torch (and jax) first: if numba's OpenMP pool starts before torch is imported, torch binds
    # to the system libgomp instead of its own and its eager steps ran 5-50x slower here
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    try:
        import jax  # noqa: F401
    except ImportError:
        pass
    import jitgrad as jg
    jg.set_num_threads(args.threads)
    la = os.getloadavg()
    print("# " + " | ".join(_versions() + [f"threads {args.threads}",
                                           "OMP_WAIT_POLICY="
                                           f"{os.environ.get('OMP_WAIT_POLICY', '(unset)')}",
                                           f"cpus {os.cpu_count()}",
                                           f"loadavg {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}",
                                           f"other processes now {foreign_load():.2f} cores"]))
    names = args.workload or list(WORKLOADS)
    for name in names:
        if name not in WORKLOADS:
            raise SystemExit(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
        w = WORKLOADS[name](args)
        run_workload(w, args)
        if not args.no_cold:
            cold_start(w, args)
    la = os.getloadavg()
    print(f"\n# loadavg at the end {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")


if __name__ == "__main__":
    main()
