"""Recurrent ops: RNN (tanh/relu), LSTM and GRU, as one cell step or one layer over a sequence.

A cell step is one autograd node (LSTM: one node, two outputs h and c): two GEMMs (input and
hidden projections, all gates stacked), one fused cell kernel; backward is one fused kernel and
the GEMMs for input, state and weights.

A layer over a whole sequence (one direction) is one autograd node too. Forward: the input
projection of all T steps is one GEMM over T*B rows, then per step one recurrent GEMM into a
preallocated block (``np.matmul(out=)``) and one fused cell kernel writing into preallocated
state/gate buffers (nothing is allocated inside the time loop). The activated gates of every
step are kept for backward, written over the input projection: recomputing them from saved
pre-activations (chainer's way) needs the same memory here, and the LSTM backward step kernel
measured 10.3-10.6 us with saved gates against 17.1-19.4 us recomputing (32 x 128, float32, one
thread), i.e. ~0.5 ms more per 64-step sequence.
Backward runs the hidden-state recurrence per step (fused cell-backward kernel + one GEMM) and
then computes dW_ih, dW_hh, the biases and dX as single GEMMs (and one column-sum kernel) over
all T*B rows.

Variable-length batches: ``lengths`` (sorted in decreasing order, as PackedSequence keeps them)
makes step t process only the first ``batch_size[t]`` rows, so each sequence's final state is
taken at its own last step, as PyTorch does; padded output positions are zero.

Layout: inputs are time-major (T, B, I); states (B, H); weights as PyTorch: w_ih (G*H, I),
w_hh (G*H, H), biases (G*H,), with G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
"""
import sys
import threading

import numpy as np

from ... import _check as C
from ..._threads import one_thread_below, restore_threads
from ...autograd.function import Function
from ...autograd.product_sum import ProductSum
from ...kernels import linear as KL
from ...kernels import recurrent as K
from ..._ops.util import contiguous

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell",
           "rnn_tanh_layer", "rnn_relu_layer", "lstm_layer", "gru_layer"]

_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


# ----------------------------------------------------------------------------- buffers
# (shape, dtype) -> arrays for whole-sequence buffers, reused when free; per thread, so two
# threads training models at once never both take the same free buffer
_POOLS = threading.local()
_POOL_MIN = 1 << 16  # bytes; smaller arrays come from malloc's heap anyway
_POOL_PER_KEY = 8
_POOL_KEYS = 16      # shapes kept; the oldest is dropped (variable T would otherwise grow it)


def _pool():
    pool = getattr(_POOLS, "pool", None)
    if pool is None:
        pool = _POOLS.pool = {}
    return pool


def _buffer(shape, dtype, zero=False):
    """An array for a whole-sequence buffer (gates, states, gate gradients), reused from earlier
    calls when nothing references it any more: no view, no saved graph node, no caller (its only
    references are the pool's and this loop's). Fresh large arrays come from mmap here, and
    first-touching them cost ~1,800 page faults per LSTM training step (a few ms)."""
    dtype = np.dtype(dtype)
    if int(np.prod(shape)) * dtype.itemsize < _POOL_MIN:
        return (np.zeros if zero else np.empty)(shape, dtype)
    pool = _pool()
    key = (shape, dtype)
    free = pool.get(key)
    if free is None:
        if len(pool) >= _POOL_KEYS:
            del pool[next(iter(pool))]
        free = pool[key] = []
    for a in free:
        if sys.getrefcount(a) == 3:  # the list, `a`, getrefcount's argument
            if zero:
                a.fill(0)
            return a
    a = (np.zeros if zero else np.empty)(shape, dtype)
    if len(free) < _POOL_PER_KEY:
        free.append(a)
    return a


# ----------------------------------------------------------------------------- validation
def _plain(a, dtype, shape):
    """a is a C-contiguous ndarray of this dtype and shape (nothing to convert or report)."""
    return type(a) is np.ndarray and a.dtype == dtype and a.shape == shape and \
        a.flags.c_contiguous


