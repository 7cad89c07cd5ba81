"""Recurrent cell steps: RNN (tanh/relu), LSTM (gates i, f, g, o), GRU (r, z, n, PyTorch's
"linear before reset" form), forward and backward, every gate fused into one pass.

Arguments are C-contiguous 2-D arrays of `rows` (the active batch prefix) by a gate-stacked or
state width: ``xg`` and ``hg`` are the input and hidden projections of one step, each one BLAS
GEMM done by the caller with all gates stacked ((rows, 4H) LSTM, (rows, 3H) GRU, (rows, H) RNN);
``bi``/``bh`` are the two bias vectors (size 0: no bias). Outputs are caller-allocated; an output
may alias an input read at the same index (documented per kernel), which lets the sequence loop
overwrite its buffers in place. Backward kernels take the upstream gradient as two parts, ``gy``
(from this step's output) and ``dh`` (through the recurrence), and sum them in the pass.

Why ``parallel=True`` and ``prange`` over rows even where one thread runs the step: the same
loop nest compiled serially does not vectorise (numba cannot rule out aliasing among the many
gate streams): an LSTM forward step at 32 x 128 took 216-240 us serial and 20-26 us as a prange
loop on one thread. Threads: with BLAS jobs on numba's pool (jitgrad/_blas_pool.py) every step
uses the pool's threads (LSTM(32 -> 128) training step, T=64, batch 32: 19.6 -> 18.5 ms, its
LSTMCell loop 22.3 -> 19.9 ms, GRU 12.4 -> 10.8 ms against one thread below PAR_MIN). Without
it OpenBLAS's spinning threads hold the second core after each GEMM, and callers run steps
below PAR_MIN state elements (rows x H) on one thread (two cost ~9 us more per call at
32 x 128 and did not win at any size measured up to 256 x 512). Setting the thread count
inside a kernel would make it uncacheable.

float32 stays float32: the constant 1 is ``one``, of the arrays' dtype, because a ``1.0``
literal widens the expression to float64 (LSTM backward at 32 x 128 float32, one thread:
10.3-12.5 us with the literal, 6.0-6.3 us without), and the LSTM forward takes tanh of the
stored c (see _math.tanh: 20-22 -> 15.2-15.5 us).
"""
from numba import prange

from ._jit import kernel
from ._math import sigmoid, tanh

RNN_TANH, RNN_RELU = 0, 1
PAR_MIN = 1 << 17


@kernel(parallel=True)
def rnn_cell_forward(act, xg, hg, bi, bh, h):
    """h = act(xg + hg + bi + bh), act = tanh (RNN_TANH) or relu (RNN_RELU)."""
    rows, n = h.shape
    has_b = bi.size > 0
    for r in prange(rows):
        for j in range(n):
            v = xg[r, j] + hg[r, j]
            if has_b:
                v += bi[j] + bh[j]
            if act == RNN_TANH:
                h[r, j] = tanh(v)
            else:
                h[r, j] = v if (v > 0 or v != v) else 0.0


@kernel(parallel=True)
def rnn_cell_backward(act, h, gy, dh, dpre):
    """dpre = (gy + dh) * act'(.) written from the output h (dpre may alias dh)."""
    rows, n = h.shape
    one = h.dtype.type(1.0)
    for r in prange(rows):
        for j in range(n):
            g = gy[r, j] + dh[r, j]
            v = h[r, j]
            if act == RNN_TANH:
                dpre[r, j] = g * (one - v * v)
            else:
                dpre[r, j] = g if v > 0 else 0.0


@kernel(parallel=True)
def lstm_cell_forward(xg, hg, bi, bh, c_prev, gates, c, h):
    """[i f g o] = [sig sig tanh sig](xg + hg + bi + bh); c = f c_prev + i g; h = o tanh(c).
    `gates` receives the activated i, f, g, o (it may alias xg)."""
    rows, n = h.shape
    has_b = bi.size > 0
    for r in prange(rows):
        for j in range(n):
            a_i = xg[r, j] + hg[r, j]
            a_f = xg[r, n + j] + hg[r, n + j]
            a_g = xg[r, 2 * n + j] + hg[r, 2 * n + j]
            a_o = xg[r, 3 * n + j] + hg[r, 3 * n + j]
            if has_b:
                a_i += bi[j] + bh[j]
                a_f += bi[n + j] + bh[n + j]
                a_g += bi[2 * n + j] + bh[2 * n + j]
                a_o += bi[3 * n + j] + bh[3 * n + j]
            i = sigmoid(a_i)
            f = sigmoid(a_f)
            g = tanh(a_g)
            o = sigmoid(a_o)
            c[r, j] = f * c_prev[r, j] + i * g
            # tanh of the stored c, not of f c_prev + i g: see _math.tanh
            h[r, j] = o * tanh(c[r, j])
            gates[r, j] = i
            gates[r, n + j] = f
            gates[r, 2 * n + j] = g
            gates[r, 3 * n + j] = o


