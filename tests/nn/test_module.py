"""Module system: registration, traversal order, modes, grads, dtype, repr, state dicts."""
from collections import OrderedDict

import numpy as np
import pytest

import jitgrad as jg
from jitgrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(jg.ones(3))
        self.register_buffer("running", jg.zeros(3))
        self.register_buffer("scratch", jg.zeros(2), persistent=False)
        self.register_buffer("count", jg.tensor(0))
        self.inner = nn.Linear(3, 2)
        self.note = "plain attribute"

    def forward(self, x):
        return self.inner(x * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(2, 3)
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

    def forward(self, x):
        return self.head(self.block(self.first(x)))


def test_registration_and_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "first.weight", "first.bias", "block.scale", "block.inner.weight", "block.inner.bias",
        "head.0.weight", "head.0.bias"]
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.block.named_parameters(prefix="b")][0] == "b.scale"
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch",
                                                   "block.count"]
    assert list(net.state_dict()) == [
        "first.weight", "first.bias", "block.scale", "block.running", "block.count",
        "block.inner.weight", "block.inner.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in net.named_children()] == ["first", "block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "block", "block.inner", "head",
                                                   "head.0", "head.1"]
    assert len(list(net.parameters())) == 7 and len(list(net.modules())) == 7
    assert net.block.note == "plain attribute"
    assert isinstance(net.block.scale, nn.Parameter) and net.get_submodule("block.inner") is \
        net.block.inner


def test_shared_parameters_and_modules_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_assignment_rules():
    m = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = jg.ones(3)
    m.scale = None
    assert m.scale is None and "scale" not in [n for n, _ in m.named_parameters()]
    with pytest.raises(TypeError, match="buffer 'running'"):
        m.running = np.zeros(3)
    m.running = jg.ones(3)
    assert m.state_dict()["running"][0] == 1
    with pytest.raises(KeyError):
        m.register_buffer("a.b", jg.zeros(1))
    with pytest.raises(TypeError):
        m.register_parameter("w", jg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("note", jg.zeros(1))
    m.inner = nn.Identity()  # replacing a child keeps its slot
    assert [n for n, _ in m.named_children()] == ["inner"]
    del m.inner
    assert list(m.named_children()) == []
    with pytest.raises(AttributeError):
        m.missing
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(jg.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Block", "Linear", "Dropout", "Sequential", "Net"]


def test_to_double_and_float():
    net = Net()
    net(jg.randn(4, 2)).sum().backward()
    w = net.first.weight
    assert net.double() is net
    assert w.dtype == np.float64 and w.grad.dtype == np.float64
    assert net.block.running.dtype == np.float64 and net.block.count.dtype == np.int64
    out = net(jg.randn(4, 2, dtype=jg.float64))
    assert out.dtype == np.float64
    net.to(jg.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.to("cpu") is net
    with pytest.raises(TypeError):
        net.to(jg.int64)


def test_repr_tree():
    net = nn.Sequential(OrderedDict(
        fc=nn.Linear(2, 3, bias=False),
        drop=nn.Dropout(0.25),
        more=nn.ModuleList([nn.Identity(), nn.Flatten()]),
    ))
    assert repr(net) == (
        "Sequential(\n"
        "  (fc): Linear(in_features=2, out_features=3, bias=False)\n"
        "  (drop): Dropout(p=0.25)\n"
        "  (more): ModuleList(\n"
        "    (0): Identity()\n"
        "    (1): Flatten(start_dim=1, end_dim=-1)\n"
        "  )\n"
        ")")
    p = nn.Parameter(jg.zeros(2))
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert "requires_grad=True" in repr(p)


def test_parameter():
    t = jg.ones(2, 2)
    p = nn.Parameter(t)
    assert isinstance(p, jg.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data  # shares memory, as torch.nn.Parameter(tensor)
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    y = (p * 2).sum()
    y.backward()
    np.testing.assert_array_equal(p.grad, 2 * np.ones((2, 2)))


def test_containers():
    a, b, c = nn.Linear(2, 2), nn.Identity(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b)
    seq.append(c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    assert list(seq[1:]._modules) == ["1", "2"]
    assert seq(jg.randn(5, 2)).shape == (5, 1)
    del seq[1]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c
    with pytest.raises(IndexError):
        seq[5]
    named = nn.Sequential(OrderedDict(enc=a, dec=c))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]

    ml = nn.ModuleList([a])
    ml.append(b)
    ml.extend([c])
    ml.insert(0, nn.Identity())
    assert len(ml) == 4 and ml[1] is a and ml[-1] is c
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "3.weight",
                                                     "3.bias"]
    with pytest.raises(NotImplementedError):
        ml(1)

    md = nn.ModuleDict({"x": a})
    md["y"] = c
    assert list(md) == ["x", "y"] and "y" in md and md["y"] is c and len(md) == 2
    assert list(md.state_dict()) == ["x.weight", "x.bias", "y.weight", "y.bias"]
    assert md.pop("x") is a and list(md.keys()) == ["y"]


def test_identity_flatten_unflatten():
    x = jg.randn(2, 3, 4, requires_grad=True)
    assert nn.Identity(7, k=1)(x) is x
    y = nn.Flatten()(x)
    assert y.shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    z = nn.Unflatten(1, (3, 2, 2))(y)
    assert z.shape == (2, 3, 2, 2)
    assert nn.Unflatten(-1, (2, -1))(y).shape == (2, 2, 6)
    np.testing.assert_array_equal(z.data.reshape(x.shape), x.data)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3, 4)))
    with pytest.raises(ValueError):
        nn.Unflatten(1, (5, 2))(y)


