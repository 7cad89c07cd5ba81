"""Adam and AdamW (torch.optim.Adam / AdamW), with amsgrad and maximize."""
import math

import numpy as np

from ..kernels import optim as K
from ._check import check
from ._flat import empty
from .optimizer import Optimizer


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=None):
        check(lr=lr, eps=eps, weight_decay=weight_decay, betas=betas)
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _state_inits(self, group):
        names = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        if group["amsgrad"]:
            names["max_exp_avg_sq"] = 0.0
        return names

    def _update(self, group, buf, seg, runs):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        sign = -1.0 if group["maximize"] else 1.0
        if group["decoupled_weight_decay"]:
            wd, decay = 0.0, 1.0 - lr * wd
        else:
            decay = 1.0
        rows = []
        for i0, _ in runs:
            step = int(buf.steps[i0])
            bc2s = math.sqrt(1 - b2 ** step)
            rows.append([wd, sign, decay, 1.0 - b1, b2, 1.0 - b2, lr * bc2s / (1 - b1 ** step),
                         eps * bc2s])
        ams = bool(group["amsgrad"])
        vmax = buf.state["max_exp_avg_sq"] if ams else empty(buf.dtype)
        K.adam_step(buf.data, buf.grad, buf.state["exp_avg"], buf.state["exp_avg_sq"], vmax, seg,
                    np.array(rows, buf.dtype), ams)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
