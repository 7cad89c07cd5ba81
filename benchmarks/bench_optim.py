"""asv: optimizer steps over 1M float32 parameters (1 tensor / 200 tensors) for every public
optimizer, zero_grad and clip_grad_norm_. LBFGS: a step of max_iter=1 with history_size=10 (the
two-loop recursion over a full history) whose closure only writes each gradient p - target, the
target cycling through four fixed vectors so the iterates never converge. Everything is built
and every kernel warmed at import: no setup() methods (asv times a class with setup() one call
per sample, see FIELD-NOTES)."""
import numpy as np

import jitgrad as jg
from jitgrad.nn.utils import clip_grad_norm_

N = 1_000_000
SPLITS = (1, 200)


def _model(n_tensors, cls, **kw):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    grad = (rng.standard_normal(N) * 1e-2).astype(np.float32)
    ps = [jg.tensor(c, requires_grad=True) for c in np.array_split(data, n_tensors)]
    kw.setdefault("lr", 1e-3)
    opt = cls(ps, **kw)
    for p, g in zip(ps, np.array_split(grad, n_tensors)):
        p._grad_store[...] = g      # where backward puts a gradient
        p.grad = p._grad_store
    opt.step()                      # compile / load the kernel now
    return ps, opt


def _lbfgs(n_tensors, **kw):
    """An LBFGS step (a callable) whose closure writes each gradient p - target."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal(N).astype(np.float32)
    targets = [np.array_split(rng.standard_normal(N).astype(np.float32), n_tensors)
               for _ in range(4)]
    ps = [jg.tensor(c, requires_grad=True) for c in np.array_split(data, n_tensors)]
    opt = jg.optim.LBFGS(ps, **kw)
    calls = [0]

    def closure():
        calls[0] += 1
        for p, t in zip(ps, targets[calls[0] % 4]):
            np.subtract(p.data, t, out=p._grad_store)   # where backward writes
            p.grad = p._grad_store
        return 0.0

    for _ in range(12):             # fill the history
        opt.step(closure)
    return lambda: opt.step(closure)


# every public optimizer (tests/test_benchmarks.py checks this list against jitgrad.optim)
OPTIMIZERS = {"SGD": dict(momentum=0.9), "Adam": {}, "AdamW": {}, "RMSprop": {},
              "Adagrad": {}, "Adamax": {}, "NAdam": {}, "Lion": dict(lr=1e-4),
              "Adadelta": {}, "RAdam": {}, "ASGD": {}, "Rprop": {},
              "LBFGS": dict(lr=0.5, max_iter=1, history_size=10)}

_ADAM = {n: _model(n, jg.optim.Adam) for n in SPLITS}
_SGD = {n: _model(n, jg.optim.SGD, momentum=0.9) for n in SPLITS}
_STEP = {(name, n): _lbfgs(n, **kw) if name == "LBFGS" else
         _model(n, getattr(jg.optim, name), **kw)[1].step
         for name, kw in OPTIMIZERS.items() for n in SPLITS}
for _ps, _opt in _ADAM.values():
    clip_grad_norm_(_ps, 1e9)


class TimeOptimizerStep:
    """One step of every optimizer (defaults as torch's; LBFGS as in the module docstring) over
    1M parameters."""
    params = [list(OPTIMIZERS), list(SPLITS)]
    param_names = ["optimizer", "tensors"]

    def time_step(self, name, n):
        _STEP[name, n]()


class TimeOptimStep:
    params = [SPLITS]
    param_names = ["tensors"]

    def time_adam_step(self, n):
        _ADAM[n][1].step()

    def time_sgd_momentum_step(self, n):
        _SGD[n][1].step()

    def time_zero_grad_set_to_none(self, n):
        ps, opt = _ADAM[n]
        opt.zero_grad()
        for p in ps:                # restore the gradients for the other benchmarks
            p.grad = p._grad_store

    def time_zero_grad_fill(self, n):
        _SGD[n][1].zero_grad(set_to_none=False)

    def time_clip_grad_norm(self, n):
        clip_grad_norm_(_ADAM[n][0], 1e9)
