"""asv: nn layers, activations, losses and norms (forward and forward + backward), and the
784-256-128-10 MLP training step (Linear + ReLU, cross-entropy, Adam) at batch 64 and 512.

Every input, module and optimizer is built and every kernel warmed at import: no setup() methods
(asv times a class with setup() one call per sample, see FIELD-NOTES). Backward calls pass a
preallocated upstream gradient; leaf gradients are dropped before each call so every sample
does the same work. The training steps cycle 8 batches and restore the initial weights and Adam
state every RESET_EVERY steps, so thousands of timed steps cannot drift into denormals.
"""
import numpy as np

import jitgrad as jg
import jitgrad.nn.functional as F

_RNG = np.random.default_rng(0)


def _t(a, grad=False):
    return jg.tensor(a, requires_grad=grad)


def _randn(*shape, scale=1.0):
    return (_RNG.standard_normal(shape) * scale).astype(np.float32)


def _fwd_bwd(fn, leaves, upstream):
    for x in leaves:
        x.grad = None
    fn().backward(upstream)


# ----------------------------------------------------------------------------- Linear
# batch, in, out; "head": one output feature (a regression head), whose backward is an outer product
LINEAR = {"small": (16, 32, 32), "large": (512, 1024, 1024), "head": (4096, 256, 1)}
_LIN = {}
for _name, (_b, _i, _o) in LINEAR.items():
    jg.manual_seed(0)
    _lin = jg.nn.Linear(_i, _o)
    _x = _t(_randn(_b, _i), grad=True)
    _LIN[_name] = (_lin, _x, _t(np.ones((_b, _o), np.float32)))


def _linear_fwd(name):
    lin, x, _ = _LIN[name]
    with jg.no_grad():
        lin(x)


def _linear_fwd_bwd(name):
    lin, x, g = _LIN[name]
    _fwd_bwd(lambda: lin(x), (x, lin.weight, lin.bias), g)


for _name in LINEAR:
    _linear_fwd(_name)
    _linear_fwd_bwd(_name)


class TimeLinear:
    params = [list(LINEAR)]
    param_names = ["size"]

    def time_forward(self, size):
        _linear_fwd(size)

    def time_forward_backward(self, size):
        _linear_fwd_bwd(size)


# ----------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "relu": F.relu, "relu6": F.relu6, "leaky_relu": F.leaky_relu, "elu": F.elu,
    "selu": F.selu, "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu, "mish": F.mish, "softplus": F.softplus, "sigmoid": F.sigmoid,
    "tanh": F.tanh, "hardtanh": F.hardtanh, "softmax": lambda x: F.softmax(x, dim=-1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
}
_ACT_X = _t(_randn(1000, 1000, scale=2.0), grad=True)     # 1M float32 elements
_ACT_G = _t(np.ones((1000, 1000), np.float32))


def _act(name):
    _fwd_bwd(lambda: ACTIVATIONS[name](_ACT_X), (_ACT_X,), _ACT_G)


for _name in ACTIVATIONS:
    _act(_name)


class TimeActivation:
    params = [list(ACTIVATIONS)]
    param_names = ["activation"]

    def time_forward_backward_1M(self, activation):
        _act(activation)


# ----------------------------------------------------------------------------- losses
_LX = _t(_randn(1000, 1000), grad=True)                               # 1M elements
_LT = _t(_randn(1000, 1000))
_LP = _t(_RNG.uniform(0.01, 0.99, (1000, 1000)).astype(np.float32), grad=True)
_LB = _t(_RNG.integers(0, 2, (1000, 1000)).astype(np.float32))
_CX = _t(_randn(10000, 100), grad=True)                               # 1M logits
_CI = _t(_RNG.integers(0, 100, 10000).astype(np.int64))
_CP = _t(np.asarray(F.softmax(_t(_randn(10000, 100)), dim=1).data))
LOSSES = {
    "mse": (lambda: F.mse_loss(_LX, _LT), _LX),
    "l1": (lambda: F.l1_loss(_LX, _LT), _LX),
    "smooth_l1": (lambda: F.smooth_l1_loss(_LX, _LT), _LX),
    "huber": (lambda: F.huber_loss(_LX, _LT), _LX),
    "bce": (lambda: F.binary_cross_entropy(_LP, _LB), _LP),
    "bce_with_logits": (lambda: F.binary_cross_entropy_with_logits(_LX, _LB), _LX),
    "nll": (lambda: F.nll_loss(_CX, _CI), _CX),
    "cross_entropy_index": (lambda: F.cross_entropy(_CX, _CI), _CX),
    "cross_entropy_prob": (lambda: F.cross_entropy(_CX, _CP), _CX),
}


