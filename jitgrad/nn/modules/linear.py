"""Identity, Linear, Dense (Linear with a built-in, fused activation), Flatten, Unflatten,
Bilinear."""
import math

import numpy as np

from ..._device import check_device
from ..._dtypes import as_dtype
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _float_dtype(dtype, layer, device=None):
    """A layer's parameter dtype (float32 by default); `device` must name the CPU."""
    check_device(layer, device)
    d = np.dtype(np.float32) if dtype is None else as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"{layer}: dtype must be float32 or float64, got {d}")
    return d


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features); any leading
    dimensions. Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight,
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for the bias."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        d = _float_dtype(dtype, "Linear", device)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), d))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


_FUSED = ("relu", "tanh", "sigmoid")  # run inside the GEMM node by F.linear_act


class Dense(Linear):
    """Keras-style Linear with a built-in activation: a name ('relu', 'tanh', 'sigmoid' run
    fused in the GEMM epilogue; any other name of a jitgrad.nn.functional function, e.g.
    'gelu', is applied after), a callable, or a Module. Same parameters as Linear."""

    def __init__(self, in_features, out_features, bias=True, activation=None, device=None,
                 dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self._act = None
        self._act_fn = None
        self._act_name = None
        if activation is None or activation == "linear":
            pass
        elif isinstance(activation, str):
            if activation in _FUSED:
                self._act = activation
            else:
                fn = getattr(F, activation, None)
                if fn is None or not callable(fn) or activation.startswith("_"):
                    raise ValueError(f"Dense: unknown activation {activation!r} (a name from "
                                     f"jitgrad.nn.functional such as 'relu', 'tanh', "
                                     f"'sigmoid', 'gelu', a callable, or a Module)")
                self._act_fn = fn
            self._act_name = activation
        elif isinstance(activation, Module):
            self.activation = activation
        elif callable(activation):
            self._act_fn = activation
            self._act_name = getattr(activation, "__name__", repr(activation))
        else:
            raise TypeError(f"Dense: activation must be a name, a callable or a Module, got "
                            f"{type(activation).__name__}")

    def forward(self, input):
        y = F.linear_act(input, self.weight, self.bias, self._act)
        if self._act_fn is not None:
            return self._act_fn(y)
        act = self._modules.get("activation")
        return y if act is None else act(y)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", activation={self._act_name!r}" if self._act_name else "")


class Flatten(Module):
    """Flatten dimensions start_dim..end_dim into one (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dimension `dim` into the shape `unflattened_size` (one entry may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input):
        shape = input.shape
        d = self.dim + input.ndim if self.dim < 0 else self.dim
        if not 0 <= d < input.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} out of range for a {input.ndim}-D "
                             f"input")
        sizes = self.unflattened_size
        known = int(np.prod([s for s in sizes if s != -1]))
        if sizes.count(-1) > 1 or (-1 not in sizes and known != shape[d]) or \
                (-1 in sizes and (known == 0 or shape[d] % known)):
            raise ValueError(f"Unflatten: unflattened_size {sizes} does not match size "
                             f"{shape[d]} of dimension {self.dim}")
        return input.reshape(shape[:d] + sizes + shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """y = x1^T A x2 + b: weight (out_features, in1_features, in2_features), bias
    (out_features,), both U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        d = _float_dtype(dtype, "Bilinear", device)
        self.in1_features = int(in1_features)
        self.in2_features = int(in2_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in1_features,
                                          self.in2_features), d))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