def _accepted(kind, x, states, w_ih, w_hh, b_ih, b_hh, seq):
    """_check's result for the common case (batched input, every array already C-contiguous
    with the input's float dtype and its expected shape), or None: then _check validates in
    full and names what is wrong. A cell step in a Python loop pays this on every call; the
    full check measured 9-12 us per LSTMCell step, this one ~2 us."""
    if type(x) is not np.ndarray or x.ndim != (3 if seq else 2) or x.dtype.kind != "f":
        return None
    dtype = x.dtype
    H = w_hh.shape[1] if type(w_hh) is np.ndarray and w_hh.ndim == 2 else -1
    G = _GATES[kind] * H
    if H < 0 or not (_plain(x, dtype, x.shape) and _plain(w_hh, dtype, (G, H)) and
                     _plain(w_ih, dtype, (G, x.shape[-1]))):
        return None
    if b_ih is None and b_hh is None:
        bi = bh = _EMPTY[dtype]
    elif _plain(b_ih, dtype, (G,)) and _plain(b_hh, dtype, (G,)):
        bi, bh = b_ih, b_hh
    else:
        return None
    out = []
    for _, s in states:
        if s is None:
            s = np.zeros((x.shape[-2], H), dtype)
        elif not _plain(s, dtype, (x.shape[-2], H)):
            return None
        out.append(s)
    return x, out, w_ih, w_hh, bi, bh


def _check(op, kind, x, states, w_ih, w_hh, b_ih, b_hh, seq):
    """Validate shapes/dtypes; return (x, states, w_ih, w_hh, bi, bh) as C-contiguous arrays
    (x 2-D for a cell / 3-D for a layer; a missing state becomes zeros)."""
    ok = _accepted(kind, x, states, w_ih, w_hh, b_ih, b_hh, seq)
    if ok is not None:
        return ok
    x = C.float_array(op, "input", x)
    C.ndim(op, "input", x, (2, 3) if seq else (1, 2))
    w_hh = C.float_array(op, "w_hh", w_hh)
    C.ndim(op, "w_hh", w_hh, 2)
    H = w_hh.shape[1]
    G = _GATES[kind]
    C.shape(op, "w_hh", w_hh, (G * H, H))
    w_ih = C.float_array(op, "w_ih", w_ih)
    C.shape(op, "w_ih", w_ih, (G * H, None))
    lead = x.shape[:-1]
    C.shape(op, "input", x, lead + (w_ih.shape[1],))
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}(): arguments 'b_ih' and 'b_hh' must both be given or both be "
                         f"None")
    if b_ih is not None:
        b_ih = C.float_array(op, "b_ih", b_ih)
        b_hh = C.float_array(op, "b_hh", b_hh)
        C.shape(op, "b_ih", b_ih, (G * H,))
        C.shape(op, "b_hh", b_hh, (G * H,))
    C.same_dtype(op, ("input", "w_ih", "w_hh", "b_ih", "b_hh"), (x, w_ih, w_hh, b_ih, b_hh))
    batch = lead[-1] if seq or x.ndim == 2 else None
    out = []
    for name, s in states:
        if s is None:
            s = np.zeros((H,) if batch is None else (batch, H), x.dtype)
        else:
            s = C.float_array(op, name, s)
            C.shape(op, name, s, (H,) if batch is None else (batch, H))
            C.same_dtype(op, ("input", name), (x, s))
        out.append(s)
    bi = _EMPTY[x.dtype] if b_ih is None else b_ih
    bh = _EMPTY[x.dtype] if b_hh is None else b_hh
    return x, out, w_ih, w_hh, bi, bh


def _batch_sizes(op, lengths, T, B):
    """(active rows per time step, lengths as int64): [B] * T without `lengths` (which must be
    decreasing, each in 1..T)."""
    if lengths is None:
        return [B] * T, None
    lengths = C.index_array(op, "lengths", lengths)
    C.shape(op, "lengths", lengths, (B,))
    if B and (lengths.max() > T or lengths.min() < 1 or np.any(np.diff(lengths) > 0)):
        raise ValueError(f"{op}(): argument 'lengths' expected lengths in 1..{T} sorted in "
                         f"decreasing order, got {lengths.tolist()}")
    return np.count_nonzero(np.arange(T)[:, None] < lengths[None, :], axis=1).tolist(), lengths


