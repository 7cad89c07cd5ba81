"""SGD with momentum, dampening, Nesterov momentum and weight decay (torch.optim.SGD)."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from ._flat import empty
from .optimizer import Optimizer


class SGD(Optimizer):
    _export_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        check(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _state_inits(self, group):
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _has_state(self, group):
        return group["momentum"] != 0

    def _update(self, group, buf, seg, runs):
        lr, mom, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        damp = 1.0 - float(group["dampening"])
        sign = -1.0 if group["maximize"] else 1.0
        use_buf = mom != 0
        rows = [[lr, wd, sign, 0.0, 1.0, mom] if buf.steps[i0] == 1 else
                [lr, wd, sign, mom, damp, mom] for i0, _ in runs]
        mb = buf.state["momentum_buffer"] if use_buf else empty(buf.dtype)
        K.sgd_step(buf.data, buf.grad, mb, seg, np.array(rows, buf.dtype), use_buf,
                   bool(group["nesterov"]))
