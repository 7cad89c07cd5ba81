"""gradcheck: compare autograd's gradients with central finite differences, in float64.

The check contracts the outputs with a fixed random (non-uniform) upstream gradient ``v``, so
each input's analytic ``v^T J`` is compared with finite differences of ``<v, f(x)>``: element
by element for inputs up to ``max_full`` elements, along random directions beyond that.
"""
import numpy as np

from .._tensor import Tensor, _make
from .._grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def _as_float64_leaf(x):
    data = x.data if x.data.dtype == np.float64 else x.data.astype(np.float64)
    return _make(data, True, None, 0)


def _worst(a, n):
    """Index (a tuple of ints) of the largest |analytic - numeric| difference."""
    return tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(a - n)), np.shape(a)))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_full=200, n_directions=8,
              seed=0):
    """True if every differentiable input's gradient matches finite differences; otherwise
    raise GradcheckError naming the input and showing analytic vs numeric values."""
    from . import grad as autograd_grad
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    flagged = [isinstance(x, Tensor) and x._requires_grad for x in inputs]
    floating = [isinstance(x, Tensor) and x.data.dtype.kind == "f" for x in inputs]
    diff = flagged if any(flagged) else floating
    if not any(diff):
        raise ValueError("gradcheck: no floating-point Tensor input to differentiate")
    args = [_as_float64_leaf(x) if d else x for x, d in zip(inputs, diff)]
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, args)
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point Tensor output")
    vs = [rng.uniform(0.5, 1.5, o.data.shape) * rng.choice([-1.0, 1.0], o.data.shape)
          for o in outs]
    wanted = [a for a, d in zip(args, diff) if d]
    live = [o for o in outs if o._requires_grad]
    if live:
        grads = autograd_grad(live, wanted, [v for o, v in zip(outs, vs) if o._requires_grad],
                              allow_unused=True)
    else:
        grads = (None,) * len(wanted)

    def objective():
        with no_grad():
            return sum(float(np.sum(o.data.astype(np.float64) * v))
                       for o, v in zip(_outputs(fn, args), vs))

    for pos, (x, g) in enumerate(zip(wanted, grads)):
        index = [i for i, d in enumerate(diff) if d][pos]
        analytic = np.zeros(x.data.shape) if g is None else np.asarray(g.data, np.float64)
        data = x.data
        if data.size <= max_full:
            numeric = np.zeros(data.shape)
            flat_idx = list(np.ndindex(data.shape)) if data.ndim else [()]
            for idx in flat_idx:
                orig = data[idx]
                data[idx] = orig + eps
                fp = objective()
                data[idx] = orig - eps
                fm = objective()
                data[idx] = orig
                numeric[idx] = (fp - fm) / (2 * eps)
            a, n = analytic, numeric
        else:
            dirs = rng.standard_normal((n_directions,) + data.shape)
            orig = data.copy()
            n = np.empty(n_directions)
            for k in range(n_directions):
                data[...] = orig + eps * dirs[k]
                fp = objective()
                data[...] = orig - eps * dirs[k]
                fm = objective()
                n[k] = (fp - fm) / (2 * eps)
            data[...] = orig
            a = np.array([np.sum(analytic * d) for d in dirs])
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
        if np.any(bad):
            where = "element-wise" if data.size <= max_full else "along random directions"
            raise GradcheckError(
                f"gradcheck: Jacobian mismatch for input {index} (shape {data.shape}), compared "
                f"{where}; worst at {_worst(a, n)}:\n"
                f"analytic:\n{a}\nnumeric:\n{n}")
    return True
