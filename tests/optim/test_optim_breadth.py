"""Adadelta, RAdam, ASGD, Rprop on several tensors of different shapes, float32 and float64:
100-step trajectories vs the NumPy references of test_optim.py and vs torch.optim (parameters
and every state buffer), jitgrad.save/load resume, hyper-parameter validation."""
import numpy as np
import pytest
from test_optim import ref_adadelta, ref_asgd, ref_radam, ref_rprop

import jitgrad as jg
import jitgrad.optim as jo

SHAPES = [(3, 4), (5,), ()]
SIZES = [int(np.prod(s)) for s in SHAPES]
SCALE = np.concatenate([np.full(n, i + 1.0) for i, n in enumerate(SIZES)])


def _init():
    rng = np.random.default_rng(7)
    return [rng.standard_normal(s) for s in SHAPES]


def _grad(x):
    """Gradient of sum_i (i+1) * sum((p_i - 1)^2) + 0.1 * sum(p_i^3) on the flat vector."""
    return 2 * SCALE * (x - 1) + 0.3 * x * x


def _jg_loss(ps):
    loss = None
    for i, p in enumerate(ps):
        term = (((p - 1.0) ** 2) * float(i + 1) + (p ** 3) * 0.1).sum()
        loss = term if loss is None else loss + term
    return loss


def run_jg(cls, kw, dtype, steps=100, opt=None, ps=None):
    ps = ps or [jg.tensor(v.astype(dtype), requires_grad=True) for v in _init()]
    opt = opt or cls(ps, **kw)
    for _ in range(steps):
        opt.zero_grad()
        _jg_loss(ps).backward()
        opt.step()
    return ps, opt


def run_torch(torch, name, kw, dtype, steps=100):
    ps = [torch.tensor(v.astype(dtype), requires_grad=True) for v in _init()]
    opt = getattr(torch.optim, name)(ps, **kw)
    for _ in range(steps):
        opt.zero_grad()
        sum((((p - 1.0) ** 2) * (i + 1) + (p ** 3) * 0.1).sum()
            for i, p in enumerate(ps)).backward()
        opt.step()
    return ps, opt


def run_ref(ref, kw, steps=100):
    x, s = np.concatenate([v.reshape(-1) for v in _init()]), {}
    for t in range(1, steps + 1):
        x = ref(x, _grad(x), s, t, **kw)
    return x, s


def _flat(ps):
    return np.concatenate([np.asarray(p.data).reshape(-1) for p in ps])


