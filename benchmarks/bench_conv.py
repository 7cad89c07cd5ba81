"""asv: convolution and pooling (forward, forward + backward) at representative shapes, the
LeNet-style training step, and the memory a conv step needs (no im2col-sized buffer).

Shapes: LeNet layers (conv 1->8 3x3 on 28x28, conv 8->16 3x3 on 13x13, batch 64), a 3x3
64->64 conv with padding 1 on 32x32 at batch 32, the same input through a stride-2 3x3 64->128
conv (the phase-plane path), a depthwise 3x3 (64 channels, groups=64) at the same size, 2x2
max / avg pooling and a global adaptive average pool. Every input, module
and optimizer is built and every kernel warmed at import (no setup() methods: asv times a class
with setup() one call per sample). The training step cycles 8 batches and restores the
initial weights and Adam state every RESET_EVERY steps (no drift into denormals).
"""
import tracemalloc

import numpy as np

import jitgrad as jg
import jitgrad.nn.functional as F

_RNG = np.random.default_rng(0)


def _randn(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


def _leaf(a):
    return jg.tensor(a, requires_grad=True)


# ----------------------------------------------------------------------------- convs
CONVS = {  # name: (input shape, out channels, kernel, padding, groups, stride)
    "lenet1_64x1x28x28_to_8": ((64, 1, 28, 28), 8, 3, 0, 1, 1),
    "lenet2_64x8x13x13_to_16": ((64, 8, 13, 13), 16, 3, 0, 1, 1),
    "3x3_32x64x32x32_to_64": ((32, 64, 32, 32), 64, 3, 1, 1, 1),
    "3x3s2_32x64x32x32_to_128": ((32, 64, 32, 32), 128, 3, 1, 1, 2),
    "depthwise3x3_32x64x32x32": ((32, 64, 32, 32), 64, 3, 1, 64, 1),
}
_CONV = {}
for _name, (_shape, _o, _k, _p, _g, _s) in CONVS.items():
    jg.manual_seed(0)
    _m = jg.nn.Conv2d(_shape[1], _o, _k, stride=_s, padding=_p, groups=_g)
    _x = _leaf(_randn(*_shape))
    with jg.no_grad():
        _y = _m(_x)
    _CONV[_name] = (_m, _x, jg.tensor(np.ones(_y.shape, np.float32)))


def _conv_fwd(name):
    m, x, _ = _CONV[name]
    with jg.no_grad():
        m(x)


def _conv_fwd_bwd(name):
    m, x, g = _CONV[name]
    x.grad = m.weight.grad = m.bias.grad = None
    m(x).backward(g)


for _name in CONVS:
    _conv_fwd(_name)
    _conv_fwd_bwd(_name)


class TimeConv2d:
    params = [list(CONVS)]
    param_names = ["shape"]

    def time_forward(self, shape):
        _conv_fwd(shape)

    def time_forward_backward(self, shape):
        _conv_fwd_bwd(shape)


# ----------------------------------------------------------------------------- pooling
_PX = _leaf(_randn(64, 8, 26, 26))
POOLS = {
    "max_pool2d_2x2_64x8x26x26": lambda: F.max_pool2d(_PX, 2),
    "avg_pool2d_2x2_64x8x26x26": lambda: F.avg_pool2d(_PX, 2),
    "max_pool2d_3x3s2p1_64x8x26x26": lambda: F.max_pool2d(_PX, 3, 2, 1),
    "adaptive_avg_pool2d_1_64x8x26x26": lambda: F.adaptive_avg_pool2d(_PX, 1),
}
_PG = {k: jg.tensor(np.ones(fn().shape, np.float32)) for k, fn in POOLS.items()}


def _pool_fwd(name):
    with jg.no_grad():
        POOLS[name]()


def _pool_fwd_bwd(name):
    _PX.grad = None
    POOLS[name]().backward(_PG[name])


for _name in POOLS:
    _pool_fwd(_name)
    _pool_fwd_bwd(_name)


class TimePool:
    params = [list(POOLS)]
    param_names = ["pool"]

    def time_forward(self, pool):
        _pool_fwd(pool)

    def time_forward_backward(self, pool):
        _pool_fwd_bwd(pool)


# ----------------------------------------------------------------------------- LeNet step
LENET_NBATCH = 8
RESET_EVERY = 64


class _LeNetStep:
    """conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2, linear 400->10,
    cross-entropy, Adam(lr=1e-3); 28x28 float32 inputs."""

    def __init__(self, batch):
        nn = jg.nn
        jg.manual_seed(0)
        self.model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Flatten(), nn.Linear(400, 10))
        self.opt = jg.optim.Adam(self.model.parameters(), lr=1e-3)
        self.init = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.opt_init = self.opt.state_dict()
        rng = np.random.default_rng(1)
        self.xs = [jg.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
                   for _ in range(LENET_NBATCH)]
        self.ys = [jg.tensor(rng.integers(0, 10, batch).astype(np.int64))
                   for _ in range(LENET_NBATCH)]
        self.i = 0

    def reset(self):
        self.model.load_state_dict(self.init)
        self.opt.load_state_dict(self.opt_init)
        self.i = 0

    def step(self):
        if self.i == RESET_EVERY:
            self.reset()
        k = self.i % LENET_NBATCH
        self.i += 1
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(self.xs[k]), self.ys[k])
        loss.backward()
        self.opt.step()
        return loss


_LENET = _LeNetStep(64)
for _ in range(3):
    _LENET.step()
_LENET.reset()


class TimeLeNetStep:
    def time_lenet_adam_step_batch64(self):
        _LENET.step()


# ----------------------------------------------------------------------------- memory
_BIG = "3x3_32x64x32x32_to_64"
# an im2col buffer of this conv: (N*Ho*Wo, C*kh*kw) float32
IM2COL_BYTES = 32 * 32 * 32 * 64 * 9 * 4


def _traced_peak(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


class MemConv:
    def peakmem_conv3x3_64_forward_backward(self):
        _conv_fwd_bwd(_BIG)

    def peakmem_lenet_adam_step(self):
        _LENET.step()

    def track_conv3x3_64_step_peak_over_im2col(self):
        """NumPy bytes alive at the peak of one forward + backward of the 64->64 conv (inputs
        kept by the benchmark excluded), as a fraction of one im2col buffer (75.5 MB):
        everything the conv allocates (padded copy, output, spread gradient, gradients)."""
        return _traced_peak(lambda: _conv_fwd_bwd(_BIG)) / IM2COL_BYTES

    track_conv3x3_64_step_peak_over_im2col.unit = "fraction of im2col"
