"""LBFGS: iterates vs torch.optim.LBFGS (quadratic and Rosenbrock, with and without the strong
Wolfe line search, short histories), convergence, state dict round trip through
jitgrad.save/load, errors."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.optim as jo
from jitgrad.optim.lbfgs import _cubic_interpolate

X0 = {"quadratic": [np.array([[0.3, -0.2], [1.5, 0.4]]), np.array([0.1, -0.7, 2.0])],
      "rosenbrock": [np.array([-1.2, 0.5, -0.3]), np.array([1.0, 0.2, 0.8])]}


def quadratic(ps):
    """Convex, coupled: sum 3 (a-1)^2 + sum 0.7 (b+0.5)^2 + (sum a + 2 sum b)^2."""
    a, b = ps[0].reshape(-1), ps[1].reshape(-1)
    return (((a - 1.0) ** 2) * 3.0).sum() + (((b + 0.5) ** 2) * 0.7).sum() + \
        (a.sum() + b.sum() * 2.0) ** 2


def rosenbrock(ps):
    """sum (1-a)^2 + 100 (b-a^2)^2 over three independent (a, b) pairs; minimum at 1."""
    a, b = ps[0], ps[1]
    return ((1.0 - a) ** 2 + ((b - a ** 2) ** 2) * 100.0).sum()


FUNCS = {"quadratic": quadratic, "rosenbrock": rosenbrock}


def _run(lib, opt_cls, fname, kw, steps, dtype=np.float64):
    make = (lambda v: lib.tensor(v.astype(dtype), requires_grad=True))
    ps = [make(v) for v in X0[fname]]
    opt = opt_cls(ps, **kw)

    def closure():
        opt.zero_grad()
        loss = FUNCS[fname](ps)
        loss.backward()
        return loss

    path, losses = [], []
    for _ in range(steps):
        losses.append(opt.step(closure).item())
        path.append(np.concatenate([np.asarray(p.detach().numpy() if hasattr(p, "detach")
                                               else p.data).reshape(-1) for p in ps]))
    return np.array(path), losses, opt, ps


KWS = [dict(), dict(line_search_fn="strong_wolfe"),
       dict(lr=0.5, history_size=3, max_iter=7),
       dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5)]


@pytest.mark.parametrize("kw", KWS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items())
                         or "defaults")
@pytest.mark.parametrize("fname", ["quadratic", "rosenbrock"])
def test_iterates_match_torch(fname, kw):
    torch = pytest.importorskip("torch")
    steps = 2 if fname == "rosenbrock" and "line_search_fn" not in kw else 5
    want, wloss, topt, tps = _run(torch, torch.optim.LBFGS, fname, kw, steps)
    got, gloss, opt, ps = _run(jg, jo.LBFGS, fname, kw, steps)
    # Rosenbrock amplifies last-bit differences of reductions (NumPy's and torch's sum / dot
    # orders differ) about 2x per fixed-step iteration: 2e-15 after 10, 1e-12 after 20, 6e-10 after
    # 40 (measured)
    tol = dict(rtol=1e-9, atol=1e-12) if fname == "quadratic" else dict(rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(gloss, wloss, **tol)
    tst, st = topt.state[tps[0]], opt.state[ps[0]]
    assert (st["func_evals"], st["n_iter"]) == (tst["func_evals"], tst["n_iter"])
    assert len(st["old_dirs"]) == len(tst["old_dirs"])
    np.testing.assert_allclose(st["d"], tst["d"].numpy(), **tol)
    assert set(opt.state_dict()["state"][0]) == set(topt.state_dict()["state"][0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_converges_with_strong_wolfe(dtype):
    got, losses, opt, ps = _run(jg, jo.LBFGS, "rosenbrock",
                                dict(line_search_fn="strong_wolfe"), 5, dtype)
    assert ps[0].data.dtype == dtype
    np.testing.assert_allclose(got[-1], 1.0, atol=1e-4 if dtype == np.float64 else 1e-2)
    got, _, _, _ = _run(jg, jo.LBFGS, "quadratic", {}, 3, dtype)
    want, _, _, _ = _run(jg, jo.LBFGS, "quadratic", dict(max_iter=200), 1, np.float64)
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-4)


def test_quadratic_minimum_is_the_solution_of_the_normal_equations():
    got, _, _, _ = _run(jg, jo.LBFGS, "quadratic", dict(line_search_fn="strong_wolfe",
                                                      max_iter=100, tolerance_grad=1e-12,
                                                      tolerance_change=1e-15), 1)
    # gradient = H x - c for the quadratic: solve H x = c directly
    n_a, n_b = X0["quadratic"][0].size, X0["quadratic"][1].size
    u = np.concatenate([np.ones(n_a), np.full(n_b, 2.0)])
    H = np.diag(np.concatenate([np.full(n_a, 6.0), np.full(n_b, 1.4)])) + 2 * np.outer(u, u)
    c = np.concatenate([np.full(n_a, 6.0), np.full(n_b, -0.7)])
    np.testing.assert_allclose(got[-1], np.linalg.solve(H, c), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kw", [dict(max_iter=4), dict(line_search_fn="strong_wolfe",
                                                       max_iter=3, history_size=2)])
def test_state_dict_round_trip_resumes_bit_identically(kw, tmp_path):
    full, _, _, _ = _run(jg, jo.LBFGS, "rosenbrock", kw, 6)
    _, _, opt, ps = _run(jg, jo.LBFGS, "rosenbrock", kw, 3)
    jg.save({"optim": opt.state_dict(), "params": [p.data for p in ps]}, tmp_path / "ckpt")
    ckpt = jg.load(tmp_path / "ckpt")
    ps2 = [jg.tensor(a, requires_grad=True) for a in ckpt["params"]]
    opt2 = jo.LBFGS(ps2, lr=7.0)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == 1 and opt2.param_groups[0]["max_iter"] == kw["max_iter"]

    def closure():
        opt2.zero_grad()
        loss = rosenbrock(ps2)
        loss.backward()
        return loss

    for k in range(3):
        opt2.step(closure)
        np.testing.assert_array_equal(np.concatenate([p.data.reshape(-1) for p in ps2]),
                                      full[3 + k])


def test_state_dict_holds_copies():
    _, _, opt, ps = _run(jg, jo.LBFGS, "quadratic", dict(max_iter=3), 1)
    sd = opt.state_dict()
    sd["state"][0]["d"][...] = 0
    assert np.abs(opt.state[ps[0]]["d"]).max() > 0


def test_optimal_start_returns_without_moving():
    p = jg.tensor(np.ones(3), requires_grad=True)
    opt = jo.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = ((p - 1.0) ** 2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    np.testing.assert_array_equal(p.data, 1.0)
    assert opt.state[p]["func_evals"] == 1 and opt.state[p]["n_iter"] == 0


def test_params_without_grad_count_as_zero_gradient():
    a = jg.tensor(np.array([3.0, -1.0]), requires_grad=True)
    b = jg.tensor(np.array([5.0]), requires_grad=True)
    opt = jo.LBFGS([a, b], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((a - 2.0) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(a.data, 2.0, atol=1e-6)
    np.testing.assert_array_equal(b.data, 5.0)


def test_cubic_interpolate_finds_the_minimum_of_a_cubic():
    f = lambda x: x ** 3 - 3 * x   # noqa: E731  minimum at 1
    df = lambda x: 3 * x ** 2 - 3  # noqa: E731
    assert _cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0)
    # no real minimiser: the middle of the bounds
    assert _cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2 / 3, 1.0, bounds=(0.0, 4.0)) == 2.0


def test_errors():
    a = jg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        jo.LBFGS([a], lr=-1)
    with pytest.raises(ValueError, match="per-parameter options"):
        jo.LBFGS([{"params": [a]}, {"params": [jg.tensor(np.ones(2), requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        jo.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(TypeError, match="one dtype"):
        jo.LBFGS([a, jg.tensor(np.ones(2, np.float32), requires_grad=True)])
    opt = jo.LBFGS([a])
    with pytest.raises(TypeError, match="closure"):
        opt.step(None)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(jo.LBFGS([a, jg.tensor(np.ones(1), requires_grad=True)])
                            .state_dict())
    assert jo.LBFGS([a]).defaults["max_eval"] == 25
    assert jo.LBFGS([a], max_iter=9).defaults["max_eval"] == 11
