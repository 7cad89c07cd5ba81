"""jitgrad.nn.functional: the functional form of every layer, activation, loss and norm.

nn ops live here, one family per private file (``_activations``, ``_layers``, ``_losses``,
``_norms``, ``_conv``, ``_pool``, ``_recurrent``, ...); tensor ops live in ``jitgrad._ops``.
Modules call only the public names below.
"""
from . import _activations, _conv, _layers, _losses, _norms, _pool, _recurrent
from . import _distance
from . import _attention
from . import _bilinear, _resample
from ._bilinear import *  # noqa: F401,F403
from ._activations import *  # noqa: F401,F403
from ._conv import *  # noqa: F401,F403
from ._distance import *  # noqa: F401,F403
from ._layers import *  # noqa: F401,F403
from ._losses import *  # noqa: F401,F403
from ._norms import *  # noqa: F401,F403
from ._pool import *  # noqa: F401,F403
from ._recurrent import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._resample import *  # noqa: F401,F403

__all__ = [*_activations.__all__, *_conv.__all__, *_layers.__all__, *_losses.__all__,
           *_norms.__all__, *_pool.__all__, *_recurrent.__all__]
__all__ += _distance.__all__
__all__ += _attention.__all__
__all__ += _resample.__all__
__all__ += _bilinear.__all__
