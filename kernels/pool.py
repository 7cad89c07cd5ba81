"""Max and average pooling over (P, H, W) planes (P = batch x channels), forward and backward.

A window is given per output row and per output column by its first input index and its tap
count (``hs, hn`` and ``ws, wn``, int64 arrays computed by the caller), with a dilation step:
that one description covers max_pool2d / avg_pool2d (fixed windows, padding, ceil_mode) and
the adaptive pools (PyTorch's start/end index formulas), 1-D pools being planes of height 1.
Max pooling skips taps outside the input (implicit -inf padding) and keeps the first maximum in
scan order, NaN winning, exactly as PyTorch's CPU kernel (``val > max or isnan(val)``); the
argmax (flat index into the input plane) is saved for backward. Average pooling windows are
clamped to the input by the caller; ``scale[oh, ow]`` is 1 / divisor.

Parallel over planes (disjoint outputs), serial below PAR_MIN window taps: the loop is cut into
one chunk (serial) or one chunk per plane, so one loop body is compiled, not a serial and a
parallel copy.
"""
import numpy as np
from numba import prange

from ._jit import kernel

PAR_MIN = 1 << 15  # window taps below which a pooling kernel runs on one thread


@kernel
def _chunks(work, tasks):
    """How many chunks a parallel loop over `tasks` planes is cut into: one below PAR_MIN
    (serial), else one per plane (the threads share them out)."""
    return 1 if work < PAR_MIN else max(tasks, 1)


@kernel
def _max_plane(x, p, hs, hn, dh, ws, wn, dw, out, idx):
    H, W = x.shape[1], x.shape[2]
    xp = x[p]
    for oh in range(out.shape[1]):
        h0 = hs[oh]
        h1 = min(h0 + (hn[oh] - 1) * dh + 1, H)
        while h0 < 0:
            h0 += dh
        for ow in range(out.shape[2]):
            w0 = ws[ow]
            w1 = min(w0 + (wn[ow] - 1) * dw + 1, W)
            while w0 < 0:
                w0 += dw
            best = -np.inf
            arg = h0 * W + w0
            if dh == 1 and dw == 1:  # unit steps: plain ranges LLVM can unroll
                for ih in range(h0, h1):
                    r = xp[ih]
                    for iw in range(w0, w1):
                        v = r[iw]
                        if v > best or v != v:
                            best = v
                            arg = ih * W + iw
            else:
                for ih in range(h0, h1, dh):
                    r = xp[ih]
                    for iw in range(w0, w1, dw):
                        v = r[iw]
                        if v > best or v != v:
                            best = v
                            arg = ih * W + iw
            out[p, oh, ow] = best
            idx[p, oh, ow] = arg


@kernel(parallel=True)
def max_pool_forward(x, hs, hn, dh, ws, wn, dw, out, idx):
    """out[p, oh, ow] = max over the window's in-bounds taps; idx = its flat index ih*W + iw."""
    P = x.shape[0]
    nch = _chunks(out.size * (hn.max() if hn.size else 0) * (wn.max() if wn.size else 0), P)
    for ch in prange(nch):
        for p in range(ch * P // nch, (ch + 1) * P // nch):
            _max_plane(x, p, hs, hn, dh, ws, wn, dw, out, idx)


@kernel
def _max2x2_plane(x, p, out, idx):
    W = x.shape[2]
    for oh in range(out.shape[1]):
        r0, r1 = x[p, 2 * oh], x[p, 2 * oh + 1]
        orow, irow = out[p, oh], idx[p, oh]
        i0 = 2 * oh * W
        for ow in range(out.shape[2]):
            j = 2 * ow
            best = r0[j]
            arg = i0 + j
            v = r0[j + 1]
            t = (v > best) | (v != v)
            best = v if t else best
            arg = i0 + j + 1 if t else arg
            v = r1[j]
            t = (v > best) | (v != v)
            best = v if t else best
            arg = i0 + W + j if t else arg
            v = r1[j + 1]
            t = (v > best) | (v != v)
            best = v if t else best
            arg = i0 + W + j + 1 if t else arg
            orow[ow] = best
            irow[ow] = arg


@kernel(parallel=True)
def max_pool2x2_forward(x, out, idx):
    """The common 2x2, stride 2, unpadded window, unrolled: out = max of the four taps, idx the
    first maximum in scan order (NaN wins), as max_pool_forward."""
    P = x.shape[0]
    nch = _chunks(out.size * 4, P)
    for ch in prange(nch):
        for p in range(ch * P // nch, (ch + 1) * P // nch):
            _max2x2_plane(x, p, out, idx)


@kernel(parallel=True)
def max_pool_backward(gy, idx, gx):
    """gx[p, idx[p, k]] += gy[p, k] (gx: (P, H*W) overwritten; gy, idx: (P, Ho*Wo))."""
    P = gx.shape[0]
    nch = _chunks(gx.size, P)
    for ch in prange(nch):
        for p in range(ch * P // nch, (ch + 1) * P // nch):
            gx[p, :] = 0
            for k in range(gy.shape[1]):
                gx[p, idx[p, k]] += gy[p, k]


@kernel
def _avg_plane(x, p, hs, hn, ws, wn, scale, out):
    xp = x[p]
    for oh in range(out.shape[1]):
        h0, h1 = hs[oh], hs[oh] + hn[oh]
        for ow in range(out.shape[2]):
            w0, w1 = ws[ow], ws[ow] + wn[ow]
            s = out.dtype.type(0)
            for ih in range(h0, h1):
                r = xp[ih]
                for iw in range(w0, w1):
                    s += r[iw]
            out[p, oh, ow] = s * scale[oh, ow]


@kernel(parallel=True)
def avg_pool_forward(x, hs, hn, ws, wn, scale, out):
    """out[p, oh, ow] = scale[oh, ow] * sum of x[p] over rows hs..hs+hn, columns ws..ws+wn."""
    P = x.shape[0]
    nch = _chunks(out.size * (hn.max() if hn.size else 0) * (wn.max() if wn.size else 0), P)
    for ch in prange(nch):
        for p in range(ch * P // nch, (ch + 1) * P // nch):
            _avg_plane(x, p, hs, hn, ws, wn, scale, out)


@kernel
def _avg_plane_back(gy, p, hs, hn, ws, wn, scale, gx):
    gp = gx[p]
    gp[:, :] = 0
    for oh in range(gy.shape[1]):
        h0, h1 = hs[oh], hs[oh] + hn[oh]
        for ow in range(gy.shape[2]):
            w0, w1 = ws[ow], ws[ow] + wn[ow]
            g = gy[p, oh, ow] * scale[oh, ow]
            for ih in range(h0, h1):
                r = gp[ih]
                for iw in range(w0, w1):
                    r[iw] += g
    return


@kernel(parallel=True)
def avg_pool_backward(gy, hs, hn, ws, wn, scale, gx):
    """gx[p, window(oh, ow)] += gy[p, oh, ow] * scale[oh, ow] (gx overwritten)."""
    P = gx.shape[0]
    nch = _chunks(gx.size, P)
    for ch in prange(nch):
        for p in range(ch * P // nch, (ch + 1) * P // nch):
            _avg_plane_back(gy, p, hs, hn, ws, wn, scale, gx)
