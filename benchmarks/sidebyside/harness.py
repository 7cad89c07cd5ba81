"""The side-by-side harness: arguments, thread setup, load metering, interleaved timing,
the Workload base class and registry, the report and the cold-start runs.

Workloads live one per file beside this one (mlp.py, ...), subclass ``Workload`` and register
with ``@register``; they import torch / jax / jitgrad only inside their methods, so importing
this package (asv discovers benchmarks/ by importing it) stays cheap and loads no peer library.
Run it through ``python benchmarks/compare.py`` (see that file for what is measured and how).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def _parse_args(argv=None, doc=None):
    ap = argparse.ArgumentParser(description=(doc or __doc__).split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="threads for jitgrad, BLAS, torch")
    ap.add_argument("--quick", action="store_true", help="fewer and shorter blocks (smoke run)")
    ap.add_argument("--workload", action="append", help="run only these workloads (repeatable)")
    ap.add_argument("--config", action="append",
                    help="run only the configurations whose title matches this regular "
                         "expression (repeatable), e.g. --workload optim --config '^Adam '")
    ap.add_argument("--repeats", type=int, default=None, help="timed rounds, >= 7 (default 9, quick 7)")
    ap.add_argument("--block", type=float, default=None,
                    help="seconds per timed block (default 0.15, quick 0.04)")
    ap.add_argument("--reject-load", type=float, default=0.3,
                    help="redo a round if other processes used more cores than this")
    ap.add_argument("--no-cold", action="store_true", help="skip the import / first-step runs")
    ap.add_argument("--mode", choices=("solo", "inprocess"), default="solo",
                    help="solo (default): every implementation alone in its own process, "
                         "processes alternating over rounds; inprocess: all in this process, "
                         "blocks interleaved (two OpenMP runtimes in one process slow both "
                         "sides, so its ratios flatter whichever suffers less)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="solo mode: processes per implementation (default 5, quick 3)")
    ap.add_argument("--worker", nargs=3, metavar=("WORKLOAD", "CONFIG", "ROW"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true",
                    help="instead of comparing: for every jitgrad row, the step's time inside "
                         "numpy.matmul (BLAS) against everything else, in this process")
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
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
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
    numbers = {name: _calibrate(im, args.block) for name, im in impls.items()}
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


# ----------------------------------------------------------------------------- driver
def _versions():
    """Installed versions, read from package metadata (importing torch here would put a
    second OpenMP runtime into solo mode's parent)."""
    from importlib import metadata
    out = [f"python {sys.version.split()[0]}"]
    for mod in ("numpy", "numba", "jitgrad", "torch", "jax"):
        try:
            out.append(f"{mod} {metadata.version(mod)}")
        except metadata.PackageNotFoundError:
            out.append(f"{mod} not installed")
    return out


def _skip_reason(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:100]}" if str(e) else type(e).__name__


def _measure_inprocess(w, cfg, args):
    impls, skipped, losses = {}, {}, {}
    for label, factory in w.implementations(cfg):
        try:
            im = factory()
            im.reset()
            im.step()
            losses[label] = im.loss_of()
            impls[label] = im
        except Exception as e:  # noqa: BLE001  (missing library, unsupported variant)
            skipped[label] = _skip_reason(e)
    return measure(impls, args), skipped, losses


WORKER_TAG = "@@WORKER@@"


def _calibrate(im, block):
    """Calls per block so that a block lasts about `block` seconds (after a warm-up)."""
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
        if dt >= block or n >= 2000:
            return n
        n = min(2000, max(2 * n, int(n * block / max(dt, 1e-9) * 1.2)))


def worker(args):
    """Solo mode's child: build one implementation, time a few blocks, print them as JSON."""
    import json
    name, ci, ri = args.worker[0], int(args.worker[1]), int(args.worker[2])
    w = WORKLOADS[name](args)
    label, factory = w.implementations(w.configs()[ci])[ri]
    _own_threads(label, args.threads)
    try:
        im = factory()
        im.reset()
        im.step()
        loss = im.loss_of()
        n = _calibrate(im, args.block)
    except Exception as e:  # noqa: BLE001
        print(WORKER_TAG + json.dumps({"skipped": _skip_reason(e)}))
        return
    times, loads, meter = [], [], LoadMeter()
    for _ in range(3):
        im.reset()
        meter.start()
        t0 = time.perf_counter()
        for _ in range(n):
            im.step()
        times.append((time.perf_counter() - t0) / n)
        loads.append(meter.stop())
    print(WORKER_TAG + json.dumps({"times": times, "loads": loads, "number": n, "loss": loss,
                                   "peak_rss_mb": _peak_rss_mb()}))


