"""glibc malloc thresholds (jitgrad/_malloc.py): freed memory stays for the next step.

Each case runs in a fresh interpreter: the thresholds are process-wide and set on import.
"""
import pytest

from fresh_python import run_json
from jitgrad import _malloc

needs_glibc = pytest.mark.skipif(not _malloc.glibc(), reason="glibc only")

# A GRUCell loop's training steps (64 steps, batch 32, hidden 128): with glibc's defaults the
# heap top is trimmed every step and ~1,760 pages fault in again.
GRU_LOOP = """
import json, resource, numpy as np
import jitgrad as jg
from jitgrad import _malloc
jg.manual_seed(0)
cell = jg.nn.GRUCell(32, 128)
opt = jg.optim.Adam(cell.parameters())
rng = np.random.default_rng(0)
x = jg.from_numpy(rng.standard_normal((64, 32, 32)).astype(np.float32))
target = jg.from_numpy(rng.standard_normal((32, 128)).astype(np.float32))
def step():
    opt.zero_grad()
    h = None
    for t in range(64):
        h = cell(x[t], h)
    jg.nn.functional.mse_loss(h, target).backward()
    opt.step()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
print(json.dumps({"status": _malloc.status, "faults": faults}))
"""


def _run(code, **env):
    return run_json(code, env=env, drop=("JITGRAD_MALLOC_TUNING",) + _malloc._USER_VARS,
                    timeout=300)


@needs_glibc
def test_a_recurrent_training_step_reuses_its_memory_instead_of_faulting_it_in():
    tuned = _run(GRU_LOOP)
    default = _run(GRU_LOOP, JITGRAD_MALLOC_TUNING="0")
    assert tuned["status"].startswith("freed memory kept")
    assert default["status"] == "glibc defaults: JITGRAD_MALLOC_TUNING=0"
    assert default["faults"] > 500        # glibc's defaults: the step's big arrays fault in
    assert tuned["faults"] < 20, tuned


STATUS = """
import json
import jitgrad as jg
from jitgrad import _malloc
print(json.dumps({"status": _malloc.status, "config": "malloc" in jg.show_config(open("/dev/null", "w"))}))
"""


@needs_glibc
@pytest.mark.parametrize("var", _malloc._USER_VARS)
def test_the_users_own_glibc_settings_are_kept(var):
    r = _run(STATUS, **{var: "1048576"})
    assert r["status"] == f"glibc defaults: {var} is set (kept)"


@needs_glibc
def test_show_config_reports_the_thresholds():
    r = _run(STATUS)
    assert r["config"] and r["status"] == (
        f"freed memory kept: mmap above {_malloc.MMAP_THRESHOLD >> 20} MiB, trim above "
        f"{_malloc.TRIM_THRESHOLD >> 20} MiB")
