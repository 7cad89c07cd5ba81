"""A 784-256-10 MLP (batch 64) SGD step: in-process, and from a fresh interpreter.

``timeraw_`` benchmarks run their code in a new interpreter: import jitgrad plus the first
forward + backward + SGD update. ``cold``: the kernel cache is disabled, so every kernel is
compiled (what a first run after install costs without a cache). ``warm``: the kernels come from
the on-disk cache, which this module's import fills (it runs the step in-process).
"""
import inspect
import textwrap

import jitgrad as jg

from . import common

_PARAMS = common.mlp_init(jg)
_BATCHES = common.mlp_batches(jg)
_I = [0]


def time_mlp_784_256_10_b64_sgd_step():
    x, onehot = _BATCHES[_I[0] % len(_BATCHES)]
    _I[0] += 1
    common.mlp_step(jg, _PARAMS, x, onehot, common.MLP_LR)


def _first_step_code(disable_cache):
    helpers = "".join(inspect.getsource(f) for f in
                      (common.mlp_init, common.mlp_batches, common.mlp_step))
    consts = (f"MLP_SIZES = {common.MLP_SIZES!r}\nMLP_BATCH = {common.MLP_BATCH!r}\n"
              f"MLP_LR = {common.MLP_LR!r}\n")
    env = "import os\nos.environ['JITGRAD_DISABLE_CACHE'] = '1'\n" if disable_cache else ""
    body = textwrap.dedent("""
        import numpy as np
        import jitgrad as jg
        params = mlp_init(jg)
        x, onehot = mlp_batches(jg, n=1)[0]
        loss = mlp_step(jg, params, x, onehot, MLP_LR)
        assert np.isfinite(loss.item())
    """)
    return env + "import numpy as np\n" + consts + helpers + body


def timeraw_cold_import_and_first_mlp_step():
    return _first_step_code(disable_cache=True)


def timeraw_warm_import_and_first_mlp_step():
    return _first_step_code(disable_cache=False)


timeraw_cold_import_and_first_mlp_step.repeat = 3
timeraw_cold_import_and_first_mlp_step.timeout = 300

time_mlp_784_256_10_b64_sgd_step()  # compiles, and fills the on-disk cache for the warm case
