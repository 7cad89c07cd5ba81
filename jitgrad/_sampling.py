"""Random draws shaped by tensors: the *_like functions, normal / bernoulli / poisson /
multinomial, and the in-place Tensor.normal_ / uniform_ / bernoulli_.

Every function takes ``generator=`` (a ``jitgrad.Generator``; None means the default one that
``manual_seed`` seeds), so a seed reproduces every draw. The draws are NumPy's (PCG64); they
are reproducible within jitgrad, not bit-equal to PyTorch's streams. ``normal`` with tensor
mean/std is recorded in the graph with zero gradients, as torch's derivative table says.
"""
import numpy as np

from . import _check
from ._creation import _dtype, _finish, _size
from ._device import check_device
from ._dtypes import as_dtype, float32, int64
from ._random import numpy_rng
from ._tensor import Tensor, _check_inplace, _make
from .autograd.function import Function


def _float_dtype(op, dtype, default):
    d = _dtype(dtype, default)
    if d.kind != "f":
        raise TypeError(f"{op}(): argument 'dtype' expected a floating-point dtype (float32 or "
                        f"float64), got {d}")
    return d


def _draw(rng, kind, shape, dtype):
    if kind == "uniform":
        return rng.random(shape, dtype=dtype)
    return rng.standard_normal(shape, dtype=dtype)


# ----------------------------------------------------------------------------- *_like
def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples shaped like `input` (its dtype unless `dtype` is given)."""
    _check.tensor("rand_like", "input", input)
    check_device("rand_like", device)
    d = _float_dtype("rand_like", dtype, input.data.dtype if input.data.dtype.kind == "f"
                     else float32)
    return _finish(_draw(numpy_rng(generator), "uniform", input.data.shape, d), requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples shaped like `input` (its dtype unless `dtype` is given)."""
    _check.tensor("randn_like", "input", input)
    check_device("randn_like", device)
    d = _float_dtype("randn_like", dtype, input.data.dtype if input.data.dtype.kind == "f"
                     else float32)
    return _finish(_draw(numpy_rng(generator), "normal", input.data.shape, d), requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False):
    """Integers uniform in [low, high) shaped like `input` (``randint_like(x, high)`` too)."""
    _check.tensor("randint_like", "input", input)
    check_device("randint_like", device)
    if high is None:
        low, high = 0, low
    low = _check.integer("randint_like", "low", low)
    high = _check.integer("randint_like", "high", high)
    if high <= low:
        raise ValueError(f"randint_like(): random_ expects 'from' to be less than 'to', but got "
                         f"from={low} >= to={high}")
    d = _dtype(dtype, input.data.dtype)
    vals = numpy_rng(generator).integers(low, high, input.data.shape)
    return _finish(vals.astype(d), requires_grad)


# ----------------------------------------------------------------------------- distributions
class Normal(Function):
    """out = mean + std * z, z ~ N(0, 1); the gradient is zero, as torch defines it."""

    @staticmethod
    def forward(ctx, mean, std, shape, dtype, rng):
        z = rng.standard_normal(shape, dtype=dtype)
        return (mean + std * z).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return tuple(None if m is None else np.zeros(m[0], m[1]) for m in ctx.in_meta[:2]) + \
            (None, None, None)


