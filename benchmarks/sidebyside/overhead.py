"""Workload: per-op overhead on tiny (4, 4) float32 tensors, where dispatch is everything (the
anchors' bench_dispatch.py): (A) the forward `a + b` with both inputs requiring grad, so the
graph node is recorded; (B) a chain of 10 tiny ops forward and backward to a and b:
h = a + b; h = h * a; h = tanh(h); h = h - b; h = h * 0.5; h = exp(h); h = h + a; h = h * b;
h = relu(h); loss = sum(h). Plain NumPy (A: `a + b`; B: the same chain and its backward by
hand, no autograd) is the floor.
"""
import textwrap

from .harness import Impl, Workload, register


def _inputs():
    import numpy as np
    rng = np.random.default_rng(0)
    return (rng.standard_normal((4, 4)).astype(np.float32),
            rng.standard_normal((4, 4)).astype(np.float32))


def _chain(a, b, tanh, exp, relu):
    h = a + b
    h = h * a
    h = tanh(h)
    h = h - b
    h = h * 0.5
    h = exp(h)
    h = h + a
    h = h * b
    return relu(h).sum()


def _library(name):
    """(tensor, tanh, exp, relu) of jitgrad or torch, imported only when that row runs."""
    if name == "jitgrad":
        import jitgrad as lib
    else:
        import torch as lib
    return lib.tensor, lib.tanh, lib.exp, lib.relu


def _autograd(name, kind):
    tensor, tanh, exp, relu = _library(name)
    A, B = _inputs()
    a, b = tensor(A, requires_grad=True), tensor(B, requires_grad=True)
    if kind == "add":
        return Impl(lambda: a + b, lambda: None, lambda: float("nan"))

    def step():
        a.grad = b.grad = None
        _chain(a, b, tanh, exp, relu).backward()
    return Impl(step, lambda: None, lambda: float(a.grad.sum()))


def _numpy(kind):
    import numpy as np
    a, b = _inputs()
    if kind == "add":
        return Impl(lambda: a + b, lambda: None, lambda: float("nan"))
    out = {}

    def step():
        h1 = a + b
        h2 = h1 * a
        h3 = np.tanh(h2)
        h5 = (h3 - b) * np.float32(0.5)
        h6 = np.exp(h5)
        h8 = (h6 + a) * b
        g8 = (h8 > 0).astype(np.float32)          # d relu(h8).sum() / d h8
        ga = g8 * b                               # through h8 = (h6 + a) * b
        gb = g8 * (h6 + a)
        g5 = g8 * b * h6 * np.float32(0.5)        # through exp and the 0.5 scale
        gb -= g5                                  # h4 = h3 - b
        g2 = g5 * (1 - h3 * h3)                   # tanh
        ga += g2 * (h1 + a)                       # h2 = (a + b) * a
        gb += g2 * a
        out["ga"] = ga
        out["gb"] = gb
    return Impl(step, lambda: None, lambda: float(out["ga"].sum()))


@register
class Overhead(Workload):
    name = "overhead"
    TITLES = {"add": "tiny-op overhead: forward a + b on (4, 4) tensors that require grad",
              "chain": "tiny-op overhead: 10-op chain forward + backward on (4, 4) tensors"}

    def configs(self):
        return [{"kind": k, "title": t} for k, t in self.TITLES.items()]

    def implementations(self, cfg):
        k = cfg["kind"]
        return [("jitgrad", lambda: _autograd("jitgrad", k)),
                ("torch eager", lambda: _autograd("torch", k)),
                ("NumPy, no autograd (floor)", lambda: _numpy(k))]

    def goals(self, cfg, med):
        out = []
        if "jitgrad" in med and "torch eager" in med:
            out.append(("jitgrad / torch eager", med["jitgrad"] / med["torch eager"], None))
        if "jitgrad" in med and "NumPy, no autograd (floor)" in med:
            out.append(("jitgrad / NumPy (no autograd)",
                        med["jitgrad"] / med["NumPy, no autograd (floor)"], None))
        return out

    def cold_start_code(self):
        return textwrap.dedent("""
            import time
            t0 = time.perf_counter()
            import numpy as np
            import jitgrad as jg
            t1 = time.perf_counter()
            a = jg.ones((4, 4), requires_grad=True)
            b = jg.full((4, 4), 0.5, requires_grad=True)
            h = jg.relu((jg.exp((jg.tanh((a + b) * a) - b) * 0.5) + a) * b)
            h.sum().backward()
            assert np.isfinite(a.grad).all()
            t2 = time.perf_counter()
            print(RESULT_TAG, t1 - t0, t2 - t1)
        """)
