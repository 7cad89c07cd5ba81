"""asv: scaled_dot_product_attention (forward, forward + backward; plain, causal, with a bool
padding mask, with dropout) at (batch 8, heads 4, L = S = 64, head dim 16) float32, and a
TransformerEncoderLayer training step (d_model 64, 4 heads, feed-forward 128, batch 16,
sequence 32, Adam), plus its peak memory.

Everything is built and every kernel warmed at import (no setup(): asv times a class with
setup() one call per sample). The training step cycles 4 batches and restores the initial
weights and Adam state every RESET_EVERY steps, so long runs cannot drift into denormals.
"""
import numpy as np

import jitgrad as jg
import jitgrad.nn.functional as F

N, H, L, HD = 8, 4, 64, 16
D, FF, B, T = 64, 128, 16, 32
NBATCH = 4
RESET_EVERY = 32
_RNG = np.random.default_rng(0)


def _randn(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- SDPA
_Q, _K, _V = (jg.tensor(_randn(N, H, L, HD), requires_grad=True) for _ in range(3))
_G = jg.tensor(_randn(N, H, L, HD))
_PAD = np.ones((N, 1, 1, L), bool)
_PAD[:, :, :, L - 8:] = False  # the last 8 keys of every sequence are padding
VARIANTS = {"plain": {}, "causal": dict(is_causal=True),
            "padding_mask": dict(attn_mask=jg.tensor(_PAD)), "dropout": dict(dropout_p=0.1)}


def _sdpa_fwd(variant):
    with jg.no_grad():
        F.scaled_dot_product_attention(_Q, _K, _V, **VARIANTS[variant])


def _sdpa_fwd_bwd(variant):
    for t in (_Q, _K, _V):
        t.grad = None
    (F.scaled_dot_product_attention(_Q, _K, _V, **VARIANTS[variant]) * _G).sum().backward()


for _v in VARIANTS:
    _sdpa_fwd(_v)
    _sdpa_fwd_bwd(_v)


class TimeSDPA:
    params = [list(VARIANTS)]
    param_names = ["variant"]

    def time_forward_8x4x64x16(self, variant):
        _sdpa_fwd(variant)

    def time_forward_backward_8x4x64x16(self, variant):
        _sdpa_fwd_bwd(variant)


# ----------------------------------------------------------------------------- encoder layer
class _EncoderStep:
    """Cross-entropy of a per-position read-out of one post-norm encoder layer, Adam()."""

    def __init__(self):
        jg.manual_seed(0)
        self.layer = jg.nn.TransformerEncoderLayer(D, 4, FF, batch_first=True)
        self.head = jg.nn.Linear(D, 10)
        self.params = list(self.layer.parameters()) + list(self.head.parameters())
        self.opt = jg.optim.Adam(self.params)
        self.init = [p.data.copy() for p in self.params]
        self.opt_init = self.opt.state_dict()
        rng = np.random.default_rng(1)
        self.xs = [jg.tensor(rng.standard_normal((B, T, D)).astype(np.float32))
                   for _ in range(NBATCH)]
        self.ys = [jg.tensor(rng.integers(0, 10, B * T)) for _ in range(NBATCH)]
        self.i = 0

    def reset(self):
        for p, v in zip(self.params, self.init):
            p.data[...] = v
        self.opt.load_state_dict(self.opt_init)
        self.i = 0

    def step(self):
        if self.i == RESET_EVERY:
            self.reset()
        k = self.i % NBATCH
        self.i += 1
        self.opt.zero_grad()
        logits = self.head(self.layer(self.xs[k])).reshape(-1, 10)
        loss = F.cross_entropy(logits, self.ys[k])
        loss.backward()
        self.opt.step()
        return loss


_STEP = _EncoderStep()
for _ in range(3):
    _STEP.step()
_STEP.reset()


class TimeEncoderLayerTrainStep:
    def time_train_step_d64_h4_ff128_B16_T32_adam(self):
        _STEP.step()


class PeakmemEncoderLayerTrainStep:
    def peakmem_train_step_d64_h4_ff128_B16_T32_adam(self):
        _STEP.step()
