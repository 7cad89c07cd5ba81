"""Workload: one optimizer step over 1M float32 parameters as 1 and as 200 tensors: jitgrad's
fused flat-buffer kernels against torch.optim (default = its per-tensor loop on CPU, foreach,
and fused where torch has it) and, for Adam, two floors: the memory bound, a kernel with
Adam's exact traffic (read p, g, m, v; write p, m, v) and trivial math, and the divider's, its
square root and division alone on data held in L1. LBFGS: one step of max_iter=1,
history_size=10 (the two-loop recursion over a full history) whose closure writes the gradient
p - target, the target cycling through four fixed vectors so the iterates never converge.

Gradients are set once (where backward would write them); a step's cost does not depend on
their values, so reset() has nothing to restore for the first-order optimizers.
"""
from .harness import Impl, Workload, register

N = 1_000_000
LR = 1e-3
LBFGS_KW = dict(lr=0.5, max_iter=1, history_size=10)
TORCH_VARIANTS = {"Adam": ("default", "foreach", "fused"), "AdamW": ("default", "fused"),
                  "SGD": ("default", "foreach"), "LBFGS": ("default",)}
OPTIMIZERS = ("Adam", "SGD", "Adadelta", "RAdam", "ASGD", "Rprop", "LBFGS")


def _arrays(n_tensors):
    import numpy as np
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    grad = (rng.standard_normal(N) * 1e-2).astype(np.float32)
    return np.array_split(data, n_tensors), np.array_split(grad, n_tensors)


def _kwargs(name):
    return dict(momentum=0.9) if name == "SGD" else {}


def _jitgrad(name, n_tensors):
    import jitgrad as jg
    data, grads = _arrays(n_tensors)
    ps = [jg.tensor(c, requires_grad=True) for c in data]
    if name == "LBFGS":
        return _jitgrad_lbfgs(jg, ps, n_tensors)
    opt = getattr(jg.optim, name)(ps, lr=LR, **_kwargs(name))
    for p, g in zip(ps, grads):
        p._grad_store[...] = g       # what backward does: the gradient lands in the flat buffer
        p.grad = p._grad_store
    return Impl(opt.step, lambda: None, lambda: float("nan"))


def _lbfgs_targets(n_tensors):
    import numpy as np
    rng = np.random.default_rng(1)
    return [np.array_split(rng.standard_normal(N).astype(np.float32), n_tensors)
            for _ in range(4)]


def _jitgrad_lbfgs(jg, ps, n_tensors):
    import numpy as np
    targets, calls = _lbfgs_targets(n_tensors), [0]
    opt = jg.optim.LBFGS(ps, **LBFGS_KW)

    def closure():
        calls[0] += 1
        for p, t in zip(ps, targets[calls[0] % 4]):
            np.subtract(p.data, t, out=p._grad_store)   # where backward writes
            p.grad = p._grad_store
        return 0.0
    for _ in range(12):   # fill the history
        opt.step(closure)
    return Impl(lambda: opt.step(closure), lambda: None, lambda: float("nan"))


def _torch(name, n_tensors, variant):
    import torch
    data, grads = _arrays(n_tensors)
    ps = []
    for c, g in zip(data, grads):
        p = torch.nn.Parameter(torch.from_numpy(c.copy()))
        p.grad = torch.from_numpy(g.copy())
        ps.append(p)
    if name == "LBFGS":
        targets = [[torch.from_numpy(t) for t in ts] for ts in _lbfgs_targets(n_tensors)]
        opt, calls = torch.optim.LBFGS(ps, **LBFGS_KW), [0]

        def closure():
            calls[0] += 1
            for p, t in zip(ps, targets[calls[0] % 4]):
                torch.sub(p.detach(), t, out=p.grad)
            return 0.0
        for _ in range(12):
            opt.step(closure)
        return Impl(lambda: opt.step(closure), lambda: None, lambda: float("nan"))
    kw = {"default": dict(foreach=False), "foreach": dict(foreach=True),
          "fused": dict(fused=True)}[variant]
    opt = getattr(torch.optim, name)(ps, lr=LR, **_kwargs(name), **kw)
    return Impl(opt.step, lambda: None, lambda: float("nan"))


def _bound():
    """Adam's memory traffic (read p, g, m, v; write p, m, v) with trivial math."""
    import numba
    import numpy as np
    from numba import prange

    from jitgrad.kernels._jit import OPTIONS

    @numba.njit(parallel=True, **OPTIONS)
    def adam_pattern(p, g, m, v):
        for i in prange(p.size):
            gi = g[i]
            m[i] += gi
            v[i] += gi
            p[i] += gi
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(N).astype(np.float32) * 1e-3 for _ in range(4)]
    return Impl(lambda: adam_pattern(*arrs), lambda: None, lambda: float("nan"))


def _divider():
    """Adam's square root and division alone, N of them over the threads on data that stays
    in L1: the other floor of an exact Adam pass (the FP divider runs both)."""
    import numba
    import numpy as np
    from numba import prange

    from jitgrad.kernels._jit import OPTIONS

    @numba.njit(parallel=True, **OPTIONS)
    def sqrt_div(a, out):
        nt = out.size
        reps = N // nt // a.size
        for t in prange(nt):
            acc = np.float32(0)
            for r in range(reps):
                for i in range(a.size):
                    acc += a[i] / (np.sqrt(a[i] + np.float32(r)) + np.float32(1e-8))
            out[t] = acc
    a = np.random.default_rng(1).uniform(1, 2, 2048).astype(np.float32)
    out = np.empty(numba.get_num_threads(), np.float32)
    return Impl(lambda: sqrt_div(a, out), lambda: None, lambda: float("nan"))


@register
class Optim(Workload):
    name = "optim"
    BOUND = "bound: Adam's 4-read/3-write memory pattern, trivial math"
    DIVIDER = "bound: Adam's square root and division alone, data in L1"

    def configs(self):
        return [{"optimizer": o, "tensors": n,
                 "title": f"{o} step over 1M float32 parameters as {n} tensor(s)"}
                for o in OPTIMIZERS for n in (1, 200)]

    def implementations(self, cfg):
        o, n = cfg["optimizer"], cfg["tensors"]
        rows = [(f"jitgrad {o}", lambda: _jitgrad(o, n))]
        for v in TORCH_VARIANTS.get(o, ("default", "foreach")):
            label = f"torch {o}()" + ("" if o == "LBFGS" else f" {v}")
            rows.append((label, lambda v=v: _torch(o, n, v)))
        if o == "Adam":
            rows.append((self.BOUND, _bound))
            rows.append((self.DIVIDER, _divider))
        return rows

    def goals(self, cfg, med):
        j = med.get(f"jitgrad {cfg['optimizer']}")
        out = []
        if j is None or cfg["optimizer"] != "Adam":
            return out
        if self.BOUND in med:
            out.append(("jitgrad / the memory bound", j / med[self.BOUND], 1.3))
        if self.DIVIDER in med and self.BOUND in med:
            out.append(("the divider's floor / the memory bound",
                        med[self.DIVIDER] / med[self.BOUND], None))
        if "torch Adam() fused" in med:
            out.append(("jitgrad / torch Adam(fused=True)", j / med["torch Adam() fused"], 0.7))
        if "torch Adam() default" in med:
            out.append(("jitgrad / torch Adam() default", j / med["torch Adam() default"],
                        None))
        return out
