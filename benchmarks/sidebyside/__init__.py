"""Side-by-side comparison workloads (run with ``python benchmarks/compare.py``)."""
from . import cnn, mlp, optim, overhead, recurrent  # noqa: F401

WORKLOAD_MODULES = (mlp, cnn, recurrent, optim, overhead)
