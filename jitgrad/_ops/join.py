"""Joining and splitting: cat / stack (one node over any number of inputs), split / chunk (one
multi-output node whose outputs are views).

cat and stack promote dtypes as torch does (float beats int beats bool, wider float wins);
they copy with NumPy (pure data movement, no arithmetic to fuse).
"""
import numpy as np

from .. import _check
from ..autograd.function import Function
from .._dtypes import result_type
from .._tensor import Tensor
from .._check import wrap_dim


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 'tensors', but "
                            f"got {type(t).__name__}")
    return tuple(tensors)


def _common_dtype(xs):
    dtype = xs[0].dtype
    for x in xs[1:]:
        if x.dtype != dtype:
            dtype = result_type(np.empty(0, dtype), x)
    return dtype


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ref = xs[0].shape
        for i, x in enumerate(xs):
            if x.ndim != len(ref) or x.shape[:dim] != ref[:dim] or \
                    x.shape[dim + 1:] != ref[dim + 1:]:
                raise _check.ShapeError(f"cat(): sizes of tensors must match except in dimension {dim}: "
                                 f"tensor 0 has shape {ref}, tensor {i} has shape {x.shape}")
        ctx.sizes = [x.shape[dim] for x in xs]
        ctx.dim = dim
        return np.concatenate(xs, axis=dim, dtype=_common_dtype(xs))

    @staticmethod
    def backward(ctx, g):
        grads = [None]
        lead = (slice(None),) * ctx.dim
        start = 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(g[lead + (slice(start, start + size),)] if need else None)
            start += size
        return tuple(grads)


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ref = xs[0].shape
        for i, x in enumerate(xs):
            if x.shape != ref:
                raise _check.ShapeError(f"stack(): expects each tensor to be equal size, but got {ref} "
                                 f"at entry 0 and {x.shape} at entry {i}")
        ctx.dim = dim
        return np.stack(xs, axis=dim, dtype=_common_dtype(xs))

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(g[lead + (i,)] if need else None
                               for i, need in enumerate(ctx.needs_input_grad[1:]))


class Split(Function):
    """Views of consecutive pieces of sizes `sizes` along `dim`; backward concatenates."""
    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        outs = []
        start = 0
        for size in sizes:
            outs.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.dim), None, None


def cat(tensors, dim=0):
    tensors = _tensor_list("cat", tensors)
    return Cat.apply(wrap_dim("cat", dim, tensors[0].data.ndim), *tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _tensor_list("stack", tensors)
    return Stack.apply(wrap_dim("stack", dim, tensors[0].data.ndim + 1), *tensors)


def split(tensor, split_size_or_sections, dim=0):
    """torch.split: an int is the size of each piece (the last may be smaller), a list gives
    every piece's size (they must sum to the dimension's size)."""
    _check.tensor("split", "tensor", tensor)
    if tensor.data.ndim == 0:
        raise ValueError("split(): expected at least a 1-dimensional tensor")
    dim = wrap_dim("split", dim, tensor.data.ndim)
    n = tensor.data.shape[dim]
    s = split_size_or_sections
    if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
        if s < 0 or (s == 0 and n != 0):
            raise ValueError(f"split(): split_size must be positive, got {s} for dimension "
                             f"{dim} of size {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if n else [0]
    elif isinstance(s, (tuple, list)):
        sizes = [int(v) for v in s]
        if any(v < 0 for v in sizes) or sum(sizes) != n:
            raise ValueError(f"split(): split_sizes must be non-negative and sum exactly to {n} "
                             f"(the input's size at dimension {dim}), but got {list(s)}")
    else:
        raise TypeError(f"split(): split_size_or_sections must be int or list of ints, not "
                        f"{type(s).__name__}")
    return Split.apply(tensor, sizes, dim)


def chunk(input, chunks, dim=0):
    """torch.chunk: pieces of ceil(size / chunks) elements (fewer pieces if that divides early)."""
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk(): chunks must be a positive int, got {chunks!r}")
    _check.tensor("chunk", "input", input)
    if input.data.ndim == 0:
        raise ValueError("chunk(): expected at least a 1-dimensional tensor")
    n = input.data.shape[wrap_dim("chunk", dim, input.data.ndim)]
    size = -(-n // chunks)
    return split(input, size if n else [0] * chunks, dim)
