"""numpy's BLAS jobs on numba's OpenMP pool (jitgrad/_blas_pool.py, kernels/blas_jobs.py).

Every case that could hang if the callback ran two jobs of one GEMM on one thread runs in a fresh
interpreter under a timeout, so a deadlock fails the test instead of stopping the suite.
"""
import os

import numpy as np
import pytest

from fresh_python import run_json
from jitgrad import _blas_pool

needs_pool = pytest.mark.skipif(not _blas_pool.active, reason=f"shared pool {_blas_pool.status}")

SHAPES = [((512, 784), (784, 256)), ((32, 128), (128, 512)), ((64, 10), (10, 128)),
          ((300, 77), (77, 301)), ((2048, 32), (32, 512))]


def _operands(dtype):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(a).astype(dtype), rng.standard_normal(b).astype(dtype))
            for a, b in SHAPES]


@needs_pool
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_products_on_the_shared_pool_equal_openblas_own_threads(dtype):
    ops = _operands(dtype)
    pooled = [a @ b for a, b in ops] + [a.T.copy().T @ b.T.copy().T for a, b in ops]
    _blas_pool.uninstall()
    try:
        assert not _blas_pool.installed()
        own = [a @ b for a, b in ops] + [a.T.copy().T @ b.T.copy().T for a, b in ops]
    finally:
        assert _blas_pool.install().startswith("on")
    assert _blas_pool.installed()
    for p, o in zip(pooled, own):
        np.testing.assert_array_equal(p, o)  # same kernels, same split: bit for bit


@needs_pool
def test_products_from_many_python_threads_at_once_equal_them_one_by_one():
    """Concurrent calls are serialised (each call's jobs use OpenBLAS's per-thread slots), so
    every product equals, bit for bit, the same product run alone."""
    import threading
    ops = _operands(np.float32) + _operands(np.float64)
    want = [a @ b for a, b in ops]
    bad = []

    def work():
        for _ in range(20):
            for (a, b), w in zip(ops, want):
                if not np.array_equal(a @ b, w):
                    bad.append(a.shape)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads) and not bad


EDGE = """
import json, os, numpy as np
import jitgrad as jg
from jitgrad import _blas_pool
from jitgrad._threads import numba_threads, set_numba_threads
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(0)
a = rng.standard_normal((512, 784)).astype(np.float32)
b = rng.standard_normal((784, 256)).astype(np.float32)
want = a.astype(np.float64) @ b.astype(np.float64)
ok = lambda: bool(np.allclose(a @ b, want, rtol=1e-4, atol=1e-3))
r = {"on": _blas_pool.active}
set_numba_threads(1)                   # fewer numba threads in this thread than BLAS jobs
r["one_numba_thread"] = ok(); r["restored"] = numba_threads() == 1
set_numba_threads(2)
with threadpool_limits(4, "blas"):     # more BLAS jobs than the pool has threads
    r["more_jobs_than_pool"] = ok()
r["still_on"] = _blas_pool.installed()
pid = os.fork()
if pid == 0:                           # GNU OpenMP cannot run a region in a forked child
    os._exit(0 if ok() and not _blas_pool.installed() else 3)
r["child"] = os.waitpid(pid, 0)[1] == 0
r["parent_after_fork"] = ok() and _blas_pool.installed()
print(json.dumps(r))
"""


@needs_pool
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_edge_cases_run_on_the_right_threads_without_hanging():
    r = run_json(EDGE)
    assert r == {"on": True, "one_numba_thread": True, "restored": True,
                 "more_jobs_than_pool": True, "still_on": True, "child": True,
                 "parent_after_fork": True}


OFF = """
import json, os
import jitgrad as jg
from jitgrad import _blas_pool
print(json.dumps({"on": _blas_pool.active, "status": _blas_pool.status,
                  "policy": os.environ.get("OMP_WAIT_POLICY")}))
"""


@pytest.mark.parametrize("env, why", [({"JITGRAD_BLAS_POOL": "0"}, "JITGRAD_BLAS_POOL=0"),
                                      ({"OMP_THREAD_LIMIT": "2"}, "OMP_THREAD_LIMIT is set")])
def test_switched_off_by_the_environment(env, why):
    r = run_json(OFF, env=env)
    assert r["on"] is False and r["status"] == f"off: {why}"


def test_show_config_reports_the_pool():
    import io

    import jitgrad as jg
    text = jg.show_config(io.StringIO())
    assert "BLAS thread pool" in text and _blas_pool.status in text