def _peak_rss_mb():
    """This process's resident-set high-water mark (VmHWM), in MB: library, data, the
    steps' working memory and whatever they cached."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _own_threads(label, n):
    """Set the thread count through the row's own library only (as the anchors did): torch
    rows call torch.set_num_threads, jitgrad / NumPy rows jitgrad.set_num_threads."""
    if label.startswith("torch"):
        import torch
        torch.set_num_threads(n)
    elif not label.startswith("JAX"):
        import jitgrad as jg
        jg.set_num_threads(n)


def _measure_solo(w, cfg, args):
    """Each implementation alone in a fresh process, `rounds` processes each, alternating
    (the order rotates every round); the median over all their blocks."""
    import json
    ci = w.configs().index(cfg)
    rows = [label for label, _ in w.implementations(cfg)]
    per, loads, numbers, skipped, losses, peaks = {}, {}, {}, {}, {}, {}
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "compare.py")
    for rnd in range(args.rounds):
        order = list(range(len(rows)))
        order = order[rnd % len(order):] + order[:rnd % len(order)]
        for ri in order:
            label = rows[ri]
            if label in skipped:
                continue
            cmd = [sys.executable, script, "--worker", w.name, str(ci), str(ri),
                   "--threads", str(args.threads), "--block", str(args.block)]
            if args.omp_passive:
                cmd.append("--omp-passive")
            p = subprocess.run(cmd, capture_output=True, text=True)
            line = [ln for ln in p.stdout.splitlines() if ln.startswith(WORKER_TAG)]
            if p.returncode != 0 or not line:
                skipped[label] = f"worker failed: {(p.stderr or p.stdout).strip()[-300:]}"
                continue
            r = json.loads(line[-1][len(WORKER_TAG):])
            if "skipped" in r:
                skipped[label] = r["skipped"]
                continue
            per.setdefault(label, []).extend(r["times"])
            peaks.setdefault(label, []).append(r["peak_rss_mb"])
            loads.setdefault(label, []).extend(r["loads"])
            numbers[label], losses[label] = r["number"], r["loss"]
    res = {label: {"median": statistics.median(ts), "min": min(ts), "max": max(ts),
                   "number": numbers[label], "blocks": len(ts),
                   "load": statistics.mean(loads[label]), "rejected": 0,
                   "peak_mb": statistics.median(peaks[label])}
           for label, ts in ((lb, per[lb]) for lb in rows if lb in per)}
    return res, skipped, losses


def _chosen(w, args):
    """The workload's configurations, filtered by --config."""
    return [c for c in w.configs()
            if not args.config or any(re.search(rx, c["title"]) for rx in args.config)]


def run_workload(w, args):
    for cfg in _chosen(w, args):
        measure_fn = _measure_solo if args.mode == "solo" else _measure_inprocess
        res, skipped, losses = measure_fn(w, cfg, args)
        base = next(iter(res.values()))["median"] if res else 1.0
        print(f"\n### {cfg['title']}  [threads={args.threads}, mode={args.mode}]")
        print(f"{'implementation':58s} {'median':>10s} {'min':>10s} {'max':>10s} "
              f"{'x first':>8s} {'calls':>6s} {'loss@1':>8s} {'peak MB':>8s}")
        for label, r in res.items():
            peak = f"{r['peak_mb']:8.0f}" if "peak_mb" in r else f"{'-':>8s}"
            print(f"{label:58s} {fmt_time(r['median']):>10s} {fmt_time(r['min']):>10s} "
                  f"{fmt_time(r['max']):>10s} {r['median'] / base:8.2f} {r['number']:6d} "
                  f"{losses[label]:8.4f} {peak}")
        for label, why in skipped.items():
            print(f"{label:58s} SKIPPED: {why}")
        if res and args.mode == "solo":
            r = next(iter(res.values()))
            print(f"(each implementation alone in its own process: {args.rounds} processes x 3 "
                  f"blocks, processes alternating; median over the {r['blocks']} blocks; each "
                  f"block = 'calls' steps after an untimed reset; other processes used "
                  f"{statistics.mean(x['load'] for x in res.values()):.2f} cores on average)")
        elif res:
            r = next(iter(res.values()))
            print(f"(median of {r['blocks']} interleaved rounds, each block = 'calls' steps after "
                  f"an untimed reset; other processes used {r['load']:.2f} cores on average "
                  f"during kept rounds; {r['rejected']} rounds dropped for load)")
        med = {k: r["median"] for k, r in res.items()}
        for label, ratio, goal in w.goals(cfg, med):
            verdict = "" if goal is None else \
                f"  (goal: at most {goal}; {'goal met' if ratio <= goal else 'goal not met'})"
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


