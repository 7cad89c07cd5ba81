"""RMSprop with momentum, centering and weight decay (torch.optim.RMSprop)."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from ._flat import empty
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check(lr=lr, eps=eps, weight_decay=weight_decay, momentum=momentum, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _state_inits(self, group):
        names = {"square_avg": 0.0}
        if group["momentum"] > 0:
            names["momentum_buffer"] = 0.0
        if group["centered"]:
            names["grad_avg"] = 0.0
        return names

    def _update(self, group, buf, seg, runs):
        alpha = float(group["alpha"])
        row = [float(group["lr"]), float(group["weight_decay"]),
               -1.0 if group["maximize"] else 1.0, alpha, 1.0 - alpha, float(group["eps"]),
               float(group["momentum"])]
        centered, use_buf = bool(group["centered"]), group["momentum"] > 0
        st, none = buf.state, empty(buf.dtype)
        K.rmsprop_step(buf.data, buf.grad, st["square_avg"], st["grad_avg"] if centered else none,
                       st["momentum_buffer"] if use_buf else none, seg,
                       np.array([row] * len(runs), buf.dtype), centered, use_buf)
