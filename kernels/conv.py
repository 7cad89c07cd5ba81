"""Direct 2-D convolution over NCHW arrays: forward, grad-input, grad-weight, grad-bias.

No im2col. The caller zero-pads the input once (``xp``: an input-sized copy, or the input
itself when there is no padding) and passes its planes flattened (see Strides); weights are
(O, C/groups, KH, KW); geometry comes as ints, so one compiled kernel per role and dtype serves
every shape (1-D convs run with H = 1).

"Wide" rows: with stride 1, output (i, j) reads xp at flat p + off(kh, kw), p = i*Wp + j,
off = kh*dh*Wp + kw*dw. Computing every p in [0, (Ho-1)*Wp + Wo) (the Wp - Wo columns past
each row's end are junk, dropped when copied out) turns each tap into one long contiguous
loop instead of Ho short ones: on 13x13 planes that was ~4x faster. A 3x3 filter's nine taps
are one pass, so each accumulator is loaded and stored once per nine multiply-adds.

Strides: the padded input is split into its sh x sw phase planes (``to_phases``: plane (a, b)
holds xp[a::sh, b::sw], row length Wq = ceil(Wp / sw)). Tap (kh, kw) of output (i, j) reads
plane ((kh*dh) % sh, (kw*dw) % sw) at row i + (kh*dh) // sh, column j + (kw*dw) // sw, so a
strided conv is wide rows again, one plane per tap (``_tap_offset``); stride 1 is the single
plane xp itself. 3x3 64 -> 128 stride 2 on (32, 64, 32, 32) float32 through F.conv2d: forward
211-312 -> 17-18 ms, forward + backward 287-389 -> 64-77 ms against reading xp at stride 2.
The backward passes spread the output gradient on the planes' row length (``spread``: gy[i, j]
at M + i*Wq + j, zeros elsewhere, M the largest in-plane tap offset): grad-weight is then a
dot product per tap and grad-input a gather per tap into the tap's plane, gxq[q] = sum w *
G[q + M - d] (``from_phases`` puts the planes back for strided convs).

Channel blocks: forward computes four output channels at once and grad-input four input
channels, so each load of the input (or of the spread gradient) feeds four accumulators;
grad-weight computes two output channels' dot products from each load of the input. A short
last block repeats its last channel and drops the copies (no padding, any groups). 3x3, 64 ->
64 channels, 32 x 32, batch 32, float32, old and new kernels in one process: forward 24.4 ->
16.3 ms, grad-input 24.8 -> 17.6, grad-weight 23.5 -> 14.0; 1x1: 5.4 -> 3.7, 4.5 -> 4.7 and
4.5 -> 3.0 ms; 5x5, 8 -> 16 at 14 x 14, batch 64: 1.48 -> 1.22, 2.24 -> 2.10, 1.62 -> 1.20 ms.
Results are bit-identical (forward, grad-input) or as accurate against float64 (grad-weight).

Parallel loops: forward over (batch, output-channel block) tasks, grad-input over (batch,
input-channel block) tasks (disjoint writes), grad-weight over output-channel pairs; below
PAR_MIN multiply-adds the same loops run serially (thread wake-up costs more than it saves).
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


@kernel(inline="always")
def _taps3(a):
    """The nine weights of a 3x3 filter a, row by row."""
    return a[0, 0], a[0, 1], a[0, 2], a[1, 0], a[1, 1], a[1, 2], a[2, 0], a[2, 1], a[2, 2]


@kernel(inline="always")
def _add_taps3(a, t):
    """a += the nine values t, in _taps3's order (a: a 3x3 filter)."""
    for k in range(9):
        a[k // 3, k % 3] += t[k]


@kernel(inline="always")
def _nine_taps4(s, t, wa, wb, wc, wd, L):
    """s[k, p] += sum_i f_k[i] t[i][p] for p < L: the nine tap views t (in _taps3's order) of
    a 3x3 filter and the four filters f_0..f_3 = wa..wd, each load of a tap feeding all four."""
    a00, a01, a02, a10, a11, a12, a20, a21, a22 = _taps3(wa)
    b00, b01, b02, b10, b11, b12, b20, b21, b22 = _taps3(wb)
    c00, c01, c02, c10, c11, c12, c20, c21, c22 = _taps3(wc)
    d00, d01, d02, d10, d11, d12, d20, d21, d22 = _taps3(wd)
    x00, x01, x02, x10, x11, x12, x20, x21, x22 = t
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    for p in range(L):
        v00, v01, v02 = x00[p], x01[p], x02[p]
        v10, v11, v12 = x10[p], x11[p], x12[p]
        v20, v21, v22 = x20[p], x21[p], x22[p]
        s0[p] += (a00 * v00 + a01 * v01 + a02 * v02 + a10 * v10 + a11 * v11
                  + a12 * v12 + a20 * v20 + a21 * v21 + a22 * v22)
        s1[p] += (b00 * v00 + b01 * v01 + b02 * v02 + b10 * v10 + b11 * v11
                  + b12 * v12 + b20 * v20 + b21 * v21 + b22 * v22)
        s2[p] += (c00 * v00 + c01 * v01 + c02 * v02 + c10 * v10 + c11 * v11
                  + c12 * v12 + c20 * v20 + c21 * v21 + c22 * v22)
        s3[p] += (d00 * v00 + d01 * v01 + d02 * v02 + d10 * v10 + d11 * v11
                  + d12 * v12 + d20 * v20 + d21 * v21 + d22 * v22)


@kernel(inline="always")
def _tap4(s0, s1, s2, s3, t, w0, w1, w2, w3, L):
    """s_k[p] += w_k t[p] for p < L and the four weights w_0..w_3 of one tap view t."""
    for p in range(L):
        v = t[p]
        s0[p] += w0 * v
        s1[p] += w1 * v
        s2[p] += w2 * v
        s3[p] += w3 * v


@kernel(inline="always")
def _tap_offset(kh, kw, dh, dw, sh, sw, Wq, PQ):
    """Where tap (kh, kw) starts in a channel's phase planes (see to_phases): its plane
    ((kh*dh) % sh, (kw*dw) % sw), row (kh*dh) // sh, column (kw*dw) // sw."""
    a, b = kh * dh, kw * dw
    return ((a % sh) * sw + b % sw) * PQ + (a // sh) * Wq + b // sw


@kernel
def _fwd_wide(xq, w, s, n, o, oe, c0, Wq, PQ, sh, sw, dh, dw, L, b):
    """s[k, p] = b[k] + sum_{c, kh, kw} w[o_k, c, kh, kw] xq[n, c0 + c, p + off(kh, kw)] for
    p < L and the block of four output channels o_k = min(o + k, oe) (a short block repeats
    oe, whose extra rows the caller drops): each load of xq feeds four multiply-adds."""
    Cg, KH, KW = w.shape[1], w.shape[2], w.shape[3]
    o1, o2, o3 = min(o + 1, oe), min(o + 2, oe), min(o + 3, oe)
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    for p in range(L):
        s0[p] = b[0]
        s1[p] = b[1]
        s2[p] = b[2]
        s3[p] = b[3]
    for ci in range(Cg):
        xf = xq[n, c0 + ci]
        if KH == 3 and KW == 3:  # all nine taps per pass over s (one view per tap)
            t = (xf[_tap_offset(0, 0, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(0, 1, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(0, 2, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(1, 0, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(1, 1, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(1, 2, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(2, 0, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(2, 1, dh, dw, sh, sw, Wq, PQ):],
                 xf[_tap_offset(2, 2, dh, dw, sh, sw, Wq, PQ):])
            _nine_taps4(s, t, w[o, ci], w[o1, ci], w[o2, ci], w[o3, ci], L)
            continue
        for kh in range(KH):
            for kw in range(KW):
                _tap4(s0, s1, s2, s3, xf[_tap_offset(kh, kw, dh, dw, sh, sw, Wq, PQ):],
                      w[o, ci, kh, kw], w[o1, ci, kh, kw], w[o2, ci, kh, kw], w[o3, ci, kh, kw],
                      L)


@kernel
def _fwd_block(xq, w, out, s, n, o, oe, c0, Wq, PQ, sh, sw, dh, dw, b, relu):
    """Output planes o .. min(o + 3, oe) of sample n (s: (4, L) scratch; b: their 4 biases)."""
    Ho, Wo = out.shape[2], out.shape[3]
    _fwd_wide(xq, w, s, n, o, oe, c0, Wq, PQ, sh, sw, dh, dw, (Ho - 1) * Wq + Wo, b)
    for k in range(min(4, oe - o + 1)):
        plane = out[n, o + k]
        for i in range(Ho):
            row = plane[i]
            src = s[k, i * Wq:]
            if relu:
                for j in range(Wo):
                    v = src[j]
                    row[j] = v if (v > 0 or v != v) else 0
            else:
                for j in range(Wo):
                    row[j] = src[j]


@kernel(parallel=True)
def conv2d_forward(xq, w, b, out, Wq, PQ, sh, sw, dh, dw, groups, relu, nthreads):
    """out[n, o, i, j] = b[o] + sum w[o, c, kh, kw] xp[n, g*Cg + c, i*sh + kh*dh, j*sw + kw*dw],
    then max(out, 0) if relu, from the padded input's phase planes xq (N, C, sh*sw*PQ) of
    row length Wq (to_phases; the padded input itself, flattened, for stride 1); b of size 0:
    no bias. Tasks are blocks of four output channels of one group and sample, split into
    nthreads chunks, each with its own wide-row scratch."""
    N, O, Ho, Wo = out.shape
    Cg, Og = w.shape[1], O // groups
    has_b = b.size > 0
    nb = (Og + 3) // 4  # blocks per group
    T = N * groups * nb
    nch = max(1, min(nthreads if out.size * w[0].size >= PAR_MIN else 1, T))
    scratch = np.empty((nch, 4, (Ho - 1) * Wq + Wo), out.dtype)
    bias = np.zeros((nch, 4), out.dtype)
    for ch in prange(nch):
        bc = bias[ch]
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            n, r = t // (groups * nb), t % (groups * nb)
            g = r // nb
            o, oe = g * Og + (r % nb) * 4, g * Og + Og - 1
            if has_b:
                for k in range(4):
                    bc[k] = b[min(o + k, oe)]
            _fwd_block(xq, w, out, scratch[ch], n, o, oe, g * Cg, Wq, PQ, sh, sw, dh, dw, bc,
                       relu)


@kernel
def to_phases(xp, xq, sh, sw):
    """xq[n, c, a, b, i, j] = xp[n, c, i*sh + a, j*sw + b] (0 past the edge): the padded input
    split into its sh x sw phase planes (xq: (N, C, sh, sw, Hq, Wq), Hq = ceil(Hp / sh)), on
    which every tap of a strided conv reads one plane at unit stride."""
    N, C, Hp, Wp = xp.shape
    Hq, Wq = xq.shape[4], xq.shape[5]
    z = xq.dtype.type(0)
    for n in range(N):
        for c in range(C):
            for a in range(sh):
                for b in range(sw):
                    dst = xq[n, c, a, b]
                    for i in range(Hq):
                        r = dst[i]
                        u = i * sh + a
                        if u >= Hp:
                            for j in range(Wq):
                                r[j] = z
                            continue
                        src = xp[n, c, u]
                        for j in range(Wq):
                            v = j * sw + b
                            r[j] = src[v] if v < Wp else z


@kernel
def from_phases(xq, xp):
    """xp[n, c, i*sh + a, j*sw + b] = xq[n, c, a, b, i, j]: to_phases' inverse."""
    N, C, Hp, Wp = xp.shape
    sh, sw = xq.shape[2], xq.shape[3]
    for n in range(N):
        for c in range(C):
            for u in range(Hp):
                dst = xp[n, c, u]
                for b in range(sw):
                    src = xq[n, c, u % sh, b, u // sh]
                    for j in range((Wp - b + sw - 1) // sw):
                        dst[j * sw + b] = src[j]


@kernel(parallel=True)
def spread(gy, y, G, Wq, M, relu):
    """G[n, o, M + i*Wq + j] = gy[n, o, i, j] (times [y > 0] if relu, y the fused conv + relu
    output), zeros elsewhere (G: (N, O, Lg)): the output gradient on the row length Wq of the
    input's phase planes (the padded input's for stride 1), after a margin of M zeros. In
    parallel over the (n, o) planes: (64, 8, 28, 28) float32 with the relu mask, 300 -> 119 us."""
    N, O, Ho, Wo = gy.shape
    z = G.dtype.type(0)
    T = N * O
    nch = _chunks(G.size, T)
    for ch in prange(nch):
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            n, o = t // O, t % O
            g = G[n, o]
            for p in range(M):
                g[p] = z
            for i in range(Ho):
                gap = g[M + i * Wq + Wo: M + (i + 1) * Wq]
                for p in range(gap.size):
                    gap[p] = z
            for p in range(M + Ho * Wq, g.size):
                g[p] = z
            for i in range(Ho):
                src = gy[n, o, i]
                dst = g[M + i * Wq:]
                if relu:
                    yr = y[n, o, i]
                    for j in range(Wo):
                        dst[j] = src[j] if yr[j] > 0 else z
                else:
                    for j in range(Wo):
                        dst[j] = src[j]


@kernel
def _gin_block(G, w, gxq, s, n, c, ce, o0, Og, ci, Wq, PQ, sh, sw, dh, dw, M):
    """gxq[n, c_k, plane(kh, kw)*PQ + q] += w[o0 + o, ci + k, kh, kw] G[n, o0 + o, q + M - d(kh, kw)]
    summed over o and the taps (d: the tap's offset inside its phase plane, see _tap_offset)
    for the block of four input channels c_k = c + k <= ce (ci + k: their index in the group;
    a short block repeats ce and drops the extra rows), summed in the scratch rows s (4,
    sh*sw*PQ) and copied out: each load of G feeds four multiply-adds. (Summed in place in
    gxq's planes, whose aliasing LLVM cannot rule out, a 1x1 grad-input ran 1.45x slower than
    one channel at a time, 64 -> 64 channels at 32 x 32.)"""
    KH, KW = w.shape[2], w.shape[3]
    k1, k2, k3 = min(1, ce - c), min(2, ce - c), min(3, ce - c)
    acc0, acc1, acc2, acc3 = s[0], s[1], s[2], s[3]
    for q in range(acc0.size):
        acc0[q] = 0
        acc1[q] = 0
        acc2[q] = 0
        acc3[q] = 0
    unit = sh == 1 and sw == 1
    for oi in range(Og):
        o = o0 + oi
        gf = G[n, o]
        if unit and KH == 3 and KW == 3:  # all nine taps per pass over acc
            r1, r2 = dh * Wq, 2 * dh * Wq  # tap (kh, kw) reads gf[M - kh*r1 - kw*dw + q]
            _nine_taps4(s, (gf[M:], gf[M - dw:], gf[M - 2 * dw:], gf[M - r1:], gf[M - r1 - dw:],
                            gf[M - r1 - 2 * dw:], gf[M - r2:], gf[M - r2 - dw:],
                            gf[M - r2 - 2 * dw:]),
                        w[o, ci], w[o, ci + k1], w[o, ci + k2], w[o, ci + k3], PQ)
            continue
        for kh in range(KH):
            for kw in range(KW):
                off = _tap_offset(kh, kw, dh, dw, sh, sw, Wq, PQ)
                base = off - off % PQ  # the tap's plane; off % PQ its offset inside it
                _tap4(acc0[base:], acc1[base:], acc2[base:], acc3[base:],
                      gf[M - off % PQ:], w[o, ci, kh, kw], w[o, ci + k1, kh, kw],
                      w[o, ci + k2, kh, kw], w[o, ci + k3, kh, kw], PQ)
    for k in range(k3 + 1):
        out = gxq[n, c + k]
        acc = s[k]
        for q in range(out.size):
            out[q] = acc[q]


@kernel(parallel=True)
def conv2d_grad_input(G, w, gxq, Wq, PQ, sh, sw, dh, dw, groups, M, nthreads):
    """gxq: the gradient of the padded input's phase planes (N, C, sh*sw*PQ) of row length Wq
    (see to_phases; the padded input itself for stride 1), overwritten, from G (``spread``,
    margin M = the largest in-plane tap offset). Tasks are blocks of four input channels of
    one group and sample, split into nthreads chunks, each with its own scratch rows."""
    N, C = gxq.shape[0], gxq.shape[1]
    Cg = w.shape[1]
    Og = w.shape[0] // groups
    nb = (Cg + 3) // 4  # blocks per group
    T = N * groups * nb
    nch = max(1, min(nthreads if gxq.size * Og * w[0, 0].size >= PAR_MIN else 1, T))
    scratch = np.empty((nch, 4, gxq.shape[2]), gxq.dtype)
    for ch in prange(nch):
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            n, r = t // (groups * nb), t % (groups * nb)
            g = r // nb
            ci = (r % nb) * 4
            _gin_block(G, w, gxq, scratch[ch], n, g * Cg + ci, g * Cg + Cg - 1, g * Og, Og, ci,
                       Wq, PQ, sh, sw, dh, dw, M)


@kernel
def _gw_pair(xq, G, gw, o, oe, c0, Wq, PQ, sh, sw, dh, dw, M, L):
    """gw[o_k, c, kh, kw] = sum_n sum_{p < L} G[n, o_k, M + p] xq[n, c0 + c, p + off(kh, kw)]
    for the output channels o_k = o, o + 1 (the second only if o + 1 <= oe, else it repeats o
    and is dropped): each load of xq feeds both channels' dot products."""
    N, Cg, KH, KW = xq.shape[0], gw.shape[1], gw.shape[2], gw.shape[3]
    two = o + 1 <= oe
    o1 = o + 1 if two else o
    z = gw.dtype.type(0)
    for ci in range(Cg):
        for kh in range(KH):
            for kw in range(KW):
                gw[o, ci, kh, kw] = z
                gw[o1, ci, kh, kw] = z
    for n in range(N):
        ga, gb = G[n, o, M:], G[n, o1, M:]
        for ci in range(Cg):
            xf = xq[n, c0 + ci]
            if KH == 3 and KW == 3:  # eighteen dot products sharing each load
                x00 = xf[_tap_offset(0, 0, dh, dw, sh, sw, Wq, PQ):]
                x01 = xf[_tap_offset(0, 1, dh, dw, sh, sw, Wq, PQ):]
                x02 = xf[_tap_offset(0, 2, dh, dw, sh, sw, Wq, PQ):]
                x10 = xf[_tap_offset(1, 0, dh, dw, sh, sw, Wq, PQ):]
                x11 = xf[_tap_offset(1, 1, dh, dw, sh, sw, Wq, PQ):]
                x12 = xf[_tap_offset(1, 2, dh, dw, sh, sw, Wq, PQ):]
                x20 = xf[_tap_offset(2, 0, dh, dw, sh, sw, Wq, PQ):]
                x21 = xf[_tap_offset(2, 1, dh, dw, sh, sw, Wq, PQ):]
                x22 = xf[_tap_offset(2, 2, dh, dw, sh, sw, Wq, PQ):]
                s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = z
                t00 = t01 = t02 = t10 = t11 = t12 = t20 = t21 = t22 = z
                for p in range(L):
                    u, v = ga[p], gb[p]
                    y00, y01, y02 = x00[p], x01[p], x02[p]
                    y10, y11, y12 = x10[p], x11[p], x12[p]
                    y20, y21, y22 = x20[p], x21[p], x22[p]
                    s00 += u * y00
                    s01 += u * y01
                    s02 += u * y02
                    s10 += u * y10
                    s11 += u * y11
                    s12 += u * y12
                    s20 += u * y20
                    s21 += u * y21
                    s22 += u * y22
                    t00 += v * y00
                    t01 += v * y01
                    t02 += v * y02
                    t10 += v * y10
                    t11 += v * y11
                    t12 += v * y12
                    t20 += v * y20
                    t21 += v * y21
                    t22 += v * y22
                _add_taps3(gw[o, ci], (s00, s01, s02, s10, s11, s12, s20, s21, s22))
                if two:
                    _add_taps3(gw[o1, ci], (t00, t01, t02, t10, t11, t12, t20, t21, t22))
                continue
            for kh in range(KH):
                for kw in range(KW):
                    xs = xf[_tap_offset(kh, kw, dh, dw, sh, sw, Wq, PQ):]
                    sv = tv = z
                    for p in range(L):
                        xv = xs[p]
                        sv += ga[p] * xv
                        tv += gb[p] * xv
                    gw[o, ci, kh, kw] += sv
                    if two:
                        gw[o1, ci, kh, kw] += tv


@kernel(parallel=True)
def conv2d_grad_weight(xq, G, gw, Wq, PQ, sh, sw, dh, dw, groups, M, L):
    """gw[o, c, kh, kw] = sum_n sum_{p < L} G[n, o, M + p] xq[n, g*Cg + c, p + off(kh, kw)]:
    xq as for conv2d_forward, G the output gradient spread at unit stride on its row length
    Wq (``spread``), L = (Ho-1)*Wq + Wo. Tasks are pairs of output channels of one group."""
    O, Cg = gw.shape[0], gw.shape[1]
    Og = O // groups
    nb = (Og + 1) // 2  # pairs per group
    T = groups * nb
    nch = _chunks(xq.shape[0] * L * gw.size, T)
    for ch in prange(nch):
        for t in range(ch * T // nch, (ch + 1) * T // nch):
            g = t // nb
            o = g * Og + (t % nb) * 2
            _gw_pair(xq, G, gw, o, g * Og + Og - 1, g * Cg, Wq, PQ, sh, sw, dh, dw, M, L)


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
