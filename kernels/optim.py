"""Fused optimizer updates over flat parameter / gradient / state buffers (SGD, Adam(W), RMSprop,
Adagrad, Adamax, NAdam, Lion, Adadelta, RAdam, ASGD, Rprop), LBFGS's axpy, and gradient clipping.

Calling convention: every array is one flat 1-D C-contiguous buffer of one dtype (a whole
parameter group's worth). ``seg`` (int64, nseg x 2) lists the [lo, hi) runs to update (parameters
without a gradient are left out; a run never mixes step counts) and ``hs`` (nseg x K, the
parameters' dtype) holds each run's scalars, computed in Python (bias corrections etc.), so
float32 buffers are updated with float32 math, as torch's fused kernels do.

Measured (2 cores, 1M float32, see benchmarks/sidebyside/optim.py): slicing each run into blocks
and updating blocks with a plain loop over the *slices* vectorises and reaches the 4R/3W memory
bound; a ``prange(lo, hi)`` indexing the whole buffer with an offset did not vectorise (3.5x
slower). Runs shorter than PAR_MIN go serial: with BLAS jobs on numba's pool
(jitgrad/_blas_pool.py) two threads won from 64k elements right after a GEMM (38 against 54 us
at 64k, 79 against 124 at 262k). Without that pool OpenBLAS's spinning threads hold the second
core after a GEMM and the optimizer runs smaller updates on one thread
(jitgrad/optim/optimizer.py SERIAL_BELOW).
"""
import numpy as np
from numba import prange

from ._jit import kernel

BLOCK = 16384
PAR_MIN = 1 << 16

# clip-norm op codes
NORM_P, NORM_1, NORM_2, NORM_INF, NORM_NEGINF, NORM_0 = range(6)


# ---------------------------------------------------------------------------------- SGD
@kernel
def _sgd_block(p, g, buf, h, use_buf, nesterov):
    """d = s*g + wd*p; buf = mom*buf + damp*d; d = d + mu*buf (nesterov) or buf; p -= lr*d.
    h = [lr, wd, sign, mom, damp, mu]."""
    lr, wd, sign, mom, damp, mu = h[0], h[1], h[2], h[3], h[4], h[5]
    if not use_buf:
        for i in range(p.size):
            p[i] -= lr * (sign * g[i] + wd * p[i])
    elif nesterov:
        for i in range(p.size):
            d = sign * g[i] + wd * p[i]
            b = mom * buf[i] + damp * d
            buf[i] = b
            p[i] -= lr * (d + mu * b)
    else:
        for i in range(p.size):
            d = sign * g[i] + wd * p[i]
            b = mom * buf[i] + damp * d
            buf[i] = b
            p[i] -= lr * b


@kernel(parallel=True)
def sgd_step(p, g, buf, seg, hs, use_buf, nesterov):
    """SGD with momentum / dampening / nesterov / weight decay over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _sgd_block(p[lo:hi], g[lo:hi], buf[lo:hi], h, use_buf, nesterov)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _sgd_block(p[a:e], g[a:e], buf[a:e], h, use_buf, nesterov)


# ---------------------------------------------------------------------------------- Adam / AdamW
@kernel
def _adam_block(p, g, m, v, vmax, h, amsgrad):
    """d = s*g + wd*p; p *= decay; m += (1-b1)(d-m); v = b2 v + (1-b2) d^2;
    p -= step * m / (sqrt(max(vmax, v)) + eps), with step = lr sqrt(bc2) / bc1 and
    eps = eps sqrt(bc2): torch's step * m / (sqrt(v) / sqrt(bc2) + eps) without its second
    division (1M float32: 187-210 -> 172-183 us; the FP divider bounds this loop).
    h = [wd, sign, decay, 1-b1, b2, 1-b2, step, eps]."""
    wd, sign, decay, c1, b2, c2, step, eps = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    if amsgrad:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            mi = m[i] + c1 * (d - m[i])
            vi = b2 * v[i] + c2 * d * d
            mx = max(vmax[i], vi)
            m[i] = mi
            v[i] = vi
            vmax[i] = mx
            p[i] = x * decay - step * mi / (np.sqrt(mx) + eps)
    else:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            mi = m[i] + c1 * (d - m[i])
            vi = b2 * v[i] + c2 * d * d
            m[i] = mi
            v[i] = vi
            p[i] = x * decay - step * mi / (np.sqrt(vi) + eps)


@kernel(parallel=True)
def adam_step(p, g, m, v, vmax, seg, hs, amsgrad):
    """Adam / AdamW (coupled weight decay via h[0], decoupled via h[2]) over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _adam_block(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi],
                        vmax[lo:hi], h, amsgrad)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _adam_block(p[a:e], g[a:e], m[a:e], v[a:e], vmax[a:e], h,
                            amsgrad)


