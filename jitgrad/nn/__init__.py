"""jitgrad.nn: Module, Parameter, containers, layers, activations, losses, init, functional."""
from . import functional, init  # noqa: F401
from .modules import (Dense, Dropout, Embedding, Flatten, Identity, Linear, Module,  # noqa: F401
                      ModuleDict, ModuleList, Sequential, Unflatten)
from .parameter import Parameter  # noqa: F401

# Layer files of the activation/loss/norm work, imported once they exist (a missing file is
# skipped, an error inside an existing one is raised).
for _name in ("activation", "loss", "normalization"):
    try:
        _mod = __import__(f"{__name__}.modules.{_name}", fromlist=["*"])
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.modules.{_name}":
            raise
        continue
    for _k in getattr(_mod, "__all__", [k for k in vars(_mod) if not k.startswith("_") and
                                        isinstance(vars(_mod)[k], type) and
                                        issubclass(vars(_mod)[k], Module)]):
        globals()[_k] = getattr(_mod, _k)
del _name
