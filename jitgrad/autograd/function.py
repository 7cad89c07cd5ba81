"""``Function``: the one way to define a differentiable op, for built-ins and users alike.

A subclass defines static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` on NumPy
arrays; ``MyOp.apply(*args)`` runs forward on the arrays behind any Tensor arguments and, when
grad is enabled and some input requires grad, records the ``Context`` as the graph node.
"""
import threading

from .._tensor import Tensor, _make
from .._grad_mode import state as _grad_state
from . import anomaly as _anomaly

# ids of the leaves whose gradient view a running backward() lets ops write into (the engine
# sets it; see autograd/grad_store.py for the protocol)
direct_leaves = threading.local()
direct_leaves.ids = ()

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved "
              "tensors after they have already been freed). Saved intermediate values of the "
              "graph are freed when you call .backward() or autograd.grad(). Specify "
              "retain_graph=True if you need to backward through the graph a second time.")


class _Reserved:
    """A Context method that no op can shadow: ``ctx.name = ...`` raises instead of replacing
    the method (an op's own data goes under other attribute names). Only ``name`` is reserved
    this way: a data descriptor costs ~0.3 us per access, too much for the per-op methods."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name):
        self.attr = name

    def __get__(self, obj, cls=None):
        return self.fn if obj is None else self.fn.__get__(obj, cls)

    def __set__(self, obj, value):
        raise AttributeError(f"Context.{self.attr} is reserved (a method of every graph node); "
                             f"store the op's own data under another attribute name")


class Context:
    """Per-call state shared by forward and backward; it is also the graph node.

    ``needs_input_grad[i]`` says whether input i needs a gradient; in a recorded node,
    ``in_meta[i]`` is input i's (shape, dtype) when it needs one. Ops may set any other
    attribute (axes, flags). Defaults live on the class so creating a node costs little."""

    __slots__ = ("fn", "needs_input_grad", "next", "in_meta", "__dict__", "__weakref__")
    _saved = ()
    _versions = None
    _freed = False
    _non_diff = None
    out_hooks = None
    out_retain = None
    out_meta = None

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        versions = self._versions
        if versions:
            for i, (counter, expected) in enumerate(versions):
                if counter is not None and counter[0] != expected:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: saved tensor {i} of {self.name()} is at version "
                        f"{counter[0]}; expected version {expected} instead.")
        return self._saved

    def grad_buffer(self, i):
        """An array to write input i's whole gradient into and return, saving the engine a copy:
        the leaf's view into its GradStore (its optimizer's flat gradient array) when
        ``grad_store.writable`` holds and it is used once in this backward(); else None."""
        e = self.next[i]
        if e is None or e[1] >= 0 or id(e[0]) not in getattr(direct_leaves, "ids", ()):
            return None
        return e[0]._grad_store

    def mark_non_differentiable(self, *outputs):
        self._non_diff = {id(o) for o in outputs}

    @_Reserved
    def name(self):
        namer = getattr(self.fn, "name_of", None)
        n = namer(self) if namer is not None else self.fn.__name__
        return n[:1].upper() + n[1:] + "Backward"

    def free(self):
        if self._saved:
            self._saved = ()
            self._freed = True

    def __repr__(self):
        return f"<{self.name()}>"


def _edge(t):
    """Where the gradient of input tensor t goes: its producer node and output slot, or the leaf."""
    fn = t.grad_fn
    return (fn, t._out_idx) if fn is not None else (t, -1)


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call ``apply``.

    ``is_view = True`` declares that forward returns NumPy views of the first Tensor argument:
    the outputs then share its version counter and record it (or its own base) as ``_base``."""

    is_view = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(f"backward is not implemented for {ctx.fn.__name__}")

    @classmethod
    def apply(cls, *args):
        ctx = Context()
        ctx.fn = cls
        arrays = []
        needs = []
        record = False
        enabled = _grad_state.enabled
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                r = enabled and a._requires_grad
                record = record or r
                needs.append(r)
            else:
                arrays.append(a)
                needs.append(False)
        ctx.needs_input_grad = needs
        out = cls.forward(ctx, *arrays)
        if _anomaly.enabled:
            _anomaly.check_forward(ctx, out)
        version = base = None
        if cls.is_view:
            version, base = _view_source(args)
        if type(out) is tuple:
            return _wrap_many(ctx, out, args, record, version, base)
        if not record or (ctx._non_diff is not None and id(out) in ctx._non_diff):
            return _make(out, False, None, 0, version, base)
        t = _make(out, True, ctx, 0, version, base)
        _record(ctx, args, needs, (t,))
        return t


def _record(ctx, args, needs, outputs):
    """Make ctx a graph node: an edge per input (its producer and output slot, or the leaf)."""
    edges = []
    meta = []
    for a, r in zip(args, needs):
        if r:
            fn = a.grad_fn
            edges.append((fn, a._out_idx) if fn is not None else (a, -1))
            meta.append((a.data.shape, a.data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.next = edges
    ctx.in_meta = meta
    if ctx._saved:
        ctx._versions = _versions_of(ctx._saved, args, outputs)


def _versions_of(saved, args, outputs):
    """(version counter, version now) of the Tensor holding each saved array: an output first,
    else the first argument holding it; (None, 0) for arrays no Tensor holds."""
    owner = {}
    for t in reversed(args):
        if isinstance(t, Tensor):
            owner[id(t.data)] = t
    for t in reversed(outputs):
        owner[id(t.data)] = t
    versions = []
    for array in saved:
        t = owner.get(id(array))
        versions.append((None, 0) if t is None else (t._version, t._version[0]))
    return versions


def _view_source(args):
    """(version counter, base) shared by views of the first Tensor argument."""
    for a in args:
        if isinstance(a, Tensor):
            return a._version, (a if a._base is None else a._base)
    return None, None


def _wrap_many(ctx, outs, args, record, version=None, base=None):
    non_diff = ctx._non_diff or ()
    tensors = []
    for i, o in enumerate(outs):
        diff = record and id(o) not in non_diff
        tensors.append(_make(o, diff, ctx if diff else None, i, version, base))
    if record:
        ctx.out_meta = tuple((o.shape, o.dtype) for o in outs)
        _record(ctx, args, ctx.needs_input_grad, tensors)
    return tuple(tensors)
