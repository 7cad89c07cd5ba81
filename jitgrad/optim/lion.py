"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign updates.

    c = b1*m + (1-b1)*g;  p = p*(1 - lr*wd) - lr*sign(c);  m = b2*m + (1-b2)*g
"""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class Lion(Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False,
                 foreach=None, fused=None):
        check(lr=lr, weight_decay=weight_decay, betas=betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, fused=fused))

    def _state_inits(self, group):
        return {"exp_avg": 0.0}

    def _update(self, group, buf, seg, runs):
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        row = [lr, -1.0 if group["maximize"] else 1.0, 1.0 - lr * wd, b1, 1.0 - b1, b2, 1.0 - b2]
        K.lion_step(buf.data, buf.grad, buf.state["exp_avg"], seg,
                    np.array([row] * len(runs), buf.dtype))
