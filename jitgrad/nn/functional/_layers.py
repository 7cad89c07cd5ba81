"""Layer ops: linear (GEMM + fused bias/activation epilogue), dropout, embedding, one_hot, pad
(its reflect / replicate / circular modes are in _resample).

Each differentiable op is one Function; the public functions carry PyTorch's names and
arguments. The GEMMs are numpy.matmul (BLAS) on 2-D views; every other pass is a kernel.
"""
import numpy as np

from ... import _check
from ...autograd.function import Function
from ...autograd.product_sum import ProductSum
from ..._random import numpy_rng
from ...kernels import elementwise as _ew
from ...kernels import linear as K
from ...kernels import index as KI
from . import _resample
from ..._ops.util import contiguous, gemm
from ..._tensor import Tensor, _make

ACT_NONE, ACT_RELU, ACT_TANH, ACT_SIGMOID = K.ACT_NONE, K.ACT_RELU, K.ACT_TANH, K.ACT_SIGMOID
__all__ = ["linear", "linear_act", "dropout", "embedding", "one_hot", "pad"]

_ACT_NAMES = {ACT_NONE: "linear", ACT_RELU: "linear_relu", ACT_TANH: "linear_tanh",
              ACT_SIGMOID: "linear_sigmoid"}
_NO_BIAS = {np.dtype(np.float32): np.empty(0, np.float32),
            np.dtype(np.float64): np.empty(0, np.float64)}
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "bool": "Bool"}


def _tname(dtype):
    return _TORCH_NAMES.get(dtype.name, dtype.name)