def _weight_grads(ctx, need, dgx, dgh, x2, hprev2, w_ih, iw, ib):
    """(dx, dW_ih, dW_hh, db_ih, db_hh) from the gate gradients of all rows; iw / ib are the
    argument positions of w_ih / b_ih. Each weight/bias gradient is one GEMM (or column sum)
    into the leaf's gradient view when the op may write there (grad_buffer), else a
    ProductSum: a cell called once per step of a Python loop then gets one GEMM over all
    steps when backward finishes the weight, instead of a small-K GEMM and an add per step."""
    dx = np.matmul(dgx, w_ih) if need[0] else None
    grads = []
    for pos, a, b in ((iw, dgx, x2), (iw + 1, dgh, hprev2), (ib, dgx, None), (ib + 1, dgh, None)):
        if not need[pos]:
            grads.append(None)
            continue
        g = ProductSum(a, b)
        out = ctx.grad_buffer(pos)
        if out is not None:
            if pos == ib + 1 and dgh is dgx and type(grads[2]) is np.ndarray:
                g = out  # one gate-gradient array (LSTM, RNN): db_hh = db_ih
                np.copyto(g, grads[2])
            else:
                g = g.dense(out)
        grads.append(g)
    return (dx, *grads)


# ----------------------------------------------------------------------------- cell steps
def _cell_inputs(op, kind, x, states, w_ih, w_hh, b_ih, b_hh):
    x, states, w_ih, w_hh, bi, bh = _check(op, kind, x, states, w_ih, w_hh, b_ih, b_hh, False)
    unbatched = x.ndim == 1
    if unbatched:
        x = x.reshape(1, -1)
        states = [s.reshape(1, -1) for s in states]
    return x, states, w_ih, w_hh, bi, bh, unbatched


def _projections(x, h, w_ih, w_hh):
    gh = w_hh.shape[0]
    xg = np.empty((x.shape[0], gh), x.dtype)
    np.matmul(x, w_ih.T, out=xg)
    hg = np.empty((x.shape[0], gh), x.dtype)
    np.matmul(h, w_hh.T, out=hg)
    return xg, hg


def _cell_backward(ctx, dg, dgh, x, h, w_ih, w_hh, iw, dh_direct=None):
    """Gradients of x, h (argument 1), w_ih, w_hh (arguments iw, iw + 1) and the biases
    (iw + 2, iw + 3) from the gate gradients of one step."""
    need = ctx.needs_input_grad
    dx, dwi, dwh, dbi, dbh = _weight_grads(ctx, need, dg, dgh, x, h, w_ih, iw, iw + 2)
    dh = None
    if need[1]:
        dh = np.matmul(dgh, w_hh)
        if dh_direct is not None:
            dh += dh_direct
    if ctx.unbatched:
        dx = None if dx is None else dx.reshape(-1)
        dh = None if dh is None else dh.reshape(-1)
    return dx, dh, dwi, dwh, dbi, dbh


class RNNCell(Function):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, act):
        op = "rnn_tanh_cell" if act == K.RNN_TANH else "rnn_relu_cell"
        x, (h,), w_ih, w_hh, bi, bh, unbatched = _cell_inputs(
            op, "rnn", x, [("hx", h)], w_ih, w_hh, b_ih, b_hh)
        xg, hg = _projections(x, h, w_ih, w_hh)
        nt = one_thread_below(h.size, K.PAR_MIN)
        try:
            K.rnn_cell_forward(act, xg, hg, bi, bh, xg)  # h' written over the input projection
        finally:
            restore_threads(nt)
        ctx.act, ctx.unbatched = act, unbatched
        ctx.save_for_backward(x, h, w_ih, w_hh, xg)
        return xg.reshape(-1) if unbatched else xg

    @staticmethod
    def backward(ctx, g):
        x, h, w_ih, w_hh, y = ctx.saved_tensors
        g = contiguous(g).reshape(y.shape)
        dg = np.empty(y.shape, y.dtype)
        nt = one_thread_below(y.size, K.PAR_MIN)
        try:
            K.rnn_cell_backward(ctx.act, y, g, np.zeros(y.shape, y.dtype), dg)
        finally:
            restore_threads(nt)
        return _cell_backward(ctx, dg, dg, x, h, w_ih, w_hh, 2) + (None,)

    @staticmethod
    def name_of(ctx):
        return "rnnTanhCell" if ctx.act == K.RNN_TANH else "rnnReluCell"


