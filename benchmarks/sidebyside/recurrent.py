"""Workload: recurrent training steps, LSTM(32 -> 128) and GRU(32 -> 128) over T=64 steps at
batch 32, MSE of the last hidden state against a fixed target, default Adam(): the sequence
module and a Python loop over the cell, jitgrad and torch eager, plus the bare GEMMs (a floor).

The rows run through compare.py (solo mode by default: each implementation alone in its own
process); ``compare.py --profile --workload recurrent`` splits the jitgrad steps into GEMM time
and the rest.
"""
import textwrap

from .harness import Impl, Workload, register

I, H, T, B = 32, 128, 64, 32
NSEQ = 4
WORKLOADS = ["lstm", "lstm_cell", "gru", "gru_cell"]


def _data():
    import numpy as np
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((T, B, I)).astype(np.float32) for _ in range(NSEQ)]
    target = (rng.standard_normal((B, H)) * 0.5).astype(np.float32)
    return xs, target


def _init(gates):
    import numpy as np
    rng = np.random.default_rng(0)
    k = 1.0 / np.sqrt(H)
    shapes = {"weight_ih": (gates * H, I), "weight_hh": (gates * H, H),
              "bias_ih": (gates * H,), "bias_hh": (gates * H,)}
    return {n: rng.uniform(-k, k, s).astype(np.float32) for n, s in shapes.items()}


# ----------------------------------------------------------------------------- jitgrad side
def _jitgrad_impl(name):
    import jitgrad as jg
    F = jg.nn.functional
    gates = 4 if name.startswith("lstm") else 3
    init = _init(gates)
    cell = name.endswith("_cell")
    if cell:
        mod = (jg.nn.LSTMCell if gates == 4 else jg.nn.GRUCell)(I, H)
        sd = init
    else:
        mod = (jg.nn.LSTM if gates == 4 else jg.nn.GRU)(I, H)
        sd = {k + "_l0": v for k, v in init.items()}
    mod.load_state_dict(sd)
    opt = jg.optim.Adam(mod.parameters())
    opt_init = opt.state_dict()
    xs, target = _data()
    X = [jg.from_numpy(x) for x in xs]
    tgt = jg.from_numpy(target)
    st = {"i": 0}

    def forward(x):
        if not cell:
            out, hn = mod(x)
            h = hn[0][0] if gates == 4 else hn[0]
            return F.mse_loss(h, tgt)
        state = None
        for t in range(T):
            state = mod(x[t], state)
        return F.mse_loss(state[0] if gates == 4 else state, tgt)

    def step():
        i = st["i"]
        st["i"] = (i + 1) % NSEQ
        opt.zero_grad()
        loss = forward(X[i])
        loss.backward()
        opt.step()
        st["loss"] = loss

    def reset():
        mod.load_state_dict(sd)
        opt.load_state_dict(opt_init)
        st["i"] = 0

    reset()
    return Impl(step, reset, lambda: float(st["loss"].item()))


# ----------------------------------------------------------------------------- torch side
def _torch_impl(name):
    import torch
    import torch.nn.functional as F
    gates = 4 if name.startswith("lstm") else 3
    init = _init(gates)
    cell = name.endswith("_cell")
    if cell:
        mod = (torch.nn.LSTMCell if gates == 4 else torch.nn.GRUCell)(I, H)
        sd = {k: torch.from_numpy(v) for k, v in init.items()}
    else:
        mod = (torch.nn.LSTM if gates == 4 else torch.nn.GRU)(I, H)
        sd = {k + "_l0": torch.from_numpy(v) for k, v in init.items()}
    mod.load_state_dict(sd)
    opt = torch.optim.Adam(mod.parameters())
    xs, target = _data()
    X = [torch.from_numpy(x) for x in xs]
    tgt = torch.from_numpy(target)
    st = {"i": 0}

    def forward(x):
        if not cell:
            out, hn = mod(x)
            h = hn[0][0] if gates == 4 else hn[0]
            return F.mse_loss(h, tgt)
        h = torch.zeros(B, H)
        state = (h, torch.zeros(B, H)) if gates == 4 else h
        for t in range(T):
            state = mod(x[t], state)
        return F.mse_loss(state[0] if gates == 4 else state, tgt)

    def step():
        i = st["i"]
        st["i"] = (i + 1) % NSEQ
        opt.zero_grad(set_to_none=True)
        loss = forward(X[i])
        loss.backward()
        opt.step()
        st["loss"] = loss.detach()

    def reset():
        with torch.no_grad():
            mod.load_state_dict(sd)
            for s in opt.state.values():
                for v in s.values():
                    if torch.is_tensor(v):
                        v.zero_()
        st["i"] = 0

    reset()
    return Impl(step, reset, lambda: float(st["loss"]))