def _param(op, name, v):
    if isinstance(v, Tensor):
        if v.data.dtype.kind != "f":
            raise TypeError(f"{op}(): argument '{name}' expected a floating-point tensor, got "
                            f"dtype {v.data.dtype}")
        return v, v.data.shape, v.data.dtype
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): argument '{name}' expected a Tensor or a number, got "
                        f"{type(v).__name__}")
    return float(v), None, None


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """torch.normal's overloads: (Tensor mean, Tensor std) broadcast together; (Tensor mean,
    float std=1.0); (float mean, Tensor std); (float mean, float std, size)."""
    check_device("normal", device)
    mean, ms, md = _param("normal", "mean", mean)
    std, ss, sd = _param("normal", "std", std)
    sdata = std.data if isinstance(std, Tensor) else np.asarray(std)
    if sdata.size and sdata.min() < 0:
        raise ValueError(f"normal(): expects std >= 0.0, but found std {sdata.min()}")
    if ms is None and ss is None:
        if size is None:
            raise TypeError("normal(): with a float mean and a float std, argument 'size' is "
                            "required")
        shape = _size((size,) if isinstance(size, int) else tuple(size))
        d = _float_dtype("normal", dtype, float32)
        out = mean + std * numpy_rng(generator).standard_normal(shape, dtype=d)
        return _finish(out.astype(d, copy=False), requires_grad)
    if size is not None:
        raise TypeError("normal(): argument 'size' is only accepted with a float mean and a "
                        "float std")
    if ms is not None and ss is not None:
        if md != sd:
            raise TypeError(f"normal(): expected mean and std to have the same dtype, got {md} "
                            f"and {sd}")
        try:
            shape = np.broadcast_shapes(ms, ss)
        except ValueError:
            raise ValueError(f"normal(): mean of shape {ms} and std of shape {ss} cannot be "
                             f"broadcast together") from None
    else:
        shape = ms if ms is not None else ss
    d = md if md is not None else sd
    return Normal.apply(mean, std, shape, d, numpy_rng(generator))


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples (input's dtype): 1 with probability input[i] (or `p` for every element)."""
    _check.tensor("bernoulli", "input", input)
    x = input.data
    if p is None:
        if x.dtype.kind != "f":
            raise TypeError(f"bernoulli(): argument 'input' expected a floating-point tensor of "
                            f"probabilities, got dtype {x.dtype}")
        prob = x
        if x.size and not (x.min() >= 0 and x.max() <= 1):
            raise ValueError("bernoulli(): expected all probabilities in 'input' to be in "
                             "[0, 1]")
    else:
        prob = float(p)
        if not 0 <= prob <= 1:
            raise ValueError(f"bernoulli(): argument 'p' expected a probability in [0, 1], "
                             f"got {p}")
    u = numpy_rng(generator).random(x.shape)
    return _make((u < prob).astype(x.dtype), False, None, 0)


def poisson(input, generator=None):
    """Poisson samples (input's dtype) with rates `input` (>= 0)."""
    _check.tensor("poisson", "input", input)
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"poisson(): argument 'input' expected a floating-point tensor of "
                        f"rates, got dtype {x.dtype}")
    if x.size and not x.min() >= 0:
        raise ValueError("poisson(): expected all rates in 'input' to be non-negative")
    return _make(numpy_rng(generator).poisson(x).astype(x.dtype), False, None, 0)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices (int64) drawn from each row of non-negative weights `input` (1-D or
    2-D); without replacement each row's indices are distinct (num_samples <= categories)."""
    _check.tensor("multinomial", "input", input)
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"multinomial(): argument 'input' expected a floating-point tensor, got "
                        f"dtype {x.dtype}")
    _check.ndim("multinomial", "input", x, (1, 2))
    n = _check.integer("multinomial", "num_samples", num_samples, minimum=1)
    w = x.reshape(-1, x.shape[-1]).astype(np.float64)
    if w.size and not (np.isfinite(w).all() and w.min() >= 0):
        raise ValueError("multinomial(): probability tensor contains either `inf`, `nan` or "
                         "element < 0")
    if (w.sum(axis=1) <= 0).any():
        raise ValueError("multinomial(): invalid multinomial distribution (sum of "
                         "probabilities <= 0)")
    if not replacement and n > w.shape[1]:
        raise ValueError(f"multinomial(): cannot sample n_sample ({n}) > prob_dist.size(-1) "
                         f"({w.shape[1]}) samples without replacement")
    rng = numpy_rng(generator)
    if replacement:
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((w.shape[0], n))
        out = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(out, w.shape[1] - 1)
    else:
        # exponential race: the k smallest of E_i / w_i are a draw without replacement
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(w.shape) / w
        out = np.argsort(keys, axis=1, kind="stable")[:, :n]
    return _make(out.astype(int64).reshape(x.shape[:-1] + (n,)), False, None, 0)


# ----------------------------------------------------------------------------- in place
def _fill_(t, op, values):
    _check_inplace(t, op)
    t.data[...] = values
    t._version[0] += 1
    return t


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std^2) samples, in place."""
    if std < 0:
        raise ValueError(f"normal_(): expects std >= 0.0, but found std {std}")
    return _fill_(self, "normal_", numpy_rng(generator).normal(mean, std, self.data.shape))


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fill with samples uniform in [from, to), in place (``from`` also as a keyword)."""
    if kwargs:
        if set(kwargs) != {"from"}:
            raise TypeError(f"uniform_() got an unexpected keyword argument "
                            f"{sorted(set(kwargs) - {'from'})[0]!r}")
        from_ = kwargs["from"]
    if from_ > to:
        raise ValueError(f"uniform_(): expects 'from' <= 'to', but got from={from_} > to={to}")
    return _fill_(self, "uniform_", numpy_rng(generator).uniform(from_, to, self.data.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples, 1 with probability p (a number or a tensor broadcast to self)."""
    prob = p.data if isinstance(p, Tensor) else float(p)
    if np.any(np.asarray(prob) < 0) or np.any(np.asarray(prob) > 1):
        raise ValueError("bernoulli_(): expected probabilities 'p' in [0, 1]")
    return _fill_(self, "bernoulli_", numpy_rng(generator).random(self.data.shape) < prob)


# ----------------------------------------------------------------------------- new_* methods
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    check_device("new_zeros", device)
    return _finish(np.zeros(_size(size), _dtype(dtype, self.data.dtype)), requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    check_device("new_ones", device)
    return _finish(np.ones(_size(size), _dtype(dtype, self.data.dtype)), requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    check_device("new_empty", device)
    return _finish(np.empty(_size(size), _dtype(dtype, self.data.dtype)), requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    check_device("new_full", device)
    shape = _size((size,) if isinstance(size, int) else (size,))
    return _finish(np.full(shape, fill_value, _dtype(dtype, self.data.dtype)), requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """A new leaf copying `data`, with self's dtype unless `dtype` is given."""
    check_device("new_tensor", device)
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data), dtype=as_dtype(dtype) if dtype is not None else
                  self.data.dtype, requires_grad=requires_grad)


for _name in ("normal_", "uniform_", "bernoulli_", "new_zeros", "new_ones", "new_empty",
              "new_full", "new_tensor"):
    setattr(Tensor, _name, globals()[_name])
Tensor.bernoulli = bernoulli
Tensor.multinomial = multinomial
del _name