class LSTMCell(Function):
    """(h', c') of one LSTM step, gates i, f, g, o: c' = f c + i g, h' = o tanh(c')."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        x, (h, c), w_ih, w_hh, bi, bh, unbatched = _cell_inputs(
            "lstm_cell", "lstm", x, [("hx[0]", h), ("hx[1]", c)], w_ih, w_hh, b_ih, b_hh)
        xg, hg = _projections(x, h, w_ih, w_hh)
        h2 = np.empty(h.shape, x.dtype)
        c2 = np.empty(h.shape, x.dtype)
        nt = one_thread_below(c.size, K.PAR_MIN)
        try:
            K.lstm_cell_forward(xg, hg, bi, bh, c, xg, c2, h2)  # gates written over xg
        finally:
            restore_threads(nt)
        ctx.unbatched = unbatched
        ctx.save_for_backward(x, h, c, w_ih, w_hh, xg, c2)
        if unbatched:
            return h2.reshape(-1), c2.reshape(-1)
        return h2, c2

    @staticmethod
    def backward(ctx, gh, gc):
        x, h, c, w_ih, w_hh, gates, c2 = ctx.saved_tensors
        gh = contiguous(gh).reshape(c2.shape)
        gc = contiguous(gc).reshape(c2.shape)
        dg = np.empty(gates.shape, gates.dtype)
        dc = np.empty(c2.shape, c2.dtype)
        nt = one_thread_below(c2.size, K.PAR_MIN)
        try:
            K.lstm_cell_backward(gates, c, c2, gh, np.zeros(c2.shape, c2.dtype), gc, dg, dc)
        finally:
            restore_threads(nt)
        dx, dh, dwi, dwh, dbi, dbh = _cell_backward(ctx, dg, dg, x, h, w_ih, w_hh, 3)
        dc = (dc.reshape(-1) if ctx.unbatched else dc) if ctx.needs_input_grad[2] else None
        return dx, dh, dc, dwi, dwh, dbi, dbh

    @staticmethod
    def name_of(ctx):
        return "lstmCell"


class GRUCell(Function):
    """h' = (1 - z) n + z h with r, z = sig(.), n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        x, (h,), w_ih, w_hh, bi, bh, unbatched = _cell_inputs(
            "gru_cell", "gru", x, [("hx", h)], w_ih, w_hh, b_ih, b_hh)
        xg, hg = _projections(x, h, w_ih, w_hh)
        H = h.shape[1]
        saved = np.empty((x.shape[0], 4 * H), x.dtype)
        h2 = np.empty(h.shape, x.dtype)
        nt = one_thread_below(h.size, K.PAR_MIN)
        try:
            K.gru_cell_forward(xg, hg, bi, bh, h, saved, h2)
        finally:
            restore_threads(nt)
        ctx.unbatched = unbatched
        ctx.save_for_backward(x, h, w_ih, w_hh, saved)
        return h2.reshape(-1) if unbatched else h2

    @staticmethod
    def backward(ctx, g):
        x, h, w_ih, w_hh, saved = ctx.saved_tensors
        g = contiguous(g).reshape(h.shape)
        dgx = np.empty((h.shape[0], 3 * h.shape[1]), h.dtype)
        dgh = np.empty(dgx.shape, h.dtype)
        carry = np.zeros(h.shape, h.dtype)
        nt = one_thread_below(h.size, K.PAR_MIN)
        try:
            K.gru_cell_backward(saved, h, g, np.zeros(h.shape, h.dtype), carry, dgx, dgh)
        finally:
            restore_threads(nt)
        return _cell_backward(ctx, dgx, dgh, x, h, w_ih, w_hh, 2, carry)

    @staticmethod
    def name_of(ctx):
        return "gruCell"


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with tanh: h' = tanh(input W_ih^T + b_ih + hx W_hh^T + b_hh)
    (torch.rnn_tanh_cell); hx None means zeros; input (B, I) or unbatched (I,)."""
    return RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, K.RNN_TANH)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with relu (torch.rnn_relu_cell)."""
    return RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, K.RNN_RELU)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (torch.lstm_cell): hx = (h, c) or None (zeros); returns (h', c')."""
    h, c = (None, None) if hx is None else _pair("lstm_cell", hx)
    return LSTMCell.apply(input, h, c, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (torch.gru_cell), PyTorch's gate order r, z, n and "linear before reset"."""
    return GRUCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def _pair(op, hx):
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}(): argument 'hx' expected a tuple (h, c) of two Tensors, got "
                        f"{type(hx).__name__}")
    return hx[0], hx[1]


