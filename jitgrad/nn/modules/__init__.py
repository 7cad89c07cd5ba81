"""Layer classes of jitgrad.nn (re-exported there)."""
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .linear import Dense, Flatten, Identity, Linear, Unflatten  # noqa: F401
from .module import Module  # noqa: F401
from .sparse import Embedding  # noqa: F401
