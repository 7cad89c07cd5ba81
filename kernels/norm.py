"""Normalisation: layer norm and rms norm over trailing rows, batch norm per channel, group norm
per (sample, group) block (instance norm: one channel per group); forward and backward.

Layer norm sees the input as rows of length n (the normalized_shape flattened). Batch norm sees
it as (N, C, L) (L = product of the spatial dims; 1 for (N, C) input): channel c is the
elements x[(i*C + c)*L + l]. Statistics accumulate in float64. Weight / bias (and the running
buffers) of size 0 mean "absent".
"""
import math

from ._jit import kernel


@kernel
def layer_norm_forward(x, w, b, n, eps, y, mean, rstd):
    """y = (x - mean) * rstd * w + b per row, rstd = 1 / sqrt(biased var + eps)."""
    rows = mean.size
    has_w = w.size > 0
    has_b = b.size > 0
    for r in range(rows):
        o = r * n
        s = 0.0
        for j in range(n):
            s += x[o + j]
        mu = s / n
        v = 0.0
        for j in range(n):
            d = x[o + j] - mu
            v += d * d
        rs = 1.0 / math.sqrt(v / n + eps)
        mean[r] = mu
        rstd[r] = rs
        for j in range(n):
            h = (x[o + j] - mu) * rs
            if has_w:
                h *= w[j]
            if has_b:
                h += b[j]
            y[o + j] = h


@kernel
def layer_norm_backward(x, w, mean, rstd, gy, n, gx, gw, gb):
    """gx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = gy * w; gw += gy * xhat, gb += gy
    over rows (gw / gb of size 0: skipped; caller zeroes them)."""
    rows = mean.size
    has_w = w.size > 0
    want_w = gw.size > 0
    want_b = gb.size > 0
    for r in range(rows):
        o = r * n
        mu = mean[r]
        rs = rstd[r]
        s1 = 0.0
        s2 = 0.0
        for j in range(n):
            h = (x[o + j] - mu) * rs
            g = gy[o + j] * w[j] if has_w else gy[o + j]
            s1 += g
            s2 += g * h
            if want_w:
                gw[j] += gy[o + j] * h
            if want_b:
                gb[j] += gy[o + j]
        s1 /= n
        s2 /= n
        for j in range(n):
            h = (x[o + j] - mu) * rs
            g = gy[o + j] * w[j] if has_w else gy[o + j]
            gx[o + j] = rs * (g - s1 - h * s2)


@kernel
def batch_norm_forward(x, N, C, L, training, rmean, rvar, factor, eps, w, b, y, smean, srstd):
    """y = (x - mean_c) * rstd_c * w_c + b_c. training=1: batch stats (biased var), and running
    stats (if given) move by `factor` toward mean and the unbiased var; else running stats."""
    M = N * L
    has_w = w.size > 0
    has_b = b.size > 0
    has_r = rmean.size > 0
    for c in range(C):
        if training == 1:
            s = 0.0
            for i in range(N):
                o = (i * C + c) * L
                for l in range(L):
                    s += x[o + l]
            mu = s / M
            v = 0.0
            for i in range(N):
                o = (i * C + c) * L
                for l in range(L):
                    d = x[o + l] - mu
                    v += d * d
            var = v / M
            if has_r:
                rmean[c] = (1.0 - factor) * rmean[c] + factor * mu
                rvar[c] = (1.0 - factor) * rvar[c] + factor * (v / (M - 1) if M > 1 else var)
        else:
            mu = rmean[c]
            var = rvar[c]
        rs = 1.0 / math.sqrt(var + eps)
        smean[c] = mu
        srstd[c] = rs
        scale = rs * w[c] if has_w else rs
        shift = (b[c] if has_b else 0.0) - mu * scale
        for i in range(N):
            o = (i * C + c) * L
            for l in range(L):
                y[o + l] = x[o + l] * scale + shift


@kernel
def batch_norm_backward(x, N, C, L, training, smean, srstd, w, gy, gx, gw, gb):
    """gx = w rstd (gy - mean(gy) - xhat mean(gy xhat)) (training; eval: w rstd gy);
    gw = sum(gy xhat), gb = sum(gy) per channel (size 0: skipped)."""
    M = N * L
    has_w = w.size > 0
    want_w = gw.size > 0
    want_b = gb.size > 0
    for c in range(C):
        mu = smean[c]
        rs = srstd[c]
        s1 = 0.0
        s2 = 0.0
        for i in range(N):
            o = (i * C + c) * L
            for l in range(L):
                g = gy[o + l]
                s1 += g
                s2 += g * (x[o + l] - mu) * rs
        if want_w:
            gw[c] = s2
        if want_b:
            gb[c] = s1
        k = rs * w[c] if has_w else rs
        if training == 1:
            s1 /= M
            s2 /= M
            for i in range(N):
                o = (i * C + c) * L
                for l in range(L):
                    gx[o + l] = k * (gy[o + l] - s1 - (x[o + l] - mu) * rs * s2)
        else:
            for i in range(N):
                o = (i * C + c) * L
                for l in range(L):
                    gx[o + l] = k * gy[o + l]