# ----------------------------------------------------------------------------- layers
def _layer_setup(ctx, op, kind, x, states, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
    x, states, w_ih, w_hh, bi, bh = _check(op, kind, x, states, w_ih, w_hh, b_ih, b_hh, True)
    T, B, I = x.shape
    if T == 0:
        raise ValueError(f"{op}(): argument 'input' expected at least one time step, got shape "
                         f"{x.shape}")
    ctx.bs, ctx.lengths = _batch_sizes(op, lengths, T, B)
    ctx.reverse, ctx.packed = reverse, lengths is not None
    # input projection of all steps: one GEMM over T*B rows
    xg = _buffer((T, B, w_ih.shape[0]), x.dtype)
    np.matmul(x.reshape(T * B, I), w_ih.T, out=xg.reshape(T * B, -1))
    return x, states, w_ih, w_hh, bi, bh, xg


def _order(T, reverse):
    """(time t, index of the previous state, index of the new state) per step, into a
    (T + 1)-slot state buffer: forward slots 0 = h0, t + 1 = h_t; reverse t = h_t, T = h0."""
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def _state_buffer(ctx, T, s0, reverse):
    B, H = s0.shape
    buf = _buffer((T + 1, B, H), s0.dtype, zero=ctx.packed)
    buf[T if reverse else 0] = s0
    return buf


def _seed_rows(ctx, bufs, s0s, t):
    """Reverse packed direction: rows that start at step t read their initial state."""
    bs = ctx.bs  # (the last step's rows were seeded with the whole initial state)
    if ctx.packed and t + 1 < len(bs) and bs[t + 1] < bs[t]:
        lo, hi = bs[t + 1], bs[t]
        for buf, s0 in zip(bufs, s0s):
            buf[t + 1, lo:hi] = s0[lo:hi]


def _layer_outputs(ctx, bufs):
    """(output (T, B, H), final state of each buffer) for a finished forward loop."""
    T = len(ctx.bs)
    hs = bufs[0]
    out = hs[:T] if ctx.reverse else hs[1:]
    if ctx.packed and ctx.reverse:  # slots of padded positions held initial states
        out = out.copy()
        out[np.arange(T)[:, None] >= ctx.lengths[None, :]] = 0
    finals = []
    for buf in bufs:
        if ctx.reverse:
            finals.append(buf[0].copy())
        elif ctx.packed:
            finals.append(buf[ctx.lengths, np.arange(buf.shape[1])])
        else:
            finals.append(buf[T].copy())
    return out, finals


def _hprev(hs, T, reverse):
    prev = hs[1:] if reverse else hs[:T]
    return prev.reshape(T * hs.shape[1], hs.shape[2])


def _grad_buffer(ctx, shape, dtype):
    return _buffer(shape, dtype, zero=ctx.packed)


class RNNLayer(Function):
    """An Elman RNN (tanh or relu) over a whole sequence, one direction: (output, h_n)."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, act):
        op = "rnn_tanh_layer" if act == K.RNN_TANH else "rnn_relu_layer"
        x, (h0,), w_ih, w_hh, bi, bh, xg = _layer_setup(
            ctx, op, "rnn", x, [("hx", h0)], w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        T, B, _ = x.shape
        hs = _state_buffer(ctx, T, h0, reverse)
        hg = np.empty((B, w_hh.shape[0]), x.dtype)
        w_hhT = np.ascontiguousarray(w_hh.T)  # measured faster per step than the transposed view
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in _order(T, reverse):
                if reverse:
                    _seed_rows(ctx, (hs,), (h0,), t)
                n = bs[t]
                np.matmul(hs[p, :n], w_hhT, out=hg[:n])
                K.rnn_cell_forward(act, xg[t, :n], hg[:n], bi, bh, hs[q, :n])
        finally:
            restore_threads(nt)
        ctx.act = act
        ctx.save_for_backward(x, w_ih, w_hh, hs)
        out, (hn,) = _layer_outputs(ctx, (hs,))
        return out, hn

    @staticmethod
    def backward(ctx, gy, ghn):
        x, w_ih, w_hh, hs = ctx.saved_tensors
        T, B, H = len(ctx.bs), hs.shape[1], hs.shape[2]
        gy = contiguous(gy)
        dg = _grad_buffer(ctx, (T, B, H), hs.dtype)
        dh = np.array(ghn, order="C")
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in reversed(_order(T, ctx.reverse)):
                n = bs[t]
                K.rnn_cell_backward(ctx.act, hs[q, :n], gy[t, :n], dh[:n], dg[t, :n])
                np.matmul(dg[t, :n], w_hh, out=dh[:n])
        finally:
            restore_threads(nt)
        dg2 = dg.reshape(T * B, H)
        dx, dwi, dwh, dbi, dbh = _weight_grads(ctx, ctx.needs_input_grad, dg2, dg2,
                                               x.reshape(T * B, -1),
                                               _hprev(hs, T, ctx.reverse), w_ih, 2, 4)
        dx = None if dx is None else dx.reshape(x.shape)
        return dx, dh, dwi, dwh, dbi, dbh, None, None, None

    @staticmethod
    def name_of(ctx):
        return "rnnTanhLayer" if ctx.act == K.RNN_TANH else "rnnReluLayer"


class LSTMLayer(Function):
    """An LSTM over a whole sequence, one direction: (output, h_n, c_n)."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        x, (h0, c0), w_ih, w_hh, bi, bh, xg = _layer_setup(
            ctx, "lstm_layer", "lstm", x, [("hx[0]", h0), ("hx[1]", c0)], w_ih, w_hh, b_ih,
            b_hh, lengths, reverse)
        T, B, _ = x.shape
        hs = _state_buffer(ctx, T, h0, reverse)
        cs = _state_buffer(ctx, T, c0, reverse)
        hg = np.empty((B, w_hh.shape[0]), x.dtype)
        w_hhT = np.ascontiguousarray(w_hh.T)  # measured faster per step than the transposed view
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in _order(T, reverse):
                if reverse:
                    _seed_rows(ctx, (hs, cs), (h0, c0), t)
                n = bs[t]
                np.matmul(hs[p, :n], w_hhT, out=hg[:n])
                g = xg[t, :n]  # activated gates written over the input projection
                K.lstm_cell_forward(g, hg[:n], bi, bh, cs[p, :n], g, cs[q, :n], hs[q, :n])
        finally:
            restore_threads(nt)
        ctx.save_for_backward(x, w_ih, w_hh, hs, cs, xg)
        out, (hn, cn) = _layer_outputs(ctx, (hs, cs))
        return out, hn, cn

    @staticmethod
    def backward(ctx, gy, ghn, gcn):
        x, w_ih, w_hh, hs, cs, gates = ctx.saved_tensors
        T, B, H = len(ctx.bs), hs.shape[1], hs.shape[2]
        gy = contiguous(gy)
        dg = _grad_buffer(ctx, gates.shape, hs.dtype)
        dh = np.array(ghn, order="C")
        dc = np.array(gcn, order="C")
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in reversed(_order(T, ctx.reverse)):
                n = bs[t]
                K.lstm_cell_backward(gates[t, :n], cs[p, :n], cs[q, :n], gy[t, :n], dh[:n],
                                     dc[:n], dg[t, :n], dc[:n])
                np.matmul(dg[t, :n], w_hh, out=dh[:n])
        finally:
            restore_threads(nt)
        dg2 = dg.reshape(T * B, 4 * H)
        dx, dwi, dwh, dbi, dbh = _weight_grads(ctx, ctx.needs_input_grad, dg2, dg2,
                                               x.reshape(T * B, -1),
                                               _hprev(hs, T, ctx.reverse), w_ih, 3, 5)
        dx = None if dx is None else dx.reshape(x.shape)
        return dx, dh, dc, dwi, dwh, dbi, dbh, None, None

    @staticmethod
    def name_of(ctx):
        return "lstmLayer"


