"""Inputs and workloads shared by the benchmark suite.

Append-only: changing an existing input or workload silently changes what older results
meant. Add a new name instead.
"""
import numpy as np

from jitgrad.testing import all_specs
from jitgrad.testing.spec import make_inputs

SMALL = (4, 4)
LARGE = (1000, 1000)  # 1M elements
SIZES = {"4x4": SMALL, "1000x1000": LARGE}

MLP_SIZES = (784, 256, 10)
MLP_BATCH = 64
MLP_LR = 1e-3  # small: many timed steps on a few batches stay far from denormals


def specs_by_name():
    """{unique name: OpSpec} for every op-table entry (the op table is the list of ops)."""
    out = {}
    for spec in all_specs():
        name, k = spec.name, 2
        while name in out:
            name, k = f"{spec.name}#{k}", k + 1
        out[name] = spec
    return out


def op_table_inputs(spec, dtype=np.float32, requires_grad=True):
    """The spec's first case as (tensors, kwargs); float inputs require grad if asked."""
    import jitgrad as jg
    case = spec.cases[0]
    arrays = make_inputs(spec, case, dtype, np.random.default_rng(0))
    diff = case.diff if case.diff is not None else \
        [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    tensors = [jg.from_numpy(a) if isinstance(a, np.ndarray) else a for a in arrays]
    if requires_grad and spec.grad:
        for i in diff:
            tensors[i].requires_grad_(True)
    return tensors, case.kwargs


def fwd_bwd(fn, tensors, kwargs):
    """Clear the leaves' grads, run fn forward, backpropagate the sum of its float outputs."""
    for t in tensors:
        if getattr(t, "requires_grad", False):
            t.grad = None
    out = fn(*tensors, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    roots = [o for o in outs if o.grad_fn is not None and o.dtype.kind == "f"]
    total = roots[0].sum()
    for o in roots[1:]:
        total = total + o.sum()
    total.backward()


def random(shape, low=-2.0, high=2.0, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def mlp_init(jg, seed=0):
    """784-256-10 MLP parameters (float32), scaled like PyTorch's default Linear init."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(jg.tensor(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                                requires_grad=True))
        params.append(jg.tensor(rng.uniform(-bound, bound, fan_out).astype(np.float32),
                                requires_grad=True))
    return params


def mlp_batches(jg, n=4, seed=1):
    """n (x, one-hot target) float32 batches of MLP_BATCH random inputs."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
        onehot = np.eye(MLP_SIZES[-1], dtype=np.float32)[rng.integers(0, MLP_SIZES[-1], MLP_BATCH)]
        out.append((jg.tensor(x), jg.tensor(onehot)))
    return out


def mlp_step(jg, params, x, onehot, lr):
    """Forward, log-softmax cross-entropy, backward and an SGD update, jitgrad core ops only."""
    w1, b1, w2, b2 = params
    logits = jg.relu(x @ w1 + b1) @ w2 + b2
    logp = logits - jg.logsumexp(logits, dim=1, keepdim=True)
    loss = -(logp * onehot).sum() / x.shape[0]
    loss.backward()
    with jg.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss
