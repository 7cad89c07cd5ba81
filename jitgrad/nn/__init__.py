"""jitgrad.nn: Module, Parameter, containers, layers, activations, losses, init, functional."""
from . import functional, init  # noqa: F401
from .modules import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,  # noqa: F401
                      Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Dense, Dropout,
                      Dropout2d, Embedding, Flatten, Identity, Linear, MaxPool1d, MaxPool2d,
                      Module, ModuleDict, ModuleList, Sequential, Unflatten)
from .modules.activation import *  # noqa: F401,F403
from .modules.loss import *  # noqa: F401,F403
from .modules.normalization import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
from . import utils  # noqa: E402,F401
from . import parallel  # noqa: E402,F401