CASES = [
    ("Adadelta", ref_adadelta, dict(lr=0.5)),
    ("Adadelta", ref_adadelta, dict(lr=0.5, weight_decay=0.1)),
    ("Adadelta", ref_adadelta, dict(lr=0.1, maximize=True)),
    ("RAdam", ref_radam, dict(lr=0.02)),
    ("RAdam", ref_radam, dict(lr=0.02, weight_decay=0.1)),
    ("RAdam", ref_radam, dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", ref_radam, dict(lr=1e-3, maximize=True)),
    ("ASGD", ref_asgd, dict(lr=0.02, t0=30)),
    ("ASGD", ref_asgd, dict(lr=0.02, lambd=1e-2, t0=10, weight_decay=0.1)),
    ("ASGD", ref_asgd, dict(lr=1e-3, t0=5, maximize=True)),
    ("Rprop", ref_rprop, dict(lr=0.01)),
    ("Rprop", ref_rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.5))),
    ("Rprop", ref_rprop, dict(lr=1e-3, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, _, kw in CASES]
# the reference's name for each state buffer torch and jitgrad keep
REF_STATE = {"Adadelta": {"square_avg": "v", "acc_delta": "u"},
             "RAdam": {"exp_avg": "m", "exp_avg_sq": "v"},
             "ASGD": {"ax": "ax", "eta": "eta", "mu": "mu"},
             "Rprop": {"prev": "prev", "step_size": "eta"}}
TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_trajectory_and_state_match_numpy_reference(name, ref, kw, dtype):
    ps, opt = run_jg(getattr(jo, name), kw, dtype)
    want, ref_state = run_ref(ref, kw)
    assert all(p.data.dtype == dtype for p in ps)
    np.testing.assert_allclose(_flat(ps), want, **TOL[dtype])
    for key, rkey in REF_STATE[name].items():
        got = np.concatenate([np.reshape(opt.state[p][key], -1) for p in ps])
        np.testing.assert_allclose(got, np.broadcast_to(ref_state[rkey], got.shape),
                                   err_msg=key, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_trajectory_and_state_match_torch(name, ref, kw, dtype):
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    if name == "ASGD" and dtype == np.float64:   # torch keeps eta / mu in its default dtype
        torch.set_default_dtype(torch.float64)
    try:
        tps, topt = run_torch(torch, name, kw, dtype)
    finally:
        torch.set_default_dtype(default)
    ps, opt = run_jg(getattr(jo, name), kw, dtype)
    tol = dict(rtol=1e-11, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(_flat(ps), np.concatenate([p.detach().numpy().reshape(-1)
                                                          for p in tps]), **tol)
    tsd, sd = topt.state_dict(), opt.state_dict()
    assert set(sd["state"]) == set(tsd["state"])
    for k, tentry in tsd["state"].items():
        assert set(sd["state"][k]) == set(tentry)
        for key, tv in tentry.items():
            tv = tv.detach().numpy() if hasattr(tv, "detach") else np.asarray(tv)
            np.testing.assert_allclose(np.asarray(sd["state"][k][key], np.float64), tv,
                                       err_msg=key, **tol)
    assert set(tsd["param_groups"][0]) <= set(sd["param_groups"][0])


def test_rprop_and_asgd_take_their_lr_at_the_first_step_like_torch():
    """torch fills Rprop's step_size and ASGD's eta lazily, from the lr of the first step."""
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    for name in ("Rprop", "ASGD"):
        ps = [jg.tensor(v, requires_grad=True) for v in _init()]
        opt = getattr(jo, name)(ps, lr=0.01)
        torch.set_default_dtype(torch.float64)
        try:
            tps = [torch.tensor(v, requires_grad=True) for v in _init()]
            topt = getattr(torch.optim, name)(tps, lr=0.01)
            for o in (opt, topt):
                o.param_groups[0]["lr"] = 0.003
            run_torch_on(torch, tps, topt, 3)
        finally:
            torch.set_default_dtype(default)
        run_jg(None, None, None, 3, opt, ps)
        np.testing.assert_allclose(_flat(ps), _flat([p.detach() for p in tps]), rtol=1e-9)


def run_torch_on(torch, ps, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        sum((((p - 1.0) ** 2) * (i + 1) + (p ** 3) * 0.1).sum()
            for i, p in enumerate(ps)).backward()
        opt.step()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", [("Adadelta", dict(weight_decay=0.1)), ("RAdam", {}),
                                     ("ASGD", dict(t0=20)), ("Rprop", {})])
def test_save_load_resume_is_bit_identical(name, kw, dtype, tmp_path):
    cls = getattr(jo, name)
    full, _ = run_jg(cls, kw, dtype, steps=60)
    ps, opt = run_jg(cls, kw, dtype, steps=30)
    jg.save({"optim": opt.state_dict(), "params": [p.data for p in ps]}, tmp_path / "ckpt")
    ckpt = jg.load(tmp_path / "ckpt")
    ps2 = [jg.tensor(a, requires_grad=True) for a in ckpt["params"]]
    opt2 = cls(ps2, lr=123.0)          # hyper-parameters come from the state dict
    opt2.load_state_dict(ckpt["optim"])
    run_jg(None, None, None, 30, opt2, ps2)
    np.testing.assert_array_equal(_flat(ps2), _flat(full))


def test_bad_hyper_parameters_raise():
    p = jg.tensor(np.ones(2), requires_grad=True)
    bad = [
        (jo.Adadelta, dict(lr=-1), "Invalid learning rate: -1"),
        (jo.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
        (jo.Adadelta, dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
        (jo.Adadelta, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (jo.RAdam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
        (jo.RAdam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (jo.RAdam, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
        (jo.RAdam, dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (jo.ASGD, dict(lr=-1), "Invalid learning rate: -1"),
        (jo.ASGD, dict(weight_decay=-2), "Invalid weight_decay value: -2"),
        (jo.Rprop, dict(lr=-1), "Invalid learning rate: -1"),
        (jo.Rprop, dict(etas=(1.2, 0.5)), "Invalid eta values: 1.2, 0.5"),
        (jo.Rprop, dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ]
    for cls, kw, msg in bad:
        with pytest.raises(ValueError, match=msg.replace(".", r"\.").replace("(", r"\(")):
            cls([p], **kw)


def test_accepts_torch_only_flags():
    p = jg.tensor(np.ones(2), requires_grad=True)
    jo.Adadelta([p], foreach=True, capturable=False, maximize=False, differentiable=False)
    jo.RAdam([p], foreach=True, capturable=False, differentiable=False)
    jo.ASGD([p], foreach=True, capturable=False, differentiable=False)
    jo.Rprop([p], foreach=True, capturable=False, differentiable=False)
