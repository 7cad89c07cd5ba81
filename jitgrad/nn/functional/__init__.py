"""jitgrad.nn.functional: the functional form of every layer, activation, loss and norm."""
from ._layers import dropout, embedding, linear, one_hot, pad  # noqa: F401

# Files of the activation/loss/norm work, imported once they exist (a missing file is skipped,
# an error inside an existing one is raised).
for _name in ("_activations", "_losses", "_norms"):
    try:
        _mod = __import__(f"{__name__}.{_name}", fromlist=["*"])
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_name}":
            raise
        continue
    for _k in getattr(_mod, "__all__", [k for k, v in vars(_mod).items() if not k.startswith("_")
                                        and callable(v) and not isinstance(v, type)
                                        and getattr(v, "__module__", None) == _mod.__name__]):
        globals()[_k] = getattr(_mod, _k)
del _name
