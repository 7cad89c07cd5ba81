"""Losses: op-coded pointwise losses (mse, l1, smooth-l1, huber, bce, bce-with-logits), fused
log-softmax + NLL cross-entropy, and NLL; forward and backward side by side.

Pointwise kernels take flat arrays of one shape; ``w`` (element weight) and ``pw`` (pos_weight)
are pre-broadcast to that shape, or have size 0 for "none". The reduction is fused: with
``reduce`` = 1 the forward returns the float64 sum and leaves ``out`` alone. Backward reads the
upstream gradient as ``g[i * gs] * scale`` (gs = 0: one scalar for a reduced loss).

Class-axis kernels see the input as (N, C, inner) (class axis in the middle, so (N, C, d1, ...)
needs no transpose); sample s = (n, k) reads x[n*C*inner + c*inner + k]. Targets are class
indices ``idx`` (one per sample) or class probabilities ``prob`` (same layout as x); the unused
one has size 0.
"""
import math

import numpy as np

from . import _math
from ._jit import kernel
from ._rows import BLOCK_ROWS, SHORT_ROW, column_max, from_columns, to_columns

MSE, L1, SMOOTH_L1, HUBER, BCE, BCE_LOGITS = range(6)
# kl_div (target as probabilities / log-probabilities); poisson_nll (log_input, p = eps), the
# _FULL codes adding the Stirling term of the target
KL_DIV, KL_DIV_LOG, POISSON_LOG, POISSON, POISSON_LOG_FULL, POISSON_FULL = range(6, 12)
LOG_SQRT_2PI = 0.9189385332046727


@kernel
def _sign(v):
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


@kernel
def _stirling(t):
    """t log t - t + log(2 pi t) / 2 for t > 1, else 0 (torch's poisson_nll_loss full=True)."""
    return t * _math.log(t) - t + 0.5 * _math.log(t) + LOG_SQRT_2PI if t > 1.0 else 0.0


# One element's loss and its (d/dx, d/dt), per op code, as (v, t, pw, p) -> value: pw is
# pos_weight (BCE with logits only), p beta / delta / eps; bce logs clamped at -100 as torch.
# Each loop below runs one op's functions, inlined (a loop branching on the op code for every
# element did not vectorise: MSE over 1M float32 took 3.4 ms forward, 0.16 ms now).
@kernel(inline="always")
def _mse(v, t, pw, p):
    d = v - t
    return d * d


@kernel(inline="always")
def _mse_grad(v, t, pw, p):
    d = 2.0 * (v - t)
    return d, -d


@kernel(inline="always")
def _l1(v, t, pw, p):
    return abs(v - t)


@kernel(inline="always")
def _l1_grad(v, t, pw, p):
    s = _sign(v - t)
    return s, -s


@kernel(inline="always")
def _smooth_l1(v, t, pw, p):
    d = abs(v - t)
    return 0.5 * d * d / p if d < p else d - 0.5 * p


@kernel(inline="always")
def _smooth_l1_grad(v, t, pw, p):
    d = v - t
    s = d / p if abs(d) < p else _sign(d)
    return s, -s


@kernel(inline="always")
def _huber(v, t, pw, p):
    d = abs(v - t)
    return 0.5 * d * d if d < p else p * (d - 0.5 * p)


@kernel(inline="always")
def _huber_grad(v, t, pw, p):
    d = v - t
    s = d if abs(d) < p else p * _sign(d)
    return s, -s


@kernel(inline="always")
def _kl_div(v, t, pw, p):
    """xlogy(t, t) - t x, 0 where t == 0."""
    return (t * _math.log(t) if t != 0 else 0.0) - t * v


@kernel(inline="always")
def _kl_div_grad(v, t, pw, p):
    """d/dt as torch's xlogy rule: log t (0 at t == 0) + t / t (NaN at 0)."""
    return -t, (_math.log(t) if t != 0 else 0.0) + t / t - v


@kernel(inline="always")
def _kl_div_log(v, t, pw, p):
    # e == 0 kept apart: reassociation would scale t = -inf before e's final underflow and
    # give -inf where torch gives 0 * -inf = NaN
    e = _math.exp(t)
    return e * (t - v) if e != 0 else 0.0 * (t - v)


