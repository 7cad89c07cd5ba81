"""Layers and their functionals beyond the op table: init distributions, errors, Dense
activations, dropout statistics, embedding padding and accumulation, PyTorch oracle."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F
from jitgrad import nn
from jitgrad.nn import init


# ------------------------------------------------------------------------- Linear / Dense
def test_linear_default_init_and_shapes():
    jg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)
    assert lin.weight.dtype == np.float32 and lin.weight.requires_grad
    w = lin.weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # uniform(-b, b)
    assert np.abs(lin.bias.data).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None
    assert list(nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]
    assert nn.Linear(3, 2, dtype=jg.float64).weight.dtype == np.float64
    jg.manual_seed(5)
    a = nn.Linear(3, 4).weight.data.copy()
    jg.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 4).weight.data, a)


def test_linear_forward_backward_leading_dims():
    lin = nn.Linear(3, 2, dtype=jg.float64)
    x = jg.randn(4, 5, 3, dtype=jg.float64, requires_grad=True)
    y = lin(x)
    assert y.shape == (4, 5, 2)
    np.testing.assert_allclose(y.data, x.data @ lin.weight.data.T + lin.bias.data)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(jg.tensor(g))
    np.testing.assert_allclose(x.grad, g @ lin.weight.data)
    np.testing.assert_allclose(lin.weight.grad, g.reshape(-1, 2).T @ x.data.reshape(-1, 3))
    np.testing.assert_allclose(lin.bias.grad, g.reshape(-1, 2).sum(0))


def test_linear_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="mat1 and mat2 must have the same dtype"):
        lin(jg.randn(4, 3, dtype=jg.float64))
    with pytest.raises(ValueError, match="in_features=3"):
        lin(jg.randn(4, 5))
    with pytest.raises(TypeError):
        lin(jg.ones(4, 3, dtype=jg.int64))
    with pytest.raises(ValueError, match="bias"):
        F.linear(jg.randn(4, 3), lin.weight, jg.randn(3))


def test_linear_without_input_grad_skips_it():
    lin = nn.Linear(3, 2)
    x = jg.randn(4, 3)
    lin(x).sum().backward()
    assert x.grad is None and lin.weight.grad is not None
    lin.requires_grad_(False)
    assert not lin(x).requires_grad


def test_linear_detects_in_place_changes_of_saved_arrays():
    lin = nn.Dense(3, 2, activation="tanh")
    x = jg.randn(4, 3)
    y = lin(x)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = lin(jg.randn(2, 4, 3))
    y.mul_(2.0)  # the fused tanh backward reads its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("name,ref", [
    ("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("linear", lambda z: z), (None, lambda z: z)])
def test_dense_fused_activations(name, ref):
    d = nn.Dense(3, 4, activation=name, dtype=jg.float64)
    x = jg.randn(5, 3, dtype=jg.float64, requires_grad=True)
    np.testing.assert_allclose(d(x).data, ref(x.data @ d.weight.data.T + d.bias.data))
    assert jg.gradcheck(d, [x])


def test_dense_other_activations():
    x = jg.randn(5, 3, dtype=jg.float64, requires_grad=True)
    d = nn.Dense(3, 4, activation=lambda t: t * 2, dtype=jg.float64)
    lin = x.data @ d.weight.data.T + d.bias.data
    np.testing.assert_allclose(d(x).data, 2 * lin)
    d2 = nn.Dense(3, 4, activation=nn.Dropout(0.0))
    assert [n for n, _ in d2.named_children()] == ["activation"]
    assert list(d2.state_dict()) == ["weight", "bias"]
    d3 = nn.Dense(3, 4, activation="gelu", dtype=jg.float64)
    d3.load_state_dict(d.state_dict())
    np.testing.assert_allclose(d3(x).data, F.gelu(jg.tensor(lin)).data)
    assert "activation='gelu'" in repr(d3)
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Dense(3, 4, activation="nope")
    with pytest.raises(TypeError):
        nn.Dense(3, 4, activation=3)


# ------------------------------------------------------------------------- Dropout
def test_dropout_statistics_and_mask_gradient():
    jg.manual_seed(0)
    p = 0.3
    x = jg.ones(200, 500, requires_grad=True)
    y = F.dropout(x, p)
    kept = y.data != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(y.data.mean() - 1) < 0.02  # inverted scaling keeps the expectation
    y.backward(jg.full((200, 500), 2.0))
    np.testing.assert_allclose(x.grad, 2 * y.data, rtol=1e-6)


def test_dropout_reproducible_eval_and_edges():
    x = jg.randn(4, 6)
    jg.manual_seed(3)
    a = F.dropout(x, 0.5).data
    jg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, a)
    m = nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    assert np.all(F.dropout(x, 1.0).data == 0)
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x.data)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError):
        F.dropout(x, -0.1)


# ------------------------------------------------------------------------- Embedding
def test_embedding_init_padding_and_accumulation():
    jg.manual_seed(0)
    emb = nn.Embedding(50, 40, padding_idx=-1)
    assert emb.padding_idx == 49
    assert np.all(emb.weight.data[49] == 0)
    w = emb.weight.data[:49]
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1) < 0.05
    idx = jg.tensor([[1, 49, 1], [3, 1, 49]])
    y = emb(idx)
    assert y.shape == (2, 3, 40)
    np.testing.assert_array_equal(y.data, emb.weight.data[idx.data])
    g = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(jg.tensor(g))
    want = np.zeros((50, 40), np.float32)
    np.add.at(want, idx.data, g)
    want[49] = 0
    np.testing.assert_allclose(emb.weight.grad, want, rtol=1e-6)
    assert repr(emb) == "Embedding(50, 40, padding_idx=49)"


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="out of range"):
        emb(jg.tensor([0, 5]))
    with pytest.raises(IndexError):
        emb(jg.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(jg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError):
        nn.Embedding(5, 2, padding_idx=5)


# ------------------------------------------------------------------------- one_hot, pad
def test_one_hot_errors_and_no_grad():
    out = F.one_hot(jg.tensor([2, 0]))
    assert out.dtype == np.int64 and out.shape == (2, 3) and not out.requires_grad
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(jg.tensor([3]), num_classes=3)
    with pytest.raises(ValueError):
        F.one_hot(jg.tensor([-1]), num_classes=3)
    with pytest.raises(TypeError):
        F.one_hot(jg.tensor([1.0]))


def test_pad_gradient_crop_and_errors():
    x = jg.randn(3, 4, dtype=jg.float64, requires_grad=True)
    y = F.pad(x, (-1, 2, 1, 0), value=3.0)
    assert y.shape == (4, 5)
    assert np.all(y.data[0] == 3) and np.all(y.data[:, -2:] == 3)
    y.backward(jg.ones(4, 5, dtype=jg.float64))
    want = np.ones((3, 4))
    want[:, 0] = 0
    np.testing.assert_array_equal(x.grad, want)
    ints = F.pad(jg.tensor([[1, 2]]), (1, 1))
    assert ints.dtype == np.int64 and ints.tolist() == [[0, 1, 2, 0]]
    with pytest.raises(ValueError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="too large"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="negative size"):
        F.pad(x, (-3, -3))
    with pytest.raises(NotImplementedError):
        F.pad(x, (1, 1), mode="symmetric")  # reflect etc.: tests/nn/test_resample.py


# ------------------------------------------------------------------------- init
def test_init_functions():
    jg.manual_seed(0)
    w = jg.empty(200, 300)
    init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6.0 / 500)
    assert np.abs(w.data).max() <= a and np.abs(w.data).max() > 0.99 * a
    init.xavier_normal_(w)
    assert abs(w.data.std() - math.sqrt(2.0 / 500)) < 0.002
    init.kaiming_uniform_(w, nonlinearity="relu")
    b = math.sqrt(2.0) * math.sqrt(3.0 / 300)
    assert np.abs(w.data).max() <= b and np.abs(w.data).max() > 0.99 * b
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2.0 / 200)) < 0.003
    init.uniform_(w, -0.5, 0.25)
    assert w.data.min() >= -0.5 and w.data.max() <= 0.25
    init.normal_(w, 1.0, 0.1)
    assert abs(w.data.mean() - 1) < 0.01 and w.dtype == np.float32
    assert np.all(init.constant_(w, 0.3).data == np.float32(0.3))
    assert np.all(init.zeros_(w).data == 0) and np.all(init.ones_(w).data == 1)
    q = init.orthogonal_(jg.empty(3, 5, dtype=jg.float64), gain=2.0)
    np.testing.assert_allclose(q.data @ q.data.T, 4 * np.eye(3), atol=1e-12)
    q = init.orthogonal_(jg.empty(6, 2, 2, dtype=jg.float64)).data.reshape(6, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-12)
    assert init._calculate_fan_in_and_fan_out(jg.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError):
        init.xavier_uniform_(jg.empty(5))
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_init_in_place_keeps_parameter_and_seed():
    lin = nn.Linear(3, 3)
    arr = lin.weight.data
    jg.manual_seed(1)
    init.normal_(lin.weight)
    assert lin.weight.data is arr
    first = arr.copy()
    jg.manual_seed(1)
    np.testing.assert_array_equal(init.normal_(lin.weight).data, first)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nl, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                      ("conv2d", None)]:
        assert init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param))


# ------------------------------------------------------------------------- PyTorch interop
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 5)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        return self.out(self.drop(jg.sigmoid(self.fc2(jg.tanh(self.fc1(x))))))


def test_mlp_matches_torch_after_loading_its_state_dict():
    torch = pytest.importorskip("torch")

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(6, 8)
            self.fc2 = torch.nn.Linear(8, 5)
            self.drop = torch.nn.Dropout(0.5)
            self.out = torch.nn.Linear(5, 3)

        def forward(self, x):
            return self.out(self.drop(torch.sigmoid(self.fc2(torch.tanh(self.fc1(x))))))

    torch.manual_seed(0)
    for dtype, jdtype, tol in [(torch.float64, jg.float64, 1e-12), (torch.float32, jg.float32,
                                                                     1e-5)]:
        tmodel = TorchMLP().to(dtype).eval()
        model = MLP().to(jdtype).eval()
        model.load_state_dict({k: v.numpy() for k, v in tmodel.state_dict().items()})
        xn = np.random.default_rng(0).standard_normal((7, 6))
        tx = torch.tensor(xn, dtype=dtype, requires_grad=True)
        tout = tmodel(tx)
        tout.pow(2).sum().backward()
        x = jg.tensor(xn, dtype=jdtype, requires_grad=True)
        out = model(x)
        (out * out).sum().backward()
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=10 * tol, atol=tol)
        for name, p in model.named_parameters():
            np.testing.assert_allclose(p.grad, dict(tmodel.named_parameters())[name].grad,
                                       rtol=10 * tol, atol=tol, err_msg=name)


def test_sequential_with_norms_loads_torch_state_dict_directly():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                 torch.nn.Linear(6, 5), torch.nn.LayerNorm(5), torch.nn.GELU(),
                                 torch.nn.Linear(5, 2)).double()
    with torch.no_grad():  # make the running statistics non-trivial
        tmodel(torch.randn(16, 4, dtype=torch.float64) * 3 + 1)
    tmodel.eval()
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 5),
                          nn.LayerNorm(5), nn.GELU(), nn.Linear(5, 2)).double().eval()
    tsd = tmodel.state_dict()
    assert list(model.state_dict()) == list(tsd)
    model.load_state_dict(tsd)
    assert model[1].num_batches_tracked.data == 1
    xn = np.random.default_rng(0).standard_normal((8, 4))
    tx = torch.tensor(xn, requires_grad=True)
    tout = tmodel(tx)
    tout.pow(2).sum().backward()
    x = jg.tensor(xn, requires_grad=True)
    out = model(x)
    (out * out).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_linear_act_matches_the_composed_ops(activation):
    """F.linear_act (one fused node) against F.<activation>(F.linear(...)): values and
    gradients of input, weight and bias."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((6, 5), (4, 5), (4,))]
    g = rng.uniform(-1, 1, (6, 4))
    results = []
    for fused in (True, False):
        ts = [jg.tensor(a, dtype=jg.float64, requires_grad=True) for a in arrays]
        if fused:
            y = F.linear_act(*ts, activation=activation)
        else:
            y = F.linear(*ts)
            y = y if activation is None else getattr(F, activation)(y)
        y.backward(jg.tensor(g, dtype=jg.float64))
        results.append([y.detach().numpy()] + [t.grad for t in ts])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_linear_act_rejects_unknown_activation():
    with pytest.raises(ValueError, match="linear_act\\(\\): argument 'activation' expected"):
        F.linear_act(jg.ones(2, 3), jg.ones(4, 3), None, "gelu")
