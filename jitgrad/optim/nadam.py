"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (torch.optim.NAdam)."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class NAdam(Optimizer):
    _extras = {"mu_product": 1.0}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check(lr=lr, eps=eps, weight_decay=weight_decay, betas=betas,
              momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def _state_inits(self, group):
        return {"exp_avg": 0.0, "exp_avg_sq": 0.0}

    def _update(self, group, buf, seg, runs):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        md = float(group["momentum_decay"])
        sign = -1.0 if group["maximize"] else 1.0
        if group["decoupled_weight_decay"]:
            wd, decay = 0.0, 1.0 - lr * wd
        else:
            decay = 1.0
        mu_product = buf.extras["mu_product"]
        rows = []
        for i0, i1 in runs:
            step = int(buf.steps[i0])
            mu = b1 * (1.0 - 0.5 * 0.96 ** (step * md))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * md))
            mu_product[i0:i1] *= mu
            mp = float(mu_product[i0])
            rows.append([wd, sign, decay, 1.0 - b1, b2, 1.0 - b2, 1 - b2 ** step, eps,
                         lr * (1.0 - mu) / (1.0 - mp), lr * mu_next / (1.0 - mp * mu_next)])
        K.nadam_step(buf.data, buf.grad, buf.state["exp_avg"], buf.state["exp_avg_sq"], seg,
                     np.array(rows, buf.dtype))