@kernel(inline="always")
def _kl_div_log_grad(v, t, pw, p):
    e = _math.exp(t)
    return -e, (e * (t - v + 1.0) if e != 0 else 0.0 * (t - v))


@kernel(inline="always")
def _stirling_grad(t):
    """d _stirling / dt = log t + 1 / (2t) for t > 1, else 0."""
    return _math.log(t) + 0.5 / t if t > 1.0 else 0.0


@kernel(inline="always")
def _poisson_log(v, t, pw, p):
    return _math.exp(v) - t * v


@kernel(inline="always")
def _poisson_log_grad(v, t, pw, p):
    return _math.exp(v) - t, -v


@kernel(inline="always")
def _poisson_log_full(v, t, pw, p):
    return _poisson_log(v, t, pw, p) + _stirling(t)


@kernel(inline="always")
def _poisson_log_full_grad(v, t, pw, p):
    gx, gt = _poisson_log_grad(v, t, pw, p)
    return gx, gt + _stirling_grad(t)


@kernel(inline="always")
def _poisson(v, t, pw, p):
    return v - t * _math.log(v + p)


@kernel(inline="always")
def _poisson_grad(v, t, pw, p):
    return 1.0 - t / (v + p), -_math.log(v + p)


@kernel(inline="always")
def _poisson_full(v, t, pw, p):
    return _poisson(v, t, pw, p) + _stirling(t)


@kernel(inline="always")
def _poisson_full_grad(v, t, pw, p):
    gx, gt = _poisson_grad(v, t, pw, p)
    return gx, gt + _stirling_grad(t)


@kernel(inline="always")
def _bce(v, t, pw, p):
    lx = max(_math.log(v), -100.0)
    l1x = max(_math.log1p(-v), -100.0)
    return -(t * lx + (1.0 - t) * l1x)


@kernel(inline="always")
def _bce_grad(v, t, pw, p):
    """torch: (x - t) / max(x (1 - x), 1e-12)."""
    gx = (v - t) / max(v * (1.0 - v), 1e-12)
    gt = max(_math.log1p(-v), -100.0) - max(_math.log(v), -100.0)
    return gx, gt


@kernel(inline="always")
def _bce_logits(v, t, pw, p):
    """(1 - t) x + (1 + (pw - 1) t) softplus(-x)."""
    return (1.0 - t) * v + (1.0 + (pw - 1.0) * t) * _math.softplus(-v)


@kernel(inline="always")
def _bce_logits_grad(v, t, pw, p):
    lw = 1.0 + (pw - 1.0) * t
    return (1.0 - t) - lw * (1.0 - _math.sigmoid(v)), -v + (pw - 1.0) * _math.softplus(-v)


@kernel(inline="always")
def _loss_loop(f, x, t, w, pw, out, p, reduce):
    """pointwise_loss for one op's element function f."""
    n = x.size
    has_w = w.size > 0
    has_pw = pw.size > 0
    acc = 0.0
    wsum = 0.0 if has_w else float(n)
    for i in range(n):
        v = f(x[i], t[i], pw[i] if has_pw else 1.0, p)
        if has_w:
            v *= w[i]
            wsum += w[i]
        if reduce == 1:
            acc += v
        else:
            out[i] = v
    return acc, wsum


@kernel
def pointwise_loss(op, x, t, w, pw, out, p, reduce):
    """out_i = w_i * op(x_i, t_i) (reduce=1: skip out); returns (sum of it, sum of w) in
    float64."""
    if op == MSE:
        return _loss_loop(_mse, x, t, w, pw, out, p, reduce)
    if op == L1:
        return _loss_loop(_l1, x, t, w, pw, out, p, reduce)
    if op == SMOOTH_L1:
        return _loss_loop(_smooth_l1, x, t, w, pw, out, p, reduce)
    if op == HUBER:
        return _loss_loop(_huber, x, t, w, pw, out, p, reduce)
    if op == BCE:
        return _loss_loop(_bce, x, t, w, pw, out, p, reduce)
    if op == BCE_LOGITS:
        return _loss_loop(_bce_logits, x, t, w, pw, out, p, reduce)
    if op == KL_DIV:
        return _loss_loop(_kl_div, x, t, w, pw, out, p, reduce)
    if op == KL_DIV_LOG:
        return _loss_loop(_kl_div_log, x, t, w, pw, out, p, reduce)
    if op == POISSON_LOG:
        return _loss_loop(_poisson_log, x, t, w, pw, out, p, reduce)
    if op == POISSON:
        return _loss_loop(_poisson, x, t, w, pw, out, p, reduce)
    if op == POISSON_LOG_FULL:
        return _loss_loop(_poisson_log_full, x, t, w, pw, out, p, reduce)
    return _loss_loop(_poisson_full, x, t, w, pw, out, p, reduce)


