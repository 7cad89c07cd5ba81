"""LR schedulers: sequences vs closed-form formulas and torch.optim.lr_scheduler, state dicts."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.optim as jo
from jitgrad.optim import lr_scheduler as S


def _opt(lr=0.1, groups=1, cls=jo.SGD, **kw):
    ps = [jg.tensor(np.ones(2), requires_grad=True) for _ in range(groups)]
    return cls([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], **kw)


def _seq(sched, n=30, metric=None):
    out = [sched.get_last_lr()]
    for k in range(n):
        sched.optimizer.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric(k))
        out.append(sched.get_last_lr())
    return out


def _close(got, want):
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12)


def test_closed_forms():
    lr = 0.1
    s = _seq(S.StepLR(_opt(lr), step_size=3, gamma=0.5))
    _close(s, [[lr * 0.5 ** (e // 3)] for e in range(31)])
    s = _seq(S.MultiStepLR(_opt(lr), milestones=[2, 5, 5, 9], gamma=0.1))
    _close(s, [[lr * 0.1 ** sum(m <= e for m in [2, 5, 5, 9])] for e in range(31)])
    s = _seq(S.ExponentialLR(_opt(lr), gamma=0.9))
    _close(s, [[lr * 0.9 ** e] for e in range(31)])
    s = _seq(S.CosineAnnealingLR(_opt(lr), T_max=10, eta_min=0.01))
    _close(s, [[0.01 + (lr - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2]
              for e in range(31)])
    s = _seq(S.LinearLR(_opt(lr), start_factor=0.25, total_iters=8))
    _close(s, [[lr * (0.25 + 0.75 * min(e, 8) / 8)] for e in range(31)])
    s = _seq(S.LambdaLR(_opt(lr), lambda e: 1 / (1 + e)))
    _close(s, [[lr / (1 + e)] for e in range(31)])
    s = _seq(S.CosineAnnealingWarmRestarts(_opt(lr), T_0=4, T_mult=2))
    tcur, ti, want = 0, 4, []
    for e in range(31):
        want.append([(lr) * (1 + math.cos(math.pi * tcur / ti)) / 2])
        tcur += 1
        if tcur >= ti:
            tcur, ti = tcur - ti, ti * 2
    _close(s, want)


def _cases(torch):
    """(jitgrad factory, torch factory, optimizer class name, kwargs for the optimizer)."""
    T = torch.optim.lr_scheduler
    return [
        (lambda o: S.StepLR(o, 4, 0.5), lambda o: T.StepLR(o, 4, 0.5)),
        (lambda o: S.MultiStepLR(o, [3, 7, 7]), lambda o: T.MultiStepLR(o, [3, 7, 7])),
        (lambda o: S.ExponentialLR(o, 0.93), lambda o: T.ExponentialLR(o, 0.93)),
        (lambda o: S.CosineAnnealingLR(o, 7, 0.001), lambda o: T.CosineAnnealingLR(o, 7, 0.001)),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2, 0.01),
         lambda o: T.CosineAnnealingWarmRestarts(o, 3, 2, 0.01)),
        (lambda o: S.LinearLR(o, 0.1, 0.9, 6), lambda o: T.LinearLR(o, 0.1, 0.9, 6)),
        (lambda o: S.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (e + 1)]),
         lambda o: T.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (e + 1)])),
        (lambda o: S.OneCycleLR(o, [1.0, 2.0], total_steps=31),
         lambda o: T.OneCycleLR(o, [1.0, 2.0], total_steps=31)),
        (lambda o: S.OneCycleLR(o, 1.0, epochs=4, steps_per_epoch=8, three_phase=True,
                                anneal_strategy="linear"),
         lambda o: T.OneCycleLR(o, 1.0, epochs=4, steps_per_epoch=8, three_phase=True,
                                anneal_strategy="linear")),
        (lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, total_iters=4),
                                      S.ExponentialLR(o, 0.9), S.StepLR(o, 3)], [5, 12]),
         lambda o: T.SequentialLR(o, [T.LinearLR(o, 0.2, total_iters=4),
                                      T.ExponentialLR(o, 0.9), T.StepLR(o, 3)], [5, 12])),
        (lambda o: S.ConstantLR(o), lambda o: T.ConstantLR(o)),
        (lambda o: S.ConstantLR(o, 0.25, 9), lambda o: T.ConstantLR(o, 0.25, 9)),
        (lambda o: S.PolynomialLR(o), lambda o: T.PolynomialLR(o)),
        (lambda o: S.PolynomialLR(o, 17, 2.5), lambda o: T.PolynomialLR(o, 17, 2.5)),
        (lambda o: S.CyclicLR(o, 0.01, [0.1, 0.3], step_size_up=4),
         lambda o: T.CyclicLR(o, 0.01, [0.1, 0.3], step_size_up=4)),
        (lambda o: S.CyclicLR(o, [0.01, 0.02], 0.1, 3, 5, mode="triangular2",
                              base_momentum=0.7, max_momentum=[0.95, 0.9]),
         lambda o: T.CyclicLR(o, [0.01, 0.02], 0.1, 3, 5, mode="triangular2",
                              base_momentum=0.7, max_momentum=[0.95, 0.9])),
        (lambda o: S.CyclicLR(o, 0.01, 0.1, 3, mode="exp_range", gamma=0.97),
         lambda o: T.CyclicLR(o, 0.01, 0.1, 3, mode="exp_range", gamma=0.97)),
        (lambda o: S.CyclicLR(o, 0.01, 0.1, 2, 7, scale_fn=lambda x: 0.9 ** x,
                              scale_mode="iterations", cycle_momentum=False),
         lambda o: T.CyclicLR(o, 0.01, 0.1, 2, 7, scale_fn=lambda x: 0.9 ** x,
                              scale_mode="iterations", cycle_momentum=False)),
        (lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.1, 3), S.ExponentialLR(o, 0.9)]),
         lambda o: T.ChainedScheduler([T.ConstantLR(o, 0.1, 3), T.ExponentialLR(o, 0.9)])),
        (lambda o: S.ChainedScheduler([S.PolynomialLR(o, 10), S.CyclicLR(o, 0.01, 0.1, 2)], o),
         lambda o: T.ChainedScheduler([T.PolynomialLR(o, 10), T.CyclicLR(o, 0.01, 0.1, 2)], o)),
    ]


N_CASES = 20


@pytest.mark.parametrize("k", range(N_CASES))
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_sequences_match_torch(k, opt_name):
    torch = pytest.importorskip("torch")
    mine, theirs = _cases(torch)[k]
    kw = {"momentum": 0.9} if opt_name == "SGD" else {}
    o = _opt(0.1, groups=2, cls=getattr(jo, opt_name), **kw)
    tps = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    to = getattr(torch.optim, opt_name)([{"params": [p], "lr": 0.1 * (i + 1)}
                                         for i, p in enumerate(tps)], **kw)
    key = "momentum" if opt_name == "SGD" else "betas"
    got, want = [], []
    for opt, sched, out in ((o, mine(o), got), (to, theirs(to), want)):
        out.append(sched.get_last_lr())
        for _ in range(30):
            opt.step()
            sched.step()
            # OneCycleLR / CyclicLR cycle momentum or beta1 too
            out.append((sched.get_last_lr(), [g[key] for g in opt.param_groups]))
    assert got == want     # the same recursive formulas: bit-identical


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metric = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99] * 3
    kw = dict(mode="min", factor=0.5, patience=2, cooldown=1, min_lr=[0.01, 0.03])
    got = _seq(S.ReduceLROnPlateau(_opt(0.1, 2), **kw), 36, metric.__getitem__)
    tps = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    to = torch.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(tps)])
    want = _seq(torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw), 36, metric.__getitem__)
    assert got == want
    got = _seq(S.ReduceLROnPlateau(_opt(0.1), mode="max", threshold_mode="abs", patience=1), 36,
               metric.__getitem__)
    to = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    want = _seq(torch.optim.lr_scheduler.ReduceLROnPlateau(to, mode="max", threshold_mode="abs",
                                                           patience=1), 36, metric.__getitem__)
    assert got == want


@pytest.mark.parametrize("make", [
    lambda o: S.CosineAnnealingLR(o, 9),
    lambda o: S.OneCycleLR(o, 1.0, total_steps=40),
    lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.8), S.CosineAnnealingWarmRestarts(o, 4)],
                             [6]),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
    lambda o: S.MultiStepLR(o, [3, 3, 20], gamma=0.5),
    lambda o: S.CyclicLR(o, 0.01, 0.1, 4, mode="exp_range", gamma=0.9),
    lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 7), S.PolynomialLR(o, 20, 2.0)]),
])
def test_state_dict_resume(make, tmp_path):
    def run(sched, n, start=0):
        out = []
        for k in range(start, start + n):
            sched.optimizer.step()
            if isinstance(sched, S.ReduceLROnPlateau):
                sched.step(1.0 + 0.1 * (k % 3 == 0))
            else:
                sched.step()
            out.append(sched.get_last_lr())
        return out

    o = _opt(0.1, cls=jo.Adam)
    full = run(make(o), 30)
    o1 = _opt(0.1, cls=jo.Adam)
    s1 = make(o1)
    run(s1, 15)
    jg.save({"sched": s1.state_dict(), "optim": o1.state_dict()}, tmp_path / "ckpt")
    ckpt = jg.load(tmp_path / "ckpt")   # through the file format: Counters, int keys, tuples
    sd, osd = ckpt["sched"], ckpt["optim"]
    o2 = _opt(0.1, cls=jo.Adam)
    s2 = make(o2)
    o2.load_state_dict(osd)
    s2.load_state_dict(sd)
    assert run(s2, 15, 15) == full[15:]
    if isinstance(s2, S.MultiStepLR):  # the closed form (step(epoch)) after a reload
        s2.step(25)
        assert s2.get_last_lr() == [0.1 * 0.5 ** 3]


def test_errors():
    o = _opt()
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), 2)
    with pytest.raises(ValueError, match="milestone"):
        S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [1, 2])
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(o, 1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_opt(), 2, last_epoch=3)
    with pytest.raises(ValueError, match="Factor"):
        S.ReduceLROnPlateau(o, factor=1.5)
    with pytest.raises(ValueError, match="Constant multiplicative factor"):
        S.ConstantLR(o, factor=1.5)
    with pytest.raises(ValueError, match="mode is invalid"):
        S.CyclicLR(o, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.CyclicLR(_opt(cls=jo.Adagrad), 0.01, 0.1)
    with pytest.raises(ValueError, match="expected 2 values for max_lr"):
        S.CyclicLR(_opt(groups=2), 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.ChainedScheduler([])
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(_opt(), 3)])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(o)])


def test_closed_forms_of_the_new_schedulers():
    lr = 0.1
    s = _seq(S.ConstantLR(_opt(lr), factor=0.2, total_iters=4))
    _close(s, [[lr * (0.2 if e < 4 else 1.0)] for e in range(31)])
    s = _seq(S.PolynomialLR(_opt(lr), total_iters=8, power=2.0))
    _close(s, [[lr * (1 - min(e, 8) / 8) ** 2] for e in range(31)])
    s = _seq(S.CyclicLR(_opt(lr), 0.01, 0.2, step_size_up=3, step_size_down=2,
                        mode="triangular2"))
    want = []
    for e in range(31):
        cycle, pos = divmod(e, 5)
        frac = pos / 3 if pos <= 3 else (5 - pos) / 2
        want.append([0.01 + (0.2 - 0.01) * frac / 2 ** cycle])
    _close(s, want)
    o = _opt(lr, cls=jo.Adam)
    S.CyclicLR(o, 0.01, 0.2, step_size_up=3, base_momentum=0.8, max_momentum=0.9)
    assert o.param_groups[0]["betas"] == (0.9, 0.999) and o.param_groups[0]["lr"] == 0.01


def test_closed_form_step_with_epoch():
    o = _opt(0.1)
    s = S.ConstantLR(o, factor=0.5, total_iters=4)
    s.step(2)
    assert s.get_last_lr() == [0.05]
    s.step(6)
    assert s.get_last_lr() == [0.1]
    s = S.PolynomialLR(_opt(0.1), total_iters=4, power=2.0)
    s.step(2)
    assert s.get_last_lr() == [0.1 * 0.25]
