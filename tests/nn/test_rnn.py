"""Recurrent cells and sequence modules: gradchecks, cell loop vs sequence, packed sequences,
long sequences, input errors, and PyTorch state-dict oracles (when torch is installed)."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F
from jitgrad.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                                  pad_packed_sequence, pad_sequence)

CELLS = {"rnn_tanh": lambda i, h, **k: nn.RNNCell(i, h, **k),
         "rnn_relu": lambda i, h, **k: nn.RNNCell(i, h, nonlinearity="relu", **k),
         "lstm": nn.LSTMCell, "gru": nn.GRUCell}
SEQS = {"rnn_tanh": lambda i, h, **k: nn.RNN(i, h, **k),
        "rnn_relu": lambda i, h, **k: nn.RNN(i, h, nonlinearity="relu", **k),
        "lstm": nn.LSTM, "gru": nn.GRU}


def _rand(rng, *shape):
    return jg.tensor(rng.standard_normal(shape), requires_grad=True)


def _flat(out):
    """All tensors of a (nested) module output, PackedSequence data included."""
    if isinstance(out, PackedSequence):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _functional_params(mod, params):
    """Put the gradcheck leaves in place of the module's parameters (parameters() order)."""
    for (name, _), p in zip(list(mod.named_parameters()), params):
        mod._parameters[name] = p


def _gradcheck_module(mod, inputs, call):
    """float64 gradcheck wrt `inputs` and every parameter of `mod`; call(mod, *inputs)."""
    n = len(inputs)

    def fn(*ts):
        _functional_params(mod, ts[n:])
        return tuple(_flat(call(mod, *ts[:n])))
    params = [jg.tensor(p.data, requires_grad=True) for p in mod.parameters()]
    return jg.gradcheck(fn, list(inputs) + params)


# ----------------------------------------------------------------------------- gradchecks
@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_cell_gradcheck(kind, bias):
    rng = np.random.default_rng(0)
    jg.manual_seed(0)
    mod = CELLS[kind](3, 4, bias=bias, dtype=jg.float64)
    x = _rand(rng, 2, 3)
    states = [_rand(rng, 2, 4)] + ([_rand(rng, 2, 4)] if kind == "lstm" else [])

    def call(m, x, *s):
        return m(x, tuple(s) if kind == "lstm" else s[0])
    assert _gradcheck_module(mod, [x] + states, call)


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_unbatched_and_default_state(kind):
    rng = np.random.default_rng(1)
    mod = CELLS[kind](3, 4, dtype=jg.float64)
    x = rng.standard_normal(3)
    one = mod(jg.tensor(x))
    two = mod(jg.tensor(x[None]))
    for a, b in zip(_flat(one), _flat(two)):
        assert a.shape == (4,)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy()[0], rtol=1e-12)
    xs = jg.tensor(x, requires_grad=True)

    def call(m, x):
        return m(x)
    assert _gradcheck_module(mod, [xs], call)


SEQ_CASES = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False),
]


@pytest.mark.parametrize("kind", list(SEQS))
@pytest.mark.parametrize("cfg", SEQ_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in
                                                                   c.items()) or "default")
def test_sequence_gradcheck(kind, cfg):
    rng = np.random.default_rng(2)
    jg.manual_seed(0)
    mod = SEQS[kind](2, 3, dtype=jg.float64, **cfg)
    T, B = 3, 2
    dirs = 2 if cfg.get("bidirectional") else 1
    L = cfg.get("num_layers", 1)
    x = _rand(rng, *((B, T, 2) if cfg.get("batch_first") else (T, B, 2)))
    states = [_rand(rng, L * dirs, B, 3) for _ in range(2 if kind == "lstm" else 1)]

    def call(m, x, *s):
        return m(x, tuple(s) if kind == "lstm" else s[0])
    assert _gradcheck_module(mod, [x] + states, call)


