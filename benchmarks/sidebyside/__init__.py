"""Side-by-side comparison workloads (run with ``python benchmarks/compare.py``)."""
from . import mlp  # noqa: F401

WORKLOAD_MODULES = (mlp,)
