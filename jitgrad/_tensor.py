"""Tensor: an ndarray plus what autograd needs (requires_grad, grad, grad_fn, version counter).

Operators and math methods are bound at the bottom of this file to the op functions in
``jitgrad._ops``, each a thin call of one ``Function.apply``.
"""
import weakref

import numpy as np

from ._grad_mode import state as _grad_state
from ._dtypes import admit, as_dtype, check_grad_dtype


class Tensor:
    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "_out_idx", "_version", "_hooks",
                 "_grad_store", "_grad_home", "_base", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data, dtype=None, requires_grad=False):
        if isinstance(data, (str, bytes)):
            raise TypeError(f"tensor(): data must be a number, a sequence of numbers or an "
                            f"array, got {type(data).__name__}")
        arr = np.array(data, dtype=as_dtype(dtype) if dtype is not None else None)
        if dtype is None and arr.dtype.kind == "f" and not isinstance(data, (np.ndarray,
                                                                              np.generic)):
            arr = arr.astype(np.float32)
        arr = admit(arr, "tensor()")
        _init(self, arr, False, None, 0)
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- autograd attributes
    @property
    def grad(self):
        """The accumulated gradient (an ndarray shaped and typed like ``data``), or None.
        Assigning checks it as PyTorch does: None, or an array / Tensor of this tensor's shape
        and dtype (any layout); anything else raises before ``.grad`` changes."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = _checked_grad(self, value)
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad:
            check_grad_dtype(self.data.dtype)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def retain_grad(self):
        if self.grad_fn is None:
            return
        node = self.grad_fn
        if node.out_retain is None:
            node.out_retain = {}
        node.out_retain[self._out_idx] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node.out_hooks is None:
                node.out_hooks = {}
            hooks = node.out_hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        return _make(self.data, False, None, 0, self._version)

    def detach_(self):
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- array attributes
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def size(self, dim=None):
        if dim is None:
            return self.data.shape
        return self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to "
                             f"Scalar")
        return self.data.reshape(-1)[0].item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data.reshape(-1)[0])

    def __format__(self, spec):
        """A 0-d tensor formats as its number (f"{loss:.4f}"), as in PyTorch."""
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to a Tensor of shape "
                            f"{self.data.shape}: only 0-d tensors format as numbers")
        return repr(self)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float32 and not (self.data.dtype == np.int64 and
                                                  self.data.size > 0):
            extra += f", dtype=jitgrad.{self.data.dtype.name if self.data.dtype != bool else 'bool'}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----------------------------------------------------------------- copies and in-place
    def clone(self):
        from ._ops import clone
        return clone(self)

    def zero_(self):
        _check_inplace(self, "zero_")
        self.data[...] = 0
        self._version[0] += 1
        return self

    # fill_, copy_ and the other in-place ops with arguments: jitgrad/_ops/inplace_math.py

    def type(self, dtype):
        return self.to(dtype)

    @property
    def device(self):
        """Always the CPU (jitgrad.device('cpu'))."""
        from ._device import CPU
        return CPU

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` as torch; the
        only device is the CPU, so a device alone returns self."""
        from ._device import check_device, device as _device
        from ._ops import cast
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif isinstance(a, _device) or (isinstance(a, str) and a.partition(":")[0] in
                                             ("cpu", "cuda", "mps", "xla", "meta")):
                device = a
            else:
                dtype = a
        check_device("to", device)
        out = self if dtype is None else cast(self, as_dtype(dtype))
        return out.clone() if copy and out is self else out

    def cpu(self):
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        """Refused: jitgrad computes in float32 and float64 only (no float16 kernels)."""
        raise TypeError("Tensor.half(): jitgrad has no float16 (its kernels compute in float32 "
                        "and float64); use .float() or .double()")

    def bfloat16(self):
        """Refused: jitgrad computes in float32 and float64 only (no bfloat16 kernels)."""
        raise TypeError("Tensor.bfloat16(): jitgrad has no bfloat16 (its kernels compute in "
                        "float32 and float64); use .float() or .double()")

    def long(self):
        return self.to(np.int64)

    def bool(self):
        return self.to(np.bool_)

    def contiguous(self):
        return self if self.data.flags.c_contiguous else self.clone()

    def is_contiguous(self):
        return self.data.flags.c_contiguous


class _HookHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks, hook):
        self.hooks = hooks
        self.hook = hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _init(t, data, requires_grad, grad_fn, out_idx, version=None, base=None):
    t.data = data
    t._grad = None
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._out_idx = out_idx
    t._version = [0] if version is None else version
    t._hooks = None
    t._grad_store = None
    t._grad_home = None
    t._base = base


def _make(data, requires_grad, grad_fn, out_idx, version=None, base=None):
    """Fast Tensor construction for op results (no copy, no checks)."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    t = Tensor.__new__(Tensor)
    t.data = data
    t._grad = None
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._out_idx = out_idx
    t._version = [0] if version is None else version
    t._hooks = None
    t._grad_store = None
    t._grad_home = None
    t._base = base
    return t


def _checked_grad(t, value):
    if isinstance(value, Tensor):
        value = value.data
    if type(value) is not np.ndarray:
        raise TypeError(f"assigned grad expected to be a Tensor, an ndarray or None but got "
                        f"{type(value).__name__}")
    if value.shape != t.data.shape:
        raise RuntimeError(f"assigned grad has data of a different size: expected shape "
                           f"{t.data.shape}, got {value.shape}")
    if value.dtype != t.data.dtype:
        raise RuntimeError(f"assigned grad has data of a different type: expected dtype "
                           f"{t.data.dtype}, got {value.dtype}")
    return value


def _check_inplace(t, op):
    if _grad_state.enabled and t._requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           f"in-place operation.")
    check_writeable(t.data, op)


def check_writeable(data, op):
    """An in-place op's target array must be writeable (from_numpy shares read-only arrays)."""
    if not data.flags.writeable:
        raise ValueError(f"{op}: the tensor's memory is read-only (it shares a non-writeable "
                         f"NumPy array, e.g. from from_numpy); clone() it, or make the array "
                         f"writeable, before an in-place operation")


def _bind_ops():
    """Attach the op functions of jitgrad._ops as Tensor methods and operators."""
    from . import _ops as ops
    for name in ops.TENSOR_METHODS:
        fn = getattr(ops, name, None)
        if fn is not None:
            setattr(Tensor, name, fn)
    for dunder, name in ops.TENSOR_OPERATORS.items():
        fn = getattr(ops, name, None)
        if fn is not None:
            setattr(Tensor, dunder, fn)