class Linear(Function):
    """y = act(x @ W.T + b): one GEMM, then one fused bias/activation pass over y."""

    @staticmethod
    def forward(ctx, x, w, b, act):
        if type(x) is not np.ndarray or type(w) is not np.ndarray:
            raise TypeError(f"linear(): input and weight must be Tensors, got "
                            f"{type(x).__name__} and {type(w).__name__}")
        if w.ndim != 2:
            raise ValueError(f"linear(): weight must be 2-D (out_features, in_features), got "
                             f"shape {w.shape}")
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            rows = int(np.prod(x.shape[:-1])) if x.ndim else 1
            cols = x.shape[-1] if x.ndim else 1
            raise ValueError(f"linear(): mat1 and mat2 shapes cannot be multiplied "
                             f"({rows}x{cols} and {w.shape[1]}x{w.shape[0]}): input's last "
                             f"dimension must equal in_features={w.shape[1]}")
        if x.dtype != w.dtype:
            raise TypeError(f"linear(): mat1 and mat2 must have the same dtype, but got "
                            f"{_tname(x.dtype)} and {_tname(w.dtype)}")
        if x.dtype.kind != "f":
            raise TypeError(f"linear(): expected a floating-point input, got {x.dtype}")
        if b is not None:
            if type(b) is not np.ndarray:
                raise TypeError(f"linear(): bias must be a Tensor, got {type(b).__name__}")
            if b.shape != (w.shape[0],):
                raise ValueError(f"linear(): bias must have shape ({w.shape[0]},), got "
                                 f"{b.shape}")
            if b.dtype != w.dtype:
                raise TypeError(f"linear(): bias dtype {_tname(b.dtype)} does not match "
                                f"weight dtype {_tname(w.dtype)}")
        n_out = w.shape[0]
        lead = x.shape[:-1]
        x2 = x.reshape(-1, w.shape[1])
        y = np.empty((x2.shape[0], n_out), x.dtype)
        gemm(x2, w.T, out=y)
        if b is not None or act != ACT_NONE:
            K.bias_act_forward(act, y.reshape(-1), _NO_BIAS[y.dtype] if b is None else
                               contiguous(b), n_out)
        out = y.reshape(lead + (n_out,))
        ctx.act = act
        # save the caller's arrays themselves (not reshaped views) so in-place changes to
        # them are caught by the version check
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None,
                              out if act != ACT_NONE else None)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        n_out = g.shape[-1]
        g2 = contiguous(g).reshape(-1, n_out)
        gb = None
        if ctx.act != ACT_NONE or need[2]:
            gz = g2 if ctx.act == ACT_NONE else np.empty(g2.shape, g2.dtype)
            gb = _NO_BIAS[g2.dtype]
            if need[2]:
                gb = ctx.grad_buffer(2)
                if gb is None:
                    gb = np.empty(n_out, g2.dtype)
            K.bias_act_backward(ctx.act, g2.reshape(-1) if y is None else y.reshape(-1),
                                g2.reshape(-1), gz.reshape(-1), gb, n_out)
            g2 = gz
        gx = gemm(g2, w).reshape(g.shape[:-1] + (w.shape[1],)) if need[0] else None
        gw = None
        if need[1]:  # straight into the weight's gradient store when the engine allows it;
            # else kept as a term (a layer applied at every step of a loop: one GEMM at the end)
            gw = ProductSum(g2, x.reshape(-1, x.shape[-1]))
            out = ctx.grad_buffer(1)
            if out is not None:
                gw = gw.dense(out)
        return gx, gw, (gb if need[2] else None), None

    @classmethod
    def name_of(cls, ctx):
        return _ACT_NAMES[ctx.act]


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (torch.nn.functional.linear)."""
    return Linear.apply(input, weight, bias, ACT_NONE)


_ACTIVATIONS = {None: ACT_NONE, "relu": ACT_RELU, "tanh": ACT_TANH, "sigmoid": ACT_SIGMOID}


def linear_act(input, weight, bias=None, activation=None):
    """activation(input @ weight.T + bias) as one graph node: one GEMM, then one fused
    bias + activation pass (forward and backward). `activation`: None, 'relu', 'tanh' or
    'sigmoid'. Fused op: checked against ``F.<activation>(F.linear(...))`` in the op table."""
    act = _ACTIVATIONS.get(activation, -1) if isinstance(activation, (str, type(None))) else -1
    if act < 0:
        raise ValueError(f"linear_act(): argument 'activation' expected None, 'relu', 'tanh' "
                         f"or 'sigmoid', got {activation!r}")
    return Linear.apply(input, weight, bias, act)


class Dropout(Function):
    """y = x * m with m = 1/(1-p) (kept) or 0 (dropped), drawn from jitgrad's generator."""

    @staticmethod
    def forward(ctx, x, p):
        if x.dtype.kind != "f":
            raise TypeError(f"dropout(): expected a floating-point input, got {x.dtype}")
        x = contiguous(x)
        u = numpy_rng().random(x.shape, dtype=np.float32)
        out = np.empty(x.shape, x.dtype)
        m = np.empty(x.shape, x.dtype)
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        K.dropout_forward(x.reshape(-1), u.reshape(-1), float(p), scale, out.reshape(-1),
                          m.reshape(-1))
        ctx.save_for_backward(m)
        return out

    @staticmethod
    def backward(ctx, g):
        (m,) = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(g.shape, g.dtype)
        _ew.binary_same(_ew.MUL, g.reshape(-1), m.reshape(-1), gx.reshape(-1))
        return gx, None


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p); identity when not
    training (torch.nn.functional.dropout)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return input
    _check.tensor("dropout", "input", input)
    return Dropout.apply(input, float(p))