def _import_peers(args):
    """torch (and jax) before jitgrad: if numba's OpenMP pool starts before torch is imported,
    torch binds to the system libgomp instead of its own and its eager steps ran 5-50x slower
    here. Returns the jitgrad module."""
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
    return jg


class _Timers:
    """Wall-time accumulators wrapped around numpy.matmul and every kernel dispatcher that
    jitgrad's modules hold (``from ..kernels import x as K`` then ``K.f(...)``, or a name imported
    from a kernels module): ``install()`` swaps the wrappers in, ``remove()`` puts the originals
    back. Wrapping costs ~0.3 us a call, counted in the rest of the step."""

    def __init__(self):
        import numpy as np
        from jitgrad.compile import kernel_dispatchers
        names = {id(d): name for name, d in kernel_dispatchers().items()}
        self.t, self.n = {}, {}
        self.swaps = []  # (namespace, attribute, original, wrapper)
        for modname, mod in list(sys.modules.items()):
            if mod is None or not (modname == "jitgrad" or modname.startswith("jitgrad.")):
                continue
            for k, v in list(vars(mod).items()):
                if id(v) in names:
                    self.swaps.append((mod, k, v, self._wrap(names[id(v)], v)))
        self.swaps.append((np, "matmul", np.matmul, self._wrap("numpy.matmul (BLAS)", np.matmul)))

    def _wrap(self, name, f):
        t, n = self.t, self.n
        t[name], n[name] = 0.0, 0

        def timed(*a, **k):
            t0 = time.perf_counter()
            r = f(*a, **k)
            t[name] += time.perf_counter() - t0
            n[name] += 1
            return r
        return timed

    def install(self):
        for k in self.t:
            self.t[k], self.n[k] = 0.0, 0
        for ns, attr, _, wrapper in self.swaps:
            setattr(ns, attr, wrapper)

    def remove(self):
        for ns, attr, original, _ in self.swaps:
            setattr(ns, attr, original)


def profile(args):
    """Split each jitgrad row's step time into numpy.matmul (BLAS GEMMs), each kernel, and the
    rest (Python, allocation, NumPy calls), medians over the timed rounds, in this process."""
    import jitgrad as jg
    jg.set_num_threads(args.threads)
    timers = _Timers()
    for name in args.workload or list(WORKLOADS):
        w = WORKLOADS[name](args)
        for cfg in _chosen(w, args):
            for label, factory in w.implementations(cfg):
                if not label.startswith("jitgrad"):
                    continue
                im = factory()
                n = _calibrate(im, args.block)
                steps, parts = [], {}
                for _ in range(args.repeats):
                    im.reset()
                    timers.install()
                    t0 = time.perf_counter()
                    for _ in range(n):
                        im.step()
                    steps.append((time.perf_counter() - t0) / n)
                    timers.remove()
                    for k, v in timers.t.items():
                        parts.setdefault(k, []).append((v / n, timers.n[k] / n))
                st = statistics.median(steps)
                print(f"{cfg['title']}\n  {label}: step {fmt_time(st)}")
                rows = sorted(((statistics.median(v[0] for v in p), p[-1][1], k)
                               for k, p in parts.items() if p[-1][1]), reverse=True)
                for t, calls, k in rows:
                    print(f"    {k:42s} {fmt_time(t):>10s} {t / st:5.0%}  ({calls:g} calls)")
                rest = st - sum(t for t, _, _ in rows)
                print(f"    {'everything else':42s} {fmt_time(rest):>10s} {rest / st:5.0%}")


def main(argv=None, doc=None):
    args = _parse_args(argv, doc)
    _set_thread_env(args.threads, args.omp_passive)
    from . import WORKLOAD_MODULES  # noqa: F401  (each registers its workload)
    if args.worker:
        # only the row's own library is imported (see _own_threads): a jitgrad row that shared
        # the process with torch's OpenMP runtime would keep its numba kernels on one thread
        worker(args)
        return
    if args.profile:
        profile(args)
        return
    if args.mode == "inprocess":
        _import_peers(args)
    la = os.getloadavg()
    print("# " + " | ".join(_versions() + [f"threads {args.threads}", f"mode {args.mode}",
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
