"""Module hooks: forward pre-hooks, forward hooks, full backward (pre-)hooks, their handles,
ordering (prepend), kwargs, always_call, and PyTorch as an oracle for what a full backward hook
sees (gradients with respect to the module's tensor inputs and outputs)."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn


class Mul(nn.Module):
    """y = a * b * scale: two tensor inputs and a keyword."""

    def forward(self, a, b, scale=1.0):
        return a * b * scale


def test_forward_pre_hook_and_forward_hook_replace_and_remove():
    m = nn.Linear(3, 2)
    x = jg.randn(4, 3)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: seen.append(("pre", mod, args[0])))
    h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    y = m(x)
    assert seen[0][0] == "pre" and seen[0][1] is m and seen[0][2] is x
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(m.bias.data, (4, 2)))
    h2.remove()
    h3 = m.register_forward_hook(lambda mod, args, out: out + 1)
    np.testing.assert_allclose(m(x).detach().numpy(), m.forward(x).detach().numpy() + 1,
                               rtol=1e-6)
    h1.remove()
    h3.remove()
    assert not m._has_hooks
    h3.remove()  # removing twice is harmless
    seen.clear()
    m(x)
    assert seen == []


def test_prepend_kwargs_and_order():
    m = Mul()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("a"))
    m.register_forward_hook(lambda mod, args, out: order.append("b"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args: order.append("pre-a"))
    m.register_forward_pre_hook(lambda mod, args: order.append("pre-b"), prepend=True)

    def kw_pre(mod, args, kwargs):
        order.append("pre-kw")
        return args, {**kwargs, "scale": 10.0}

    m.register_forward_pre_hook(kw_pre, with_kwargs=True)
    got = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: got.update(kwargs), with_kwargs=True)
    y = m(jg.tensor([1.0]), jg.tensor([2.0]), scale=3.0)
    assert order == ["pre-b", "pre-a", "pre-kw", "b", "a"]
    assert got == {"scale": 10.0} and y.item() == 20.0


def test_always_call_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append("plain"))
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(jg.zeros(1))
    assert seen == [("always", None)]


def test_handle_as_context_manager():
    m = nn.Identity()
    seen = []
    with m.register_forward_hook(lambda mod, args, out: seen.append(1)):
        m(jg.zeros(1))
    m(jg.zeros(1))
    assert seen == [1] and not m._has_hooks


def test_full_backward_hook_sees_input_and_output_grads():
    m = Mul()
    a = jg.tensor([1.0, 2.0], requires_grad=True)
    b = jg.tensor([3.0, 4.0])  # needs no gradient: its grad_input entry is None
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append((mod, gi, go)))
    y = m(a, b, scale=2.0)
    y.backward(jg.tensor([1.0, 10.0]))
    (mod, gi, go), = calls
    assert mod is m and len(gi) == 2 and len(go) == 1 and gi[1] is None
    np.testing.assert_allclose(gi[0].numpy(), [6.0, 80.0])
    np.testing.assert_allclose(go[0].numpy(), [1.0, 10.0])
    np.testing.assert_allclose(a.grad, [6.0, 80.0])


def test_full_backward_hook_replaces_grad_input_and_pre_hook_grad_output():
    m = nn.Linear(3, 2)
    x = jg.randn(4, 3, requires_grad=True)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
    m(x).sum().backward()
    g1 = x.grad.copy()
    x.grad = None
    h = m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * g1, rtol=1e-6)
    np.testing.assert_allclose(g1, 2 * np.ones((4, 2)) @ m.weight.data, rtol=1e-6)
    h.remove()


def test_full_backward_hook_without_input_grad_runs_at_output():
    m = nn.Linear(3, 2)
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go)))
    m(jg.randn(4, 3)).sum().backward()
    (gi, go), = calls
    assert gi == (None,) and go[0].shape == (4, 2)
    assert m.weight.grad is not None
    m.register_full_backward_hook(lambda mod, gi, go: (jg.zeros(4, 3),))
    with pytest.raises(RuntimeError, match="no input requires gradient"):
        m(jg.randn(4, 3)).sum().backward()


def test_backward_hook_wrong_count_raises():
    m = nn.Linear(3, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        m(jg.randn(4, 3, requires_grad=True)).sum().backward()


def test_no_hook_node_under_no_grad():
    m = nn.Linear(3, 2)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    with jg.no_grad():
        y = m(jg.randn(4, 3, requires_grad=True))
    assert y.grad_fn is None


def test_full_backward_hook_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    g = rng.normal(size=(5, 2))
    record = {}
    for lib, mod in (("torch", torch), ("jg", jg)):
        seq = mod.nn.Sequential(mod.nn.Linear(3, 4), mod.nn.Tanh(), mod.nn.Linear(4, 2)).double()
        if lib == "jg":
            seq.load_state_dict(record["sd"])
        else:
            record["sd"] = seq.state_dict()
        seen = []
        for sub in seq:
            sub.register_full_backward_hook(
                lambda m, gi, go: seen.append(([None if t is None else np.array(t.detach().numpy())
                                                for t in gi],
                                               [np.array(t.detach().numpy()) for t in go])))
        xt = mod.tensor(x, requires_grad=True)
        seq(xt).backward(mod.tensor(g))
        record[lib] = seen
    assert len(record["jg"]) == len(record["torch"]) == 3
    for (gi1, go1), (gi2, go2) in zip(record["jg"], record["torch"]):
        for a, b in zip(gi1 + go1, gi2 + go2):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_hooks_fire_inside_a_fused_sequential_pair():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    seen = []
    seq[1].register_forward_hook(lambda mod, args, out: seen.append(args[0].shape))
    seq(jg.randn(2, 3))
    assert seen == [(2, 4)]
