"""Rprop: resilient backpropagation (Riedmiller & Braun 1993; torch.optim.Rprop): per-element
step sizes grown by etas[1] while the gradient keeps its sign and shrunk by etas[0] when it
flips (that element then skips its update); only the gradient's sign moves the parameter."""
import numpy as np

from ..kernels import optim as K
from ._check import check
from .optimizer import Optimizer


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _state_inits(self, group):
        return {"prev": 0.0, "step_size": float(group["lr"])}

    def _update(self, group, buf, seg, runs):
        ss = buf.state["step_size"]
        lr = float(group["lr"])
        for (lo, hi), (i0, _) in zip(seg.tolist(), runs):
            if buf.steps[i0] == 1:         # torch fills step_size with the lr of the first step
                ss[lo:hi] = lr
        em, ep = (float(e) for e in group["etas"])
        lo, hi = (float(s) for s in group["step_sizes"])
        row = [-1.0 if group["maximize"] else 1.0, em, ep, lo, hi, 1.0]
        K.rprop_step(buf.data, buf.grad, buf.state["prev"], ss, seg,
                     np.array([row] * len(runs), buf.dtype))
