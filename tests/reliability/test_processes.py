"""Processes and threads (issue 12): a forked Pool after a parallel optimizer step finishes,
threads training separate models agree with sequential runs, and fresh processes compiling
into one fresh kernel cache at once all succeed."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import jitgrad as jg

FORK_AFTER_STEP = textwrap.dedent("""
    import json, multiprocessing as mp, numba, numpy as np
    import jitgrad as jg
    from jitgrad.kernels import _jit

    def train(seed):
        jg.manual_seed(seed)
        w = jg.nn.Parameter(jg.randn(40000))       # > 16384: the prange (OpenMP) path
        opt = jg.optim.Adam([w], lr=1e-2)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        return float(w.detach().numpy().astype(np.float64).sum()), _jit.forked_serial

    if __name__ == "__main__":
        jg.set_num_threads(2)
        parent = train(0)                          # the parent runs a parallel region
        layer = numba.threading_layer()
        with mp.get_context("fork").Pool(2) as pool:
            children = pool.map_async(train, [0, 1, 2]).get(timeout=240)
        print(json.dumps({"layer": layer, "parent": parent[0],
                          "children": [c[0] for c in children],
                          "serial": [c[1] for c in children]}))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_pool_after_parallel_step_finishes(tmp_path):
    script = tmp_path / "fork_after_step.py"
    script.write_text(FORK_AFTER_STEP)
    env = dict(os.environ)
    env.pop("JITGRAD_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["children"][0] == out["parent"]  # the serial twin computes the same bits
    assert len(set(out["children"])) == 3
    if out["layer"] == "omp":
        assert out["serial"] == [True] * 3


def _train(seed, steps=40):
    g = jg.Generator().manual_seed(seed)
    model = jg.nn.Sequential(jg.nn.Linear(16, 32), jg.nn.Tanh(), jg.nn.Linear(32, 4))
    for p in model.parameters():
        jg.nn.init.normal_(p, std=0.3, generator=g)
    opt = jg.optim.Adam(model.parameters(), lr=1e-2)
    x = jg.randn(64, 16, generator=g)
    y = jg.randint(0, 4, (64,), generator=g)
    for _ in range(steps):
        opt.zero_grad()
        jg.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def test_threads_training_separate_models_match_sequential():
    seeds = [1, 2, 3, 4]
    sequential = {s: _train(s) for s in seeds}
    results, errors = {}, []

    def run(s):
        try:
            results[s] = _train(s)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    for s in seeds:
        np.testing.assert_array_equal(results[s], sequential[s])


def test_threads_stepping_parallel_kernels_concurrently():
    """Big parameters take the OpenMP prange path in every thread at once."""
    def big(seed, out):
        g = jg.Generator().manual_seed(seed)
        w = jg.nn.Parameter(jg.randn(40000, generator=g))
        opt = jg.optim.Adam([w], lr=1e-2)
        for _ in range(5):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        out[seed] = w.detach().numpy().copy()

    sequential, concurrent = {}, {}
    for s in range(3):
        big(s, sequential)
    threads = [threading.Thread(target=big, args=(s, concurrent)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in range(3):
        np.testing.assert_array_equal(concurrent[s], sequential[s])


COMPILE = textwrap.dedent("""
    import json, sys, warnings
    warnings.simplefilter("error", RuntimeWarning)   # a discarded cache entry fails the run
    import jitgrad as jg
    order = [jg.float32, jg.float64] if sys.argv[1] == "0" else [jg.float64, jg.float32]
    res = {}
    for dt in order:
        a = jg.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=dt, requires_grad=True)
        loss = a.exp().sum()
        loss.backward()
        res[str(dt)] = [round(loss.item(), 4), a.grad.round(4).tolist()]
    print(json.dumps(res, sort_keys=True))
""")


def test_concurrent_processes_share_one_fresh_cache(tmp_path):
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k not in ("JITGRAD_DISABLE_CACHE",)}
    env["JITGRAD_CACHE_DIR"] = str(cache)
    procs = [subprocess.Popen([sys.executable, "-c", COMPILE, str(i % 2)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        outs.append(stdout.strip().splitlines()[-1])
    assert len(set(outs)) == 1
    # every index names only complete data files; a fresh process loads them all cleanly
    for root, _, files in os.walk(cache):
        assert not [f for f in files if ".tmp" in f], files
    again = subprocess.run([sys.executable, "-c", COMPILE, "1"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == outs[0]


def test_show_config(capsys):
    text = jg.show_config()
    out = capsys.readouterr().out
    assert text == out.rstrip("\n") or text.strip() == out.strip()
    for needle in ("jitgrad", "numpy", "numba", "Python", "threading layer",
                   "OpenMP wait policy", "BLAS thread pool", "kernel cache", "threads"):
        assert needle in out, needle
    from jitgrad.kernels import _jit
    assert str(_jit.CACHE_DIR) in out