@kernel
def group_norm_forward(x, N, C, L, G, eps, w, b, y, mean, rstd):
    """y = (x - mean_ng) * rstd_ng * w_c + b_c, stats over the (C/G)*L block of group g of
    sample n (biased var); instance norm is G = C."""
    cg = C // G
    m = cg * L
    has_w = w.size > 0
    has_b = b.size > 0
    for ng in range(N * G):
        o = ng * m
        s = 0.0
        for j in range(m):
            s += x[o + j]
        mu = s / m
        v = 0.0
        for j in range(m):
            d = x[o + j] - mu
            v += d * d
        rs = 1.0 / math.sqrt(v / m + eps)
        mean[ng] = mu
        rstd[ng] = rs
        c0 = (ng % G) * cg
        for ci in range(cg):
            c = c0 + ci
            scale = rs * w[c] if has_w else rs
            shift = (b[c] if has_b else 0.0) - mu * scale
            oc = o + ci * L
            for l in range(L):
                y[oc + l] = x[oc + l] * scale + shift


@kernel
def group_norm_backward(x, N, C, L, G, w, mean, rstd, gy, gx, gw, gb):
    """gx = rstd (g - mean(g) - xhat mean(g xhat)) per block, g = gy w_c; gw_c += sum gy xhat,
    gb_c += sum gy (gw / gb of size 0: skipped; caller zeroes them)."""
    cg = C // G
    m = cg * L
    has_w = w.size > 0
    want_w = gw.size > 0
    want_b = gb.size > 0
    for ng in range(N * G):
        o = ng * m
        mu = mean[ng]
        rs = rstd[ng]
        c0 = (ng % G) * cg
        s1 = 0.0
        s2 = 0.0
        for ci in range(cg):
            c = c0 + ci
            wc = w[c] if has_w else 1.0
            oc = o + ci * L
            sg = 0.0
            sgh = 0.0
            for l in range(L):
                g = gy[oc + l]
                h = (x[oc + l] - mu) * rs
                sg += g
                sgh += g * h
            if want_w:
                gw[c] += sgh
            if want_b:
                gb[c] += sg
            s1 += sg * wc
            s2 += sgh * wc
        s1 /= m
        s2 /= m
        for ci in range(cg):
            c = c0 + ci
            k = rs * w[c] if has_w else rs
            oc = o + ci * L
            for l in range(L):
                h = (x[oc + l] - mu) * rs
                gx[oc + l] = k * gy[oc + l] - rs * (s1 + h * s2)


@kernel
def rms_norm_forward(x, w, n, eps, y, rstd):
    """y = x * rstd * w per row of n, rstd = 1 / sqrt(mean(x^2) + eps)."""
    rows = rstd.size
    has_w = w.size > 0
    for r in range(rows):
        o = r * n
        s = 0.0
        for j in range(n):
            s += x[o + j] * x[o + j]
        rs = 1.0 / math.sqrt(s / n + eps)
        rstd[r] = rs
        for j in range(n):
            h = x[o + j] * rs
            y[o + j] = h * w[j] if has_w else h


@kernel
def rms_norm_backward(x, w, rstd, gy, n, gx, gw):
    """gx = rstd * (g - xhat * mean(g * xhat)), g = gy * w, xhat = x * rstd; gw += gy * xhat
    over rows (gw of size 0: skipped; caller zeroes it)."""
    rows = rstd.size
    has_w = w.size > 0
    want_w = gw.size > 0
    for r in range(rows):
        o = r * n
        rs = rstd[r]
        s = 0.0
        for j in range(n):
            h = x[o + j] * rs
            g = gy[o + j] * w[j] if has_w else gy[o + j]
            s += g * h
            if want_w:
                gw[j] += gy[o + j] * h
        s /= n
        for j in range(n):
            h = x[o + j] * rs
            g = gy[o + j] * w[j] if has_w else gy[o + j]
            gx[o + j] = rs * (g - h * s)
