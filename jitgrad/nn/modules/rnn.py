"""Recurrent layers: RNNCell, LSTMCell, GRUCell (one step) and RNN, LSTM, GRU (whole sequences,
stacked layers, both directions, packed variable-length batches).

Parameter names, shapes, gate order and default init are PyTorch's (a PyTorch state dict loads
directly): ``weight_ih_l{k}`` (G*H, in), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
``bias_hh_l{k}`` (G*H,), a ``_reverse`` suffix for the backward direction, all drawn from
U(-1/sqrt(H), 1/sqrt(H)); G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). Each layer and
direction over the whole sequence is one autograd node (jitgrad.nn.functional.lstm_layer etc.).
Inputs are checked here, before any kernel runs, with errors naming the module and argument.
"""
import math

import numpy as np

from ... import _check as C
from ..._ops import cat, stack
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from .linear import _float_dtype
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _nonlinearity(layer, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                         f"or 'relu'.")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _check_input(op, x, input_size, dtype, ndims):
    C.tensor(op, "input", x)
    C.ndim(op, "input", x, ndims)
    C.shape(op, "input", x, (None,) * (x.ndim - 1) + (input_size,))
    if x.dtype != dtype:
        raise TypeError(f"{op}(): argument 'input' expected dtype {dtype} (the dtype of the "
                        f"module's weights), got {x.dtype}")


def _check_state(op, name, s, shape, dtype):
    C.tensor(op, name, s)
    C.shape(op, name, s, shape)
    if s.dtype != dtype:
        raise TypeError(f"{op}(): argument '{name}' expected dtype {dtype} (the dtype of the "
                        f"module's weights), got {s.dtype}")


def _batched_as_expected(x, states, input_size, hidden_size, dtype):
    """The common cell call, accepted in a few comparisons (the full checks cost ~5 us a step):
    a 2-D input (batch, input_size) and states None or (batch, hidden_size), all of `dtype`."""
    if not isinstance(x, Tensor):
        return False
    a = x.data
    if a.ndim != 2 or a.shape[1] != input_size or a.dtype != dtype:
        return False
    shape = (a.shape[0], hidden_size)
    for _, s in states:
        if s is not None and not (isinstance(s, Tensor) and s.data.shape == shape and
                                  s.data.dtype == dtype):
            return False
    return True


# ----------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, device, dtype):
        super().__init__()
        d = _float_dtype(dtype, type(self).__name__, device)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        g = gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((g, self.input_size), d))
        self.weight_hh = Parameter(np.empty((g, self.hidden_size), d))
        if bias:
            self.bias_ih = Parameter(np.empty(g, d))
            self.bias_hh = Parameter(np.empty(g, d))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _check(self, input, states):
        dtype = self._weights()[0].dtype
        if _batched_as_expected(input, states, self.input_size, self.hidden_size, dtype):
            return
        op = type(self).__name__
        _check_input(op, input, self.input_size, dtype, (1, 2))
        shape = (self.hidden_size,) if input.ndim == 1 else (input.shape[0], self.hidden_size)
        for name, s in states:
            if s is not None:
                _check_state(op, name, s, shape, dtype)

    def _weights(self):
        p = self._parameters  # read directly: 4 attribute lookups took 4.2 us, a cell step's 1-2%
        try:
            return p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
        except KeyError:  # a weight replaced by a plain attribute
            return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); hx None means zeros; input
    (B, input_size) or unbatched (input_size,)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        _nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check(input, [("hx", hx)])
        fn = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        return fn(input, hx, *self._weights())


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c'); hx = (h, c) or None (zeros)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h = c = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell(): argument 'hx' expected a tuple (h, c) of two "
                                f"Tensors, got {type(hx).__name__}")
            h, c = hx
        self._check(input, [("hx[0]", h), ("hx[1]", c)])
        return F.lstm_cell(input, hx, *self._weights())


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        self._check(input, [("hx", hx)])
        return F.gru_cell(input, hx, *self._weights())


# ----------------------------------------------------------------------------- sequences
_LAYER_FN = {"RNN_TANH": F.rnn_tanh_layer, "RNN_RELU": F.rnn_relu_layer,
             "LSTM": F.lstm_layer, "GRU": F.gru_layer}