@pytest.mark.parametrize("kind", list(SEQS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_sequence_gradcheck(kind, bidirectional):
    rng = np.random.default_rng(3)
    jg.manual_seed(0)
    mod = SEQS[kind](2, 3, bidirectional=bidirectional, dtype=jg.float64)
    dirs = 2 if bidirectional else 1
    lengths = [2, 4, 1]  # unsorted: enforce_sorted=False sorts and restores the order
    x = _rand(rng, 4, 3, 2)
    states = [_rand(rng, dirs, 3, 3) for _ in range(2 if kind == "lstm" else 1)]

    def call(m, x, *s):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, hn = m(packed, tuple(s) if kind == "lstm" else s[0])
        padded, _ = pad_packed_sequence(out)
        return padded, hn
    assert _gradcheck_module(mod, [x] + states, call)


# ----------------------------------------------------------------------------- consistency
@pytest.mark.parametrize("kind", list(SEQS))
def test_cell_loop_matches_sequence_module(kind):
    rng = np.random.default_rng(4)
    seq = SEQS[kind](3, 5, dtype=jg.float64)
    cell = CELLS[kind](3, 5, dtype=jg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in seq.state_dict().items()})
    xs = rng.standard_normal((6, 2, 3))
    gy = rng.standard_normal((6, 2, 5))
    x1 = jg.tensor(xs, requires_grad=True)
    out, _ = seq(x1)
    (out * jg.tensor(gy)).sum().backward()
    x2 = jg.tensor(xs, requires_grad=True)
    state = None
    total = 0
    for t in range(6):
        state = cell(x2[t], state)
        h = state[0] if kind == "lstm" else state
        np.testing.assert_allclose(h.detach().numpy(), out.detach().numpy()[t], rtol=1e-10, atol=1e-12)
        total = total + (h * jg.tensor(gy[t])).sum()
    total.backward()
    np.testing.assert_allclose(x2.grad, x1.grad, rtol=1e-9, atol=1e-12)
    for (n, p), (_, q) in zip(seq.named_parameters(), cell.named_parameters()):
        np.testing.assert_allclose(q.grad, p.grad, rtol=1e-9, atol=1e-12, err_msg=n)


def test_packed_final_states_at_true_last_step():
    rng = np.random.default_rng(5)
    mod = nn.GRU(2, 3, bidirectional=True, dtype=jg.float64)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 2)]
    packed = pack_sequence([jg.tensor(s) for s in seqs], enforce_sorted=False)
    out, hn = mod(packed)
    padded, lengths = pad_packed_sequence(out, batch_first=True)
    assert lengths.tolist() == [3, 5, 2] and padded.shape == (3, 5, 6)
    for b, s in enumerate(seqs):
        o, h = mod(jg.tensor(s[:, None, :]))
        np.testing.assert_allclose(padded.detach().numpy()[b, :len(s)], o.detach().numpy()[:, 0], rtol=1e-10)
        assert np.all(padded.detach().numpy()[b, len(s):] == 0)
        np.testing.assert_allclose(hn.detach().numpy()[:, b], h.detach().numpy()[:, 0], rtol=1e-10)


def test_pad_and_pack_round_trip():
    rng = np.random.default_rng(6)
    seqs = [jg.tensor(rng.standard_normal((n, 2))) for n in (4, 2, 3)]
    padded = pad_sequence(seqs, padding_value=-1.0)
    assert padded.shape == (4, 3, 2) and float(padded.detach().numpy()[3, 1, 0]) == -1.0
    left = pad_sequence(seqs, batch_first=True, padding_side="left")
    np.testing.assert_array_equal(left.detach().numpy()[1, 2:], seqs[1].detach().numpy())
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(padded, [4, 2, 3])
    packed = pack_padded_sequence(padded, [4, 2, 3], enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1]
    back, lengths = pad_packed_sequence(packed, total_length=5)
    assert back.shape == (5, 3, 2) and lengths.tolist() == [4, 2, 3]
    for b, s in enumerate(seqs):
        np.testing.assert_array_equal(back.detach().numpy()[:s.shape[0], b], s.detach().numpy())


def test_long_sequence_backprops():
    """T = 2000: one node per layer, no recursion; memory is what BPTT keeps (gates + states)."""
    import tracemalloc
    rng = np.random.default_rng(7)
    mod = nn.LSTM(4, 8)
    x = jg.tensor(rng.standard_normal((2000, 2, 4)).astype(np.float32), requires_grad=True)
    out, _ = mod(x[:3])  # compile the float32 kernels outside the traced region
    out.sum().backward()
    tracemalloc.start()
    out, (hn, cn) = mod(x)
    _, peak_fwd = tracemalloc.get_traced_memory()
    (out.sum() + hn.sum()).backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.isfinite(x.grad).all() and x.grad.shape == (2000, 2, 4)
    # kept for backward: gates (T, B, 4H) + h and c states (T+1, B, H) each = 24 floats/row-step
    kept = 2000 * 2 * (4 * 8 + 2 * 8) * 4
    assert peak_fwd < 3 * kept, peak_fwd
    assert peak < 8 * kept, peak


