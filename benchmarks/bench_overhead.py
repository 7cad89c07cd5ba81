"""Per-op overhead on tiny tensors: what a small model pays per op in Python and dispatch.

Mirrors /work/shared/anchors/bench_dispatch.py (parts A and B) so figures compare with PyTorch's.
Warmed at import (no ``setup()``: see the module docstring of bench_ops).
"""
import jitgrad as jg

from . import common

_A = jg.from_numpy(common.random(common.SMALL, seed=0)).requires_grad_()
_B = jg.from_numpy(common.random(common.SMALL, seed=1)).requires_grad_()


def _chain10():
    a, b = _A, _B
    a.grad = None
    b.grad = None
    h = a + b
    h = h * a
    h = jg.tanh(h)
    h = h - b
    h = h * 0.5
    h = jg.exp(h)
    h = h + a
    h = h * b
    h = jg.relu(h)
    h.sum().backward()


def time_add_4x4_requires_grad():
    """Forward ``a + b`` on 4x4 float32 tensors that require grad (the node is recorded)."""
    _A + _B


def time_chain10_4x4_forward_backward():
    """Ten tiny ops (add mul tanh sub scale exp add mul relu sum) forward + backward; /10 per op."""
    _chain10()


_A + _B
_chain10()
