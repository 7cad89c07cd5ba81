"""Packaging: kernels/ installs as jitgrad.kernels, stays independent of the Python layer, every
subpackage ships, the README's Python examples run, and every op-table op has a benchmark."""
import ast
import importlib
import os
import re
import subprocess
import sys
import tomllib

import pytest

import jitgrad
from jitgrad.testing import all_specs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = os.path.join(ROOT, "kernels")


def test_kernels_import_as_jitgrad_kernels():
    import jitgrad.kernels
    import jitgrad.kernels.elementwise as elementwise
    assert jitgrad.kernels.__name__ == "jitgrad.kernels"
    assert callable(elementwise.binary_same)
    assert "kernels" not in sys.modules  # never a top-level `kernels` (another PyPI package)


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(KERNELS) if f.endswith(".py")))
def test_kernels_never_import_the_python_layer(name):
    with open(os.path.join(KERNELS, name), encoding="utf-8") as f:
        tree = ast.parse(f.read(), name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level <= 1, f"kernels/{name}:{node.lineno}: import from outside kernels/"
            mods = [node.module or ""] if node.level == 0 else []
        else:
            continue
        for mod in mods:
            assert mod.split(".")[0] != "jitgrad", f"kernels/{name}:{node.lineno} imports {mod}"


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_pyproject_maps_kernels_and_lists_every_subpackage():
    setup = _pyproject()["tool"]["setuptools"]
    assert setup["package-dir"]["jitgrad.kernels"] == "kernels"
    assert "kernels" not in setup["packages"]
    on_disk = {"jitgrad.kernels"} | {
        os.path.relpath(d, ROOT).replace(os.sep, ".")
        for d, _, files in os.walk(os.path.join(ROOT, "jitgrad")) if "__init__.py" in files}
    missing = sorted(on_disk - set(setup["packages"]))
    assert not missing, f"packages missing from pyproject.toml (a wheel would lack them): {missing}"


def test_runtime_dependencies_exclude_torch():
    deps = _pyproject()["project"]["dependencies"]
    assert {re.split(r"[<>=!~ ]", d)[0] for d in deps} == {"numpy", "numba", "threadpoolctl", "tqdm"}


def test_readme_python_examples_run(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) >= 2
    script = tmp_path / "readme_examples.py"  # a real file: the example's njit(cache=True) needs one
    script.write_text("\n\n".join(blocks))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def test_every_op_table_op_has_a_benchmark():
    if not os.path.isdir(os.path.join(ROOT, "benchmarks")):
        pytest.skip("benchmarks/ is not shipped in the wheel")
    sys.path.insert(0, ROOT)
    try:
        bench = importlib.import_module("benchmarks.bench_optable")
    finally:
        sys.path.remove(ROOT)
    fwd = set(bench.OpTableForward.params[0])
    bwd = set(bench.OpTableForwardBackward.params[0])
    names = {s.name for s in all_specs()}
    assert names <= fwd, f"ops without a forward benchmark: {sorted(names - fwd)}"
    grad = {s.name for s in all_specs() if s.grad}
    assert grad <= bwd, f"ops without a backward benchmark: {sorted(grad - bwd)}"


def test_version_matches_pyproject():
    assert jitgrad.__version__ == _pyproject()["project"]["version"]
