"""RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond";
torch.optim.RAdam): Adam whose adaptive step is switched on, rectified, once the variance of
the second-moment estimate is tractable (rho_t > 5); plain bias-corrected momentum before."""
import math

import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _state_inits(self, group):
        return {"exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(self, group, buf, seg, runs):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        sign = -1.0 if group["maximize"] else 1.0
        if group["decoupled_weight_decay"]:
            wd, decay = 0.0, 1.0 - lr * wd
        else:
            decay = 1.0
        rho_inf = 2 / (1 - b2) - 1
        rows = []
        for i0, _ in runs:
            step = int(buf.steps[i0])
            bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
            rho_t = rho_inf - 2 * step * (b2 ** step) / bc2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                 ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                rows.append([wd, sign, decay, 1.0 - b1, b2, 1.0 - b2, 1.0,
                             lr / bc1 * math.sqrt(bc2) * rect, 0.0, eps])
            else:
                rows.append([wd, sign, decay, 1.0 - b1, b2, 1.0 - b2, 0.0, 0.0, lr / bc1, eps])
        K.radam_step(buf.data, buf.grad, buf.state["exp_avg"], buf.state["exp_avg_sq"], seg,
                     np.array(rows, buf.dtype))