def _loss(name):
    fn, x = LOSSES[name]
    x.grad = None
    fn().backward()


for _name in LOSSES:
    _loss(_name)


class TimeLoss:
    params = [list(LOSSES)]
    param_names = ["loss"]

    def time_forward_backward_1M(self, loss):
        _loss(loss)


# ----------------------------------------------------------------------------- norms
jg.manual_seed(0)
NORMS = {
    "layer_norm_256x1024": (jg.nn.LayerNorm(1024), _randn(256, 1024)),
    "batch_norm1d_256x1024": (jg.nn.BatchNorm1d(1024), _randn(256, 1024)),
    "batch_norm2d_32x64x16x16": (jg.nn.BatchNorm2d(64), _randn(32, 64, 16, 16)),
}
_NORM = {k: (m, _t(x, grad=True), _t(np.ones(x.shape, np.float32)))
         for k, (m, x) in NORMS.items()}


def _norm(name):
    m, x, g = _NORM[name]
    _fwd_bwd(lambda: m(x), (x, m.weight, m.bias), g)


for _name in NORMS:
    _norm(_name)


class TimeNorm:
    params = [list(NORMS)]
    param_names = ["norm"]

    def time_forward_backward(self, norm):
        _norm(norm)


# ----------------------------------------------------------------------------- MLP step
MLP_SIZES = (784, 256, 128, 10)
MLP_NBATCH = 8
RESET_EVERY = 64


class _MLPStep:
    """Sequential(Linear, ReLU, Linear, ReLU, Linear) + CrossEntropyLoss + Adam(lr=1e-3)."""

    def __init__(self, batch):
        S = MLP_SIZES
        jg.manual_seed(0)
        self.model = jg.nn.Sequential(jg.nn.Linear(S[0], S[1]), jg.nn.ReLU(),
                                      jg.nn.Linear(S[1], S[2]), jg.nn.ReLU(),
                                      jg.nn.Linear(S[2], S[3]))
        self.opt = jg.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = jg.nn.CrossEntropyLoss()
        self.init = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.opt_init = self.opt.state_dict()
        rng = np.random.default_rng(1)
        self.xs = [_t(rng.standard_normal((batch, S[0])).astype(np.float32))
                   for _ in range(MLP_NBATCH)]
        self.ys = [_t(rng.integers(0, S[-1], batch).astype(np.int64))
                   for _ in range(MLP_NBATCH)]
        self.i = 0

    def reset(self):
        self.model.load_state_dict(self.init)   # in place
        self.opt.load_state_dict(self.opt_init)  # step 0, zero moments
        self.i = 0

    def step(self):
        if self.i == RESET_EVERY:
            self.reset()
        k = self.i % MLP_NBATCH
        self.i += 1
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.xs[k]), self.ys[k])
        loss.backward()
        self.opt.step()
        return loss


MLP_BATCHES = (64, 512)
_MLP = {b: _MLPStep(b) for b in MLP_BATCHES}
for _m in _MLP.values():
    for _ in range(3):
        _m.step()
    _m.reset()


class TimeMLPStep:
    params = [list(MLP_BATCHES)]
    param_names = ["batch"]

    def time_mlp_784_256_128_10_adam_step(self, batch):
        _MLP[batch].step()
