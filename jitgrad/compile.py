"""Precompile jitgrad's kernels into the on-disk cache, or inspect / clear that cache.

    python -m jitgrad.compile            compile every kernel the warm-up reaches (float32, float64)
    python -m jitgrad.compile --info     cache directory, per-file stamps, what is cached
    python -m jitgrad.compile --clear    delete jitgrad's cache entries (never anything else)
    python -m jitgrad.compile --prune    delete only entries of stale stamps (old sources)
    python -m jitgrad.compile --ops add,sum   warm up only these op-table ops
    python -m jitgrad.compile --jobs 1   one process (default: 2 where 2 CPUs are available)

A kernel's specialisations depend on the argument types it is called with, so instead of
guessing signatures the command runs a small workload through the public API: every case of
every op in the op table (``jitgrad.testing.all_specs()``), forward and backward, in float32
and float64, plus a small MLP training step. Kernels are found generically (every numba
dispatcher defined in a ``jitgrad.kernels`` module), and those the workload did not reach are
listed so a new kernel without a warm-up path shows up.

With ``--jobs 2`` (the default on 2 or more CPUs, cache on) the float64 half of the warm-up runs
in a second process, compiling into the same cache (concurrent writers are safe: see
kernels/_jit.py); numba compiles in one thread per process, so on 2 cores this halves the wall
time of a cold precompile. This process then runs the float64 half too, loading (and so
checking) what the other one wrote.
"""
import argparse
import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time

import numpy as np

_ENTRY = re.compile(r"^(?P<mod>[A-Za-z_][A-Za-z0-9_]*)-(?P<stamp>[0-9a-f]{16})$")


