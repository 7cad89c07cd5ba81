"""The house rules a test can check: where things live and what is public."""
import ast
import os
import types

import jitgrad as jg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PUBLIC_SUBMODULES = {"autograd", "nn", "optim", "testing", "kernels", "compile", "data", "examples",
                     "utils", "cuda", "distributed"}


def _imports(path):
    """(level, module, names) of every import statement in a file."""
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield 0, a.name, []


def _py_files(folder):
    for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(dirpath, f)


def test_kernels_never_import_the_python_layer():
    for path in _py_files("kernels"):
        for level, module, _ in _imports(path):
            assert level in (0, 1), f"{path}: relative import beyond kernels/ ({module})"
            assert not module.startswith("jitgrad"), f"{path} imports {module}"


def test_modules_call_only_public_functional_names():
    """nn/modules/* never import a private functional file, nor kernels."""
    for path in _py_files("jitgrad/nn/modules"):
        for level, module, names in _imports(path):
            parts = module.split(".")
            assert "kernels" not in parts, f"{path} imports kernels ({module})"
            if "functional" in parts:
                private = parts[parts.index("functional") + 1:]
                assert not private, f"{path}: from {module} (a private functional file)"
                assert not any(n.startswith("_") for n in names), f"{path}: {names}"


def test_no_implementation_module_leaks_into_jitgrad():
    import jitgrad.compile  # noqa: F401  (public, importable on demand)
    mods = {k for k, v in vars(jg).items() if isinstance(v, types.ModuleType)}
    leaked = sorted(m for m in mods if not m.startswith("_") and m not in PUBLIC_SUBMODULES)
    assert not leaked, f"implementation modules visible as jitgrad.<name>: {leaked}"
    for name in ("np", "TENSOR_METHODS", "TENSOR_OPERATORS", "shape", "reduce", "index",
                 "basic", "binary", "unary", "util", "sum_to", "add_op"):
        assert not hasattr(jg, name), f"jitgrad.{name} is public"


def test_nn_functional_exports_only_its_public_names():
    F = jg.nn.functional
    public = {k for k in dir(F) if not k.startswith("_")}
    assert public == set(F.__all__), sorted(public ^ set(F.__all__))


def test_grad_mode_is_a_leaf_module():
    """_grad_mode imports nothing of jitgrad, so _tensor and autograd import in any order."""
    path = os.path.join(ROOT, "jitgrad", "_grad_mode.py")
    assert all(level == 0 and not module.startswith("jitgrad")
               for level, module, _ in _imports(path))
