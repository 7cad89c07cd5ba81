"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d (direct kernels, no im2col).

One Function per direction (``Conv`` and ``ConvTranspose``), each covering 1-D (run as 2-D with
H = 1), 2-D, batched and unbatched inputs, so a layer is one graph node. Geometry is checked in
Python before any kernel runs. The transposed conv reuses the conv kernels: its forward is the
conv's grad-input, its backward the conv's forward and grad-weight.
"""
import numpy as np
from numba import get_num_threads

from ... import _check
from ...autograd.function import Function
from ...kernels import conv as K

__all__ = ["conv1d", "conv2d", "conv2d_act", "conv_transpose1d", "conv_transpose2d"]

_NO_BIAS = {np.dtype(np.float32): np.empty(0, np.float32),
            np.dtype(np.float64): np.empty(0, np.float64)}


# ----------------------------------------------------------------------------- geometry
def _tuple(op, name, v, nsp, minimum):
    """v (an int or a sequence of nsp ints) as a tuple of nsp ints >= minimum."""
    if isinstance(v, (list, tuple)):
        if len(v) != nsp:
            raise ValueError(f"{op}(): argument '{name}' expected an int or {nsp} ints, got "
                             f"{tuple(v)}")
        return tuple(_check.integer(op, name, e, minimum) for e in v)
    return (_check.integer(op, name, v, minimum),) * nsp


def _padding(op, padding, nsp, kernel, dilation, stride):
    """[(lo, hi)] per spatial dim from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}(): padding='same' is not supported for strided "
                                 f"convolutions, got stride={stride}")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return out
        raise ValueError(f"{op}(): argument 'padding' expected an int, a tuple, 'valid' or "
                         f"'same', got {padding!r}")
    return [(p, p) for p in _tuple(op, "padding", padding, nsp, 0)]


def _as4d(op, x, w, nsp):
    """(x, w) as (N, C, H, W) and (O, Cg, KH, KW) arrays, plus whether x was batched."""
    x = _check.float_array(op, "input", x)
    w = _check.float_array(op, "weight", w)
    _check.ndim(op, "input", x, (nsp + 1, nsp + 2))
    _check.ndim(op, "weight", w, nsp + 2)
    _check.same_dtype(op, ("input", "weight"), (x, w))
    batched = x.ndim == nsp + 2
    if not batched:
        x = x[None]
    if nsp == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
    return x, w, batched


def _bias(op, b, n, dtype):
    if b is None:
        return _NO_BIAS[dtype]
    b = _check.float_array(op, "bias", b)
    _check.shape(op, "bias", b, (n,))
    _check.same_dtype(op, ("weight", "bias"), (np.empty(0, dtype), b))
    return b


def _pad(x, ph, pw, Hp, Wp):
    """x (N, C, H, W) inside zeros at (ph, pw), shape (N, C, Hp, Wp); x itself if no padding."""
    if (Hp, Wp) == x.shape[2:] and ph == pw == 0:
        return x
    xp = np.empty(x.shape[:2] + (Hp, Wp), x.dtype)
    K.pad2d(x, xp, ph, pw)
    return xp


def _crop(xp, ph, pw, H, W):
    if xp.shape[2:] == (H, W):
        return xp
    x = np.empty(xp.shape[:2] + (H, W), xp.dtype)
    K.crop2d(xp, x, ph, pw)
    return x


