"""asv: recurrent cell steps (forward, forward + backward) for LSTM, GRU and RNN (tanh), and
training steps of LSTM(32 -> 128) / GRU(32 -> 128) over 64 steps at batch 32 with Adam, as one
sequence-module call and as a Python loop over the cell; peak memory of the training steps.

Everything is built and every kernel warmed at import (no setup(): asv times a class with
setup() one call per sample). The training steps cycle 4 sequences and restore the initial
weights and Adam state every RESET_EVERY steps, so long runs cannot drift into denormals.
"""
import numpy as np

import jitgrad as jg
import jitgrad.nn.functional as F

I, H, T, B = 32, 128, 64, 32
NSEQ = 4
RESET_EVERY = 32
_RNG = np.random.default_rng(0)


def _t(a, grad=False):
    return jg.tensor(a, requires_grad=grad)


def _randn(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- cell steps
CELLS = {"lstm": jg.nn.LSTMCell, "gru": jg.nn.GRUCell, "rnn_tanh": jg.nn.RNNCell}
_CELL = {}
for _name, _cls in CELLS.items():
    jg.manual_seed(0)
    _x = _t(_randn(B, I), grad=True)
    _h = _t(_randn(B, H), grad=True)
    _state = (_h, _t(_randn(B, H), grad=True)) if _name == "lstm" else _h
    _CELL[_name] = (_cls(I, H), _x, _state)


def _cell_fwd(name):
    cell, x, state = _CELL[name]
    with jg.no_grad():
        cell(x, state)


def _cell_fwd_bwd(name):
    cell, x, state = _CELL[name]
    for p in (x,) + tuple(cell.parameters()):
        p.grad = None
    out = cell(x, state)
    (out[0] if isinstance(out, tuple) else out).sum().backward()


for _name in CELLS:
    _cell_fwd(_name)
    _cell_fwd_bwd(_name)


class TimeCellStep:
    params = [list(CELLS)]
    param_names = ["cell"]

    def time_forward(self, cell):
        _cell_fwd(cell)

    def time_forward_backward(self, cell):
        _cell_fwd_bwd(cell)


# ----------------------------------------------------------------------------- training steps
class _SeqStep:
    """MSE of the last hidden state against a fixed target, Adam(); the model is an LSTM/GRU
    module (`loop=False`) or a Python loop over the matching cell (`loop=True`)."""

    def __init__(self, kind, loop):
        jg.manual_seed(0)
        if loop:
            self.model = (jg.nn.LSTMCell if kind == "lstm" else jg.nn.GRUCell)(I, H)
        else:
            self.model = (jg.nn.LSTM if kind == "lstm" else jg.nn.GRU)(I, H)
        self.kind, self.loop = kind, loop
        self.opt = jg.optim.Adam(self.model.parameters())
        self.init = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.opt_init = self.opt.state_dict()
        rng = np.random.default_rng(1)
        self.xs = [_t(rng.standard_normal((T, B, I)).astype(np.float32)) for _ in range(NSEQ)]
        self.target = _t((rng.standard_normal((B, H)) * 0.5).astype(np.float32))
        self.i = 0

    def reset(self):
        self.model.load_state_dict(self.init)
        self.opt.load_state_dict(self.opt_init)
        self.i = 0

    def _last_h(self, x):
        if not self.loop:
            out, hn = self.model(x)
            return (hn[0] if self.kind == "lstm" else hn)[0]
        state = None
        for t in range(T):
            state = self.model(x[t], state)
        return state[0] if self.kind == "lstm" else state

    def step(self):
        if self.i == RESET_EVERY:
            self.reset()
        x = self.xs[self.i % NSEQ]
        self.i += 1
        self.opt.zero_grad()
        loss = F.mse_loss(self._last_h(x), self.target)
        loss.backward()
        self.opt.step()
        return loss


STEPS = ["lstm", "lstm_cell_loop", "gru", "gru_cell_loop"]
_STEP = {k: _SeqStep(k.split("_")[0], k.endswith("loop")) for k in STEPS}
for _s in _STEP.values():
    for _ in range(3):
        _s.step()
    _s.reset()


class TimeTrainStep:
    params = [STEPS]
    param_names = ["model"]

    def time_train_step_32_128_T64_B32_adam(self, model):
        _STEP[model].step()


class PeakmemTrainStep:
    params = [STEPS]
    param_names = ["model"]

    def peakmem_train_step_32_128_T64_B32_adam(self, model):
        _STEP[model].step()


class TrackTrainStepMemory:
    """Peak bytes Python allocates during one training step (tracemalloc: numpy arrays
    included), which peakmem_ cannot separate from the process's import-time footprint."""
    params = [STEPS]
    param_names = ["model"]
    unit = "bytes"

    def track_traced_peak_bytes_train_step(self, model):
        import tracemalloc
        tracemalloc.start()
        _STEP[model].step()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak
