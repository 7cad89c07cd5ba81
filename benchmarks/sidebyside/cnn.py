"""Workload: convolutions. The LeNet-style training step (jitgrad, torch eager NCHW with Adam()
default and Adam(fused=True)) and a 3x3 64->64 conv forward + backward (jitgrad vs torch's
oneDNN). compare.py's solo mode runs each row alone in its own process and reports its peak
resident memory."""
import textwrap

from .harness import Impl, Workload, register

BATCH, NBATCH, LR = 64, 8, 1e-3
CONV64 = (32, 64, 32, 32)  # N, C, H, W; 3x3, 64 -> 64, padding 1
LENET_MACS = BATCH * (26 * 26 * 8 * 9 + 11 * 11 * 16 * 72 + 400 * 10)
CONV64_MACS = 32 * 64 * 64 * 9 * 32 * 32
FLOPS = {"lenet": 2 * LENET_MACS * 3, "conv64": 2 * CONV64_MACS * 3}  # forward + backward


def jg_lenet(jg):
    nn = jg.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10))


def init_arrays():
    """jitgrad's seeded default init of both workloads, as torch-layout arrays."""
    import jitgrad as jg
    jg.manual_seed(0)
    arrays = {f"lenet.{k}": v.copy() for k, v in jg_lenet(jg).state_dict().items()}
    conv = jg.nn.Conv2d(64, 64, 3, padding=1)
    arrays.update({f"conv64.{k}": v.copy() for k, v in conv.state_dict().items()})
    return arrays


def data():
    import numpy as np
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32) for _ in range(NBATCH)]
    ys = [rng.integers(0, 10, BATCH).astype(np.int64) for _ in range(NBATCH)]
    x64 = rng.standard_normal(CONV64).astype(np.float32)
    g64 = rng.standard_normal(CONV64).astype(np.float32)
    return xs, ys, x64, g64


def _part(init, prefix):
    return {k[len(prefix) + 1:]: v for k, v in init.items() if k.startswith(prefix + ".")}


def jitgrad_impl(workload, init, threads=None):
    import jitgrad as jg
    if threads:
        jg.set_num_threads(threads)
    xs, ys, x64, g64 = data()
    st = {"i": 0}
    if workload == "lenet":
        model = jg_lenet(jg)
        sd = _part(init, "lenet")
        model.load_state_dict(sd)
        opt = jg.optim.Adam(model.parameters(), lr=LR)
        opt_init = opt.state_dict()
        X = [jg.from_numpy(x) for x in xs]
        Y = [jg.from_numpy(y) for y in ys]

        def step():
            i = st["i"]
            st["i"] = (i + 1) % NBATCH
            opt.zero_grad()
            loss = jg.nn.functional.cross_entropy(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss

        def reset():
            model.load_state_dict(sd)
            opt.load_state_dict(opt_init)
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"].item()))
    conv = jg.nn.Conv2d(64, 64, 3, padding=1)
    conv.load_state_dict(_part(init, "conv64"))
    x = jg.from_numpy(x64).requires_grad_(True)
    g = jg.from_numpy(g64)

    def step():
        x.grad = conv.weight.grad = conv.bias.grad = None
        conv(x).backward(g)

    return Impl(step, lambda: None, lambda: float(conv.weight.grad.sum()))


def torch_impl(workload, init, threads=None, **adam_kw):
    import torch
    if threads:
        torch.set_num_threads(threads)
    xs, ys, x64, g64 = data()
    tn = torch.nn
    st = {"i": 0}
    if workload == "lenet":
        model = tn.Sequential(tn.Conv2d(1, 8, 3), tn.ReLU(), tn.MaxPool2d(2), tn.Conv2d(8, 16, 3),
                              tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(), tn.Linear(400, 10))
        sd = {k: torch.from_numpy(v.copy()) for k, v in _part(init, "lenet").items()}
        model.load_state_dict(sd)
        opt = torch.optim.Adam(model.parameters(), lr=LR, **adam_kw)
        X = [torch.from_numpy(x) for x in xs]
        Y = [torch.from_numpy(y) for y in ys]

        def step():
            i = st["i"]
            st["i"] = (i + 1) % NBATCH
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(X[i]), Y[i])
            loss.backward()
            opt.step()
            st["loss"] = loss.detach()

        def reset():
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    v.copy_(sd[k])
            for s in opt.state.values():  # zero moments and step counters in place
                for t in s.values():
                    if torch.is_tensor(t):
                        t.zero_()
            st["i"] = 0

        reset()
        return Impl(step, reset, lambda: float(st["loss"]))
    conv = tn.Conv2d(64, 64, 3, padding=1)
    conv.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in
                          _part(init, "conv64").items()})
    x = torch.from_numpy(x64).requires_grad_(True)
    g = torch.from_numpy(g64)

    def step():
        x.grad = conv.weight.grad = conv.bias.grad = None
        conv(x).backward(g)

    return Impl(step, lambda: None, lambda: float(conv.weight.grad.sum()))


JG_LENET = "jitgrad eager (nn.Conv2d, nn.MaxPool2d, optim.Adam)"
TORCH_LENET = "torch eager NCHW, Adam() default"
TORCH_LENET_FUSED = "torch eager NCHW, Adam(fused=True)"
JG_CONV = "jitgrad conv2d forward + backward"
TORCH_CONV = "torch conv2d forward + backward (oneDNN)"


@register
class CNN(Workload):
    """LeNet-style step (conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2,
    linear 400->10, cross-entropy, Adam lr 1e-3; 28x28 float32, batch 64, 8 batches cycled),
    and a 3x3 64->64 conv (padding 1, (32, 64, 32, 32)) forward + backward."""

    name = "cnn"

    def configs(self):
        return [{"part": "lenet", "title": "LeNet-style train step (Adam lr 1e-3), float32, "
                                           "batch 64, 1x28x28"},
                {"part": "conv64", "title": "3x3 conv 64->64, padding 1, (32, 64, 32, 32) "
                                            "float32, forward + backward"}]

    def implementations(self, cfg):
        part = cfg["part"]
        if part == "lenet":
            return [(JG_LENET, lambda: jitgrad_impl("lenet", init_arrays())),
                    (TORCH_LENET, lambda: torch_impl("lenet", init_arrays())),
                    (TORCH_LENET_FUSED, lambda: torch_impl("lenet", init_arrays(),
                                                           fused=True))]
        return [(JG_CONV, lambda: jitgrad_impl("conv64", init_arrays())),
                (TORCH_CONV, lambda: torch_impl("conv64", init_arrays()))]

    def goals(self, cfg, med):
        out = []
        if cfg["part"] == "lenet" and JG_LENET in med:
            for label, other, goal in (("jitgrad / torch Adam() default", TORCH_LENET, 1.0),
                                       ("jitgrad / torch Adam(fused=True)", TORCH_LENET_FUSED,
                                        None)):
                if other in med:
                    out.append((label, med[JG_LENET] / med[other], goal))
        if cfg["part"] == "conv64" and JG_CONV in med and TORCH_CONV in med:
            out.append(("jitgrad / torch (oneDNN)", med[JG_CONV] / med[TORCH_CONV], 2.0))
        return out

    def cold_start_code(self):
        return textwrap.dedent("""
            import time
            t0 = time.perf_counter()
            import numpy as np
            import jitgrad as jg
            t1 = time.perf_counter()
            jg.manual_seed(0)
            nn = jg.nn
            model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(400, 10))
            opt = jg.optim.Adam(model.parameters(), lr=1e-3)
            rng = np.random.default_rng(1)
            x = jg.from_numpy(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
            y = jg.from_numpy(rng.integers(0, 10, size=64).astype(np.int64))
            opt.zero_grad()
            loss = jg.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            assert np.isfinite(loss.item())
            t2 = time.perf_counter()
            print(RESULT_TAG, t1 - t0, t2 - t1)
        """)
