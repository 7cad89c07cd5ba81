"""Direct 2-D convolution over NCHW arrays: forward, grad-input, grad-weight, grad-bias.

No im2col. The caller zero-pads the input once (``xp``: an input-sized copy, or the input
itself when there is no padding) and passes planes flattened to (N, C, Hp*Wp); weights are
(O, C/groups, KH, KW); geometry comes as ints, so one compiled kernel per role and dtype serves
every shape (1-D convs run with H = 1).

"Wide" rows: with stride 1, output (i, j) reads xp at flat p + off(kh, kw), p = i*Wp + j,
off = kh*dh*Wp + kw*dw. Computing every p in [0, (Ho-1)*Wp + Wo) (the Wp - Wo columns past
each row's end are junk, dropped when copied out) turns each tap into one long contiguous
loop instead of Ho short ones: on 13x13 planes that was ~4x faster. The backward passes use the
same trick on the output gradient spread onto the padded grid (``spread``: gy[i, j] at
M + i*sh*Wp + j*sw, zeros elsewhere, M = the largest tap offset): grad-weight is then a dot
product per tap and grad-input a gather, gxp[q] = sum w * G[q + M - off], for any stride
(stride s computes on s*s times the positions, most of them zeros). A 3-tap row (KW == 3) is
unrolled so each accumulator is loaded and stored once per three multiply-adds.

Parallel loops: forward over (batch, output channel) planes, grad-input over (batch, input
channel) planes (disjoint writes), grad-weight over output channels; below PAR_MIN
multiply-adds the same loops run serially (thread wake-up costs more than it saves).
"""
import numpy as np
from numba import prange

from ._jit import kernel

PAR_MIN = 1 << 17  # multiply-adds below which a conv kernel runs on one thread


@kernel
def _chunks(work, tasks):
    """How many chunks a parallel loop over `tasks` disjoint tasks is cut into: one below
    PAR_MIN (serial), else one per task (the threads share them out)."""
    return 1 if work < PAR_MIN else max(tasks, 1)


@kernel
def _fwd_wide(xp, w, s, n, o, c0, Wp, dh, dw, L, bias):
    """s[p] = bias + sum_{c, kh, kw} w[o, c, kh, kw] xp[n, c0 + c, p + kh*dh*Wp + kw*dw], p < L."""
    Cg, KH, KW = w.shape[1], w.shape[2], w.shape[3]
    for p in range(L):
        s[p] = bias
    for ci in range(Cg):
        xf = xp[n, c0 + ci]
        if KH == 3 and KW == 3:  # all nine taps per pass over s (one view per tap)
            a = w[o, ci]
            a00, a01, a02, a10, a11, a12 = a[0, 0], a[0, 1], a[0, 2], a[1, 0], a[1, 1], a[1, 2]
            a20, a21, a22 = a[2, 0], a[2, 1], a[2, 2]
            r1, r2 = dh * Wp, 2 * dh * Wp
            x00, x01, x02 = xf[0:], xf[dw:], xf[2 * dw:]
            x10, x11, x12 = xf[r1:], xf[r1 + dw:], xf[r1 + 2 * dw:]
            x20, x21, x22 = xf[r2:], xf[r2 + dw:], xf[r2 + 2 * dw:]
            for p in range(L):
                s[p] += (a00 * x00[p] + a01 * x01[p] + a02 * x02[p]
                         + a10 * x10[p] + a11 * x11[p] + a12 * x12[p]
                         + a20 * x20[p] + a21 * x21[p] + a22 * x22[p])
            continue
        for kh in range(KH):
            base = kh * dh * Wp
            if KW == 3:
                w0, w1, w2 = w[o, ci, kh, 0], w[o, ci, kh, 1], w[o, ci, kh, 2]
                x0, x1, x2 = xf[base:], xf[base + dw:], xf[base + 2 * dw:]
                for p in range(L):
                    s[p] += w0 * x0[p] + w1 * x1[p] + w2 * x2[p]
            else:
                for kw in range(KW):
                    wv = w[o, ci, kh, kw]
                    xs = xf[base + kw * dw:]
                    for p in range(L):
                        s[p] += wv * xs[p]


