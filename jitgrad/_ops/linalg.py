"""Matrix products: matmul (1-D, 2-D, batched with broadcast batch dims), mm, bmm, dot.

The compute is NumPy's matmul, i.e. BLAS: hand-written loops were 5-11x slower (FIELD-NOTES).
Batch-times-matrix products ((..., m, k) @ (k, n)) run as one 2-D GEMM over the flattened
batch, forward and backward, instead of one small GEMM per batch entry.
"""
import numpy as np

from .. import _check
from ..autograd.function import Function
from .broadcast import sum_to
from .util import gemm

# op name -> required ndim of both operands (None: matmul's any-rank rules)
_NDIM = {"matmul": None, "mm": 2, "bmm": 3, "dot": 1}
_ARG_NAMES = {"matmul": ("input", "other"), "mm": ("input", "mat2"), "bmm": ("input", "mat2"),
              "dot": ("input", "other")}


def _validate(op, a, b):
    """Validate the operands of `op` (types, dtypes, ranks, inner and batch dims)."""
    na, nb = _ARG_NAMES[op]
    for name, x in ((na, a), (nb, b)):
        _check.array(op, name, x)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{op}(): argument '{name}' has unsupported dtype {x.dtype}")
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected {na} and {nb} to have the same dtype, but got "
                        f"{na} {a.dtype} and {nb} {b.dtype}")
    want = _NDIM[op]
    for name, x in ((na, a), (nb, b)):
        if want is not None and x.ndim != want:
            raise _check.ShapeError(f"{op}: expected {name} to be {want}-D, but got shape {x.shape}")
        if x.ndim == 0:
            raise _check.ShapeError(f"{op}: both arguments need to be at least 1-D, but {name} is 0-D")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise _check.ShapeError(f"{op}: {na} {a.shape} and {nb} {b.shape} cannot be multiplied: "
                         f"{k_a} != {k_b}")
    ba, bb = a.shape[:-2], b.shape[:-2]
    if op == "bmm" and ba != bb:
        raise _check.ShapeError(f"{op}: {na} {a.shape} and {nb} {b.shape} must have the same batch "
                         f"size: {ba[0]} != {bb[0]}")
    for x, y in zip(ba[::-1], bb[::-1]):
        if x != y and x != 1 and y != 1:
            raise _check.ShapeError(f"{op}: batch dimensions of {na} {a.shape} and {nb} {b.shape} "
                             f"cannot be broadcast together: {ba} vs {bb}")


def _product(a, b):
    """a @ b by BLAS; (..., m, k) @ (k, n) as a single (batch*m, k) @ (k, n) GEMM."""
    if a.ndim > 2 and b.ndim == 2:
        return gemm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    return gemm(a, b) if a.ndim == 2 and b.ndim == 2 else np.matmul(a, b)


def _grad_input(g, b, shape):
    """d(a @ b)/da for >= 2-D operands: g @ b^T, batch broadcasting undone."""
    return sum_to(_product(g, np.swapaxes(b, -1, -2)), shape)


def _grad_other(g, a, shape):
    """d(a @ b)/db for >= 2-D operands: a^T @ g, batch broadcasting undone."""
    if a.ndim > 2 and len(shape) == 2:
        # the batch sum of a_i^T g_i is one (k, B*m) @ (B*m, n) GEMM
        return gemm(a.reshape(-1, a.shape[-1]).T, g.reshape(-1, g.shape[-1]))
    return sum_to(np.matmul(np.swapaxes(a, -1, -2), g), shape)


class Matmul(Function):
    """out = input @ other with torch.matmul's rank rules (op: 'matmul', 'mm', 'bmm', 'dot')."""

    @staticmethod
    def forward(ctx, a, b, op="matmul"):
        _validate(op, a, b)
        na, nb = ctx.needs_input_grad[:2]
        ctx.op = op
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a if nb else None, b if na else None)
        out = _product(a, b)
        if type(out) is not np.ndarray:  # 1-D @ 1-D gives a NumPy scalar
            out = np.asarray(out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        # Work in the >= 2-D form: a 1-D input is a row (input) or column (other) vector, and
        # the gradient gets back the dimension(s) matmul removed from the output.
        a_vec, b_vec = len(sa) == 1, len(sb) == 1
        if a_vec and b_vec:
            g = g.reshape(1, 1)
        elif a_vec:
            g = g[..., None, :]
        elif b_vec:
            g = g[..., None]
        ga = None if b is None else _grad_input(g, b[:, None] if b_vec else b,
                                                (1,) + sa if a_vec else sa).reshape(sa)
        gb = None if a is None else _grad_other(g, a[None, :] if a_vec else a,
                                                sb + (1,) if b_vec else sb).reshape(sb)
        return ga, gb, None

    @classmethod
    def name_of(cls, ctx):
        return ctx.op


def matmul(input, other):
    """Matrix product with torch.matmul's rules: 1-D operands get a dimension prepended
    (input) or appended (other) that is removed from the result; batch dims broadcast."""
    return Matmul.apply(input, other, "matmul")


def rmatmul(input, other):
    """``other @ input`` for ``ndarray @ Tensor``."""
    return Matmul.apply(other, input, "matmul")


def mm(input, mat2):
    """Product of two 2-D matrices."""
    return Matmul.apply(input, mat2, "mm")


def bmm(input, mat2):
    """Batched product of two 3-D tensors with equal batch size (no broadcasting)."""
    return Matmul.apply(input, mat2, "bmm")


def dot(input, other):
    """Inner product of two 1-D tensors (a 0-d result)."""
    return Matmul.apply(input, other, "dot")
