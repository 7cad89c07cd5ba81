"""In-place arithmetic (``+= -= *= /=``): written into the tensor's own storage, version bumped.

Without a graph to record, the kernel writes straight into the storage. With one, the op runs
out of place (recording its node) and the result is copied in; the tensor then takes over that
node. A node that saved the old value sees the version bump and refuses to run backward.
"""
from .._grad_mode import state as _grad_state
from .._dtypes import result_type
from ..kernels import elementwise as K
from .._tensor import Tensor, _check_inplace, _make
from .binary import add, binary, div, mul, sub
from .. import _check

_NAMES = {K.ADD: "add", K.SUB: "sub", K.MUL: "mul", K.DIV: "div"}
_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}
_KIND_NAMES = {"b": "Bool", "u": "Int", "i": "Int", "f": "Float"}


def _inplace(op, outofplace, self, other):
    name = _NAMES[op] + "_"
    _check_inplace(self, name)
    other_req = isinstance(other, Tensor) and other._requires_grad
    data = self.data
    if not (_grad_state.enabled and (self._requires_grad or other_req)):
        o = other.data if isinstance(other, Tensor) else other
        kind = "f" if op == K.DIV else result_type(data, o).kind
        if _RANK[kind] > _RANK[data.dtype.kind]:  # torch: no float -> int, no int -> bool
            raise TypeError(f"{name}: result type {_KIND_NAMES[kind]} can't be cast to the "
                            f"desired output type {data.dtype}")
        if data.flags.c_contiguous:
            binary(op, _NAMES[op], data, o, out=data)
        else:
            data[...] = binary(op, _NAMES[op], data, o)
        self._version[0] += 1
        return self
    return _take_over(name, self, outofplace, other)


def _take_over(name, self, outofplace, *args):
    """self <- outofplace(self, *args) with a graph to record: the result's node becomes self's."""
    data = self.data
    if self._base is not None:
        raise RuntimeError(f"{name}: in-place operation on a view of a tensor in the graph is "
                           f"not supported; use the out-of-place form")
    # The op sees an alias with its own version counter and, if it saved the old values
    # (mul saves self for other's gradient), gets a copy: the write below must not corrupt or
    # invalidate the node being recorded. Nodes recorded earlier see the version bump.
    alias = _make(data, self._requires_grad, self.grad_fn, self._out_idx)
    result = outofplace(alias, *args)
    node = result.grad_fn
    if node is not None and any(s is data for s in node._saved):
        node._saved = tuple(data.copy() if s is data else s for s in node._saved)
    if result.data.shape != data.shape:
        raise _check.ShapeError(f"{name}: output with shape {data.shape} doesn't match the "
                                f"broadcast shape {result.data.shape}")
    if result.data.dtype != data.dtype:
        raise TypeError(f"{name}: result type {result.data.dtype} can't be cast to the desired "
                        f"output type {data.dtype}")
    data[...] = result.data
    self._version[0] += 1
    self.grad_fn, self._out_idx, self._requires_grad = result.grad_fn, 0, True
    return self


def iadd(self, other):
    return _inplace(K.ADD, add, self, other)


def isub(self, other):
    return _inplace(K.SUB, sub, self, other)


def imul(self, other):
    return _inplace(K.MUL, mul, self, other)


def idiv(self, other):
    return _inplace(K.DIV, div, self, other)


add_, sub_, mul_, div_ = iadd, isub, imul, idiv
