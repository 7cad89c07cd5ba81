"""Guards on the asv suite (benchmarks/): every public op, functional and optimizer is
benchmarked (checked against the benchmark classes' own params, not against the op table),
every benchmark method has a name asv recognises, and importing the side-by-side workloads
loads no peer library."""
import ast
import inspect
import os
import subprocess
import sys

import jitgrad as jg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
ASV_PREFIXES = ("time_", "timeraw_", "mem_", "peakmem_", "track_")
ASV_HOOKS = {"setup", "teardown", "setup_cache"}
ALIASES = {"clip": "clamp", "subtract": "sub", "multiply": "mul", "divide": "div",
           "true_divide": "div", "swapaxes": "transpose", "expand_as": "expand",
           "view_as": "view", "reshape_as": "reshape", "mm": "matmul", "bmm": "matmul",
           "dot": "matmul", "absolute": "abs", "negative": "neg", "concat": "cat",
           "concatenate": "cat"}
NOT_TIMED = {"lt", "le", "gt", "ge", "eq", "ne", "less", "less_equal", "greater",
             "greater_equal", "not_equal", "clone"}   # NumPy comparisons / a copy: no kernel


def _bench_modules():
    sys.path.insert(0, ROOT)
    import benchmarks.bench_optable as optable
    import benchmarks.bench_optim as optim
    return optable, optim


def _param_names(cls):
    return {str(v).split("#")[0].split("(")[0] for v in cls.params[0]}


def test_every_public_op_and_functional_is_benchmarked():
    optable, _ = _bench_modules()
    timed = _param_names(optable.OpTableForward) | _param_names(optable.OpTableForwardBackward)
    ops = set(jg._ops.__all__) - NOT_TIMED
    missing = sorted(n for n in ops if ALIASES.get(n, n) not in timed)
    missing += sorted(f"nn.functional.{n}" for n in jg.nn.functional.__all__
                      if f"nn.functional.{n}" not in timed)
    assert not missing, f"public names with no asv benchmark: {missing}"


def test_every_public_optimizer_is_benchmarked():
    _, optim = _bench_modules()
    public = {n for n, c in vars(jg.optim).items()
              if inspect.isclass(c) and issubclass(c, jg.optim.Optimizer)
              and c is not jg.optim.Optimizer}
    timed = set(optim.TimeOptimizerStep.params[0])
    assert public <= timed, f"optimizers with no asv benchmark: {sorted(public - timed)}"


def test_benchmark_methods_have_names_asv_recognises():
    """asv silently skips a misspelled benchmark: in bench_*.py every public function and
    method of a module-level class must be a benchmark or an asv hook."""
    bad = []
    for f in sorted(os.listdir(BENCH)):
        if not (f.startswith("bench_") and f.endswith(".py")):
            continue
        tree = ast.parse(open(os.path.join(BENCH, f)).read())
        for node in tree.body:
            items = [node] if isinstance(node, ast.FunctionDef) else (
                [m for m in node.body if isinstance(m, ast.FunctionDef)]
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_") else [])
            for fn in items:
                name = fn.name
                if not name.startswith("_") and not name.startswith(ASV_PREFIXES) \
                        and name not in ASV_HOOKS:
                    bad.append(f"{f}: {name}")
    assert not bad, f"names asv will not run: {bad}"


def test_side_by_side_package_imports_no_peer_library():
    code = ("import sys; sys.path.insert(0, %r); import benchmarks.compare, "
            "benchmarks.sidebyside; bad = [m for m in ('torch', 'jax', 'jitgrad') "
            "if m in sys.modules]; print(bad); assert not bad" % ROOT)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