def kernel_dispatchers():
    """{qualified name: dispatcher} for every numba kernel defined in a jitgrad.kernels module
    (helpers inlined at numba IR level, ``inline="always"``, are part of their callers' code and
    never compiled on their own: left out)."""
    from numba.core.dispatcher import Dispatcher

    from . import kernels
    found = {}
    for info in sorted(pkgutil.iter_modules(kernels.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for name, obj in vars(mod).items():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__ and \
                    obj.targetoptions.get("inline") != "always":
                found[f"{info.name}.{name}"] = obj
    return found


def _backward_all(out):
    """Backpropagate a non-uniform gradient from every float output that has a graph."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if getattr(o, "grad_fn", None) is not None and o.dtype.kind == "f":
            g = np.linspace(0.5, 1.5, o.numel()).reshape(o.shape).astype(o.dtype)
            o.backward(g, retain_graph=True)


def _op_case_runner(spec, case):
    """Run one op-table case forward (and backward where differentiable), as the tests do."""
    def run(dtype, rng):
        import jitgrad as jg
        from .testing.spec import make_inputs
        arrays = make_inputs(spec, case, dtype, rng)
        tensors = [jg.from_numpy(a) if isinstance(a, np.ndarray) else a for a in arrays]
        if spec.grad:
            diff = case.diff if case.diff is not None else \
                [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
            for i in diff:
                tensors[i].requires_grad_(True)
        out = spec.fn(*tensors, **case.kwargs)
        if spec.grad:
            _backward_all(out)
    return run


def _warm_mlp(dtype, rng):
    """One SGD step of a 2-layer MLP with a log-softmax cross-entropy, core ops only."""
    import jitgrad as jg
    x = jg.tensor(rng.standard_normal((8, 6)), dtype=dtype)
    onehot = jg.tensor(np.eye(3)[rng.integers(0, 3, 8)], dtype=dtype)
    w1 = jg.tensor(rng.standard_normal((6, 5)) * 0.3, dtype=dtype, requires_grad=True)
    b1 = jg.zeros(5, dtype=dtype, requires_grad=True)
    w2 = jg.tensor(rng.standard_normal((5, 3)) * 0.3, dtype=dtype, requires_grad=True)
    b2 = jg.zeros(3, dtype=dtype, requires_grad=True)
    logits = jg.relu(x @ w1 + b1) @ w2 + b2
    logp = logits - jg.logsumexp(logits, dim=1, keepdim=True)
    loss = -(logp * onehot).sum() / x.shape[0]
    loss.backward()
    with jg.no_grad():
        for p in (w1, b1, w2, b2):
            p -= 0.1 * p.grad


def _warm_optimizers(dtype, rng):
    """One step of every optimizer class jitgrad.optim exports, plus gradient clipping."""
    import jitgrad as jg
    from jitgrad import optim
    from jitgrad.nn import utils
    for cls in vars(optim).values():
        if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer:
            p = jg.tensor(rng.standard_normal(5), dtype=dtype, requires_grad=True)

            def closure(p=p):   # LBFGS needs one; the others call it once
                p.grad = np.ones(5, dtype)
                return 0.0

            cls([p]).step(closure)
    for name in ("clip_grad_norm_", "clip_grad_value_"):
        fn = getattr(utils, name, None)
        if fn is not None:
            p = jg.tensor(rng.standard_normal(5), dtype=dtype, requires_grad=True)
            p.grad = np.ones(5, dtype)
            fn([p], 0.5)


def warm_up_tasks(ops=None):
    """[(name, fn(dtype, rng))]: every op-table case (or only those of `ops`), then, when no
    subset is asked for, an MLP step and every optimizer."""
    from .testing import all_specs
    tasks = [(f"op {spec.name}", _op_case_runner(spec, case)) for spec in all_specs()
             if ops is None or spec.name in ops for case in spec.cases]
    if ops is None:
        tasks += [("mlp step", _warm_mlp), ("optimizers", _warm_optimizers)]
    return tasks


def warm_up(dtypes=(np.float32, np.float64), ops=None):
    """Run the warm-up in each dtype; returns [(task, dtype, exception)] for the failures."""
    rng = np.random.default_rng(0)
    failures = []
    tasks = warm_up_tasks(ops)
    for dtype in dtypes:
        for name, fn in tasks:
            try:
                fn(dtype, rng)
            except Exception as exc:  # report and go on: the other kernels still get cached
                failures.append((name, np.dtype(dtype).name, exc))
    return failures


def _cache_entries(root):
    """Sub-directories of `root` that jitgrad created: (name, module, stamp)."""
    if root is None or not os.path.isdir(root):
        return []
    out = []
    for name in sorted(os.listdir(root)):
        m = _ENTRY.match(name)
        if m and os.path.isdir(os.path.join(root, name)):
            out.append((name, m["mod"], m["stamp"]))
    return out


DTYPES = (np.float32, np.float64)


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_SIGS_TAG = "@@jitgrad-compile-signatures@@"


def _signatures(disps):
    """{(kernel name, signature)} compiled or loaded in this process."""
    return {(n, str(sig)) for n, d in disps.items() for sig in d.signatures}


def _second_process(ops, dtype):
    """Start `python -m jitgrad.compile --worker` warming up `dtype` into the same cache."""
    cmd = [sys.executable, "-m", "jitgrad.compile", "--worker", np.dtype(dtype).name]
    if ops is not None:
        cmd += ["--ops", ",".join(ops)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _worker_report(proc):
    """(the second process's {(kernel, signature)}, its compile count); its other output is
    passed on (failures)."""
    out, _ = proc.communicate()
    sigs, misses = set(), 0
    for line in out.splitlines():
        if line.startswith(_SIGS_TAG):
            misses, *pairs = line[len(_SIGS_TAG):].split("\t")
            misses = int(misses)
            sigs = {tuple(p.split("|", 1)) for p in pairs}
        else:
            print(line)
    return sigs, misses


def cmd_compile(ops=None, jobs=None, worker_dtype=None):
    from .kernels import _jit
    t0 = time.perf_counter()
    disps = kernel_dispatchers()
    if ops is not None:
        from .testing import all_specs
        unknown = sorted(set(ops) - {s.name for s in all_specs()})
        if unknown:
            print(f"jitgrad: no op-table entry named {', '.join(unknown)}")
            return 2
    if worker_dtype is not None:  # the second process of --jobs 2: failures, then what it made
        failures = warm_up(dtypes=(np.dtype(worker_dtype).type,), ops=ops)
        for name, dtype, exc in failures:
            print(f"jitgrad: warm-up {name} ({dtype}) failed: {type(exc).__name__}: {exc}")
        misses = sum(sum(d.stats.cache_misses.values()) for d in disps.values())
        print(_SIGS_TAG + "\t".join([str(misses)] +
                                     [f"{n}|{sig}" for n, sig in sorted(_signatures(disps))]))
        return 1 if failures else 0
    jobs = min(2, _cpus()) if jobs is None else jobs
    helper = None
    if jobs > 1 and _jit.CACHE_DIR is not None:
        helper = _second_process(ops, DTYPES[1])
    failures = warm_up(dtypes=DTYPES[:1] if helper else DTYPES, ops=ops)
    other, other_misses = set(), 0
    if helper is not None:
        other, other_misses = _worker_report(helper)
        if helper.returncode != 0:
            print("jitgrad: the second compile process failed (see above); its dtype is "
                  "warmed up here")
        failures += warm_up(dtypes=DTYPES[1:], ops=ops)  # loads what it compiled
    elapsed = time.perf_counter() - t0
    # what both processes made (a kernel inlined into a cached caller has no signature of its
    # own here, but the other process compiled it)
    sigs = _signatures(disps) | other
    nsig = len(sigs)
    hits = sum(sum(d.stats.cache_hits.values()) for d in disps.values())
    misses = sum(sum(d.stats.cache_misses.values()) for d in disps.values()) + other_misses
    reached = {n for n, _ in sigs}
    unreached = sorted(n for n in disps if n not in reached)
    print(f"jitgrad: {len(disps) - len(unreached)} of {len(disps)} kernels, {nsig} "
          f"specialisations ready in {elapsed:.1f} s "
          f"({hits} loaded from cache, {misses} compiled"
          + (", in 2 processes)" if helper is not None else ")"))
    if _jit.CACHE_DIR is None:
        print("jitgrad: the kernel cache is off (JITGRAD_DISABLE_CACHE set or no writable "
              "location): nothing was saved for later processes")
    else:
        print(f"jitgrad: cache directory {_jit.CACHE_DIR}")
    if unreached and ops is None:
        print(f"jitgrad: not reached by the warm-up (compiled on first use): "
              f"{', '.join(unreached)}")
    for name, dtype, exc in failures:
        print(f"jitgrad: warm-up {name} ({dtype}) failed: {type(exc).__name__}: {exc}")
    return 1 if failures else 0


def cmd_info():
    from .kernels import _jit
    print(f"cache enabled: {_jit.CACHE_DIR is not None}")
    print(f"cache directory: {_jit.CACHE_DIR}")
    print(f"JITGRAD_CACHE_DIR={os.environ.get('JITGRAD_CACHE_DIR', '')!r} "
          f"JITGRAD_DISABLE_CACHE={os.environ.get('JITGRAD_DISABLE_CACHE', '')!r}")
    entries = {name: mod for name, mod, _ in _cache_entries(_jit.CACHE_DIR)}
    print("stamps (kernels file: stamp, cached specialisations):")
    for mod, stamp in sorted(_jit.STAMPS.items()):
        name = f"{mod}-{stamp}"
        n = len([f for f in os.listdir(os.path.join(_jit.CACHE_DIR, name)) if f.endswith(".nbc")]) \
            if name in entries else 0
        print(f"  {mod:<16} {stamp}  {n}")
    current = {f"{m}-{s}" for m, s in _jit.STAMPS.items()}
    stale = [n for n in entries if n not in current]
    print(f"stale entries (older sources, removable with --prune): {len(stale)}")
    return 0


def _remove(root, names):
    for name in names:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    return len(names)


def cmd_clear(stale_only=False):
    from .kernels import _jit
    root = _jit.CACHE_DIR
    if root is None:
        print("jitgrad: the kernel cache is off; nothing to remove")
        return 0
    current = {f"{m}-{s}" for m, s in _jit.STAMPS.items()}
    names = [n for n, _, _ in _cache_entries(root) if not (stale_only and n in current)]
    n = _remove(root, names)
    print(f"jitgrad: removed {n} cache entr{'y' if n == 1 else 'ies'} from {root}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m jitgrad.compile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--info", action="store_true", help="show the cache location and state")
    group.add_argument("--clear", action="store_true", help="delete jitgrad's cache entries")
    group.add_argument("--prune", action="store_true", help="delete stale cache entries only")
    parser.add_argument("--ops", help="comma-separated op-table names: warm up only these ops")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=None,
                        help="compile processes (default: 2 when 2 CPUs are available)")
    parser.add_argument("--worker", metavar="DTYPE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.info:
        return cmd_info()
    if args.clear or args.prune:
        return cmd_clear(stale_only=args.prune)
    return cmd_compile(ops=args.ops.split(",") if args.ops else None, jobs=args.jobs,
                       worker_dtype=args.worker)


if __name__ == "__main__":
    sys.exit(main())
