"""jitgrad: a CPU autograd library whose every kernel is a numba-JIT compiled function."""
from ._source_tree import ensure_kernels as _ensure_kernels

_ensure_kernels()
from . import autograd  # noqa: F401
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: F401
from ._creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,  # noqa
                        full_like, linspace, ones, ones_like, rand, randint, randn, randperm,
                        tensor, zeros, zeros_like)
from ._device import device  # noqa: F401
from ._creation import logspace, tril_indices, triu_indices  # noqa: F401
from ._sampling import (bernoulli, multinomial, normal, poisson, rand_like,  # noqa: F401
                        randint_like, randn_like)
from ._random import (Generator, default_generator, get_rng_state, initial_seed,  # noqa: F401
                      manual_seed, seed, set_rng_state)
from ._dtypes import bool_ as bool  # noqa: A001
from ._dtypes import float32, float64, int32, int64  # noqa: F401
from ._ops import *  # noqa: F401,F403
from ._ops import TENSOR_METHODS as _TM
from ._tensor import Tensor, _bind_ops  # noqa: F401
from ._threads import get_num_threads, set_num_threads  # noqa: F401
from ._threads import _apply_env
from . import _malloc

float = float32  # noqa: A001  (torch.float)
double = float64
long = int64

_bind_ops()
_apply_env()
_malloc.apply()
del _TM

from . import nn  # noqa: E402,F401
from . import optim  # noqa: E402,F401
from . import data  # noqa: E402,F401
from . import cuda  # noqa: E402,F401
from . import utils  # noqa: E402,F401
from . import distributed  # noqa: E402,F401
from ._serialization import load, save  # noqa: E402,F401
from ._config import show_config  # noqa: E402,F401

__version__ = "0.1.0"
