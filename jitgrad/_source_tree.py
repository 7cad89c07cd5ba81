"""``import jitgrad`` from a source checkout: the kernels folder sits at the repository's top
level and only becomes ``jitgrad.kernels`` when installed (a package-dir mapping). When Python
picks up the checkout's ``jitgrad/`` (started in the repository root, with or without an
install), map ``../kernels`` as ``jitgrad.kernels`` so the same code runs; if neither exists,
fail with a message that says what to do."""
import importlib.util
import os
import sys


def ensure_kernels():
    if "jitgrad.kernels" in sys.modules or importlib.util.find_spec("jitgrad.kernels"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(here), "kernels")
    init = os.path.join(src, "__init__.py")
    if not os.path.isfile(init):
        raise ModuleNotFoundError(
            "jitgrad.kernels is missing: this jitgrad/ folder is neither installed nor inside a "
            "jitgrad checkout. Install it with `pip install .` (or `pip install -e .`) from the "
            "repository root.", name="jitgrad.kernels")
    spec = importlib.util.spec_from_file_location("jitgrad.kernels", init,
                                                  submodule_search_locations=[src])
    module = importlib.util.module_from_spec(spec)
    sys.modules["jitgrad.kernels"] = module
    spec.loader.exec_module(module)
