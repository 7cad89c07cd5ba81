"""State changes all or nothing: load_state_dict of modules, optimizers and schedulers and a
failing BatchNorm call change nothing; ``.grad`` assignment is checked (issue 12)."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad import nn, optim


def _mlp():
    jg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _snapshot(m):
    return {k: v.copy() for k, v in ((k, np.asarray(t)) for k, t in m.state_dict().items())}


@pytest.mark.parametrize("bad", [np.array(["a"] * 2), np.ones(2, complex) * 1j,
                                 np.array([object(), object()])])
def test_module_load_state_dict_rejects_nonreal_last_key_changes_nothing(bad):
    m = _mlp()
    before = _snapshot(m)
    sd = {k: np.asarray(v) + 1 for k, v in m.state_dict().items()}
    sd["2.bias"] = bad  # the last key: earlier keys would have been copied already
    with pytest.raises(RuntimeError, match="dtype mismatch for 2.bias"):
        m.load_state_dict(sd)
    after = _snapshot(m)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def _stepped_adam():
    m = _mlp()
    opt = optim.Adam(m.parameters(), lr=1e-2)
    m(jg.randn(5, 3)).sum().backward()
    opt.step()
    return m, opt


def _same_state(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for k in a["state"]:
        for n, v in a["state"][k].items():
            assert np.array_equal(np.asarray(v), np.asarray(b["state"][k][n])), (k, n)


@pytest.mark.parametrize("corrupt,match", [
    (lambda sd: sd["state"][3].update(step=-1.0), "step"),
    (lambda sd: sd["state"][3].update(step=float("nan")), "step"),
    (lambda sd: sd["state"][3].update(step=1.5), "step"),
    (lambda sd: sd["state"][3].update(exp_avg=np.array(["x", "y"])), "real numeric"),
    (lambda sd: sd["state"][3].update(exp_avg_sq=np.ones(2, complex)), "real numeric"),
    (lambda sd: sd["param_groups"][0].update(betas="fast"), "betas"),
    (lambda sd: sd["param_groups"][0].update(eps="tiny"), "eps"),
    (lambda sd: sd.pop("state"), "lacks the 'state' key"),
    (lambda sd: sd.pop("param_groups"), "lacks the 'param_groups' key"),
])
def test_optimizer_load_state_dict_validates_before_changing(corrupt, match):
    m, opt = _stepped_adam()
    before = opt.state_dict()
    before = {"state": {k: {n: np.array(v, copy=True) for n, v in e.items()}
                        for k, e in before["state"].items()},
              "param_groups": [dict(g) for g in before["param_groups"]]}
    sd = opt.state_dict()
    sd = {"state": {k: dict(e) for k, e in sd["state"].items()},
          "param_groups": [dict(g, lr=0.5) for g in sd["param_groups"]]}
    for e in sd["state"].values():
        e["exp_avg"] = np.asarray(e["exp_avg"]) + 1  # earlier params would change first
    corrupt(sd)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)
    _same_state(before, opt.state_dict())
    assert opt.param_groups[0]["lr"] == 1e-2


def test_optimizer_load_state_dict_not_a_dict():
    _, opt = _stepped_adam()
    with pytest.raises(TypeError, match="expected a dict"):
        opt.load_state_dict([1, 2])


def test_scheduler_load_state_dict_validates():
    _, opt = _stepped_adam()
    sched = optim.lr_scheduler.StepLR(opt, 2)
    sched.step()
    before = dict(sched.state_dict())
    with pytest.raises(ValueError, match="last_epoch"):
        sched.load_state_dict(dict(before, last_epoch="three"))
    with pytest.raises(ValueError, match="base_lrs"):
        sched.load_state_dict(dict(before, base_lrs=[1.0, 2.0]))
    assert sched.state_dict() == before
    seq = optim.lr_scheduler.SequentialLR(
        opt, [optim.lr_scheduler.LinearLR(opt), optim.lr_scheduler.ExponentialLR(opt, 0.9)],
        milestones=[2])
    sd = seq.state_dict()
    sd["_schedulers"] = [sd["_schedulers"][0], dict(sd["_schedulers"][1], gamma="x")]
    before = seq._schedulers[0].state_dict()
    with pytest.raises(ValueError, match="gamma"):
        seq.load_state_dict(sd)
    assert seq._schedulers[0].state_dict() == before


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm1d, (1, 3, 1)),
                                       (nn.BatchNorm2d, (1, 3, 1, 1))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_failing_call_touches_no_buffer(cls, shape, momentum):
    bn = cls(3, momentum=momentum)
    bn(jg.randn(4, *shape[1:]))
    before = _snapshot(bn)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(jg.randn(*shape))
    after = _snapshot(bn)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert int(bn.num_batches_tracked.item()) == 1


def test_batchnorm_cumulative_average_unchanged_by_the_fix():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [np.random.default_rng(i).standard_normal((6, 2)).astype(np.float32) for i in range(3)]
    for x in xs:
        bn(jg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.item()) == 3


def test_batchnorm_wrong_channels_touches_nothing():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="channels"):
        bn(jg.randn(4, 2))
    assert int(bn.num_batches_tracked.item()) == 0


def test_grad_assignment_is_checked():
    p = nn.Parameter(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="assigned grad expected"):
        p.grad = [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(RuntimeError, match="different size"):
        p.grad = np.zeros((3, 2), np.float32)
    with pytest.raises(RuntimeError, match="different type"):
        p.grad = np.zeros((2, 3), np.float64)
    assert p.grad is None
    p.grad = jg.ones(2, 3)            # a Tensor is taken as its array
    assert isinstance(p.grad, np.ndarray) and p.grad.sum() == 6
    p.grad = np.ones((3, 2), np.float32).T  # any layout
    opt = optim.SGD([p], lr=1.0)
    opt.step()
    np.testing.assert_array_equal(p.data, -np.ones((2, 3)))
    p.grad = None
    assert p.grad is None


OPTIMIZERS = [optim.SGD, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), optim.Adam,
              optim.AdamW, optim.Adamax, optim.NAdam, optim.RMSprop, optim.Adagrad,
              optim.Lion, optim.Adadelta, optim.RAdam, optim.ASGD, optim.Rprop]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_every_optimizer_load_state_dict_is_all_or_nothing(make):
    m = _mlp()
    opt = make(m.parameters())
    for _ in range(2):
        opt.zero_grad()
        m(jg.randn(5, 3)).sum().backward()
        opt.step()
    good = opt.state_dict()
    before = {k: {n: np.array(v, copy=True) for n, v in e.items()}
              for k, e in good["state"].items()}
    groups = [dict(g) for g in good["param_groups"]]
    bad_state = {k: dict(e) for k, e in good["state"].items()}
    for k, e in bad_state.items():
        for n, v in e.items():
            if isinstance(v, np.ndarray):
                e[n] = v + 1.0
    bad_groups = [dict(g, lr=123.0) for g in groups]
    if bad_state:  # the last parameter's step is bad: earlier entries would load first
        bad_state[max(bad_state)]["step"] = -3.0
    else:  # stateless (plain SGD): a bad hyper-parameter after lr
        bad_groups[-1]["weight_decay"] = "heavy"
    with pytest.raises(ValueError):
        opt.load_state_dict({"state": bad_state, "param_groups": bad_groups})
    after = opt.state_dict()
    assert [dict(g) for g in after["param_groups"]] == groups
    for k, e in before.items():
        for n, v in e.items():
            np.testing.assert_array_equal(np.asarray(after["state"][k][n]), v)
    opt.load_state_dict(good)  # and a good one still loads