class RNNBase(Module):
    """Stacked, optionally bidirectional recurrent layers over whole sequences."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        d = _float_dtype(dtype, name, device)
        self.mode = mode
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = C.integer(name, "num_layers", num_layers, 1)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
                not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dirs = 2 if self.bidirectional else 1
        g = _GATES[mode] * self.hidden_size
        self._flat_weights_names = []
        for k in range(self.num_layers):
            in_k = self.input_size if k == 0 else self.hidden_size * dirs
            for sfx in ("", "_reverse")[:dirs]:
                names = [f"weight_ih_l{k}{sfx}", f"weight_hh_l{k}{sfx}"]
                shapes = [(g, in_k), (g, self.hidden_size)]
                if self.bias:
                    names += [f"bias_ih_l{k}{sfx}", f"bias_hh_l{k}{sfx}"]
                    shapes += [(g,), (g,)]
                for n, s in zip(names, shapes):
                    setattr(self, n, Parameter(np.empty(s, d)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """No-op (PyTorch compacts weights for cuDNN here; CPU layers need nothing)."""

    def _layer_weights(self, k, reverse):
        sfx = f"l{k}" + ("_reverse" if reverse else "")
        w = [getattr(self, f"weight_ih_{sfx}"), getattr(self, f"weight_hh_{sfx}")]
        if self.bias:
            return w + [getattr(self, f"bias_ih_{sfx}"), getattr(self, f"bias_hh_{sfx}")]
        return w + [None, None]

    def _states(self, op, hx, shape, dtype):
        """The initial state tensors (a list of one, or two for LSTM), or None entries."""
        n = 2 if self.mode == "LSTM" else 1
        if hx is None:
            return [None] * n
        if n == 2:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{op}(): argument 'hx' expected a tuple (h_0, c_0) of two "
                                f"Tensors, got {type(hx).__name__}")
            names = ["hx[0]", "hx[1]"]
        else:
            hx, names = [hx], ["hx"]
        for name, s in zip(names, hx):
            _check_state(op, name, s, shape, dtype)
        return list(hx)

    def forward(self, input, hx=None):
        op = type(self).__name__
        dtype = self.weight_ih_l0.dtype
        dirs = 2 if self.bidirectional else 1
        packed = isinstance(input, PackedSequence)
        lengths = sort = None
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            _check_input(op, data, self.input_size, dtype, 2)
            # time-major, padded with zeros, in the packed (sorted) batch order
            x, lengths = pad_packed_sequence(PackedSequence(data, batch_sizes))
            lengths = lengths.numpy()
            sort = None if input.sorted_indices is None else input.sorted_indices.numpy()
            unbatched = False
        else:
            _check_input(op, input, self.input_size, dtype, (2, 3))
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else \
                (input.transpose(0, 1) if self.batch_first else input)
        B = x.shape[1]
        shape = (self.num_layers * dirs, self.hidden_size) if unbatched else \
            (self.num_layers * dirs, B, self.hidden_size)
        states = self._states(op, hx, shape, dtype)
        if unbatched:
            states = [None if s is None else s.unsqueeze(1) for s in states]
        if sort is not None:  # the packed batch runs in sorted order
            states = [None if s is None else s[:, sort] for s in states]
        fn = _LAYER_FN[self.mode]
        finals = [[] for _ in states]
        for k in range(self.num_layers):
            outs = []
            for d in range(dirs):
                i = k * dirs + d
                s0 = [None if s is None else s[i] for s in states]
                hx_kd = (s0[0], s0[1]) if self.mode == "LSTM" else s0[0]
                if self.mode == "LSTM" and s0[0] is None:
                    hx_kd = None
                out, hn = fn(x, hx_kd, *self._layer_weights(k, d == 1), reverse=d == 1,
                             lengths=lengths)
                outs.append(out)
                for f, h in zip(finals, hn if self.mode == "LSTM" else (hn,)):
                    f.append(h)
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        finals = [f[0].unsqueeze(0) if len(f) == 1 else stack(f, 0) for f in finals]
        if packed:
            if sort is not None:
                finals = [f[:, input.unsorted_indices.numpy()] for f in finals]
            out = PackedSequence(pack_padded_sequence(x, lengths).data, input.batch_sizes,
                                 input.sorted_indices, input.unsorted_indices)
        elif unbatched:
            out = x.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        else:
            out = x.transpose(0, 1) if self.batch_first else x
        if self.mode == "LSTM":
            return out, (finals[0], finals[1])
        return out, finals[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked;
    returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        mode = _nonlinearity("RNN", nonlinearity)
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM (gates i, f, g, o), stacked; returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)


class GRU(RNNBase):
    """GRU (gates r, z, n, "linear before reset"), stacked; returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)