# ----------------------------------------------------------------------------- GEMM floor
def _gemm_impl(gates):
    """The module step's GEMMs alone (input projection, T recurrent forward, T recurrent
    backward, dW_ih, dW_hh), same shapes, preallocated outputs."""
    import numpy as np
    rng = np.random.default_rng(0)
    G = gates * H
    x = rng.standard_normal((T * B, I)).astype(np.float32)
    wi = rng.standard_normal((G, I)).astype(np.float32)
    whT = np.ascontiguousarray((rng.standard_normal((G, H)) * 0.05).astype(np.float32).T)
    wh = np.ascontiguousarray(whT.T)
    hs = rng.standard_normal((T + 1, B, H)).astype(np.float32)
    xg = np.empty((T * B, G), np.float32)
    hg = np.empty((B, G), np.float32)
    dg = rng.standard_normal((T, B, G)).astype(np.float32)
    dh = np.empty((B, H), np.float32)
    dwi = np.empty((G, I), np.float32)
    dwh = np.empty((G, H), np.float32)

    def step():
        np.matmul(x, wi.T, out=xg)
        for t in range(T):
            np.matmul(hs[t], whT, out=hg)
        for t in range(T):
            np.matmul(dg[t], wh, out=dh)
        np.matmul(dg.reshape(T * B, G).T, x, out=dwi)
        np.matmul(dg.reshape(T * B, G).T, hs[:T].reshape(T * B, H), out=dwh)
    return Impl(step, lambda: None, lambda: float("nan"))


@register
class Recurrent(Workload):
    """LSTM / GRU training steps (module and cell loop), float32, 4 sequences cycled."""

    name = "recurrent"

    def configs(self):
        return [{"kind": k, "title": f"{k.upper()}({I} -> {H}) train step, T={T}, batch {B}, MSE "
                                     f"on the last h, Adam() default, float32"}
                for k in ("lstm", "gru")]

    def implementations(self, cfg):
        k = cfg["kind"]
        mod, cell = ("nn.LSTM", "nn.LSTMCell") if k == "lstm" else ("nn.GRU", "nn.GRUCell")
        return [(f"jitgrad {mod}", lambda: _jitgrad_impl(k)),
                (f"torch eager {mod}", lambda: _torch_impl(k)),
                (f"jitgrad {cell} loop x{T}", lambda: _jitgrad_impl(k + "_cell")),
                (f"torch eager {cell} loop x{T}", lambda: _torch_impl(k + "_cell")),
                ("bare GEMMs of the module step (a floor)",
                 lambda: _gemm_impl(4 if k == "lstm" else 3))]

    def goals(self, cfg, med):
        k = cfg["kind"]
        mod, cell = ("nn.LSTM", "nn.LSTMCell") if k == "lstm" else ("nn.GRU", "nn.GRUCell")
        out = []
        for label, a, b, goal in ((f"jitgrad / torch {mod}", f"jitgrad {mod}",
                                   f"torch eager {mod}", 1.0),
                                  (f"jitgrad / torch {cell} loop", f"jitgrad {cell} loop x{T}",
                                   f"torch eager {cell} loop x{T}", 0.5),
                                  (f"GEMM floor / jitgrad {mod}",
                                   "bare GEMMs of the module step (a floor)", f"jitgrad {mod}",
                                   None)):
            if a in med and b in med:
                out.append((label, med[a] / med[b], goal))
        return out

    def cold_start_code(self):
        return textwrap.dedent("""
            import time
            t0 = time.perf_counter()
            import numpy as np
            import jitgrad as jg
            t1 = time.perf_counter()
            jg.manual_seed(0)
            lstm = jg.nn.LSTM(32, 128)
            opt = jg.optim.Adam(lstm.parameters())
            x = jg.from_numpy(np.random.default_rng(1).standard_normal((64, 32, 32))
                              .astype(np.float32))
            opt.zero_grad()
            out, (hn, cn) = lstm(x)
            loss = (hn[0] * hn[0]).mean()
            loss.backward()
            opt.step()
            assert np.isfinite(loss.item())
            t2 = time.perf_counter()
            print(RESULT_TAG, t1 - t0, t2 - t1)
        """)
