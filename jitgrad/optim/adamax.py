"""Adamax: Adam with an infinity-norm second moment (torch.optim.Adamax)."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check(lr=lr, eps=eps, weight_decay=weight_decay, betas=betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _state_inits(self, group):
        return {"exp_avg": 0.0, "exp_inf": 0.0}

    def _update(self, group, buf, seg, runs):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        sign = -1.0 if group["maximize"] else 1.0
        rows = [[lr / (1 - b1 ** int(buf.steps[i0])), wd, sign, 1.0 - b1, b2, eps]
                for i0, _ in runs]
        K.adamax_step(buf.data, buf.grad, buf.state["exp_avg"], buf.state["exp_inf"], seg,
                      np.array(rows, buf.dtype))