# ----------------------------------------------------------------------------- shared passes
def _plane_grid(Hp, Wp, stride):
    """(Wq, PQ): row length and size of the padded (Hp, Wp) input's phase planes."""
    Hq, Wq = -(-Hp // stride[0]), -(-Wp // stride[1])
    return Wq, Hq * Wq


def _phases(xp, stride):
    """planes = (xq (N, C, sh*sw*PQ), Wq, PQ): the padded input's phase planes (kernels/conv.py
    to_phases: a strided conv's taps read them at unit stride), or xp itself for stride 1."""
    N, C, Hp, Wp = xp.shape
    sh, sw = stride
    Wq, PQ = _plane_grid(Hp, Wp, stride)
    if sh == 1 and sw == 1:
        return xp.reshape(N, C, PQ), Wq, PQ
    xq = np.empty((N, C, sh, sw, PQ // Wq, Wq), xp.dtype)
    K.to_phases(xp, xq, sh, sw)
    return xq.reshape(N, C, -1), Wq, PQ


def _forward(planes, w, b, O, Ho, Wo, stride, dilation, groups, relu=False):
    """out (N, O, Ho, Wo) = conv of the padded input (as its phase planes) with w (+ b)
    (then relu)."""
    xq, Wq, PQ = planes
    out = np.empty((xq.shape[0], O, Ho, Wo), xq.dtype)
    K.conv2d_forward(xq, w, b, out, Wq, PQ, stride[0], stride[1], dilation[0], dilation[1],
                     groups, relu, get_num_threads())
    return out


def _spread(gy, Hp, Wp, KH, KW, stride, dilation, y=None):
    """(G, M): gy (masked by y > 0 when the fused relu output y is given) at unit stride on
    the row length of the padded input's phase planes, after a margin M = the largest
    in-plane tap offset (see kernels/conv.py)."""
    N, O = gy.shape[:2]
    Wq, PQ = _plane_grid(Hp, Wp, stride)
    M = ((KH - 1) * dilation[0] // stride[0]) * Wq + (KW - 1) * dilation[1] // stride[1]
    G = np.empty((N, O, PQ + M), gy.dtype)
    K.spread(gy, gy if y is None else y, G, Wq, M, y is not None)
    return G, M


def _grad_input(G, M, w, N, C, Hp, Wp, stride, dilation, groups):
    """The padded input's gradient (N, C, Hp, Wp) from the spread output gradient."""
    sh, sw = stride
    Wq, PQ = _plane_grid(Hp, Wp, stride)
    gxq = np.empty((N, C, sh, sw, PQ // Wq, Wq), G.dtype)
    K.conv2d_grad_input(G, w, gxq.reshape(N, C, -1), Wq, PQ, sh, sw, dilation[0], dilation[1],
                        groups, M, get_num_threads())
    if sh == 1 and sw == 1:
        return gxq.reshape(N, C, Hp, Wp)
    gxp = np.empty((N, C, Hp, Wp), G.dtype)
    K.from_phases(gxq, gxp)
    return gxp


def _grad_weight(planes, G, M, wshape, Ho, Wo, stride, dilation, groups):
    """The weight gradient from the padded input's phase planes and the spread output
    gradient."""
    xq, Wq, PQ = planes
    gw = np.empty(wshape, xq.dtype)
    K.conv2d_grad_weight(xq, G, gw, Wq, PQ, stride[0], stride[1], dilation[0], dilation[1],
                         groups, M, (Ho - 1) * Wq + Wo)
    return gw


def _grad_bias(gy):
    N, O = gy.shape[:2]
    gb = np.empty(O, gy.dtype)
    K.conv_grad_bias(gy.reshape(N, O, -1), gb)  # G works too: its extra entries are zeros
    return gb


def _shape_back(a, nsp, batched):
    if nsp == 1:
        a = a[:, :, 0, :]
    return a if batched else a[0]


# ----------------------------------------------------------------------------- conv
def _grad_4d(g, nsp, batched):
    g = _check.float_array("conv", "grad", g)
    if not batched:
        g = g[None]
    return g[:, :, None, :] if nsp == 1 else g


def _weight_back(gw, nsp):
    return gw[:, :, 0, :] if nsp == 1 else gw


class Conv(Function):
    """y = conv(x, w) + b over NCHW (1-D as H = 1), then relu if asked (fused: the mask is
    applied while spreading the gradient); padding is (lo, hi) per spatial dim."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups, nsp, op, relu=False):
        x, w, batched = _as4d(op, x, w, nsp)
        N, C, H, W = x.shape
        O, Cg, KH, KW = w.shape
        if O % groups:
            raise ValueError(f"{op}(): argument 'weight' expected out_channels (its first "
                             f"dimension) divisible by groups={groups}, got {O}")
        if C != Cg * groups:
            shown = tuple(x.shape) if nsp == 2 else (N, C, W)
            raise ValueError(f"{op}(): argument 'input' expected {Cg * groups} channels "
                             f"(weight of shape {_weight_back(w, nsp).shape} with "
                             f"groups={groups}), got {C} channels (input of shape {shown})")
        b = _bias(op, b, O, x.dtype)
        (ph0, ph1), (pw0, pw1) = padding
        Hp, Wp = H + ph0 + ph1, W + pw0 + pw1
        eh, ew = dilation[0] * (KH - 1) + 1, dilation[1] * (KW - 1) + 1
        if eh > Hp or ew > Wp:
            size, ks = ((Hp, Wp), (eh, ew)) if nsp == 2 else ((Wp,), (ew,))
            raise ValueError(f"{op}(): argument 'weight' expected a (dilated) kernel size of "
                             f"at most the padded input size {size}, got {ks}")
        Ho, Wo = (Hp - eh) // stride[0] + 1, (Wp - ew) // stride[1] + 1
        xp = _pad(x, ph0, pw0, Hp, Wp)
        out = _forward(_phases(xp, stride), w, b, O, Ho, Wo, stride, dilation, groups, relu)
        need = ctx.needs_input_grad
        ctx.geo = (stride, dilation, groups, ph0, pw0, H, W, Hp, Wp, nsp, batched)
        y = _shape_back(out, nsp, batched)
        # xp, not its phase planes: it may be the input's own array, whose version backward
        # then checks (the planes are split again there)
        ctx.save_for_backward(xp if need[1] else None, w if need[0] else None,
                              y if relu else None)
        ctx.wshape = w.shape
        ctx.relu = relu
        return y

    @staticmethod
    def backward(ctx, g):
        xp, w, y = ctx.saved_tensors
        stride, dilation, groups, ph0, pw0, H, W, Hp, Wp, nsp, batched = ctx.geo
        need = ctx.needs_input_grad
        g = _grad_4d(g, nsp, batched)
        N, O, Ho, Wo = g.shape
        KH, KW = ctx.wshape[2:]
        C = ctx.wshape[1] * groups
        gx = gw = None
        y = None if y is None else _grad_4d(y, nsp, batched)
        G, M = _spread(g, Hp, Wp, KH, KW, stride, dilation, y)
        if need[0]:
            gxp = _grad_input(G, M, w, N, C, Hp, Wp, stride, dilation, groups)
            gx = _shape_back(_crop(gxp, ph0, pw0, H, W), nsp, batched)
        if need[1]:
            gw = _weight_back(_grad_weight(_phases(xp, stride), G, M, ctx.wshape, Ho, Wo, stride, dilation,
                                           groups), nsp)
        gb = _grad_bias(G) if need[2] else None
        return gx, gw, gb, None, None, None, None, None, None, None

    @classmethod
    def name_of(cls, ctx):
        return "convolution_relu" if ctx.relu else "convolution"


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b: the conv grad-input of x with w (in, out/groups, kh, kw)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups, nsp, op):
        x, w, batched = _as4d(op, x, w, nsp)
        N, Ci, H, W = x.shape
        Cin, Cog, KH, KW = w.shape
        if Cin % groups:
            raise ValueError(f"{op}(): argument 'weight' expected in_channels (its first "
                             f"dimension) divisible by groups={groups}, got {Cin}")
        if Ci != Cin:
            shown = tuple(x.shape) if nsp == 2 else (N, Ci, W)
            raise ValueError(f"{op}(): argument 'input' expected {Cin} channels (weight of "
                             f"shape {_weight_back(w, nsp).shape}), got {Ci} channels (input "
                             f"of shape {shown})")
        Co = Cog * groups
        b = _bias(op, b, Co, x.dtype)
        for s, d, o in zip(stride, dilation, output_padding):
            if o >= s and o >= d:
                raise ValueError(f"{op}(): argument 'output_padding' expected values smaller "
                                 f"than either stride or dilation, got output_padding="
                                 f"{output_padding[2 - nsp:]}, stride={stride[2 - nsp:]}, "
                                 f"dilation={dilation[2 - nsp:]}")
        ph, pw = padding
        Ho = (H - 1) * stride[0] - 2 * ph + dilation[0] * (KH - 1) + output_padding[0] + 1
        Wo = (W - 1) * stride[1] - 2 * pw + dilation[1] * (KW - 1) + output_padding[1] + 1
        if Ho <= 0 or Wo <= 0:
            size = (Ho, Wo) if nsp == 2 else (Wo,)
            raise ValueError(f"{op}(): argument 'input' of shape {tuple(x.shape)} gives an "
                             f"output of size {size}: expected every size positive")
        Hp, Wp = Ho + 2 * ph, Wo + 2 * pw
        G, M = _spread(x, Hp, Wp, KH, KW, stride, dilation)
        yp = _grad_input(G, M, w, N, Co, Hp, Wp, stride, dilation, groups)
        y = _crop(yp, ph, pw, Ho, Wo)
        if b.size:
            y += b.reshape(1, Co, 1, 1)
        need = ctx.needs_input_grad
        ctx.geo = (stride, dilation, groups, ph, pw, Hp, Wp, nsp, batched)
        ctx.save_for_backward(x if need[1] else None, w if need[0] else None)
        ctx.wshape = w.shape
        ctx.xshape = x.shape
        return _shape_back(y, nsp, batched)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, dilation, groups, ph, pw, Hp, Wp, nsp, batched = ctx.geo
        need = ctx.needs_input_grad
        g = _grad_4d(g, nsp, batched)
        N, Ci, H, W = ctx.xshape
        gx = gw = gb = None
        if need[0] or need[1]:
            planes = _phases(_pad(g, ph, pw, Hp, Wp), stride)
            if need[0]:
                gx = _shape_back(_forward(planes, w, _NO_BIAS[g.dtype], Ci, H, W, stride,
                                          dilation, groups), nsp, batched)
            if need[1]:
                KH, KW = ctx.wshape[2:]  # the spread input plays the conv's output gradient
                G, M = _spread(x, Hp, Wp, KH, KW, stride, dilation)
                gw = _weight_back(_grad_weight(planes, G, M, ctx.wshape, H, W, stride,
                                               dilation, groups), nsp)
        if need[2]:
            gb = _grad_bias(g)
        return gx, gw, gb, None, None, None, None, None, None, None

    @classmethod
    def name_of(cls, ctx):
        return "convolution_transpose"


# ----------------------------------------------------------------------------- public
def _conv(op, nsp, input, weight, bias, stride, padding, dilation, groups, relu=False):
    _check.tensor(op, "input", input)
    _check.tensor(op, "weight", weight)
    k = tuple(weight.shape[2:]) if weight.ndim == nsp + 2 else (1,) * nsp
    stride = _tuple(op, "stride", stride, nsp, 1)
    dilation = _tuple(op, "dilation", dilation, nsp, 1)
    groups = _check.integer(op, "groups", groups, 1)
    pad = _padding(op, padding, nsp, k, dilation, stride)
    if nsp == 1:
        stride, dilation, pad = (1,) + stride, (1,) + dilation, [(0, 0)] + pad
    return Conv.apply(input, weight, bias, stride, pad, dilation, groups, nsp, op, relu)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) or (C, H, W) input with weight
    (out_channels, in_channels/groups, kH, kW) (torch.nn.functional.conv2d)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv2d_act(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
               activation=None):
    """activation(conv2d(...)) as one graph node: the relu runs in the conv's output pass and
    its mask in the gradient's spread pass. `activation`: None or 'relu'. Fused op: checked
    against ``F.relu(F.conv2d(...))`` in the op table (Sequential uses it for Conv2d, ReLU)."""
    if activation not in (None, "relu"):
        raise ValueError(f"conv2d_act(): argument 'activation' expected None or 'relu', got "
                         f"{activation!r}")
    return _conv("conv2d_act", 2, input, weight, bias, stride, padding, dilation, groups,
                 activation == "relu")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) or (C, L) input with weight (out_channels,
    in_channels/groups, kW) (torch.nn.functional.conv1d)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(op, nsp, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check.tensor(op, "input", input)
    _check.tensor(op, "weight", weight)
    stride = _tuple(op, "stride", stride, nsp, 1)
    padding = _tuple(op, "padding", padding, nsp, 0)
    output_padding = _tuple(op, "output_padding", output_padding, nsp, 0)
    dilation = _tuple(op, "dilation", dilation, nsp, 1)
    groups = _check.integer(op, "groups", groups, 1)
    if nsp == 1:
        stride, padding = (1,) + stride, (0,) + padding
        output_padding, dilation = (0,) + output_padding, (1,) + dilation
    return ConvTranspose.apply(input, weight, bias, stride, padding, output_padding, dilation,
                               groups, nsp, op)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution, weight (in_channels, out_channels/groups, kH, kW)
    (torch.nn.functional.conv_transpose2d)."""
    return _conv_t("conv_transpose2d", 2, input, weight, bias, stride, padding,
                   output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution, weight (in_channels, out_channels/groups, kW)
    (torch.nn.functional.conv_transpose1d)."""
    return _conv_t("conv_transpose1d", 1, input, weight, bias, stride, padding,
                   output_padding, groups, dilation)