@kernel
def _fwd_rows(xp, w, out, n, o, c0, Wp, sh, sw, dh, dw, bias):
    """out[n, o, i*Wo + j] = bias + sum w[o, c, kh, kw] xp[n, c0 + c, (i*sh + kh*dh)*Wp + j*sw + kw*dw]."""
    Cg, KH, KW = w.shape[1], w.shape[2], w.shape[3]
    Ho, Wo = out.shape[2], out.shape[3]
    plane = out[n, o]
    for i in range(Ho):
        for j in range(Wo):
            plane[i, j] = bias
    for ci in range(Cg):
        xf = xp[n, c0 + ci]
        for kh in range(KH):
            for kw in range(KW):
                wv = w[o, ci, kh, kw]
                for i in range(Ho):
                    xr = xf[(i * sh + kh * dh) * Wp + kw * dw:]
                    row = plane[i]
                    for j in range(Wo):
                        row[j] += wv * xr[j * sw]


@kernel
def _fwd_plane(xp, w, out, s, n, o, c0, Wp, sh, sw, dh, dw, bias, relu):
    Ho, Wo = out.shape[2], out.shape[3]
    plane = out[n, o]
    if sh == 1 and sw == 1:
        L = (Ho - 1) * Wp + Wo
        _fwd_wide(xp, w, s, n, o, c0, Wp, dh, dw, L, bias)
        for i in range(Ho):
            row = plane[i]
            src = s[i * Wp:]
            if relu:
                for j in range(Wo):
                    v = src[j]
                    row[j] = v if (v > 0 or v != v) else 0
            else:
                for j in range(Wo):
                    row[j] = src[j]
    else:
        _fwd_rows(xp, w, out, n, o, c0, Wp, sh, sw, dh, dw, bias)
        if relu:
            for i in range(Ho):
                row = plane[i]
                for j in range(Wo):
                    v = row[j]
                    row[j] = v if (v > 0 or v != v) else 0