# ----------------------------------------------------------------------------- errors
def test_errors_name_module_argument_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = jg.randn(5, 2, 3)
    with pytest.raises(ValueError, match=r"LSTM\(\): argument 'input' expected shape "
                                         r"\(\*, \*, 3\), got \(5, 2, 7\)"):
        lstm(jg.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"LSTM\(\): argument 'hx\[0\]' expected shape "
                                         r"\(2, 2, 4\), got \(2, 3, 4\)"):
        lstm(x, (jg.zeros(2, 3, 4), jg.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match=r"LSTM\(\): argument 'input' expected dtype float32"):
        lstm(jg.randn(5, 2, 3, dtype=jg.float64))
    with pytest.raises(ValueError, match=r"LSTM\(\): argument 'input' expected a 2-D or 3-D"):
        lstm(jg.randn(5, 2, 3, 1))
    with pytest.raises(TypeError, match=r"LSTM\(\): argument 'hx' expected a tuple"):
        lstm(x, jg.zeros(2, 2, 4))
    gru = nn.GRU(3, 4, batch_first=True)
    with pytest.raises(ValueError, match=r"GRU\(\): argument 'hx' expected shape \(1, 5, 4\)"):
        gru(x, jg.zeros(1, 2, 4))
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"GRUCell\(\): argument 'hx' expected shape "
                                         r"\(2, 4\), got \(3, 4\)"):
        cell(jg.randn(2, 3), jg.zeros(3, 4))
    with pytest.raises(ValueError, match=r"RNNCell\(\): argument 'input' expected shape "
                                         r"\(\*, 2\), got \(2, 3\)"):
        nn.RNNCell(2, 4)(jg.randn(2, 3))
    with pytest.raises(ValueError, match="lstm_cell\\(\\): argument 'w_hh' expected shape"):
        F.lstm_cell(jg.randn(2, 3), None, jg.randn(16, 3), jg.randn(12, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(2, 3, nonlinearity="sigmoid")


def _gru_args(**change):
    """Valid F.gru_cell arguments (batch 2, input 3, hidden 4), float32, with some replaced."""
    rng = np.random.default_rng(0)
    a = {k: rng.standard_normal(s).astype(np.float32) for k, s in
         (("x", (2, 3)), ("h", (2, 4)), ("w_ih", (12, 3)), ("w_hh", (12, 4)), ("b_ih", (12,)),
          ("b_hh", (12,)))}
    a.update(change)
    return [None if v is None else jg.from_numpy(v) for v in a.values()]


@pytest.mark.parametrize("change, error, match", [
    (dict(w_ih=np.zeros((12, 5), np.float32)), ValueError, r"'input' expected shape \(2, 5\)"),
    (dict(w_hh=np.zeros((12, 3), np.float32)), ValueError, r"'w_hh' expected shape \(9, 3\)"),
    (dict(w_hh=np.zeros((12, 4))), TypeError, r"'w_hh' expected dtype float32"),
    (dict(b_hh=None), ValueError, r"'b_ih' and 'b_hh' must both be given"),
    (dict(b_hh=np.zeros(11, np.float32)), ValueError, r"'b_hh' expected shape \(12,\)"),
    (dict(b_ih=np.zeros(12)), TypeError, r"'b_ih' expected dtype float32"),
    (dict(h=np.zeros((3, 4), np.float32)), ValueError, r"'hx' expected shape \(2, 4\)"),
    (dict(h=np.zeros((2, 4))), TypeError, r"'hx' expected dtype float32"),
    (dict(x=np.zeros((2, 3), np.int64)), TypeError, r"'input' expected a floating-point"),
])
def test_functional_cell_rejects_bad_arguments(change, error, match):
    with pytest.raises(error, match=r"gru_cell\(\): arguments? " + match):
        F.gru_cell(*_gru_args(**change))


def test_functional_cell_takes_non_contiguous_and_unbatched_arrays():
    x, h, w_ih, w_hh, b_ih, b_hh = _gru_args()
    want = F.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh).numpy()
    wide = jg.from_numpy(np.repeat(x.numpy(), 2, axis=1))[:, ::2]
    w_hh_t = jg.from_numpy(np.ascontiguousarray(w_hh.numpy().T)).t()
    assert not wide.is_contiguous() and not w_hh_t.is_contiguous()
    np.testing.assert_array_equal(F.gru_cell(wide, h, w_ih, w_hh_t, b_ih, b_hh).numpy(), want)
    np.testing.assert_allclose(F.gru_cell(x[1], h[1], w_ih, w_hh, b_ih, b_hh).numpy(),
                               want[1], rtol=1e-6, atol=1e-6)  # a one-row GEMM sums otherwise


def test_dropout_between_layers_only_in_training():
    jg.manual_seed(0)
    mod = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = jg.randn(4, 2, 3)
    a, _ = mod(x)
    b, _ = mod(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    mod.eval()
    c, _ = mod(x)
    d, _ = mod(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


def test_parameter_names_and_init():
    mod = nn.LSTM(3, 16, num_layers=2, bidirectional=True)
    names = [n for n, _ in mod.named_parameters()]
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                         "bias_hh_l0_reverse"]
    assert mod.weight_ih_l1.shape == (64, 32) and mod.weight_hh_l1_reverse.shape == (64, 16)
    for p in mod.parameters():
        assert p.dtype == np.float32 and np.abs(p.detach().numpy()).max() <= 0.25


# ----------------------------------------------------------------------------- PyTorch
def _torch_pair(kind, **cfg):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tcls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN,
            "rnn_relu": lambda *a, **k: torch.nn.RNN(*a, nonlinearity="relu", **k)}[kind]
    tm = tcls(3, 5, **cfg).double()
    jm = SEQS[kind](3, 5, dtype=jg.float64, **cfg)
    jm.load_state_dict(tm.state_dict())
    return torch, tm, jm


@pytest.mark.parametrize("kind", list(SEQS))
@pytest.mark.parametrize("cfg", [dict(), dict(num_layers=2, bidirectional=True),
                                 dict(batch_first=True, bias=False)],
                         ids=["default", "2 layers bidirectional", "batch_first no bias"])
def test_matches_torch(kind, cfg):
    torch, tm, jm = _torch_pair(kind, **cfg)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 7, 3) if cfg.get("batch_first") else (7, 4, 3))
    L = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
    h0 = [rng.standard_normal((L, 4, 5)) for _ in range(2 if kind == "lstm" else 1)]
    tx = torch.tensor(x, requires_grad=True)
    th = [torch.tensor(h, requires_grad=True) for h in h0]
    jx = jg.tensor(x, requires_grad=True)
    jh = [jg.tensor(h, requires_grad=True) for h in h0]
    tout = tm(tx, tuple(th) if kind == "lstm" else th[0])
    jout = jm(jx, tuple(jh) if kind == "lstm" else jh[0])
    touts, jouts = _flat(tout), _flat(jout)
    tl = sum(((o * o).sum() * (i + 1) for i, o in enumerate(touts)))
    jl = sum(((o * o).sum() * (i + 1) for i, o in enumerate(jouts)))
    for a, b in zip(jouts, touts):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    tl.backward()
    jl.backward()
    np.testing.assert_allclose(jx.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for a, b in zip(jh, th):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (n, p), (_, q) in zip(jm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_matches_torch_packed(kind):
    torch, tm, jm = _torch_pair(kind, num_layers=2, bidirectional=True)
    from torch.nn.utils import rnn as trnn
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 4, 3))
    lengths = [3, 6, 1, 4]
    tx = torch.tensor(x, requires_grad=True)
    jx = jg.tensor(x, requires_grad=True)
    tout, th = tm(trnn.pack_padded_sequence(tx, lengths, enforce_sorted=False))
    jout, jh = jm(jg.nn.utils.rnn.pack_padded_sequence(jx, lengths, enforce_sorted=False))
    tpad, _ = trnn.pad_packed_sequence(tout, batch_first=True)
    jpad, _ = jg.nn.utils.rnn.pad_packed_sequence(jout, batch_first=True)
    np.testing.assert_allclose(jout.data.detach().numpy(), tout.data.detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(jout.batch_sizes.detach().numpy(), tout.batch_sizes.detach().numpy())
    np.testing.assert_allclose(jpad.detach().numpy(), tpad.detach().numpy(), rtol=1e-10, atol=1e-12)
    ths, jhs = _flat(th), _flat(jh)
    for a, b in zip(jhs, ths):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    ((tpad ** 2).sum() + sum((h ** 3).sum() for h in ths)).backward()
    ((jpad ** 2).sum() + sum((h ** 3).sum() for h in jhs)).backward()
    np.testing.assert_allclose(jx.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (n, p), (_, q) in zip(jm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=n)


@pytest.mark.parametrize("kind", list(CELLS))
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tcls = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn_tanh": torch.nn.RNNCell,
            "rnn_relu": lambda *a: torch.nn.RNNCell(*a, nonlinearity="relu")}[kind]
    tm = tcls(3, 5).double()
    jm = CELLS[kind](3, 5, dtype=jg.float64)
    jm.load_state_dict(tm.state_dict())
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 3))
    h = [rng.standard_normal((4, 5)) for _ in range(2 if kind == "lstm" else 1)]
    tx, jx = torch.tensor(x, requires_grad=True), jg.tensor(x, requires_grad=True)
    th = [torch.tensor(a, requires_grad=True) for a in h]
    jh = [jg.tensor(a, requires_grad=True) for a in h]
    to = _flat(tm(tx, tuple(th) if kind == "lstm" else th[0]))
    jo = _flat(jm(jx, tuple(jh) if kind == "lstm" else jh[0]))
    for a, b in zip(jo, to):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    sum((o * (i + 2)).sum() ** 2 for i, o in enumerate(to)).backward()
    sum((o * (i + 2)).sum() ** 2 for i, o in enumerate(jo)).backward()
    np.testing.assert_allclose(jx.grad, tx.grad.numpy(), rtol=1e-9)
    for a, b in zip(jh, th):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9)
    for (n, p), (_, q) in zip(jm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, err_msg=n)