@kernel(inline="always")
def _grad_loop(f, x, t, w, pw, g, gs, scale, gx, gt, p):
    """pointwise_loss_backward for one op's gradient function f. A reduced loss (gs = 0) has
    one upstream value, loaded once: read per element, the loop did not vectorise (BCE with
    logits over 1M float32, forward + backward: 18.3 ms, 6.0 ms with its own loop)."""
    n = x.size
    has_w = w.size > 0
    has_pw = pw.size > 0
    want_t = gt.size > 0
    if gs == 0:
        c0 = g[0] * scale
        for i in range(n):
            a, b = f(x[i], t[i], pw[i] if has_pw else 1.0, p)
            c = c0 * w[i] if has_w else c0
            gx[i] = a * c
            if want_t:
                gt[i] = b * c
        return
    for i in range(n):
        a, b = f(x[i], t[i], pw[i] if has_pw else 1.0, p)
        c = g[i * gs] * scale
        if has_w:
            c *= w[i]
        gx[i] = a * c
        if want_t:
            gt[i] = b * c


@kernel
def pointwise_loss_backward(op, x, t, w, pw, g, gs, scale, gx, gt, p):
    """gx_i = g_i * w_i * d op / dx, gt_i likewise for the target (gt of size 0: skipped)."""
    if op == MSE:
        _grad_loop(_mse_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == L1:
        _grad_loop(_l1_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == SMOOTH_L1:
        _grad_loop(_smooth_l1_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == HUBER:
        _grad_loop(_huber_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == BCE:
        _grad_loop(_bce_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == BCE_LOGITS:
        _grad_loop(_bce_logits_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == KL_DIV:
        _grad_loop(_kl_div_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == KL_DIV_LOG:
        _grad_loop(_kl_div_log_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == POISSON_LOG:
        _grad_loop(_poisson_log_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == POISSON:
        _grad_loop(_poisson_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    if op == POISSON_LOG_FULL:
        _grad_loop(_poisson_log_full_grad, x, t, w, pw, g, gs, scale, gx, gt, p)
        return
    _grad_loop(_poisson_full_grad, x, t, w, pw, g, gs, scale, gx, gt, p)


@kernel(inline="always")
def _row_lse(row):
    """log sum_c exp(row[c]) in float64, shifted by the row's largest value (a NaN propagates
    through the sum)."""
    m = -np.inf
    for c in range(row.size):
        v = np.float64(row[c])
        m = v if v > m else m
    acc = 0.0
    for c in range(row.size):
        acc += _math.exp(np.float64(row[c]) - m)
    return m + _math.log(acc)


@kernel(inline="always")
def _row_grad(row, w, has_w, t, qt, lsc, Q, gv, z, out):
    """out[c] = gv (exp(row[c] - z) Q - q_c), q_c = lsc w_c + qt [c = t]: one sample's
    cross-entropy gradient over class indices (the select on c = t, not an if, and one loop
    per weighting keep the loops vectorisable)."""
    if has_w:
        for c in range(row.size):
            q = lsc * w[c]
            q = q + qt if c == t else q
            out[c] = gv * (_math.exp(np.float64(row[c]) - z) * Q - q)
    else:
        for c in range(row.size):
            q = lsc + qt if c == t else lsc
            out[c] = gv * (_math.exp(np.float64(row[c]) - z) * Q - q)


# Strided rows (columns of the (C, inner) slabs of an (N, C, d) input) and blocks of rows of at
# most SHORT_ROW classes run down columns (kernels/_rows.py). Class-index targets, float32,
# before -> after: 512 x 10 forward 23.8 -> 10.6 us, backward 17.1 -> 11.3 us; 4096 x 10 189
# -> 75 and 126 -> 79 us; 512 x 16 21.5 -> 15.3 and 14.5 -> 17.2 us; 512 x 32 backward 24 -> 36
# us, so longer rows stay rows; (32, 100, 16) 105 -> 79 and 116 -> 67 us, (8, 1000, 64) 935 ->
# 603 and 1131 -> 625 us against each strided row through a contiguous copy.


@kernel(inline="always")
def _lse_cols(t, m, acc, lse):
    """lse[r] = log sum_c exp(t[c, r]) for every column r of t (C, R), as _row_lse computes it
    (float64, shifted by the column's largest value); m, acc: float64 scratch of size >= R."""
    C, R = t.shape
    column_max(t, m)
    for r in range(R):
        acc[r] = 0.0
    for c in range(C):
        tc = t[c]
        for r in range(R):
            acc[r] += _math.exp(np.float64(tc[r]) - m[r])
    for r in range(R):
        lse[r] = m[r] + _math.log(acc[r])


@kernel(inline="always")
def _grad_cols(t, out, idx, w, has_w, lse, g, gs, scale, s0, ignore, ls, wall, rv):
    """out[:, r] = the class-index gradient of sample s0 + r from its logits t[:, r], as
    _row_grad computes it (t, out: (C, R), out may be t); rv (4 x R, float64 scratch): each
    sample's g_s, lse, Q and (1-ls) w_t (all 0 for an ignored sample)."""
    C, R = t.shape
    lsc = ls / C
    for r in range(R):
        s = s0 + r
        k = idx[s]
        if k == ignore:
            rv[0, r] = 0.0
            rv[1, r] = 0.0
            rv[2, r] = 0.0
            rv[3, r] = 0.0
        else:
            wt = w[k] if has_w else 1.0
            rv[0, r] = g[s * gs] * scale
            rv[1, r] = lse[s]
            rv[2, r] = (1.0 - ls) * wt + lsc * wall
            rv[3, r] = (1.0 - ls) * wt
    gv, z, Q, qt, ks = rv[0], rv[1], rv[2], rv[3], idx[s0:s0 + R]
    for c in range(C):
        qc = lsc * w[c] if has_w else lsc
        tc, oc = t[c], out[c]
        for r in range(R):
            q = qc + qt[r] if c == ks[r] else qc
            v = gv[r] * (_math.exp(np.float64(tc[r]) - z[r]) * Q[r] - q)
            oc[r] = v if ks[r] != ignore else 0.0


@kernel
def cross_entropy_forward(x, idx, prob, w, C, inner, ignore, ls, loss, lse):
    """loss[s] = -sum_c q_c log_softmax(x[s])_c, q = (1-ls) w_t onehot(t) + ls/C w (indices) or
    w * (t (1-ls) + ls/C) (probabilities); lse[s] = logsumexp of row s. Returns (sum of loss,
    sum of weights: w_t over non-ignored samples, or the sample count for probabilities)."""
    S = loss.size
    by_index = idx.size > 0
    has_w = w.size > 0
    total = 0.0
    wsum = 0.0
    cols = inner > 1 or C <= SHORT_ROW
    if inner > 1:
        m, acc = np.empty(inner), np.empty(inner)
        for o in range(S // inner):
            a, e = o * C * inner, (o + 1) * C * inner
            _lse_cols(x[a:e].reshape(C, inner), m, acc, lse[o * inner:(o + 1) * inner])
    elif cols:
        nb = min(S, BLOCK_ROWS)
        buf, m, acc = np.empty(C * nb, x.dtype), np.empty(nb), np.empty(nb)
        for s0 in range(0, S, BLOCK_ROWS):
            k = min(BLOCK_ROWS, S - s0)
            tk = buf[:C * k].reshape(C, k)
            to_columns(x, s0, k, C, tk)
            _lse_cols(tk, m, acc, lse[s0:s0 + k])
    for s in range(S):
        b = (s // inner) * C * inner + s % inner
        if by_index and idx[s] == ignore:
            loss[s] = 0.0
            lse[s] = 0.0
            continue
        z = lse[s] if cols else _row_lse(x[b:b + C])
        lse[s] = z
        li = 0.0
        if by_index:
            t = idx[s]
            wt = w[t] if has_w else 1.0
            li = (1.0 - ls) * wt * (z - x[b + t * inner])
            if ls > 0:
                sm = 0.0
                for c in range(C):
                    sm += (w[c] if has_w else 1.0) * (z - x[b + c * inner])
                li += ls / C * sm
            wsum += wt
        else:
            for c in range(C):
                q = prob[b + c * inner] * (1.0 - ls) + ls / C
                if has_w:
                    q *= w[c]
                li += q * (z - x[b + c * inner])
            wsum += 1.0
        loss[s] = li
        total += li
    return total, wsum


@kernel
def cross_entropy_backward(x, idx, prob, w, lse, g, gs, scale, C, inner, ignore, ls, gx, gt):
    """gx[s, c] = g_s (softmax(x[s])_c sum(q) - q_c); gt[s, c] = -g_s (1-ls) w_c log_softmax_c
    (probability targets, gt of size 0: skipped)."""
    S = lse.size
    by_index = idx.size > 0
    has_w = w.size > 0
    want_t = gt.size > 0
    wall = 0.0
    if by_index and ls > 0:
        for c in range(C):
            wall += w[c] if has_w else 1.0
    if by_index and inner > 1:
        rv = np.empty((4, inner))
        for o in range(S // inner):
            a, e = o * C * inner, (o + 1) * C * inner
            _grad_cols(x[a:e].reshape(C, inner), gx[a:e].reshape(C, inner), idx, w, has_w, lse,
                       g, gs, scale, o * inner, ignore, ls, wall, rv)
        return
    if by_index and C <= SHORT_ROW:
        nb = min(S, BLOCK_ROWS)
        buf, rv = np.empty(C * nb, x.dtype), np.empty((4, nb))
        for s0 in range(0, S, BLOCK_ROWS):
            k = min(BLOCK_ROWS, S - s0)
            tk = buf[:C * k].reshape(C, k)
            to_columns(x, s0, k, C, tk)
            _grad_cols(tk, tk, idx, w, has_w, lse, g, gs, scale, s0, ignore, ls, wall, rv)
            from_columns(tk, s0, k, C, gx)
        return
    for s in range(S):
        b = (s // inner) * C * inner + s % inner
        gv = g[s * gs] * scale
        z = lse[s]
        if by_index:
            t = idx[s]
            if t == ignore:
                for c in range(C):
                    gx[b + c * inner] = 0.0
                continue
            wt = w[t] if has_w else 1.0
            Q = (1.0 - ls) * wt + ls / C * wall
            _row_grad(x[b:b + C], w, has_w, t, (1.0 - ls) * wt, ls / C, Q, gv, z, gx[b:b + C])
        else:
            Q = 0.0
            for c in range(C):
                q = prob[b + c * inner] * (1.0 - ls) + ls / C
                Q += q * (w[c] if has_w else 1.0)
            for c in range(C):
                i = b + c * inner
                wc = w[c] if has_w else 1.0
                q = (prob[i] * (1.0 - ls) + ls / C) * wc
                gx[i] = gv * (math.exp(x[i] - z) * Q - q)
                if want_t:
                    gt[i] = gv * (1.0 - ls) * wc * (z - x[i])


@kernel
def nll_forward(x, idx, w, C, inner, ignore, loss):
    """loss[s] = -w_t x[s, t] (0 where t == ignore); returns (sum of loss, sum of w_t)."""
    has_w = w.size > 0
    total = 0.0
    wsum = 0.0
    for s in range(loss.size):
        t = idx[s]
        if t == ignore:
            loss[s] = 0.0
            continue
        wt = w[t] if has_w else 1.0
        li = -wt * x[(s // inner) * C * inner + t * inner + s % inner]
        loss[s] = li
        total += li
        wsum += wt
    return total, wsum


@kernel
def nll_backward(idx, w, g, gs, scale, C, inner, ignore, gx):
    """gx = 0 except gx[s, t] = -w_t g_s (ignored samples get no gradient)."""
    has_w = w.size > 0
    for i in range(gx.size):
        gx[i] = 0.0
    for s in range(idx.size):
        t = idx[s]
        if t != ignore:
            wt = w[t] if has_w else 1.0
            gx[(s // inner) * C * inner + t * inner + s % inner] = -wt * g[s * gs] * scale
