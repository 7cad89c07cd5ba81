"""The backward engine: iterative (no recursion), dependency-counted topological order.

Every node runs once, after all gradients flowing into it have been summed; leaves receive the
total gradient once (hooks see it once), then accumulate into ``.grad``.
"""
import threading

import numpy as np

from .._tensor import Tensor, _make
from . import anomaly as _anomaly
from . import grad_store
from . import product_sum
from .function import _FREED_MSG, Context, direct_leaves


def _as_array(g, like):
    if isinstance(g, Tensor):
        return g.data
    if type(g) is not np.ndarray:
        return np.asarray(g, dtype=like.dtype)
    return g


def _run_hooks(hooks, g):
    """Apply tensor hooks in order; a returned gradient must keep the shape and dtype."""
    for fn in hooks:
        r = fn(_make(g, False, None, 0))
        if r is not None:
            r = _as_array(r, g)
            if r.shape != g.shape or r.dtype != g.dtype:
                what = "size" if r.shape != g.shape else "type"
                raise RuntimeError(
                    f"hook '{getattr(fn, '__name__', type(fn).__name__)}' has changed the "
                    f"{what} of value: expected shape {g.shape} and dtype {g.dtype}, got "
                    f"shape {r.shape} and dtype {r.dtype}")
            g = r
    return g


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Propagate root_grads from roots. Without ``capture`` gradients accumulate into leaves'
    ``.grad``; with ``capture`` ({id(leaf) or (id(node), slot): None}) only those gradients are
    collected (returned in it), and no ``.grad`` is touched."""
    grads = {}   # id(node) -> list of per-output grads; id(leaf) -> summed grad
    objs = {}    # id -> node or leaf reached
    stack = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            k = id(t)
            objs[k] = t
            grads[k] = _add(grads.get(k), g)
            continue
        k = id(fn)
        if k not in objs:
            objs[k] = fn
            stack.append(fn)
            grads[k] = [None] * (len(fn.out_meta) if fn.out_meta else 1)
        buf = grads[k]
        buf[t._out_idx] = _add(buf[t._out_idx], g)
    root_nodes = list(stack)
    deps = _count_dependencies(stack, objs)
    direct = set()  # leaves an op may write its gradient into (Context.grad_buffer)
    for k, obj in list(objs.items()):
        if obj.__class__ is Context:
            continue
        n = deps.get(k)
        if n is None:
            if k in grads:  # a leaf root nothing else flows into
                _finish_leaf(obj, grads.pop(k), capture)
        elif n == 1 and capture is None and grad_store.writable(obj):
            direct.add(k)
    ready = [n for n in root_nodes if id(n) not in deps]
    direct_leaves.ids = direct
    try:
        with product_sum.sharing():
            _propagate(ready, grads, deps, capture, retain_graph)
    finally:
        direct_leaves.ids = ()
    if capture is None:
        _run_callbacks()
    return capture


_pending = threading.local()


def queue_callback(fn):
    """Run fn() once, right after the next backward() of this thread has accumulated every
    leaf gradient (DistributedDataParallel all-reduces the gradients there)."""
    cbs = getattr(_pending, "callbacks", None)
    if cbs is None:
        cbs = _pending.callbacks = []
    cbs.append(fn)


def _run_callbacks():
    cbs = getattr(_pending, "callbacks", None)
    if cbs:
        _pending.callbacks = []
        for fn in cbs:
            fn()


def _propagate(ready, grads, deps, capture, retain_graph):
    """Run nodes as their gradients complete; hand finished leaf gradients to _finish_leaf."""
    while ready:
        node = ready.pop()
        gin = _call_backward(node, grads.pop(id(node), None), capture, retain_graph)
        meta = node.in_meta
        for i, e in enumerate(node.next):
            if e is None:
                continue
            obj, slot = e
            k = id(obj)
            g = gin[i] if gin is not None else None
            if g is not None:
                shape, dtype = meta[i]
                if type(g) is not np.ndarray or g.shape != shape or g.dtype != dtype:
                    g = _checked(node, i, g, shape, dtype)
                if slot < 0:  # a leaf: ProductSum terms wait for _finish_leaf
                    prev = grads.get(k)
                    if prev is None:
                        grads[k] = g
                    elif type(prev) is np.ndarray and type(g) is np.ndarray:
                        grads[k] = prev + g
                    else:
                        grads[k] = product_sum.add(prev, g)
                else:
                    if type(g) is product_sum.ProductSum:
                        g = g.dense()
                    buf = grads.get(k)
                    if buf is None:
                        buf = grads[k] = [None] * (len(obj.out_meta) if obj.out_meta else 1)
                    prev = buf[slot]
                    buf[slot] = g if prev is None else prev + g
            left = deps[k] - 1
            deps[k] = left
            if left == 0:
                if slot >= 0:
                    ready.append(obj)
                else:
                    g = grads.pop(k, None)
                    if g is not None:
                        _finish_leaf(obj, g, capture)


def _count_dependencies(stack, objs):
    """Number of graph edges into every node and leaf reachable from the nodes on `stack`."""
    deps = {}
    while stack:
        node = stack.pop()
        for e in node.next:
            if e is None:
                continue
            obj = e[0]
            k = id(obj)
            n = deps.get(k)
            if n is None:
                deps[k] = 1
                if k not in objs:
                    objs[k] = obj
                    if e[1] >= 0:
                        stack.append(obj)
            else:
                deps[k] = n + 1
    return deps


def _checked(node, i, g, shape, dtype):
    if type(g) is product_sum.ProductSum:
        if g.shape != shape or g.dtype != dtype:
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index "
                               f"{i} - got a ProductSum of shape {g.shape} and dtype {g.dtype} "
                               f"but expected shape {shape} and dtype {dtype}")
        return g
    if isinstance(g, Tensor):
        g = g.data
    g = np.asarray(g)
    if g.shape != shape:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - "
                           f"got shape {g.shape} but expected shape compatible with {shape}")
    return g.astype(dtype) if g.dtype != dtype else g


def _finish_leaf(leaf, g, capture):
    if type(g) is product_sum.ProductSum:
        # one GEMM for all terms, straight into the leaf's gradient view when it may be
        g = g.dense(leaf._grad_store if capture is None and grad_store.writable(leaf) else None)
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
    if capture is not None:
        k = id(leaf)
        if k in capture:
            capture[k] = _add(capture[k], g)
    else:
        grad_store.accumulate(leaf, g)


def _call_backward(node, buf, capture, retain_graph):
    if buf is None:
        return None
    if len(buf) == 1:
        if buf[0] is None:
            return None
    elif all(g is None for g in buf):
        return None
    if node._freed:
        raise RuntimeError(_FREED_MSG)
    if node.out_hooks:
        for slot, hooks in node.out_hooks.items():
            if buf[slot] is not None:
                buf[slot] = _run_hooks(hooks, buf[slot])
    if node.out_retain and capture is None:
        for slot, ref in node.out_retain.items():
            t = ref()
            if t is not None and buf[slot] is not None:
                t._grad = buf[slot].copy() if t._grad is None else t._grad + buf[slot]
    if capture is not None:
        for slot, g in enumerate(buf):
            key = (id(node), slot)
            if key in capture:
                capture[key] = _add(capture[key], g)
    if len(buf) > 1:
        for slot, g in enumerate(buf):
            if g is None:
                shape, dtype = node.out_meta[slot]
                buf[slot] = np.zeros(shape, dtype)
    gin = node.fn.backward(node, *buf)
    if type(gin) is not tuple:
        gin = (gin,)
    if len(gin) != len(node.next):
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {len(node.next)}, got {len(gin)})")
    if _anomaly.enabled:
        _anomaly.check_backward(node, gin)
    if not retain_graph:
        node.free()
    return gin
