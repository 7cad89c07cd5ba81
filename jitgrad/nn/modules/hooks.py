"""Module hooks: removable handles, and the identity graph nodes behind full backward hooks.

A full backward hook sees the gradients with respect to the module's tensor inputs and outputs,
as PyTorch's does: one identity node (``_BackwardHookFunction``) on the tensor inputs and one
on the tensor outputs of each call. The output node records grad_output (after the backward
pre-hooks, which may replace it); the input node then holds grad_input and calls the hooks,
whose result may replace it. When no input requires grad, the hooks run at the output node
with grad_input all None.
"""
import weakref

import numpy as np

from ..._tensor import Tensor, _make
from ...autograd.function import Function


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``remove()`` unregisters the hook (also as a
    context manager on exit)."""

    _next_id = 0

    def __init__(self, module, *stores):
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self._module = weakref.ref(module)
        self._stores = stores

    def remove(self):
        for store in self._stores:
            if isinstance(store, dict):
                store.pop(self.id, None)
            else:
                store.discard(self.id)
        m = self._module()
        if m is not None:
            m._update_hook_flag()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _as_grad(g, like):
    """A hook's returned gradient entry as an ndarray of `like`'s shape and dtype (or None)."""
    if g is None:
        return None
    g = g.data if isinstance(g, Tensor) else np.asarray(g)
    if like is not None and g.shape != like.shape:
        raise RuntimeError(f"backward hook returned a gradient of shape {g.shape}, expected "
                           f"{like.shape}")
    return g if like is None or g.dtype == like.dtype else g.astype(like.dtype)


def _wrap(g):
    return None if g is None else _make(g, False, None, 0)


class _BackwardHookFunction(Function):
    """Identity on several tensors; backward hands their gradients to `on_grad` (which may
    return replacements)."""

    @staticmethod
    def forward(ctx, on_grad, *arrays):
        ctx.on_grad = on_grad
        non_diff = [a for a, r in zip(arrays, ctx.needs_input_grad[1:]) if not r]
        if non_diff:
            ctx.mark_non_differentiable(*non_diff)
        return tuple(arrays)

    @staticmethod
    def backward(ctx, *grads):
        grads = [g if r else None for g, r in zip(grads, ctx.needs_input_grad[1:])]
        return (None,) + tuple(ctx.on_grad(grads))


class BackwardHook:
    """The per-call state of a module's full backward hooks (and backward pre-hooks)."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.input_pos = None   # positions of the tensor inputs that the input node wraps
        self.grad_outputs = None
        self.n_outputs = 0

    def _apply(self, values, on_grad):
        """Run the tensors among `values` (a tuple) through one identity node."""
        pos = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in pos]
        if not any(t.requires_grad for t in tensors):
            return None, values
        from ..._grad_mode import state
        if not state.enabled:
            return None, values
        outs = _BackwardHookFunction.apply(on_grad, *tensors)
        values = list(values)
        for i, t, o in zip(pos, tensors, outs):
            o._version = t._version  # a view of the input: in-place changes are seen by both
            values[i] = o
        return pos, tuple(values)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        self.input_pos, args = self._apply(args, self._on_input_grad)
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        values = (result,) if single else result
        self.n_outputs = len(values)
        self.output_pos, values = self._apply(values, self._on_output_grad)
        return values[0] if single else values

    def _pack(self, pos, grads, n):
        out = [None] * n
        for i, g in zip(pos, grads):
            out[i] = _wrap(g)
        return tuple(out)

    def _on_output_grad(self, grads):
        gout = self._pack(self.output_pos, grads, self.n_outputs)
        for hook in self.pre_hooks:
            r = hook(self.module, gout)
            if r is not None:
                r = (r,) if not isinstance(r, tuple) else r
                if len(r) != len(gout):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(r)}, but expected {len(gout)}")
                gout = tuple(_wrap(_as_grad(a, None if b is None else b.data))
                             for a, b in zip(r, gout))
        self.grad_outputs = gout
        if self.input_pos is None:  # no input requires grad: the hooks run here
            gin = (None,) * self.n_inputs
            for hook in self.hooks:
                r = hook(self.module, gin, gout)
                if r is not None and any(x is not None for x in r):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return [None if gout[i] is None else gout[i].data for i in self.output_pos]

    def _on_input_grad(self, grads):
        gin = self._pack(self.input_pos, grads, self.n_inputs)
        gout = self.grad_outputs if self.grad_outputs is not None else \
            (None,) * self.n_outputs
        for hook in self.hooks:
            r = hook(self.module, gin, gout)
            if r is not None:
                r = (r,) if not isinstance(r, tuple) else r
                if len(r) != len(gin):
                    raise RuntimeError(f"Backward hook returned an invalid number of "
                                       f"grad_input, got {len(r)}, but expected {len(gin)}")
                gin = tuple(_wrap(_as_grad(a, None if b is None else b.data))
                            for a, b in zip(r, gin))
        return [None if gin[i] is None else gin[i].data for i in self.input_pos]