# ---------------------------------------------------------------------------------- RMSprop
@kernel
def _rmsprop_block(p, g, sq, gavg, buf, h, centered, use_buf):
    """d = s*g + wd*p; sq = a sq + (1-a) d^2; gavg += (1-a)(d-gavg);
    r = d / (sqrt(sq - gavg^2) + eps); buf = mom*buf + r; p -= lr*(buf or r).
    h = [lr, wd, sign, alpha, 1-alpha, eps, mom]."""
    lr, wd, sign, alpha, ca, eps, mom = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
    for i in range(p.size):
        x = p[i]
        d = sign * g[i] + wd * x
        s = alpha * sq[i] + ca * d * d
        sq[i] = s
        if centered:
            ga = gavg[i] + ca * (d - gavg[i])
            gavg[i] = ga
            s = s - ga * ga
        r = d / (np.sqrt(s) + eps)
        if use_buf:
            r = mom * buf[i] + r
            buf[i] = r
        p[i] = x - lr * r


@kernel(parallel=True)
def rmsprop_step(p, g, sq, gavg, buf, seg, hs, centered, use_buf):
    """RMSprop (centered, momentum, weight decay) over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _rmsprop_block(p[lo:hi], g[lo:hi], sq[lo:hi], gavg[lo:hi],
                           buf[lo:hi], h, centered, use_buf)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _rmsprop_block(p[a:e], g[a:e], sq[a:e], gavg[a:e],
                               buf[a:e], h, centered, use_buf)


# ---------------------------------------------------------------------------------- Adagrad
@kernel
def _adagrad_block(p, g, acc, h):
    """d = s*g + wd*p; acc += d^2; p -= clr * d / (sqrt(acc) + eps). h = [clr, wd, sign, eps]."""
    clr, wd, sign, eps = h[0], h[1], h[2], h[3]
    for i in range(p.size):
        x = p[i]
        d = sign * g[i] + wd * x
        a = acc[i] + d * d
        acc[i] = a
        p[i] = x - clr * d / (np.sqrt(a) + eps)


@kernel(parallel=True)
def adagrad_step(p, g, acc, seg, hs):
    """Adagrad over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _adagrad_block(p[lo:hi], g[lo:hi], acc[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _adagrad_block(p[a:e], g[a:e], acc[a:e], h)


# ---------------------------------------------------------------------------------- Adamax
@kernel
def _adamax_block(p, g, m, u, h):
    """d = s*g + wd*p; m += (1-b1)(d-m); u = max(b2*u, |d|+eps); p -= clr*m/u.
    h = [clr, wd, sign, 1-b1, b2, eps]."""
    clr, wd, sign, c1, b2, eps = h[0], h[1], h[2], h[3], h[4], h[5]
    for i in range(p.size):
        x = p[i]
        d = sign * g[i] + wd * x
        mi = m[i] + c1 * (d - m[i])
        ui = max(b2 * u[i], abs(d) + eps)
        m[i] = mi
        u[i] = ui
        p[i] = x - clr * mi / ui


@kernel(parallel=True)
def adamax_step(p, g, m, u, seg, hs):
    """Adamax over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _adamax_block(p[lo:hi], g[lo:hi], m[lo:hi], u[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _adamax_block(p[a:e], g[a:e], m[a:e], u[a:e], h)


# ---------------------------------------------------------------------------------- NAdam
@kernel
def _nadam_block(p, g, m, v, h):
    """d = s*g + wd*p; p *= decay; m += (1-b1)(d-m); v = b2 v + (1-b2) d^2;
    den = sqrt(v/bc2) + eps; p -= cg*d/den + cm*m/den.
    h = [wd, sign, decay, 1-b1, b2, 1-b2, bc2, eps, cg, cm]."""
    wd, sign, decay, c1, b2, c2, bc2, eps, cg, cm = (h[0], h[1], h[2], h[3], h[4], h[5], h[6],
                                                     h[7], h[8], h[9])
    for i in range(p.size):
        x = p[i]
        d = sign * g[i] + wd * x
        mi = m[i] + c1 * (d - m[i])
        vi = b2 * v[i] + c2 * d * d
        m[i] = mi
        v[i] = vi
        den = np.sqrt(vi / bc2) + eps
        p[i] = x * decay - cg * d / den - cm * mi / den


@kernel(parallel=True)
def nadam_step(p, g, m, v, seg, hs):
    """NAdam over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _nadam_block(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _nadam_block(p[a:e], g[a:e], m[a:e], v[a:e], h)


# ---------------------------------------------------------------------------------- Lion
@kernel
def _lion_block(p, g, m, h):
    """d = s*g; p = p*decay - lr*sign(b1 m + (1-b1) d); m = b2 m + (1-b2) d.
    h = [lr, sign, decay, b1, 1-b1, b2, 1-b2]."""
    lr, sign, decay, b1, c1, b2, c2 = h[0], h[1], h[2], h[3], h[4], h[5], h[6]
    for i in range(p.size):
        d = sign * g[i]
        p[i] = p[i] * decay - lr * np.sign(b1 * m[i] + c1 * d)
        m[i] = b2 * m[i] + c2 * d


@kernel(parallel=True)
def lion_step(p, g, m, seg, hs):
    """Lion over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _lion_block(p[lo:hi], g[lo:hi], m[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _lion_block(p[a:e], g[a:e], m[a:e], h)


# ---------------------------------------------------------------------------------- Adadelta
@kernel
def _adadelta_block(p, g, v, u, h):
    """d = s*g + wd*p; v = rho v + (1-rho) d^2; dx = sqrt(u+eps)/sqrt(v+eps) * d;
    u = rho u + (1-rho) dx^2; p -= lr*dx. h = [lr, wd, sign, rho, 1-rho, eps]."""
    lr, wd, sign, rho, cr, eps = h[0], h[1], h[2], h[3], h[4], h[5]
    for i in range(p.size):
        x = p[i]
        d = sign * g[i] + wd * x
        vi = rho * v[i] + cr * d * d
        dx = np.sqrt(u[i] + eps) / np.sqrt(vi + eps) * d
        v[i] = vi
        u[i] = rho * u[i] + cr * dx * dx
        p[i] = x - lr * dx


@kernel(parallel=True)
def adadelta_step(p, g, v, u, seg, hs):
    """Adadelta over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _adadelta_block(p[lo:hi], g[lo:hi], v[lo:hi], u[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _adadelta_block(p[a:e], g[a:e], v[a:e], u[a:e], h)


# ---------------------------------------------------------------------------------- RAdam
@kernel
def _radam_block(p, g, m, v, h):
    """d = s*g + wd*p; p *= decay; m += (1-b1)(d-m); v = b2 v + (1-b2) d^2;
    p -= ca * m / (sqrt(v) + eps) if rect else cm * m.
    h = [wd, sign, decay, 1-b1, b2, 1-b2, rect, ca, cm, eps]."""
    wd, sign, decay, c1, b2, c2 = h[0], h[1], h[2], h[3], h[4], h[5]
    rect, ca, cm, eps = h[6], h[7], h[8], h[9]
    if rect != 0:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            mi = m[i] + c1 * (d - m[i])
            vi = b2 * v[i] + c2 * d * d
            m[i] = mi
            v[i] = vi
            p[i] = x * decay - ca * mi / (np.sqrt(vi) + eps)
    else:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            mi = m[i] + c1 * (d - m[i])
            m[i] = mi
            v[i] = b2 * v[i] + c2 * d * d
            p[i] = x * decay - cm * mi


@kernel(parallel=True)
def radam_step(p, g, m, v, seg, hs):
    """RAdam (coupled weight decay via h[0], decoupled via h[2]) over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _radam_block(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _radam_block(p[a:e], g[a:e], m[a:e], v[a:e], h)


# ---------------------------------------------------------------------------------- ASGD
@kernel
def _asgd_block(p, g, ax, h):
    """d = s*g + wd*p; p = p*(1 - lambd*eta) - eta*d; ax += mu*(p - ax) (ax = p if mu == 1).
    h = [wd, sign, 1 - lambd*eta, eta, mu]."""
    wd, sign, decay, eta, mu = h[0], h[1], h[2], h[3], h[4]
    if mu != 1:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            x = x * decay - eta * d
            p[i] = x
            ax[i] += mu * (x - ax[i])
    else:
        for i in range(p.size):
            x = p[i]
            d = sign * g[i] + wd * x
            x = x * decay - eta * d
            p[i] = x
            ax[i] = x


@kernel(parallel=True)
def asgd_step(p, g, ax, seg, hs):
    """ASGD over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _asgd_block(p[lo:hi], g[lo:hi], ax[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _asgd_block(p[a:e], g[a:e], ax[a:e], h)


# ---------------------------------------------------------------------------------- Rprop
@kernel
def _rprop_block(p, g, prev, ss, h):
    """d = s*g; f = eta+ if d*prev > 0, eta- if < 0, else 1; ss = clamp(ss*f, lo, hi);
    d = 0 where f == eta-; p -= sign(d)*ss; prev = d (NaN propagates).
    h = [sign, eta-, eta+, lo, hi, 1] (the 1 in the buffers' dtype keeps float32 math float32)."""
    sign, em, ep, lo, hi, one = h[0], h[1], h[2], h[3], h[4], h[5]
    zero = one - one
    for i in range(p.size):
        d = sign * g[i]
        c = d * prev[i]
        f = ep if c > zero else (em if c < zero else (one if c == zero else c))
        z = ss[i] * f
        z = lo if z < lo else (hi if z > hi else z)
        ss[i] = z
        if f == em:
            d = zero
        p[i] -= np.sign(d) * z
        prev[i] = d


@kernel(parallel=True)
def rprop_step(p, g, prev, ss, seg, hs):
    """Rprop over the runs in seg."""
    for s in range(seg.shape[0]):
        lo, hi, h = seg[s, 0], seg[s, 1], hs[s]
        if hi - lo < PAR_MIN:
            _rprop_block(p[lo:hi], g[lo:hi], prev[lo:hi], ss[lo:hi], h)
        else:
            nb = (hi - lo + BLOCK - 1) // BLOCK
            for b in prange(nb):
                a = lo + b * BLOCK
                e = min(a + BLOCK, hi)
                _rprop_block(p[a:e], g[a:e], prev[a:e], ss[a:e], h)


# ---------------------------------------------------------------------------------- LBFGS
@kernel
def _axpy_block(y, a, x):
    """y += a * x."""
    for i in range(y.size):
        y[i] += a * x[i]


@kernel(parallel=True)
def axpy(y, a, x):
    """y += a * x in place (a: a scalar of y's dtype), BLOCK-sized prange blocks; LBFGS's
    two-loop recursion and steps (NumPy's y += a * x allocates a temporary and was 3x slower
    at 1M float32)."""
    n = y.size
    nb = (n + BLOCK - 1) // BLOCK
    if nb <= 1:
        _axpy_block(y, a, x)
    else:
        for b in prange(nb):
            lo = b * BLOCK
            hi = min(lo + BLOCK, n)
            _axpy_block(y[lo:hi], a, x[lo:hi])


# ---------------------------------------------------------------------------------- clipping
@kernel
def norm_partial(op, x, p):
    """sum |x|^p (P, 1, 2), max |x| (INF), min |x| (NEGINF) or count of nonzeros (0), in float64."""
    t = 0.0
    if op == NORM_2:
        for i in range(x.size):
            v = np.float64(x[i])
            t += v * v
    elif op == NORM_1:
        for i in range(x.size):
            t += abs(np.float64(x[i]))
    elif op == NORM_INF:
        for i in range(x.size):
            a = abs(np.float64(x[i]))
            if a > t or a != a:
                t = a
    elif op == NORM_NEGINF:
        t = np.inf
        for i in range(x.size):
            a = abs(np.float64(x[i]))
            if a < t or a != a:
                t = a
    elif op == NORM_0:
        for i in range(x.size):
            t += 1.0 if x[i] != 0 else 0.0
    else:
        for i in range(x.size):
            t += abs(np.float64(x[i])) ** p
    return t


@kernel
def scale_inplace(x, c):
    """x *= c."""
    for i in range(x.size):
        x[i] *= c


@kernel
def clamp_inplace(x, lo, hi):
    """x = min(max(x, lo), hi) (NaN stays NaN)."""
    for i in range(x.size):
        v = x[i]
        x[i] = lo if v < lo else (hi if v > hi else v)
