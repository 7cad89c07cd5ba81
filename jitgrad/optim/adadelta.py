"""Adadelta (Zeiler 2012; torch.optim.Adadelta): per-element step sizes from running averages of
squared gradients and squared updates."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check(eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _state_inits(self, group):
        return {"square_avg": 0.0, "acc_delta": 0.0}

    def _update(self, group, buf, seg, runs):
        rho = float(group["rho"])
        row = [float(group["lr"]), float(group["weight_decay"]),
               -1.0 if group["maximize"] else 1.0, rho, 1.0 - rho, float(group["eps"])]
        K.adadelta_step(buf.data, buf.grad, buf.state["square_avg"], buf.state["acc_delta"], seg,
                        np.array([row] * len(runs), buf.dtype))
