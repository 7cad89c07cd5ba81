"""Parameter: a Tensor that a Module registers as a learnable weight (requires_grad by default)."""
import numpy as np

from .._dtypes import admit
from .._tensor import Tensor, _init


class Parameter(Tensor):
    """A leaf Tensor registered by Modules. ``Parameter(t)`` shares ``t``'s array; an ndarray is
    used as is; anything else is copied (Python floats become float32)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        elif isinstance(data, Tensor):
            data = data.data
        elif not isinstance(data, np.ndarray):
            data = np.array(data)
            if data.dtype.kind == "f":
                data = data.astype(np.float32)
        _init(self, admit(data, "Parameter()"), False, None, 0)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