# ------------------------------------------------------------------------- state dicts
def test_state_dict_round_trip_copies_into_existing_arrays():
    src, dst = Net(), Net()
    src.block.running.data[:] = [1, 2, 3]
    src.block.count.data[...] = 7
    refs = {k: v for k, v in dst.state_dict().items()}
    w_param = dst.first.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in dst.state_dict().items():
        np.testing.assert_array_equal(v, src.state_dict()[k])
        assert v is refs[k]  # same arrays: optimizers and views keep working
    assert dst.first.weight is w_param
    x = jg.randn(3, 2)
    dst.eval(), src.eval()
    np.testing.assert_array_equal(dst(x).data, src(x).data)


def test_state_dict_values_share_memory_and_keep_vars():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert sd["weight"] is lin.weight.data
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


def test_load_state_dict_casts_and_accepts_tensors():
    lin = nn.Linear(2, 3)
    sd = {"weight": np.arange(6, dtype=np.float64).reshape(3, 2),
          "bias": jg.tensor([1.0, 2.0, 3.0], dtype=jg.float64)}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == np.float32 and lin.weight.data[2, 1] == 5
    np.testing.assert_array_equal(lin.bias.data, [1, 2, 3])


def test_load_state_dict_errors_list_everything_and_leave_model_untouched():
    net = Net()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    sd = {k: np.zeros_like(v) for k, v in net.state_dict().items()}
    del sd["first.bias"]
    sd["extra.weight"] = np.zeros(3)
    sd["head.0.weight"] = np.zeros((3, 3))
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "first.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for head.0.weight" in msg and "(3, 3)" in msg and "(2, 2)" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    # shape mismatches raise even when not strict; missing/unexpected keys are returned
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)
    sd["head.0.weight"] = np.zeros((2, 2))
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["first.bias"] and res.unexpected_keys == ["extra.weight"]
    assert np.all(net.first.weight.data == 0)
    np.testing.assert_array_equal(net.first.bias.data, before["first.bias"])
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")

    class TBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("running", torch.zeros(3))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)
            self.register_buffer("count", torch.tensor(0))
            self.inner = torch.nn.Linear(3, 2)

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = torch.nn.Linear(2, 3)
            self.block = TBlock()
            self.head = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))

    tnet, net = TNet(), Net()
    tsd = tnet.state_dict()
    assert list(tsd) == list(net.state_dict())
    assert [n for n, _ in tnet.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert [n for n, _ in tnet.named_modules()] == [n for n, _ in net.named_modules()]
    net.load_state_dict(tsd)  # torch tensors load directly (via .numpy())
    np.testing.assert_array_equal(net.block.inner.weight.data, tsd["block.inner.weight"].numpy())
    assert net.block.count.dtype == np.int64


def test_sequential_fuses_linear_activation_pairs_with_same_results():
    jg.manual_seed(0)
    seq = jg.nn.Sequential(jg.nn.Linear(4, 5), jg.nn.ReLU(), jg.nn.Linear(5, 5), jg.nn.Tanh(),
                           jg.nn.Linear(5, 3), jg.nn.Sigmoid(), jg.nn.Linear(3, 2))
    x = jg.randn(6, 4, dtype=jg.float64)
    seq.double()
    up = jg.from_numpy(np.random.default_rng(0).standard_normal((6, 2)))
    out = seq(x)
    assert out.grad_fn.name() == "LinearBackward"
    assert out.grad_fn.next[0][0].name() == "Linear_sigmoidBackward"
    (out * up).sum().backward()
    fused = {n: p.grad.copy() for n, p in seq.named_parameters()}
    seq.zero_grad()
    h = x
    for m in seq:  # module by module: no fusion
        h = m(h)
    np.testing.assert_allclose(h.data, out.data, rtol=1e-12)
    (h * up).sum().backward()
    for n, p in seq.named_parameters():
        np.testing.assert_allclose(p.grad, fused[n], rtol=1e-12, err_msg=n)


def test_sequential_does_not_fuse_a_linear_subclass():
    class Scaled(jg.nn.Linear):
        def forward(self, input):
            return super().forward(input) * 2

    jg.manual_seed(0)
    seq = jg.nn.Sequential(Scaled(3, 3), jg.nn.ReLU())
    x = jg.randn(2, 3)
    ref = np.maximum(2 * (x.data @ seq[0].weight.data.T + seq[0].bias.data), 0)
    np.testing.assert_allclose(seq(x).data, ref, rtol=1e-6)