class Embedding(Function):
    """out[..., :] = weight[input[...], :]; backward scatter-adds rows (padding row excluded)."""

    @staticmethod
    def forward(ctx, idx, w, padding_idx):
        idx = _check.index_array("embedding", "input", idx)
        if type(w) is not np.ndarray or w.ndim != 2:
            raise ValueError(f"embedding(): weight must be a 2-D tensor, got "
                             f"{getattr(w, 'shape', type(w).__name__)}")
        num, d = w.shape
        if idx.size and (idx.min() < 0 or idx.max() >= num):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise IndexError(f"embedding(): index {bad} is out of range for "
                             f"num_embeddings={num}")
        w = contiguous(w)
        out = np.empty(idx.shape + (d,), w.dtype)
        KI.gather(idx.reshape(-1), d, w.reshape(-1), out.reshape(-1))
        ctx.pad = padding_idx
        ctx.num = num
        ctx.save_for_backward(idx)
        return out

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        g = contiguous(g)
        d = g.shape[-1]
        gw = np.zeros((ctx.num, d), g.dtype)
        KI.scatter_add(idx.reshape(-1), d, g.reshape(-1), gw.reshape(-1))
        if ctx.pad >= 0:
            gw[ctx.pad] = 0  # the padding row gets no gradient
        return None, gw, None


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` picked by the integer tensor `input`; the row `padding_idx` gets no
    gradient (torch.nn.functional.embedding)."""
    num = weight.shape[0] if weight.ndim == 2 else 0
    pad = -1 if padding_idx is None else _check.index_in_range("embedding", "padding_idx",
                                                               padding_idx, num)
    return Embedding.apply(input, weight, pad)


def one_hot(tensor, num_classes=-1):
    """(*, num_classes) int64 tensor with a 1 at each index of `tensor` (no gradient)."""
    idx = _check.index_array("one_hot", "tensor",
                             tensor.data if isinstance(tensor, Tensor) else tensor)
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot(): can not infer total number of classes from an empty "
                             "tensor; pass num_classes")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise ValueError("one_hot(): class values must be non-negative")
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot(): class values must be smaller than num_classes "
                         f"({num_classes}), got {int(idx.max())}")
    out = np.zeros(idx.shape + (int(num_classes),), np.int64)
    flat = out.reshape(-1, int(num_classes))
    flat[np.arange(idx.size), idx.reshape(-1)] = 1
    return _make(out, False, None, 0)


class Pad(Function):
    """Constant padding; negative pads crop. Backward slices the gradient back out."""

    @staticmethod
    def forward(ctx, x, pad, value):
        shape = list(x.shape)
        src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for k in range(len(pad) // 2):
            d = x.ndim - 1 - k
            lo, hi = pad[2 * k], pad[2 * k + 1]
            n = x.shape[d]
            size = n + lo + hi
            if size < 0:
                raise ValueError(f"pad(): padding {(lo, hi)} gives a negative size {size} for "
                                 f"dimension {d} of size {n}")
            if max(-lo, 0) + max(-hi, 0) > n:  # torch crops first: it cannot crop past the end
                raise ValueError(f"pad(): padding {(lo, hi)} crops {max(-lo, 0) + max(-hi, 0)} "
                                 f"elements from dimension {d} of size {n}")
            s0, s1 = max(-lo, 0), max(n - max(-hi, 0), max(-lo, 0))
            d0 = max(lo, 0)
            src[d] = slice(s0, s1)
            dst[d] = slice(d0, d0 + (s1 - s0))
            shape[d] = size
        out = np.full(shape, value, x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        if x.dtype.kind != "f":
            ctx.mark_non_differentiable(out)
        ctx.src, ctx.dst, ctx.shape = tuple(src), tuple(dst), x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, g.dtype)
        gx[ctx.src] = g[ctx.dst]
        return gx, None, None


def pad(input, pad, mode="constant", value=None):
    """Pad `input` by `pad` = (left, right) pairs starting from the last dimension; negative
    values crop (torch.nn.functional.pad). Modes 'reflect', 'replicate' and 'circular' pad
    the last 1-3 dims of a (batched or unbatched) input from its own values."""
    _check.tensor("pad", "input", input)
    pad = tuple(int(p) for p in pad)
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"pad(): Padding mode {mode!r} doesn't take in value argument")
        if len(pad) % 2:
            raise ValueError(f"pad(): padding length must be divisible by 2, got {len(pad)}")
        return _resample.pad_index_modes(input, pad, mode)
    if len(pad) % 2:
        raise ValueError(f"pad(): padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise ValueError(f"pad(): padding length {len(pad)} is too large for a "
                         f"{input.ndim}-D input (at most {2 * input.ndim})")
    return Pad.apply(input, pad, 0 if value is None else value)