@pytest.mark.parametrize("kind", list(SEQS))
def test_unbatched_sequence_matches_batch_of_one(kind):
    rng = np.random.default_rng(11)
    mod = SEQS[kind](3, 4, num_layers=2, dtype=jg.float64)
    x = rng.standard_normal((5, 3))
    one = _flat(mod(jg.tensor(x)))
    batched = _flat(mod(jg.tensor(x[:, None, :])))
    assert one[0].shape == (5, 4) and one[1].shape == (2, 4)
    for a, b in zip(one, batched):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy().squeeze(1),
                                   rtol=1e-12)


def test_one_graph_node_per_cell_step_and_per_layer():
    lstm = nn.LSTM(3, 4)
    out, (hn, cn) = lstm(jg.randn(6, 2, 3))
    assert out.grad_fn.name() == "LstmLayerBackward"
    assert out.grad_fn is hn.grad_fn.next[0][0] is cn.grad_fn.next[0][0]
    h, c = nn.LSTMCell(3, 4)(jg.randn(2, 3))
    assert h.grad_fn is c.grad_fn and h.grad_fn.name() == "LstmCellBackward"


def test_reused_buffers_never_overwrite_live_results():
    """Layers reuse their large buffers only when nothing references them: an output kept by
    the caller, or a graph not yet backpropagated, keeps its buffers."""
    rng = np.random.default_rng(12)
    lstm = nn.LSTM(8, 64)
    xs = [jg.tensor(rng.standard_normal((40, 16, 8)).astype(np.float32)) for _ in range(3)]
    out1, _ = lstm(xs[0])                     # graph alive: gates and states saved
    kept = out1.detach().numpy().copy()
    with jg.no_grad():
        out2, _ = lstm(xs[1])
    out3, _ = lstm(xs[2])
    np.testing.assert_array_equal(out1.detach().numpy(), kept)
    out1.sum().backward()
    g1 = lstm.weight_hh_l0.grad.copy()
    lstm.zero_grad()
    out1b, _ = lstm(xs[0])
    out1b.sum().backward()
    np.testing.assert_allclose(lstm.weight_hh_l0.grad, g1, rtol=1e-5)
    del out3
    for _ in range(20):                       # the pool stays bounded over many shapes
        lstm(jg.tensor(rng.standard_normal((int(rng.integers(20, 60)), 16, 8))
                       .astype(np.float32)))
    from jitgrad.nn.functional import _recurrent
    assert len(_recurrent._pool()) <= _recurrent._POOL_KEYS


def test_two_threads_training_lstms_match_running_them_in_turn():
    """The whole-sequence buffer pool is per thread: concurrent LSTMs never share a buffer."""
    import threading

    def make(seed):
        jg.manual_seed(seed)
        return nn.LSTM(8, 32)

    def train(lstm, seed, out):
        gen = np.random.default_rng(seed)
        opt = jg.optim.Adam(lstm.parameters(), lr=1e-2)
        for _ in range(15):
            x = jg.tensor(gen.standard_normal((40, 16, 8)).astype(np.float32))
            opt.zero_grad()
            y, _ = lstm(x)
            (y * y).mean().backward()
            opt.step()
        out[seed] = [p.data.copy() for p in lstm.parameters()]

    sequential, threaded = {}, {}
    for s in (1, 2):
        train(make(s), s, sequential)
    models = {s: make(s) for s in (1, 2)}          # built in turn: the same initial weights
    ts = [threading.Thread(target=train, args=(models[s], s, threaded)) for s in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for s in (1, 2):
        for a, b in zip(sequential[s], threaded[s]):
            np.testing.assert_array_equal(a, b)
