"""Adagrad with learning-rate decay and weight decay (torch.optim.Adagrad)."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class Adagrad(Optimizer):
    _eager_state = True  # torch creates 'step' and 'sum' at construction

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check(lr=lr, eps=eps, weight_decay=weight_decay, lr_decay=lr_decay,
              initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    def _state_inits(self, group):
        return {"sum": float(group["initial_accumulator_value"])}

    def _update(self, group, buf, seg, runs):
        lr, decay = float(group["lr"]), float(group["lr_decay"])
        wd, eps = float(group["weight_decay"]), float(group["eps"])
        sign = -1.0 if group["maximize"] else 1.0
        rows = [[lr / (1 + (int(buf.steps[i0]) - 1) * decay), wd, sign, eps] for i0, _ in runs]
        K.adagrad_step(buf.data, buf.grad, buf.state["sum"], seg, np.array(rows, buf.dtype))
