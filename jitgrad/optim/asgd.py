"""ASGD: averaged SGD (Polyak & Juditsky 1992; torch.optim.ASGD).

    p = p * (1 - lambd*eta) - eta * (s*g + wd*p);  ax += mu * (p - ax)
    then eta = lr / (1 + lambd*lr*t)^alpha,  mu = 1 / max(1, t - t0)

eta and mu are per-parameter scalars (state keys 'eta', 'mu', as in torch; kept in float64
where torch keeps them in its default float dtype), 'ax' the running average of the iterates.
"""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class ASGD(Optimizer):
    _extras = {"eta": 0.0, "mu": 1.0}

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check(lr=lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _state_inits(self, group):
        return {"ax": 0.0}

    def _update(self, group, buf, seg, runs):
        lr, lambd, alpha = float(group["lr"]), float(group["lambd"]), float(group["alpha"])
        t0, wd = float(group["t0"]), float(group["weight_decay"])
        sign = -1.0 if group["maximize"] else 1.0
        eta, mu = buf.extras["eta"], buf.extras["mu"]
        rows = []
        for i0, i1 in runs:
            step = int(buf.steps[i0])
            if step == 1:                  # torch initialises eta from the lr at the first step
                eta[i0:i1], mu[i0:i1] = lr, 1.0
            e, m = float(eta[i0]), float(mu[i0])
            rows.append([wd, sign, 1.0 - lambd * e, e, m])
            eta[i0:i1] = lr / ((1 + lambd * lr * step) ** alpha)
            mu[i0:i1] = 1 / max(1, step - t0)
        K.asgd_step(buf.data, buf.grad, buf.state["ax"], seg, np.array(rows, buf.dtype))
