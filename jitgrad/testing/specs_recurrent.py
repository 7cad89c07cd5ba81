"""Op table entries: recurrent cell steps and one-direction sequence layers (RNN tanh/relu, LSTM,
GRU), each with a plain-NumPy reference written step by step from PyTorch's equations."""
import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec

B, I, H, T = 2, 3, 4, 3
_LENGTHS = np.array([3, 2, 2, 1])  # decreasing: a variable-length batch of 4


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lin(x, w, b):
    return x @ w.T + (0 if b is None else b)


def _rnn_step(act, x, h, wi, wh, bi, bh):
    pre = _lin(x, wi, bi) + _lin(h, wh, bh)
    return np.tanh(pre) if act == "tanh" else np.maximum(pre, 0)


def _lstm_step(x, h, c, wi, wh, bi, bh):
    a = _lin(x, wi, bi) + _lin(h, wh, bh)
    i, f, g, o = np.split(a, 4, axis=-1)
    c2 = _sig(f) * c + _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c2), c2


def _gru_step(x, h, wi, wh, bi, bh):
    xr, xz, xn = np.split(_lin(x, wi, bi), 3, axis=-1)
    hr, hz, hn = np.split(_lin(h, wh, bh), 3, axis=-1)
    r = _sig(xr + hr)
    z = _sig(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def _layer_ref(step, n_states):
    """Reference sequence layer: loop the step over time (reversed if asked); with lengths,
    sequence b runs over its first lengths[b] steps and keeps its final state from there."""
    def ref(x, *args, reverse=False, lengths=None):
        states, ws = list(args[:n_states]), args[n_states:]
        T_, B_ = x.shape[:2]
        lens = np.full(B_, T_) if lengths is None else np.asarray(lengths)
        out = np.zeros(x.shape[:2] + (states[0].shape[-1],))
        for t in (range(T_ - 1, -1, -1) if reverse else range(T_)):
            new = step(x[t], *states, *ws)
            new = new if isinstance(new, tuple) else (new,)
            live = (t < lens)[:, None]
            states = [np.where(live, s2, s) for s2, s in zip(new, states)]
            out[t] = np.where(live, states[0], 0)
        return (out,) + tuple(states)
    return ref


def _cell_cases(g, states):
    w = [(g * H, I), (g * H, H), (g * H,), (g * H,)]
    return [Case([(B, I)] + [(B, H)] * states + w),
            Case([(1, I)] + [(1, H)] * states + w, name="batch 1"),
            Case([(I,)] + [(H,)] * states + w, name="unbatched"),
            Case([(B, I)] + [(B, H)] * states + w[:2], name="no bias"),
            Case([(B, I)] + [(B, H)] * states + w, layout="transposed", name="transposed")]


def _layer_cases(g, states):
    w = [(g * H, I), (g * H, H), (g * H,), (g * H,)]
    return [Case([(T, B, I)] + [(B, H)] * states + w),
            Case([(T, B, I)] + [(B, H)] * states + w, dict(reverse=True), name="reverse"),
            Case([(1, 1, I)] + [(1, H)] * states + w, name="one step, batch 1"),
            Case([(T, B, I)] + [(B, H)] * states + w[:2], name="no bias"),
            Case([(T, 4, I)] + [(4, H)] * states + w, dict(lengths=_LENGTHS), name="lengths"),
            Case([(T, 4, I)] + [(4, H)] * states + w, dict(lengths=_LENGTHS, reverse=True),
                 name="lengths reverse"),
            Case([(T, B, I)] + [(B, H)] * states + w, layout="transposed", name="transposed")]


def _bias(args):
    """(w_ih, w_hh, b_ih, b_hh) from 2 or 4 trailing arguments."""
    return tuple(args) + (None,) * (4 - len(args))


def _lstm_layer(x, h, c, *w, **kw):
    out, (hn, cn) = F.lstm_layer(x, (h, c), *_bias(w), **kw)
    return out, hn, cn


SPECS = [
    OpSpec("nn.functional.rnn_tanh_cell", lambda x, h, *w: F.rnn_tanh_cell(x, h, *_bias(w)),
           lambda x, h, *w: _rnn_step("tanh", x, h, *_bias(w)), _cell_cases(1, 1)),
    OpSpec("nn.functional.rnn_relu_cell", lambda x, h, *w: F.rnn_relu_cell(x, h, *_bias(w)),
           lambda x, h, *w: _rnn_step("relu", x, h, *_bias(w)), _cell_cases(1, 1)),
    OpSpec("nn.functional.lstm_cell", lambda x, h, c, *w: F.lstm_cell(x, (h, c), *_bias(w)),
           lambda x, h, c, *w: _lstm_step(x, h, c, *_bias(w)), _cell_cases(4, 2)),
    OpSpec("nn.functional.gru_cell", lambda x, h, *w: F.gru_cell(x, h, *_bias(w)),
           lambda x, h, *w: _gru_step(x, h, *_bias(w)), _cell_cases(3, 1)),
    OpSpec("nn.functional.rnn_tanh_layer",
           lambda x, h, *w, **kw: F.rnn_tanh_layer(x, h, *_bias(w), **kw),
           lambda x, h, *w, **kw: _layer_ref(lambda *a: _rnn_step("tanh", *a), 1)(
               x, h, *_bias(w), **kw), _layer_cases(1, 1)),
    OpSpec("nn.functional.rnn_relu_layer",
           lambda x, h, *w, **kw: F.rnn_relu_layer(x, h, *_bias(w), **kw),
           lambda x, h, *w, **kw: _layer_ref(lambda *a: _rnn_step("relu", *a), 1)(
               x, h, *_bias(w), **kw), _layer_cases(1, 1)),
    OpSpec("nn.functional.lstm_layer", _lstm_layer,
           lambda x, h, c, *w, **kw: _layer_ref(_lstm_step, 2)(x, h, c, *_bias(w), **kw),
           _layer_cases(4, 2)),
    OpSpec("nn.functional.gru_layer",
           lambda x, h, *w, **kw: F.gru_layer(x, h, *_bias(w), **kw),
           lambda x, h, *w, **kw: _layer_ref(_gru_step, 1)(x, h, *_bias(w), **kw),
           _layer_cases(3, 1)),
]
