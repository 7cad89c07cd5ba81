"""Workload: the 784-256-128-10 MLP training step (jitgrad, torch eager with three Adam variants,
JAX jit, the bare GEMMs and a GEMMs + Adam floor)."""
import textwrap

from .harness import Impl, Workload, register


@register
class MLP(Workload):
    """784-256-128-10 MLP (Linear + ReLU), mean cross-entropy over class indices, Adam(lr=1e-3),
    float32, 8 batches cycled."""

    name = "mlp"
    SIZES = (784, 256, 128, 10)
    NBATCH = 8
    LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8

    def configs(self):
        return [{"batch": b, "title": f"MLP 784-256-128-10 train step (ReLU, cross-entropy, "
                                      f"Adam lr 1e-3), float32, batch {b}"} for b in (64, 512)]

    # ---- shared init and data
    def _init(self):
        """jitgrad's default initialisation (seeded) as a torch-layout state dict of arrays."""
        import jitgrad as jg
        jg.manual_seed(0)
        model = self._jg_model()
        return {k: v.copy() for k, v in model.state_dict().items()}

    def _jg_model(self):
        import jitgrad as jg
        S = self.SIZES
        return jg.nn.Sequential(jg.nn.Linear(S[0], S[1]), jg.nn.ReLU(),
                                jg.nn.Linear(S[1], S[2]), jg.nn.ReLU(),
                                jg.nn.Linear(S[2], S[3]))

    def _data(self, batch):
        import numpy as np
        rng = np.random.default_rng(1)
        xs = [rng.standard_normal((batch, self.SIZES[0])).astype(np.float32)
              for _ in range(self.NBATCH)]
        ys = [rng.integers(0, self.SIZES[-1], size=batch).astype(np.int64)
              for _ in range(self.NBATCH)]
        return xs, ys

    def _weights(self, init):
        """[(W (out, in), b)] per layer, from the torch-layout state dict."""
        return [(init[f"{i}.weight"], init[f"{i}.bias"]) for i in (0, 2, 4)]

    # ---- implementations
    def implementations(self, cfg):
        """(label, factory) rows; nothing is built (and no library imported) until a factory
        runs, so solo mode's parent process stays free of jitgrad, torch and jax."""
        def shared():
            return self._init(), *self._data(cfg["batch"])

        rows = [("jitgrad eager (nn.Linear, nn.CrossEntropyLoss, optim.Adam)",
                 lambda: self._jitgrad(*shared()))]
        for label, kw in (("Adam() default", {}), ("Adam(foreach=True)", {"foreach": True}),
                          ("Adam(fused=True)", {"fused": True})):
            rows.append((f"torch eager, {label}",
                         lambda kw=kw: self._torch(*shared(), **kw)))
        rows.append(("JAX jit (whole step incl. Adam)", lambda: self._jax(*shared())))
        rows.append(("bare GEMMs (8 numpy.matmul: 3 fwd + 5 bwd)",
                     lambda: self._gemms(*shared()[:2])))
        rows.append(("bare GEMMs + jitgrad Adam step (a floor)",
                     lambda: self._gemms(*shared()[:2], adam=True)))
        return rows

    def _jitgrad(self, init, xs, ys):
        import jitgrad as jg
        model = self._jg_model()
        model.load_state_dict(init)
        loss_fn = jg.nn.CrossEntropyLoss()
        X = [jg.from_numpy(x) for x in xs]
        Y = [jg.from_numpy(y) for y in ys]
        opt = jg.optim.Adam(model.parameters(), lr=self.LR, betas=self.BETAS, eps=self.EPS)
        opt_init = opt.state_dict()
        st = {"i": 0, "loss": None}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            opt.zero_grad()
            loss = loss_fn(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss

        def reset():
            model.load_state_dict(init)   # copies into the existing parameter arrays
            opt.load_state_dict(opt_init)  # step 0, zero moments, in place
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"].item()))

    def _torch(self, init, xs, ys, **adam_kw):
        import torch
        S = self.SIZES
        model = torch.nn.Sequential(torch.nn.Linear(S[0], S[1]), torch.nn.ReLU(),
                                    torch.nn.Linear(S[1], S[2]), torch.nn.ReLU(),
                                    torch.nn.Linear(S[2], S[3]))
        init_t = {k: torch.from_numpy(v.copy()) for k, v in init.items()}
        model.load_state_dict(init_t)
        opt = torch.optim.Adam(model.parameters(), lr=self.LR, betas=self.BETAS, eps=self.EPS,
                               **adam_kw)
        loss_fn = torch.nn.CrossEntropyLoss()
        X = [torch.from_numpy(x) for x in xs]
        Y = [torch.from_numpy(y) for y in ys]
        st = {"i": 0, "loss": None}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss.detach()

        def reset():
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    v.copy_(init_t[k])
            for st_p in opt.state.values():   # zero moments and step counters in place
                for t in st_p.values():
                    if torch.is_tensor(t):
                        t.zero_()
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"]))

    def _jax(self, init, xs, ys):
        import jax
        import jax.numpy as jnp
        import numpy as np
        lr, (b1, b2), eps = self.LR, self.BETAS, self.EPS
        p0 = [a for wb in self._weights(init) for a in wb]
        X = [jnp.asarray(x) for x in xs]
        Y = [jnp.asarray(y.astype(np.int32)) for y in ys]

        def loss_fn(params, x, y):
            w1, c1, w2, c2, w3, c3 = params
            h = jax.nn.relu(x @ w1.T + c1)
            h = jax.nn.relu(h @ w2.T + c2)
            logp = jax.nn.log_softmax(h @ w3.T + c3)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def train_step(params, m, v, t, x, y):
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            t = t + 1
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            out_p, out_m, out_v = [], [], []
            for p, gi, mi, vi in zip(params, g, m, v):
                mi = b1 * mi + (1 - b1) * gi
                vi = b2 * vi + (1 - b2) * gi * gi
                out_p.append(p - lr * (mi / bc1) / (jnp.sqrt(vi / bc2) + eps))
                out_m.append(mi)
                out_v.append(vi)
            return out_p, out_m, out_v, t, loss

        train_step = jax.jit(train_step, donate_argnums=(0, 1, 2))
        st = {"i": 0}

        def reset():
            st["p"] = [jnp.array(p) for p in p0]
            st["m"] = [jnp.zeros_like(p) for p in st["p"]]
            st["v"] = [jnp.zeros_like(p) for p in st["p"]]
            st["t"] = jnp.float32(0.0)
            jax.block_until_ready(st["v"])
            st["i"] = 0

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            st["p"], st["m"], st["v"], st["t"], loss = train_step(
                st["p"], st["m"], st["v"], st["t"], X[i], Y[i])
            loss.block_until_ready()
            st["loss"] = loss

        reset()
        return Impl(step, reset, lambda: float(st["loss"]))

    def _gemms(self, init, xs, adam=False):
        """The step's GEMMs alone, in jitgrad's operand layouts: y = x @ W.T (3 forward),
        gW = g.T @ x (3) and gx = g @ W (2, none for the input layer); with `adam`, followed by
        jitgrad's Adam step over the same parameters (fixed stand-in gradients): what no
        eager step can go below."""
        import numpy as np
        ws = [w for w, _ in self._weights(init)]
        opt = None
        if adam:
            import jitgrad as jg
            params = [jg.nn.Parameter(a.copy()) for wb in self._weights(init) for a in wb]
            opt = jg.optim.Adam(params, lr=self.LR, betas=self.BETAS, eps=self.EPS)
            opt_init = opt.state_dict()
            grng = np.random.default_rng(3)
            for p in params:
                p.grad = (grng.standard_normal(p.shape) * 1e-2).astype(np.float32)
        B = xs[0].shape[0]
        rng = np.random.default_rng(2)
        gs = [rng.standard_normal((B, w.shape[0])).astype(np.float32) * 1e-2 for w in ws]
        st = {"i": 0}

        def step():
            i = st["i"]
            st["i"] = (i + 1) % self.NBATCH
            h0 = xs[i]
            h1 = h0 @ ws[0].T
            h2 = h1 @ ws[1].T
            _ = h2 @ ws[2].T
            _ = gs[2].T @ h2
            _ = gs[2] @ ws[2]
            _ = gs[1].T @ h1
            _ = gs[1] @ ws[1]
            _ = gs[0].T @ h0
            if opt is not None:
                opt.step()

        def reset():
            st["i"] = 0
            if opt is not None:
                opt.load_state_dict(opt_init)

        return Impl(step, reset, lambda: float("nan"))

    # ---- goals (issue 3, Performance)
    def goals(self, cfg, med):
        jg = med.get("jitgrad eager (nn.Linear, nn.CrossEntropyLoss, optim.Adam)")
        out = []
        if jg is None:
            return out
        if cfg["batch"] == 64:
            for label, other, goal in (("jitgrad / bare GEMMs", "bare GEMMs (8 numpy.matmul: "
                                        "3 fwd + 5 bwd)", 1.5),
                                       ("jitgrad / torch Adam() default", "torch eager, "
                                        "Adam() default", 0.5),
                                       ("jitgrad / torch Adam(fused=True)", "torch eager, "
                                        "Adam(fused=True)", None),
                                       ("jitgrad / JAX jit", "JAX jit (whole step incl. Adam)",
                                        1.0)):
                if other in med:
                    out.append((label, jg / med[other], goal))
        if cfg["batch"] == 512:
            for label, other, goal in (("jitgrad / bare GEMMs", "bare GEMMs (8 numpy.matmul: "
                                        "3 fwd + 5 bwd)", 1.15),
                                       ("jitgrad / torch Adam() default", "torch eager, "
                                        "Adam() default", None),
                                       ("jitgrad / JAX jit", "JAX jit (whole step incl. Adam)",
                                        None)):
                if other in med:
                    out.append((label, jg / med[other], goal))
        return out

    def cold_start_code(self):
        return textwrap.dedent("""
            import time
            t0 = time.perf_counter()
            import numpy as np
            import jitgrad as jg
            t1 = time.perf_counter()
            jg.manual_seed(0)
            S = (784, 256, 128, 10)
            model = jg.nn.Sequential(jg.nn.Linear(S[0], S[1]), jg.nn.ReLU(),
                                     jg.nn.Linear(S[1], S[2]), jg.nn.ReLU(),
                                     jg.nn.Linear(S[2], S[3]))
            opt = jg.optim.Adam(model.parameters(), lr=1e-3)
            rng = np.random.default_rng(1)
            x = jg.from_numpy(rng.standard_normal((64, S[0])).astype(np.float32))
            y = jg.from_numpy(rng.integers(0, S[-1], size=64).astype(np.int64))
            opt.zero_grad()
            loss = jg.nn.CrossEntropyLoss()(model(x), y)
            loss.backward()
            opt.step()
            assert np.isfinite(loss.item())
            t2 = time.perf_counter()
            print(RESULT_TAG, t1 - t0, t2 - t1)
        """)
