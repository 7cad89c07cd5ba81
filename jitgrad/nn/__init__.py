"""jitgrad.nn: Module, Parameter, containers, layers, activations, losses, init, functional."""
from . import functional, init  # noqa: F401
from .modules import (GRU, LSTM, RNN, AdaptiveAvgPool2d, AdaptiveMaxPool2d,  # noqa: F401
                      AvgPool1d, AvgPool2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d,
                      Dense, Dropout, Dropout2d, Embedding, Flatten, GRUCell, Identity, Linear,
                      LSTMCell, MaxPool1d, MaxPool2d, Module, ModuleDict, ModuleList, RNNCell,
                      Sequential, Unflatten)
from .modules.attention import *  # noqa: F401,F403
from .modules.transformer import *  # noqa: F401,F403
from .modules.activation import *  # noqa: F401,F403
from .modules.distance import *  # noqa: F401,F403
from .modules.loss import *  # noqa: F401,F403
from .modules.normalization import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
from . import utils  # noqa: E402,F401
from . import parallel  # noqa: E402,F401
from .modules.padding import *  # noqa: F401,F403,E402
from .modules.upsampling import *  # noqa: F401,F403,E402
from .modules.linear import Bilinear  # noqa: F401,E402
from .modules.pixelshuffle import *  # noqa: F401,F403,E402
from .modules.container import ParameterDict, ParameterList  # noqa: F401,E402