class GRULayer(Function):
    """A GRU over a whole sequence, one direction: (output, h_n)."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse):
        x, (h0,), w_ih, w_hh, bi, bh, xg = _layer_setup(
            ctx, "gru_layer", "gru", x, [("hx", h0)], w_ih, w_hh, b_ih, b_hh, lengths, reverse)
        T, B, _ = x.shape
        H = h0.shape[1]
        hs = _state_buffer(ctx, T, h0, reverse)
        saved = _buffer((T, B, 4 * H), x.dtype)
        hg = np.empty((B, 3 * H), x.dtype)
        w_hhT = np.ascontiguousarray(w_hh.T)  # measured faster per step than the transposed view
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in _order(T, reverse):
                if reverse:
                    _seed_rows(ctx, (hs,), (h0,), t)
                n = bs[t]
                np.matmul(hs[p, :n], w_hhT, out=hg[:n])
                K.gru_cell_forward(xg[t, :n], hg[:n], bi, bh, hs[p, :n], saved[t, :n], hs[q, :n])
        finally:
            restore_threads(nt)
        ctx.save_for_backward(x, w_ih, w_hh, hs, saved)
        out, (hn,) = _layer_outputs(ctx, (hs,))
        return out, hn

    @staticmethod
    def backward(ctx, gy, ghn):
        x, w_ih, w_hh, hs, saved = ctx.saved_tensors
        T, B, H = len(ctx.bs), hs.shape[1], hs.shape[2]
        gy = contiguous(gy)
        dgx = _grad_buffer(ctx, (T, B, 3 * H), hs.dtype)
        dgh = _grad_buffer(ctx, (T, B, 3 * H), hs.dtype)
        dh = np.array(ghn, order="C")
        carry = np.zeros((B, H), hs.dtype)
        bs = ctx.bs
        nt = one_thread_below(B * hs.shape[2], K.PAR_MIN)
        try:
            for t, p, q in reversed(_order(T, ctx.reverse)):
                n = bs[t]
                K.gru_cell_backward(saved[t, :n], hs[p, :n], gy[t, :n], dh[:n], carry[:n],
                                    dgx[t, :n], dgh[t, :n])
                np.matmul(dgh[t, :n], w_hh, out=dh[:n])
        finally:
            restore_threads(nt)
        dh += carry
        dx, dwi, dwh, dbi, dbh = _weight_grads(ctx, ctx.needs_input_grad,
                                               dgx.reshape(T * B, 3 * H),
                                               dgh.reshape(T * B, 3 * H),
                                               x.reshape(T * B, -1),
                                               _hprev(hs, T, ctx.reverse), w_ih, 2, 4)
        dx = None if dx is None else dx.reshape(x.shape)
        return dx, dh, dwi, dwh, dbi, dbh, None, None

    @staticmethod
    def name_of(ctx):
        return "gruLayer"


def rnn_tanh_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, lengths=None):
    """A tanh Elman RNN layer over a time-major sequence `input` (T, B, I) from state hx
    (B, H) (None: zeros), one direction (`reverse` runs from the last step); `lengths` (sorted
    decreasing) for variable-length batches. Returns (output (T, B, H), h_n (B, H))."""
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse),
                          K.RNN_TANH)


def rnn_relu_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, lengths=None):
    """A relu Elman RNN layer over a sequence (see rnn_tanh_layer)."""
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse),
                          K.RNN_RELU)


def lstm_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, lengths=None):
    """An LSTM layer over a time-major sequence (T, B, I), hx = (h0, c0) or None; returns
    (output (T, B, H), (h_n, c_n)) (see rnn_tanh_layer for reverse and lengths)."""
    h, c = (None, None) if hx is None else _pair("lstm_layer", hx)
    out, hn, cn = LSTMLayer.apply(input, h, c, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse))
    return out, (hn, cn)


def gru_layer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, lengths=None):
    """A GRU layer over a time-major sequence (T, B, I); returns (output, h_n)."""
    return GRULayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, lengths, bool(reverse))
