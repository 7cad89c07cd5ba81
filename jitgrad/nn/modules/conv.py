"""Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d: PyTorch's arguments, parameter names,
shapes and default initialisation; they call the public functionals only.

Bad geometry raises before any kernel runs, with the layer named in front of the functional's
message (which names the argument, the expected and the actual value)."""
import math

import numpy as np

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _float_dtype
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(layer, name, v, n):
    t = tuple(v) if isinstance(v, (list, tuple)) else (v,) * n
    if len(t) != n or any(isinstance(e, bool) or not isinstance(e, (int, np.integer))
                          for e in t):
        raise TypeError(f"{layer}: argument '{name}' expected an int or {n} ints, got {v!r}")
    return tuple(int(e) for e in t)


class _ConvNd(Module):
    """Shared constructor, init and checks; subclasses set _nsp, _transposed and forward."""

    _nsp = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        layer, n = type(self).__name__, self._nsp
        if padding_mode != "zeros":
            raise NotImplementedError(f"{layer}: argument 'padding_mode' expected 'zeros' "
                                      f"(the only mode supported), got {padding_mode!r}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: argument 'groups' expected a positive divisor of "
                             f"in_channels={in_channels} and out_channels={out_channels}, "
                             f"got {groups}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(layer, "kernel_size", kernel_size, n)
        self.stride = _ntuple(layer, "stride", stride, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(f"{layer}: argument 'padding' expected an int or a tuple"
                                 f"{'' if self._transposed else ', or valid or same'}, got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' is not supported for strided "
                                 f"convolutions, got stride={self.stride}")
            self.padding = padding
        else:
            self.padding = _ntuple(layer, "padding", padding, n)
        self.dilation = _ntuple(layer, "dilation", dilation, n)
        self.output_padding = _ntuple(layer, "output_padding", output_padding, n)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        d = _float_dtype(dtype, layer, device)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, d))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in
        # from weight.shape[1:] (for the transposed weight too, as PyTorch does)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = int(np.prod(self.weight.shape[1:]))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{type(self).__name__}({self.extra_repr()}): {e}") from None

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._nsp:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nsp:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nsp:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W); weight (out, in/groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        return self._call(F.conv2d, input, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)

    def _forward_act(self, input, activation):
        """forward followed by `activation` ('relu'), fused (Sequential uses it)."""
        return self._call(F.conv2d_act, input, self.weight, self.bias, self.stride,
                          self.padding, self.dilation, self.groups, activation)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L); weight (out, in/groups, kW)."""

    _nsp = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        return self._call(F.conv1d, input, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution; weight (in, out/groups, kH, kW)."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input):
        return self._call(F.conv_transpose2d, input, self.weight, self.bias, self.stride,
                          self.padding, self.output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvNd):
    """1-D transposed convolution; weight (in, out/groups, kW)."""

    _nsp = 1
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input):
        return self._call(F.conv_transpose1d, input, self.weight, self.bias, self.stride,
                          self.padding, self.output_padding, self.groups, self.dilation)
