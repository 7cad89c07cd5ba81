"""Optimizers: 100-step trajectories vs NumPy references of the published rules (and torch.optim),
skipped parameters, groups, mixed dtypes, re-homing, state dicts."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.optim as jo

RNG = np.random.default_rng(0)
A = RNG.standard_normal((8, 5))
B = RNG.standard_normal(8)
W0 = RNG.standard_normal(5) * 0.3
C0 = 0.5


def _loss(w, c, At, Bt):
    r = At @ w + c - Bt
    return (r * r).sum()


def run_jg(cls, kw, steps=100, dtype=np.float64):
    w = jg.tensor(W0.astype(dtype), requires_grad=True)
    c = jg.tensor(np.array(C0, dtype), requires_grad=True)
    opt = cls([w, c], **kw)
    At, Bt = jg.tensor(A.astype(dtype)), jg.tensor(B.astype(dtype))
    for _ in range(steps):
        opt.zero_grad()
        _loss(w, c, At, Bt).backward()
        opt.step()
    return np.concatenate([w.data.reshape(-1), c.data.reshape(-1)])


# ------------------------------------------------------------------------------ NumPy references
def np_grad(x):
    r = A @ x[:5] + x[5] - B
    return np.concatenate([2 * A.T @ r, [2 * r.sum()]])


def ref_sgd(x, g, s, t, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return x - lr * g


def ref_adam(x, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        v = s["vmax"] = np.maximum(s.get("vmax", 0), v)
    mhat = s["m"] / (1 - b1 ** t)
    vhat = v / (1 - b2 ** t)
    return x - lr * mhat / (np.sqrt(vhat) + eps)


def ref_adamw(x, g, s, t, weight_decay=1e-2, **kw):
    return ref_adam(x, g, s, t, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(x, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    s["sq"] = alpha * s.get("sq", 0) + (1 - alpha) * g * g
    avg = s["sq"]
    if centered:
        s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
        avg = avg - s["ga"] ** 2
    r = g / (np.sqrt(avg) + eps)
    if momentum > 0:
        r = s["b"] = momentum * s.get("b", 0) + r
    return x - lr * r


def ref_adagrad(x, g, s, t, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                eps=1e-10, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    s["sum"] = s.get("sum", initial_accumulator_value) + g * g
    return x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def ref_adamax(x, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
               maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    g = g + weight_decay * x
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
    return x - lr / (1 - b1 ** t) * s["m"] / s["u"]


def ref_nadam(x, g, s, t, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    s["mp"] = s.get("mp", 1.0) * mu
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    den = np.sqrt(s["v"] / (1 - b2 ** t)) + eps
    return x - lr * (1 - mu) / (1 - s["mp"]) * g / den \
        - lr * mu_next / (1 - s["mp"] * mu_next) * s["m"] / den


def ref_lion(x, g, s, t, lr=1e-4, betas=(0.9, 0.99), weight_decay=0, maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    m = s.get("m", 0)
    x = x * (1 - lr * weight_decay) - lr * np.sign(b1 * m + (1 - b1) * g)
    s["m"] = b2 * m + (1 - b2) * g
    return x


def ref_adadelta(x, g, s, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    dx = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0) + (1 - rho) * dx * dx
    return x - lr * dx


def ref_radam(x, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    mhat = s["m"] / (1 - b1 ** t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
    if rho_t <= 5:
        return x - lr * mhat
    l_t = np.sqrt(1 - b2 ** t) / (np.sqrt(s["v"]) + eps)
    r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return x - lr * mhat * r_t * l_t


def ref_asgd(x, g, s, t, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
             maximize=False):
    g = -g if maximize else g
    g = g + weight_decay * x
    eta, mu = s.get("eta", lr), s.get("mu", 1.0)
    x = x * (1 - lambd * eta) - eta * g
    s["ax"] = s.get("ax", 0) + mu * (x - s.get("ax", 0))
    s["eta"] = lr / (1 + lambd * lr * t) ** alpha
    s["mu"] = 1 / max(1, t - t0)
    return x


def ref_rprop(x, g, s, t, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    g = -g if maximize else g
    prev, eta = s.get("prev", np.zeros_like(x)), s.get("eta", np.full_like(x, lr))
    c = prev * g
    eta = np.where(c > 0, np.minimum(eta * etas[1], step_sizes[1]),
                   np.where(c < 0, np.maximum(eta * etas[0], step_sizes[0]), eta))
    g = np.where(c < 0, 0.0, g)
    s["prev"], s["eta"] = g, eta
    return x - eta * np.sign(g)


def run_ref(ref, kw, steps=100):
    x, s = np.concatenate([W0, [C0]]), {}
    for t in range(1, steps + 1):
        x = ref(x, np_grad(x), s, t, **kw)
    return x


CASES = [
    ("SGD", ref_sgd, dict(lr=0.01)),
    ("SGD", ref_sgd, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("SGD", ref_sgd, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", ref_sgd, dict(lr=1e-4, momentum=0.5, dampening=0.3, maximize=True)),
    ("Adam", ref_adam, dict(lr=0.05)),
    ("Adam", ref_adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", ref_adam, dict(lr=1e-3, maximize=True)),
    ("AdamW", ref_adamw, dict(lr=0.05)),
    ("AdamW", ref_adamw, dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", ref_rmsprop, dict()),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", ref_rmsprop, dict(lr=1e-3, maximize=True)),
    ("Adagrad", ref_adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                  initial_accumulator_value=0.1)),
    ("Adagrad", ref_adagrad, dict(lr=0.01, maximize=True)),
    ("Adamax", ref_adamax, dict(lr=0.05, weight_decay=0.1)),
    ("Adamax", ref_adamax, dict(lr=0.01, maximize=True)),
    ("NAdam", ref_nadam, dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", ref_nadam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", ref_nadam, dict(lr=1e-3, maximize=True)),
    ("Lion", ref_lion, dict(lr=0.01, weight_decay=0.1)),
    ("Lion", ref_lion, dict(lr=1e-3, maximize=True)),
    ("Adadelta", ref_adadelta, dict()),
    ("Adadelta", ref_adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adadelta", ref_adadelta, dict(lr=0.1, maximize=True)),
    ("RAdam", ref_radam, dict(lr=0.05)),
    ("RAdam", ref_radam, dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", ref_radam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", ref_radam, dict(lr=1e-3, betas=(0.8, 0.9), maximize=True)),
    ("ASGD", ref_asgd, dict(lr=0.01)),
    ("ASGD", ref_asgd, dict(lr=0.02, lambd=1e-2, alpha=0.6, t0=20, weight_decay=0.1)),
    ("ASGD", ref_asgd, dict(lr=1e-3, t0=5, maximize=True)),
    ("Rprop", ref_rprop, dict()),
    ("Rprop", ref_rprop, dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", ref_rprop, dict(lr=1e-3, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, _, kw in CASES]


@pytest.mark.parametrize("name,ref,kw", CASES, ids=IDS)
def test_trajectory_matches_numpy_reference(name, ref, kw):
    got = run_jg(getattr(jo, name), kw)
    np.testing.assert_allclose(got, run_ref(ref, kw), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,ref,kw", [c for c in CASES if c[0] != "Lion"],
                         ids=[i for i, c in zip(IDS, CASES) if c[0] != "Lion"])
def test_trajectory_matches_torch(name, ref, kw):
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    # torch keeps ASGD's eta / mu in its default dtype, jitgrad in float64
    torch.set_default_dtype(torch.float64 if name == "ASGD" else default)
    try:
        w = torch.tensor(W0, requires_grad=True)
        c = torch.tensor(C0, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, name)([w, c], **kw)
        At, Bt = torch.tensor(A), torch.tensor(B)
        for _ in range(100):
            opt.zero_grad()
            r = At @ w + c - Bt
            (r * r).sum().backward()
            opt.step()
    finally:
        torch.set_default_dtype(default)
    want = np.concatenate([w.detach().numpy(), [c.item()]])
    # torch keeps NAdam's mu_product in float32
    rtol = 1e-7 if name == "NAdam" else 1e-10
    np.testing.assert_allclose(run_jg(getattr(jo, name), kw), want, rtol=rtol, atol=1e-12)


def test_float32_trajectory_close_to_float64():
    got = run_jg(jo.Adam, dict(lr=0.05), dtype=np.float32)
    np.testing.assert_allclose(got, run_ref(ref_adam, dict(lr=0.05)), rtol=1e-4, atol=1e-5)


def test_defaults_are_torch_defaults():
    p = jg.tensor(np.ones(2), requires_grad=True)
    assert jo.SGD([p]).defaults["lr"] == 1e-3
    assert jo.Adam([p]).defaults["betas"] == (0.9, 0.999)
    assert jo.AdamW([p]).defaults["weight_decay"] == 1e-2
    assert jo.RMSprop([p]).defaults["alpha"] == 0.99
    assert jo.Adagrad([p]).defaults["eps"] == 1e-10
    assert jo.Adamax([p]).defaults["lr"] == 2e-3
    assert jo.NAdam([p]).defaults["momentum_decay"] == 4e-3
    assert jo.Lion([p]).defaults["lr"] == 1e-4 and jo.Lion([p]).defaults["betas"] == (0.9, 0.99)
    assert {k: jo.Adadelta([p]).defaults[k] for k in ("lr", "rho", "eps")} == \
        dict(lr=1.0, rho=0.9, eps=1e-6)
    assert jo.RAdam([p]).defaults["decoupled_weight_decay"] is False
    assert {k: jo.ASGD([p]).defaults[k] for k in ("lr", "lambd", "alpha", "t0")} == \
        dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6)
    assert jo.Rprop([p]).defaults["etas"] == (0.5, 1.2)
    assert jo.Rprop([p]).defaults["step_sizes"] == (1e-6, 50)
    jo.Adam([p], foreach=True, fused=True, capturable=False, differentiable=False)


# ------------------------------------------------------------------------------ torch oracle helpers
def _pair(shapes, dtypes=None, seed=1):
    rng = np.random.default_rng(seed)
    vals = [rng.standard_normal(s) for s in shapes]
    dtypes = dtypes or [np.float64] * len(shapes)
    return [v.astype(d) for v, d in zip(vals, dtypes)]


def _torch_run(torch, make_opt, vals, losses):
    ps = [torch.tensor(v, requires_grad=True) for v in vals]
    opt = make_opt(ps)
    for use in losses:
        opt.zero_grad()
        sum(((ps[i] - 1.0) ** 2 * (i + 1)).sum().double() for i in use).backward()
        opt.step()
    return [p.detach().numpy() for p in ps]


def _jg_run(make_opt, vals, losses, ps=None, opt=None):
    ps = ps or [jg.tensor(v, requires_grad=True) for v in vals]
    opt = opt or make_opt(ps)
    for use in losses:
        opt.zero_grad()
        loss = None
        for i in use:
            term = ((ps[i] - 1.0) ** 2 * float(i + 1)).sum()
            if term.dtype != np.float64:
                term = term.double()
            loss = term if loss is None else loss + term
        loss.backward()
        opt.step()
    return [p.data for p in ps]


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("NAdam", dict(lr=0.1)), ("Adagrad", dict(lr=0.1)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.5)),
                                     ("Adadelta", {}), ("RAdam", dict(lr=0.1)),
                                     ("ASGD", dict(lr=0.05, t0=3)), ("Rprop", {})])
def test_params_without_grad_are_skipped_like_torch(name, kw):
    torch = pytest.importorskip("torch")
    vals = _pair([(3,), (2, 2), (4,)])
    losses = [[0, 1, 2], [0, 2], [1], [0, 1, 2], [2], [0, 1, 2]] * 3
    want = _torch_run(torch, lambda ps: getattr(torch.optim, name)(ps, **kw), vals, losses)
    got = _jg_run(lambda ps: getattr(jo, name)(ps, **kw), vals, losses)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6 if name in ("NAdam", "ASGD") else 1e-12,
                                   atol=1e-12)


def test_param_without_grad_keeps_no_state():
    a, b = (jg.tensor(np.ones(3), requires_grad=True) for _ in range(2))
    opt = jo.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert a in opt.state and b not in opt.state
    np.testing.assert_array_equal(b.data, np.ones(3))
    assert opt.state[a]["step"] == 1.0
    assert len(opt.state_dict()["state"]) == 1


def test_param_groups_and_mixed_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    vals = _pair([(3,), (2, 2), (4,), (5,)], [np.float32, np.float64, np.float64, np.float32])
    losses = [[0, 1, 2, 3]] * 30

    def groups(ps):
        return [{"params": [ps[0], ps[1]], "lr": 0.05},
                {"params": [ps[2], ps[3]], "lr": 0.01, "amsgrad": True}]

    want = _torch_run(torch, lambda ps: torch.optim.Adam(groups(ps), weight_decay=0.01),
                      vals, losses)
    got = _jg_run(lambda ps: jo.Adam(groups(ps), weight_decay=0.01), vals, losses)
    for g, w, v in zip(got, want, vals):
        assert g.dtype == v.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5 if v.dtype == np.float32 else 1e-12)


def test_group_buffers_are_flat_views():
    ps = [jg.tensor(np.ones((2, 3)), requires_grad=True) for _ in range(4)]
    opt = jo.SGD(ps, lr=0.1)
    ((ps[0] * ps[1]).sum() + (ps[2] * ps[3]).sum()).backward()
    bases = {id(p.data.base) for p in ps} | {id(p.grad.base) for p in ps}
    assert len(bases) == 2   # one data buffer, one grad buffer
    opt.step()
    np.testing.assert_allclose(ps[0].data, 0.9)


def test_add_param_group_and_errors():
    a = jg.tensor(np.ones(2), requires_grad=True)
    b = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.SGD([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.5, "momentum": 0.9})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["dampening"] == 0
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.5)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        jo.Adam([])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        jo.Adam([a], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta"):
        jo.Adam([a], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Nesterov"):
        jo.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="Tensor"):
        jo.SGD(a)
    with pytest.raises(ValueError, match="non-leaf"):
        jo.SGD([a * 2])


def test_zero_grad_modes():
    a = jg.tensor(np.ones(3), requires_grad=True)
    b = jg.tensor(np.ones(2), requires_grad=True)
    opt = jo.SGD([a, b], lr=0.1)
    (a * 3.0).sum().backward()
    view = a.grad
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, 0)
    assert b.grad is None and a.grad is view
    opt.zero_grad()
    assert a.grad is None
    (a * 2.0).sum().backward()
    assert a.grad is view   # storage reused
    np.testing.assert_array_equal(a.grad, 2)


def test_grad_assigned_by_hand_is_used():
    a = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.SGD([a], lr=0.5)
    a.grad = np.full(3, 2.0)
    opt.step()
    np.testing.assert_allclose(a.data, 0.0)


def test_closure_returns_loss():
    a = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.Adam([a], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with jg.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 3.0
    assert np.all(a.data < 1)


# ------------------------------------------------------------------------------ re-homing
def test_rebinding_data_is_detected():
    vals = _pair([(3,), (4,)])
    losses = [[0, 1]] * 10
    ps = [jg.tensor(v, requires_grad=True) for v in vals]
    opt = jo.Adam(ps, lr=0.1)
    _jg_run(None, vals, losses, ps, opt)
    ps[0].data = ps[0].data.copy() + 1.0   # user rebinds a parameter
    ps_ref = [jg.tensor(v, requires_grad=True) for v in vals]
    opt_ref = jo.Adam(ps_ref, lr=0.1)
    _jg_run(None, vals, losses, ps_ref, opt_ref)
    ps_ref[0].data[...] += 1.0             # same change, made in place
    got = _jg_run(None, vals, losses, ps, opt)
    want = _jg_run(None, vals, losses, ps_ref, opt_ref)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert ps[0].data.base is ps[1].data.base   # re-homed into one buffer again


def test_dtype_change_after_construction():
    torch = pytest.importorskip("torch")
    vals = _pair([(3,), (4,)], [np.float32, np.float32])
    ps = [jg.tensor(v, requires_grad=True) for v in vals]
    opt = jo.Adam(ps, lr=0.1)
    tps = [torch.tensor(v, requires_grad=True) for v in vals]
    topt = torch.optim.Adam(tps, lr=0.1)
    _jg_run(None, vals, [[0, 1]] * 5, ps, opt)
    _torch_run_on(torch, tps, topt, [[0, 1]] * 5)
    for p in ps:                                  # what module.double() does
        p.data = p.data.astype(np.float64)
    with torch.no_grad():
        for p in tps:
            p.data = p.data.double()
    for st in topt.state.values():
        st["exp_avg"] = st["exp_avg"].double()
        st["exp_avg_sq"] = st["exp_avg_sq"].double()
    got = _jg_run(None, vals, [[0, 1]] * 5, ps, opt)
    want = _torch_run_on(torch, tps, topt, [[0, 1]] * 5)
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-6)
    assert opt.state[ps[0]]["exp_avg"].dtype == np.float64


def _torch_run_on(torch, ps, opt, losses):
    for use in losses:
        opt.zero_grad()
        sum(((ps[i] - 1.0) ** 2 * (i + 1)).sum().double() for i in use).backward()
        opt.step()
    return [p.detach().numpy() for p in ps]


def test_shape_change_with_state_raises():
    a = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.Adam([a], lr=0.1)
    a.sum().backward()
    opt.step()
    a.data = np.ones(4)
    with pytest.raises(RuntimeError, match="shape changed"):
        opt.step()


# ------------------------------------------------------------------------------ state dicts
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
                                     ("RMSprop", dict(centered=True, momentum=0.3)),
                                     ("Adagrad", dict(lr=0.1)), ("Adamax", {}),
                                     ("NAdam", {}), ("Lion", dict(lr=0.01)),
                                     ("AdamW", {}), ("Adadelta", {}),
                                     ("RAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)),
                                     ("ASGD", dict(t0=10)), ("Rprop", {})])
def test_state_dict_resume_is_bit_identical(name, kw):
    vals = _pair([(3,), (2, 2), (4,)], [np.float32, np.float64, np.float32])
    cls = getattr(jo, name)
    first = [[0, 1, 2], [0, 2]] * 25
    second = [[0, 1, 2], [1]] * 25
    full = _jg_run(lambda ps: cls(ps, **kw), vals, first + second)
    ps = [jg.tensor(v, requires_grad=True) for v in vals]
    opt = cls(ps, **kw)
    _jg_run(None, vals, first, ps, opt)
    sd = opt.state_dict()
    ps2 = [jg.tensor(p.data.copy(), requires_grad=True) for p in ps]
    opt2 = cls(ps2, lr=123.0)   # hyper-parameters come from the state dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    resumed = _jg_run(None, vals, second, ps2, opt2)
    for f, r in zip(full, resumed):
        np.testing.assert_array_equal(f, r)


def test_state_dict_layout_and_state_views():
    a = jg.tensor(np.ones(3), requires_grad=True)
    b = jg.tensor(np.ones((2, 2)), requires_grad=True)
    opt = jo.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], amsgrad=True)
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][1]["exp_avg"].shape == (2, 2)
    st = opt.state[b]
    np.testing.assert_allclose(st["exp_avg"], 0.1)
    st["exp_avg"][...] = 0          # a view into the optimizer's flat buffer
    assert float(opt.state[b]["exp_avg"].sum()) == 0
    assert sd["state"][1]["exp_avg"][0, 0] == pytest.approx(0.1)   # state_dict holds copies
    assert list(opt.state) == [a, b]


def test_load_state_dict_validates_before_changing():
    a = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.Adam([a], lr=0.1)
    a.sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = jg.tensor(np.ones(4), requires_grad=True)
    opt_b = jo.Adam([b], lr=0.7)
    with pytest.raises(ValueError, match="shape"):
        opt_b.load_state_dict(sd)
    assert opt_b.param_groups[0]["lr"] == 0.7 and b not in opt_b.state
    opt2 = jo.Adam([a, b], lr=0.7)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt2.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        jo.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)


def test_torch_state_dict_values_match():
    torch = pytest.importorskip("torch")
    v = _pair([(3,)])[0]
    tp = torch.tensor(v, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1)
    p = jg.tensor(v, requires_grad=True)
    opt = jo.Adam([p], lr=0.1)
    for _ in range(3):
        _torch_run_on(torch, [tp], topt, [[0]])
        _jg_run(None, [v], [[0]], [p], opt)
    tsd, sd = topt.state_dict(), opt.state_dict()
    assert float(tsd["state"][0]["step"]) == sd["state"][0]["step"]
    np.testing.assert_allclose(sd["state"][0]["exp_avg_sq"], tsd["state"][0]["exp_avg_sq"].numpy())
    assert set(tsd["param_groups"][0]) <= set(sd["param_groups"][0]) | {"decoupled_weight_decay"}


def test_many_tensors_match_one_tensor():
    rng = np.random.default_rng(3)
    v = rng.standard_normal(40_000).astype(np.float32)
    g = rng.standard_normal(40_000).astype(np.float32)
    one = jg.tensor(v.copy(), requires_grad=True)
    many = [jg.tensor(c.copy(), requires_grad=True) for c in np.split(v, 200)]
    o1, o2 = jo.Adam([one], lr=0.01), jo.Adam(many, lr=0.01)
    for _ in range(3):
        one.grad = g.copy()
        for t, c in zip(many, np.split(g, 200)):
            t.grad = c.copy()
        o1.step()
        o2.step()
    np.testing.assert_array_equal(np.concatenate([t.data for t in many]), one.data)
    assert math.isfinite(float(one.data.sum()))


@pytest.mark.parametrize("name,kw", list({n: kw for n, _, kw in reversed(CASES)}.items()))
def test_parallel_runs_match_serial_runs(name, kw):
    """A run of at least PAR_MIN elements is updated by parallel blocks, shorter runs serially
    (kernels/optim.py): the same values as two groups below PAR_MIN must end equal to float32
    rounding (a vector loop body and its scalar remainder may round one element differently)."""
    from jitgrad.kernels.optim import PAR_MIN
    n = PAR_MIN + 4099
    rng = np.random.default_rng(5)
    v = rng.standard_normal(n).astype(np.float32)
    gs = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    one = jg.tensor(v.copy(), requires_grad=True)
    halves = [jg.tensor(c.copy(), requires_grad=True) for c in np.array_split(v, 2)]
    cls = getattr(jo, name)
    o1, o2 = cls([one], **kw), cls([{"params": [t]} for t in halves], **kw)
    for g in gs:
        one.grad = g.copy()
        for t, c in zip(halves, np.array_split(g, 2)):
            t.grad = c.copy()
        o1.step()
        o2.step()
    np.testing.assert_allclose(np.concatenate([t.data for t in halves]), one.data, rtol=3e-7,
                               atol=1e-30)
