"""jitgrad.nn: Module, Parameter, containers, layers, activations, losses, init, functional."""
from . import functional, init  # noqa: F401
from .modules import (Dense, Dropout, Embedding, Flatten, Identity, Linear, Module,  # noqa: F401
                      ModuleDict, ModuleList, Sequential, Unflatten)
from .modules.activation import *  # noqa: F401,F403
from .modules.loss import *  # noqa: F401,F403
from .modules.normalization import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
from . import utils  # noqa: E402,F401
from . import parallel  # noqa: E402,F401
