"""jitgrad.nn.functional: the functional form of every layer, activation, loss and norm."""
from ._activations import *  # noqa: F401,F403
from ._layers import dropout, embedding, linear, one_hot, pad  # noqa: F401
from ._losses import *  # noqa: F401,F403
from ._norms import *  # noqa: F401,F403