@kernel(parallel=True)
def conv2d_forward(xp, w, b, out, Wp, sh, sw, dh, dw, groups, relu, nthreads):
    """out[n, o, i, j] = b[o] + sum w[o, c, kh, kw] xp[n, g*Cg + c, (i*sh + kh*dh)*Wp + j*sw + kw*dw],
    then max(out, 0) if relu (xp: (N, C, Hp*Wp); b of size 0: no bias). The planes are split
    into nthreads chunks, each with its own wide-row scratch."""
    N, O, Ho, Wo = out.shape
    Cg, Og = w.shape[1], O // groups
    has_b = b.size > 0
    zero = out.dtype.type(0)
    T = N * O
    nch = max(1, min(nthreads if out.size * w[0].size >= PAR_MIN else 1, T))
    scratch = np.empty((nch, (Ho - 1) * Wp + Wo), out.dtype)
    for ch in prange(nch):
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            n, o = t // O, t % O
            _fwd_plane(xp, w, out, scratch[ch], n, o, (o // Og) * Cg, Wp, sh, sw, dh, dw,
                       b[o] if has_b else zero, relu)


@kernel
def spread(gy, y, G, Wp, sh, sw, M, relu):
    """G[n, o, M + i*sh*Wp + j*sw] = gy[n, o, i, j] (times [y > 0] if relu, y the fused
    conv + relu output), zeros elsewhere (G: (N, O, Lg))."""
    N, O, Ho, Wo = gy.shape
    z = G.dtype.type(0)
    for n in range(N):
        for o in range(O):
            g = G[n, o]
            if sw != 1 or sh != 1:  # zeros everywhere, then the strided entries
                for p in range(g.size):
                    g[p] = z
            else:  # unit stride: each entry written once, rows and the gaps between them
                for p in range(M):
                    g[p] = z
                for i in range(Ho):
                    gap = g[M + i * Wp + Wo: M + (i + 1) * Wp]
                    for p in range(gap.size):
                        gap[p] = z
                for p in range(M + Ho * Wp, g.size):
                    g[p] = z
            for i in range(Ho):
                src = gy[n, o, i]
                dst = g[M + i * sh * Wp:]
                if sw == 1 and relu:
                    yr = y[n, o, i]
                    for j in range(Wo):
                        dst[j] = src[j] if yr[j] > 0 else z
                elif sw == 1:
                    for j in range(Wo):
                        dst[j] = src[j]
                elif relu:
                    yr = y[n, o, i]
                    for j in range(Wo):
                        dst[j * sw] = src[j] if yr[j] > 0 else z
                else:
                    for j in range(Wo):
                        dst[j * sw] = src[j]


@kernel
def _gin_plane(G, w, gxp, n, c, o0, Og, ci, Wp, dh, dw, M):
    """gxp[n, c, q] = sum_{o, kh, kw} w[o0 + o, ci, kh, kw] G[n, o0 + o, q + M - kh*dh*Wp - kw*dw]."""
    KH, KW = w.shape[2], w.shape[3]
    acc = gxp[n, c]
    Q = acc.size
    for q in range(Q):
        acc[q] = 0
    for oi in range(Og):
        o = o0 + oi
        gf = G[n, o]
        if KH == 3 and KW == 3:  # all nine taps per pass over acc
            a = w[o, ci]
            a00, a01, a02, a10, a11, a12 = a[0, 0], a[0, 1], a[0, 2], a[1, 0], a[1, 1], a[1, 2]
            a20, a21, a22 = a[2, 0], a[2, 1], a[2, 2]
            r1, r2 = dh * Wp, 2 * dh * Wp  # tap (kh, kw) reads gf[M - kh*r1 - kw*dw + q]
            g00, g01, g02 = gf[M:], gf[M - dw:], gf[M - 2 * dw:]
            g10, g11, g12 = gf[M - r1:], gf[M - r1 - dw:], gf[M - r1 - 2 * dw:]
            g20, g21, g22 = gf[M - r2:], gf[M - r2 - dw:], gf[M - r2 - 2 * dw:]
            for q in range(Q):
                acc[q] += (a00 * g00[q] + a01 * g01[q] + a02 * g02[q]
                           + a10 * g10[q] + a11 * g11[q] + a12 * g12[q]
                           + a20 * g20[q] + a21 * g21[q] + a22 * g22[q])
            continue
        for kh in range(KH):
            base = M - kh * dh * Wp
            if KW == 3:
                w0, w1, w2 = w[o, ci, kh, 0], w[o, ci, kh, 1], w[o, ci, kh, 2]
                g0, g1, g2 = gf[base:], gf[base - dw:], gf[base - 2 * dw:]
                for q in range(Q):
                    acc[q] += w0 * g0[q] + w1 * g1[q] + w2 * g2[q]
            else:
                for kw in range(KW):
                    wv = w[o, ci, kh, kw]
                    gs = gf[base - kw * dw:]
                    for q in range(Q):
                        acc[q] += wv * gs[q]


@kernel(parallel=True)
def conv2d_grad_input(G, w, gxp, Wp, dh, dw, groups, M):
    """gxp[n, c, q] = sum_{o in group, kh, kw} w[o, c % Cg, kh, kw] G[n, o, q + M - kh*dh*Wp - kw*dw]
    (gxp: the padded input's gradient, (N, C, Hp*Wp), overwritten; G from ``spread``)."""
    N, C = gxp.shape[0], gxp.shape[1]
    Cg = w.shape[1]
    Og = w.shape[0] // groups
    T = N * C
    nch = _chunks(gxp.size * Og * w[0, 0].size, T)
    for ch in prange(nch):
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            n, c = t // C, t % C
            _gin_plane(G, w, gxp, n, c, (c // Cg) * Og, Og, c % Cg, Wp, dh, dw, M)


@kernel
def _gw_channel(xp, G, gw, o, c0, Wp, dh, dw, M, L):
    """gw[o, c, kh, kw] = sum_n sum_{p < L} G[n, o, M + p] xp[n, c0 + c, p + kh*dh*Wp + kw*dw]."""
    N, Cg, KH, KW = xp.shape[0], gw.shape[1], gw.shape[2], gw.shape[3]
    z = gw.dtype.type(0)
    for ci in range(Cg):
        for kh in range(KH):
            for kw in range(KW):
                gw[o, ci, kh, kw] = z
    for n in range(N):
        g = G[n, o, M:]
        for ci in range(Cg):
            xf = xp[n, c0 + ci]
            if KH == 3 and KW == 3:  # nine dot products sharing each load of g
                r1, r2 = dh * Wp, 2 * dh * Wp
                x00, x01, x02 = xf[0:], xf[dw:], xf[2 * dw:]
                x10, x11, x12 = xf[r1:], xf[r1 + dw:], xf[r1 + 2 * dw:]
                x20, x21, x22 = xf[r2:], xf[r2 + dw:], xf[r2 + 2 * dw:]
                s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = z
                for p in range(L):
                    gv = g[p]
                    s00 += gv * x00[p]
                    s01 += gv * x01[p]
                    s02 += gv * x02[p]
                    s10 += gv * x10[p]
                    s11 += gv * x11[p]
                    s12 += gv * x12[p]
                    s20 += gv * x20[p]
                    s21 += gv * x21[p]
                    s22 += gv * x22[p]
                a = gw[o, ci]
                a[0, 0] += s00
                a[0, 1] += s01
                a[0, 2] += s02
                a[1, 0] += s10
                a[1, 1] += s11
                a[1, 2] += s12
                a[2, 0] += s20
                a[2, 1] += s21
                a[2, 2] += s22
                continue
            for kh in range(KH):
                base = kh * dh * Wp
                if KW == 3:
                    x0, x1, x2 = xf[base:], xf[base + dw:], xf[base + 2 * dw:]
                    s0 = s1 = s2 = z
                    for p in range(L):
                        gv = g[p]
                        s0 += gv * x0[p]
                        s1 += gv * x1[p]
                        s2 += gv * x2[p]
                    gw[o, ci, kh, 0] += s0
                    gw[o, ci, kh, 1] += s1
                    gw[o, ci, kh, 2] += s2
                else:
                    for kw in range(KW):
                        xs = xf[base + kw * dw:]
                        sv = z
                        for p in range(L):
                            sv += g[p] * xs[p]
                        gw[o, ci, kh, kw] += sv


@kernel(parallel=True)
def conv2d_grad_weight(xp, G, gw, Wp, dh, dw, groups, M, L):
    """gw[o, c, kh, kw] = sum_n sum_{p < L} G[n, o, M + p] xp[n, g*Cg + c, p + kh*dh*Wp + kw*dw]
    (G from ``spread``; L = (Ho-1)*sh*Wp + (Wo-1)*sw + 1)."""
    O, Cg = gw.shape[0], gw.shape[1]
    Og = O // groups
    nch = _chunks(xp.shape[0] * L * gw.size, O)
    for ch in prange(nch):
        for o in range(ch * O // nch, (ch + 1) * O // nch):
            _gw_channel(xp, G, gw, o, (o // Og) * Cg, Wp, dh, dw, M, L)


@kernel
def conv_grad_bias(gy, gb):
    """gb[o] = sum_{n, p} gy[n, o, p] (gy: (N, O, L), e.g. the spread gradient G)."""
    N, O, L = gy.shape
    for o in range(O):
        gb[o] = 0
    for n in range(N):
        for o in range(O):
            r = gy[n, o]
            s = gb.dtype.type(0)
            for j in range(L):
                s += r[j]
            gb[o] += s


@kernel
def pad2d(x, xp, ph, pw):
    """xp[n, c] = x[n, c] placed at (ph, pw) inside zeros (x: (N, C, H, W), xp: (N, C, Hp, Wp))."""
    N, C, H, W = x.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    z = xp.dtype.type(0)
    for n in range(N):
        for c in range(C):
            src = x[n, c]
            dst = xp[n, c]
            for i in range(Hp):
                r = dst[i]
                if i < ph or i >= ph + H:
                    for j in range(Wp):
                        r[j] = z
                else:
                    s = src[i - ph]
                    for j in range(pw):
                        r[j] = z
                    for j in range(W):
                        r[pw + j] = s[j]
                    for j in range(pw + W, Wp):
                        r[j] = z


@kernel
def crop2d(xp, x, ph, pw):
    """x[n, c, i, j] = xp[n, c, i + ph, j + pw]."""
    N, C, H, W = x.shape
    for n in range(N):
        for c in range(C):
            for i in range(H):
                s = xp[n, c, i + ph, pw:]
                d = x[n, c, i]
                for j in range(W):
                    d[j] = s[j]
