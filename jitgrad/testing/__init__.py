"""The op table: one ``OpSpec`` per public op, shared by the tests, the asv suite and users.

Each family lives in its own ``specs_<family>.py`` module exposing ``SPECS`` (a list).
"""
from .spec import OpSpec, Case  # noqa: F401


def all_specs():
    """Every OpSpec of every family, in a stable order."""
    import importlib
    import pkgutil
    specs = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("specs_"):
            specs.extend(importlib.import_module(f"{__name__}.{info.name}").SPECS)
    return specs
