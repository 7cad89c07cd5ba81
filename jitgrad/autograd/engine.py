"""The backward engine: iterative (no recursion), dependency-counted topological order.

Every node runs once, after all gradients flowing into it have been summed; leaves receive the
total gradient once (hooks see it once), then accumulate into ``.grad``.
"""
import numpy as np

from ..tensor import Tensor, _make


def _as_array(g, like):
    if isinstance(g, Tensor):
        return g.data
    if type(g) is not np.ndarray:
        return np.asarray(g, dtype=like.dtype)
    return g


def _run_hooks(hooks, g):
    for fn in hooks:
        r = fn(_make(g, False, None, 0))
        if r is not None:
            g = _as_array(r, g)
    return g


def _accumulate_leaf(leaf, g):
    if leaf.grad is None:
        store = leaf._grad_store
        if store is not None and store.shape == g.shape and store.dtype == leaf.data.dtype:
            np.copyto(store, g)
            leaf.grad = store
        else:
            leaf.grad = np.array(g, dtype=leaf.data.dtype, order="C", copy=True)
    else:
        leaf.grad += g


def _check(node, i, g, meta):
    shape, dtype = meta
    if type(g) is not np.ndarray:
        g = np.asarray(g, dtype=dtype)
    if g.shape != shape:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - "
                           f"got shape {g.shape} but expected shape compatible with {shape}")
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def run_backward(roots, root_grads, retain_graph=False, capture=None):
    """Propagate root_grads from roots. Without ``capture`` gradients accumulate into leaves'
    ``.grad``; with ``capture`` ({id(tensor): None}) only those tensors' gradients are collected
    and returned in it, and no ``.grad`` is touched."""
    grads = {}   # id(node) -> list of per-output grads; id(leaf) -> summed grad
    objs = {}    # id -> node or leaf, kept for the walk
    deps = {}
    stack = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        obj, slot = (fn, t._out_idx) if fn is not None else (t, -1)
        k = id(obj)
        if k not in objs:
            objs[k] = obj
            if slot >= 0:
                stack.append(obj)
        _deposit(grads, obj, k, slot, g)
    roots_nodes = list(stack)
    seen = set(objs)
    while stack:
        node = stack.pop()
        for e in node.next:
            if e is None:
                continue
            obj = e[0]
            k = id(obj)
            deps[k] = deps.get(k, 0) + 1
            if k not in seen:
                seen.add(k)
                objs[k] = obj
                if e[1] >= 0:
                    stack.append(obj)
    ready = [n for n in roots_nodes if id(n) not in deps]
    for k, obj in objs.items():  # leaf roots with nothing flowing into them
        if k not in deps and isinstance(obj, Tensor) and k in grads:
            _finish_leaf(obj, grads.pop(k), capture)
    while ready:
        node = ready.pop()
        buf = grads.pop(id(node), None)
        gin = _call_backward(node, buf, capture, retain_graph)
        for i, e in enumerate(node.next):
            if e is None:
                continue
            obj, slot = e
            g = gin[i] if gin is not None else None
            k = id(obj)
            if g is not None:
                g = _check(node, i, g, node.in_meta[i])
                _deposit(grads, obj, k, slot, g)
            left = deps[k] - 1
            deps[k] = left
            if left == 0:
                if slot >= 0:
                    ready.append(obj)
                else:
                    g = grads.pop(k, None)
                    if g is not None:
                        _finish_leaf(obj, g, capture)
    return capture


def _deposit(grads, obj, k, slot, g):
    if slot < 0:
        grads[k] = _add(grads.get(k), g)
        return
    buf = grads.get(k)
    if buf is None:
        n = len(obj.out_meta) if getattr(obj, "out_meta", None) else 1
        buf = grads[k] = [None] * n
    buf[slot] = _add(buf[slot], g)


def _finish_leaf(leaf, g, capture):
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
    if capture is not None:
        if id(leaf) in capture:
            capture[id(leaf)] = _add(capture[id(leaf)], g)
    else:
        _accumulate_leaf(leaf, g)


def _call_backward(node, buf, capture, retain_graph):
    if buf is None or all(g is None for g in buf):
        if not retain_graph:
            node.free()
        return None
    if node._freed:
        raise RuntimeError("Trying to backward through the graph a second time (or directly "
                           "access saved tensors after they have already been freed). Specify "
                           "retain_graph=True if you need to backward through the graph a second "
                           "time.")
    if node.out_hooks:
        for slot, hooks in node.out_hooks.items():
            if buf[slot] is not None:
                buf[slot] = _run_hooks(hooks, buf[slot])
    if node.out_retain:
        for slot, ref in node.out_retain.items():
            t = ref()
            if t is not None and buf[slot] is not None and capture is None:
                t.grad = buf[slot].copy() if t.grad is None else t.grad + buf[slot]
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
    if not retain_graph:
        node.free()
    return gin
