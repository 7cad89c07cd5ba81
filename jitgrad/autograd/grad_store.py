"""The flat gradient store: where backward puts the gradients of an optimizer's parameters.

Protocol (one object, ``GradStore``; its users are the engine, ``Context.grad_buffer``,
``optim`` and ``nn.utils.clip_grad_norm_``, and next the MPI all-reduce):

- A ``GradStore`` holds one flat, C-contiguous array ``grad`` for some parameters of one dtype
  (an optimizer makes one per parameter group and dtype: ``Optimizer.grad_buffers()``), and one
  view of it per parameter, ``views[i]``, shaped like that parameter. ``attach`` records on each
  parameter its view (``_grad_store``) and the store itself (``_grad_home``).
- When backward finishes a parameter whose ``.grad`` is None, its gradient is written into its
  view and ``.grad`` becomes that view (``accumulate``); later backwards accumulate into it in
  place. So after backward, ``store.grad`` holds every parameter's gradient that is a view.
- An op may skip even that copy and compute a leaf's gradient straight into the view
  (``Context.grad_buffer``) when ``writable(leaf)``: the leaf has a view of its own shape and
  dtype, no ``.grad`` yet and no hooks, and exactly one graph edge in this backward (the engine
  decides that last part; never under ``autograd.grad``).
- A parameter whose ``.grad`` is not its view (None after ``zero_grad()``, or an array set by
  hand) has undefined contents in its slot: readers use ``covers`` to know when the flat array
  is exactly the gradients, and the optimizer copies hand-set gradients in before a step.
"""
import numpy as np


class GradStore:
    """One flat gradient array for `params` (all of dtype `dtype`) and a view per parameter."""

    __slots__ = ("grad", "params", "views")

    def __init__(self, params, dtype, offsets):
        self.params = list(params)
        self.grad = np.zeros(int(offsets[-1]), np.dtype(dtype))
        self.views = [self.grad[lo:hi].reshape(p.data.shape)
                      for p, lo, hi in zip(self.params, offsets[:-1], offsets[1:])]

    def attach(self):
        """Make this store each parameter's gradient home; an existing gradient of the right
        shape moves in (cast to the store's dtype)."""
        for p, view in zip(self.params, self.views):
            g = p.grad
            p._grad_store = view
            p._grad_home = self
            if g is not None and g.shape == view.shape:
                np.copyto(view, g, casting="unsafe")
                p.grad = view

    def covers(self, params):
        """True if `params` are exactly this store's parameters (each once, in any order) and
        every one's ``.grad`` is its view: then ``grad`` is precisely their gradients."""
        if len(params) != len(self.params):
            return False
        mine = {id(p): v for p, v in zip(self.params, self.views)}
        return len({id(p) for p in params}) == len(params) and all(
            mine.get(id(p)) is p.grad for p in params)


def writable(leaf):
    """True when an op may write the leaf's whole gradient into its view (see the protocol;
    the caller checks that exactly one edge leads to the leaf)."""
    view = leaf._grad_store
    return (view is not None and leaf._grad is None and not leaf._hooks
            and view.shape == leaf.data.shape and view.dtype == leaf.data.dtype)


def accumulate(leaf, g):
    """Add the finished gradient g into ``leaf.grad``, through the leaf's view if it has one."""
    grad = leaf._grad  # the slot behind the checked .grad property: engine-made values are valid
    if grad is None:
        view = leaf._grad_store
        if g is view:  # already written there by the op (Context.grad_buffer)
            leaf._grad = view
        elif view is not None and view.shape == g.shape and view.dtype == leaf.data.dtype:
            np.copyto(view, g)
            leaf._grad = view
        else:
            leaf._grad = np.array(g, dtype=leaf.data.dtype, order="C", copy=True)
    else:
        grad += g
