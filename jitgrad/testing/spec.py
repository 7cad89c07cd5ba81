"""OpSpec: how to call an op, its NumPy reference, and the sample inputs it is checked on."""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np


@dataclass
class Case:
    """One sample call: input shapes (or arrays) plus keyword arguments.

    ``shapes`` entries are tuples (a random float array of that shape is drawn), ndarrays (used
    as given, e.g. indices), or Python scalars. ``layout`` may be 'transposed' or 'sliced' to
    feed non-contiguous versions of the float inputs. ``diff`` lists the positions to
    gradcheck (default: every float array input)."""
    shapes: Sequence
    kwargs: dict = field(default_factory=dict)
    layout: str = "contiguous"
    diff: Optional[Sequence[int]] = None
    name: str = ""


@dataclass
class OpSpec:
    name: str                       # public name, e.g. "add" (jitgrad.<name> / Tensor.<name>)
    fn: Callable                    # (*tensors, **kwargs) -> Tensor or tuple of Tensors
    ref: Callable                   # (*ndarrays, **kwargs) -> ndarray or tuple, plain NumPy
    cases: Sequence[Case]
    low: float = -2.0               # sample range for random inputs
    high: float = 2.0
    avoid: Optional[Callable] = None  # (ndarray) -> bool mask of points to avoid (kinks)
    grad: bool = True               # False for non-differentiable ops (argmax, comparisons)
    atol32: float = 1e-5
    rtol32: float = 1e-4


def make_inputs(spec, case, dtype, rng):
    """Materialise a case's inputs as NumPy arrays/scalars of `dtype` (non-contiguous if asked)."""
    out = []
    for s in case.shapes:
        if isinstance(s, tuple):
            x = rng.uniform(spec.low, spec.high, s)
            if spec.avoid is not None:
                bad = spec.avoid(x)
                while np.any(bad):
                    x[bad] = rng.uniform(spec.low, spec.high, int(np.sum(bad)))
                    bad = spec.avoid(x)
            x = x.astype(dtype)
            if case.layout == "transposed" and x.ndim >= 2:
                x = np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2)
            elif case.layout == "sliced" and x.ndim >= 1:
                big = np.repeat(x, 2, axis=-1)
                big[..., 0::2] = x
                x = big[..., 0::2]
            out.append(x)
        else:
            out.append(s)
    return out
