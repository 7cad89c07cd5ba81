"""Thread policy: BLAS on numba's pool with a bounded spin, else OpenMP workers wait passively,
or numba kernels stay on one thread.

Each case runs in a fresh interpreter, because libgomp reads its wait policy once, when loaded.
"""
import ctypes.util
import sys

import pytest

from fresh_python import run_json

PROBE = """
import json, os, sys
if sys.argv[1] == "gomp-first":
    import ctypes; ctypes.CDLL("libgomp.so.1")
import numba
import jitgrad as jg
from jitgrad import _threads as threads
jg.set_num_threads(2)
print(json.dumps({"policy": os.environ.get("OMP_WAIT_POLICY"), "spin": threads._workers_spin,
                  "spincount": os.environ.get("GOMP_SPINCOUNT"), "pool": jg._blas_pool.active,
                  "numba": numba.get_num_threads(), "jg": jg.get_num_threads(),
                  "max": numba.config.NUMBA_NUM_THREADS}))
"""


def _probe(mode="plain", **env):
    return run_json(PROBE, mode, env=env, timeout=120,
                    drop=("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "JITGRAD_NUM_THREADS",
                          "JITGRAD_BLAS_POOL"))


def test_fresh_process_shares_one_pool_or_gets_passive_workers():
    from jitgrad import _blas_pool
    r = _probe()
    if _blas_pool.available() == "":  # numpy's OpenBLAS takes a threads callback
        assert r["pool"] is True and r["policy"] is None
        assert r["spincount"] == "1000000" and r["spin"] is False
    else:
        assert r["pool"] is False and r["policy"] == "PASSIVE" and r["spin"] is False
    assert r["numba"] == min(2, r["max"]) and r["jg"] == 2


def test_without_the_shared_pool_workers_wait_passively():
    r = _probe(JITGRAD_BLAS_POOL="0")
    assert r["pool"] is False and r["policy"] == "PASSIVE" and r["spincount"] is None
    assert r["spin"] is False and r["numba"] == min(2, r["max"])


def test_user_wait_policy_is_respected():
    r = _probe(OMP_WAIT_POLICY="ACTIVE")
    assert r["policy"] == "ACTIVE" and r["spin"] is True and r["pool"] is False
    assert r["numba"] == 1 and r["jg"] == 2
    r = _probe(OMP_WAIT_POLICY="passive")
    assert r["spin"] is False and r["numba"] == min(2, r["max"])


@pytest.mark.skipif(not sys.platform.startswith("linux") or not ctypes.util.find_library("gomp"),
                    reason="needs GNU OpenMP on Linux")
def test_openmp_loaded_before_jitgrad_keeps_numba_serial():
    # torch imported first loads libgomp with spinning workers; jitgrad can no longer change
    # that, so its kernels must not start a second spinning worker next to BLAS
    r = _probe("gomp-first")
    assert r["policy"] is None and r["spin"] is True
    assert r["numba"] == 1 and r["jg"] == 2


def test_set_num_threads_rejects_nonpositive():
    import jitgrad as jg
    with pytest.raises(ValueError, match="set_num_threads"):
        jg.set_num_threads(0)


def test_user_spin_count_keeps_parallel_kernels():
    r = _probe(GOMP_SPINCOUNT="1000")
    assert r["policy"] is None and r["spin"] is False and r["numba"] == min(2, r["max"])
    assert r["spincount"] == "1000"