@kernel(parallel=True)
def lstm_cell_backward(gates, c_prev, c, gy, dh, dc, dgates, dc_prev):
    """From activated gates and the cell states: with dh' = gy + dh, tc = tanh(c),
    dc' = dc + dh' o (1 - tc^2): dgates = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2),
    dh' tc o(1-o)]; dc_prev = dc' f (dc_prev may alias dc)."""
    rows, n = c.shape
    one = c.dtype.type(1.0)
    for r in prange(rows):
        for j in range(n):
            i = gates[r, j]
            f = gates[r, n + j]
            g = gates[r, 2 * n + j]
            o = gates[r, 3 * n + j]
            tc = tanh(c[r, j])
            d = gy[r, j] + dh[r, j]
            dcv = dc[r, j] + d * o * (one - tc * tc)
            dgates[r, j] = dcv * g * i * (one - i)
            dgates[r, n + j] = dcv * c_prev[r, j] * f * (one - f)
            dgates[r, 2 * n + j] = dcv * i * (one - g * g)
            dgates[r, 3 * n + j] = d * tc * o * (one - o)
            dc_prev[r, j] = dcv * f


@kernel(parallel=True)
def gru_cell_forward(xg, hg, bi, bh, h_prev, saved, h):
    """r = sig(x_r + h_r), z = sig(x_z + h_z), n = tanh(x_n + r hn) with hn = W_hn h + b_hn,
    h = (1 - z) n + z h_prev (x_* include b_i*, h_* include b_h*); saved = [r z n hn]."""
    rows, n = h.shape
    has_b = bi.size > 0
    one = h.dtype.type(1.0)
    for q in prange(rows):
        for j in range(n):
            a_r = xg[q, j] + hg[q, j]
            a_z = xg[q, n + j] + hg[q, n + j]
            a_n = xg[q, 2 * n + j]
            hn = hg[q, 2 * n + j]
            if has_b:
                a_r += bi[j] + bh[j]
                a_z += bi[n + j] + bh[n + j]
                a_n += bi[2 * n + j]
                hn += bh[2 * n + j]
            r = sigmoid(a_r)
            z = sigmoid(a_z)
            nv = tanh(a_n + r * hn)
            h[q, j] = (one - z) * nv + z * h_prev[q, j]
            saved[q, j] = r
            saved[q, n + j] = z
            saved[q, 2 * n + j] = nv
            saved[q, 3 * n + j] = hn


@kernel(parallel=True)
def gru_cell_backward(saved, h_prev, gy, dh, carry, dgx, dgh):
    """With d = gy + dh + carry, dn = d (1-z)(1-n^2): dgx = [dn hn r(1-r), d (h_prev - n)
    z(1-z), dn], dgh = [same r, same z, dn r]; carry = d z (the direct path to h_prev, in
    place). dgx and dgh are the gate pre-activation gradients of the input and hidden sides."""
    rows, n = h_prev.shape
    one = h_prev.dtype.type(1.0)
    for q in prange(rows):
        for j in range(n):
            r = saved[q, j]
            z = saved[q, n + j]
            nv = saved[q, 2 * n + j]
            hn = saved[q, 3 * n + j]
            d = gy[q, j] + dh[q, j] + carry[q, j]
            dn = d * (one - z) * (one - nv * nv)
            dr = dn * hn * r * (one - r)
            dz = d * (h_prev[q, j] - nv) * z * (one - z)
            dgx[q, j] = dr
            dgx[q, n + j] = dz
            dgx[q, 2 * n + j] = dn
            dgh[q, j] = dr
            dgh[q, n + j] = dz
            dgh[q, 2 * n + j] = dn * r
            carry[q, j] = d * z
