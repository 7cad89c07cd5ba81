"""The kernel cache policy of kernels/_jit.py, exercised in fresh processes.

Each test gives its subprocesses their own JITGRAD_CACHE_DIR under tmp_path, so nothing here
reads or writes the user's cache.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import jitgrad  # noqa: F401  (the kernels package below is jitgrad.kernels)
from jitgrad.kernels import _jit

KERNELS_DIR = os.path.dirname(_jit.__file__)

# A tiny workload: compiles a handful of kernels, prints the result and the dispatchers' stats.
WORKLOAD = textwrap.dedent("""
    import json, os
    import jitgrad as jg
    from jitgrad.compile import kernel_dispatchers
    from jitgrad.kernels import _jit
    a = jg.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=jg.float64, requires_grad=True)
    loss = (a * a).sum()
    loss.backward()
    disps = kernel_dispatchers().values()
    print(json.dumps({
        "loss": loss.item(), "grad": a.grad.tolist(), "cache_dir": _jit.CACHE_DIR,
        "hits": sum(sum(d.stats.cache_hits.values()) for d in disps),
        "misses": sum(sum(d.stats.cache_misses.values()) for d in disps),
        "numba_cache_dir_env": os.environ.get("NUMBA_CACHE_DIR"),
    }))
""")
EXPECTED = {"loss": 14.25, "grad": [[2.0, -4.0], [6.0, 1.0]]}


def _env(cache_dir=None, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("JITGRAD_CACHE_DIR", "JITGRAD_DISABLE_CACHE", "NUMBA_CACHE_DIR")}
    if cache_dir is not None:
        env["JITGRAD_CACHE_DIR"] = str(cache_dir)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(args, env, cwd=None):
    proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _workload(env):
    proc = _run(["-c", WORKLOAD], env)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["loss"] == EXPECTED["loss"] and out["grad"] == EXPECTED["grad"]
    return out, proc.stderr


def _files(root):
    return {os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns
            for d, _, fs in os.walk(root) for f in fs}


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    """A cache filled by one cold run of WORKLOAD, and that run's report."""
    cache = tmp_path_factory.mktemp("tiny") / "cache"
    first, _ = _workload(_env(cache))
    return cache, first


def test_second_process_loads_from_cache(tiny_cache, tmp_path):
    cache, first = tmp_path / "cache", tiny_cache[1]
    shutil.copytree(tiny_cache[0], cache, copy_function=shutil.copy2)
    assert first["cache_dir"] == str(tiny_cache[0])
    assert first["misses"] > 0 and first["hits"] == 0
    written = _files(cache)
    assert any(f.endswith(".nbi") for f in written) and any(f.endswith(".nbc") for f in written)
    second, _ = _workload(_env(cache))
    assert second["misses"] == 0 and second["hits"] > 0  # (helpers inlined in callers: fewer)
    assert _files(cache) == written  # nothing new written, nothing rewritten


# The full `python -m jitgrad.compile` runs in .ci/run (it fills the cache the test suite then
# uses); here two unary ops keep the cold compile short.
OPS = ["neg", "exp"]


@pytest.fixture(scope="module")
def compiled_cache(tmp_path_factory):
    """A cache filled by `python -m jitgrad.compile --ops neg,exp --jobs 1`."""
    cache = tmp_path_factory.mktemp("compiled") / "cache"
    proc = _run(["-m", "jitgrad.compile", "--ops", ",".join(OPS), "--jobs", "1"], _env(cache))
    assert "specialisations ready" in proc.stdout and str(cache) in proc.stdout
    return cache, proc.stdout


def test_compile_command_fills_the_cache_for_later_processes(compiled_cache):
    cache, report = compiled_cache
    assert "(0 loaded from cache," in report
    code = textwrap.dedent("""
        from jitgrad.compile import kernel_dispatchers, warm_up
        assert not warm_up(ops=%r)
        d = kernel_dispatchers().values()
        print(sum(sum(x.stats.cache_misses.values()) for x in d),
              sum(sum(x.stats.cache_hits.values()) for x in d))
    """ % OPS)
    misses, hits = map(int, _run(["-c", code], _env(cache)).stdout.split())
    assert misses == 0 and hits > 0


def test_two_compile_processes_fill_one_cache(tmp_path):
    """--jobs 2: the float64 half compiles in a second process into the same cache; this
    process then loads it (so the report counts loads), and a later process compiles nothing."""
    cache = tmp_path / "cache"
    report = _run(["-m", "jitgrad.compile", "--ops", ",".join(OPS), "--jobs", "2"],
                  _env(cache)).stdout
    assert "specialisations ready" in report and "failed" not in report
    assert "(0 loaded from cache," not in report   # the float64 half came from the other one
    code = textwrap.dedent("""
        from jitgrad.compile import kernel_dispatchers, warm_up
        assert not warm_up(ops=%r)
        d = kernel_dispatchers().values()
        print(sum(sum(x.stats.cache_misses.values()) for x in d))
    """ % OPS)
    assert int(_run(["-c", code], _env(cache)).stdout) == 0


def test_compile_info_and_clear(compiled_cache, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(compiled_cache[0], cache)
    (cache / "unrelated.txt").write_text("not jitgrad's")
    info = _run(["-m", "jitgrad.compile", "--info"], _env(cache)).stdout
    assert "cache enabled: True" in info and str(cache) in info
    for mod, stamp in _jit.STAMPS.items():
        assert f"{mod}" in info and stamp in info
    stale = cache / "elementwise-0123456789abcdef"
    stale.mkdir()
    _run(["-m", "jitgrad.compile", "--prune"], _env(cache))
    assert not stale.exists() and any(p.name.startswith("elementwise-") for p in cache.iterdir())
    _run(["-m", "jitgrad.compile", "--clear"], _env(cache))
    assert [p.name for p in cache.iterdir()] == ["unrelated.txt"]  # only jitgrad's entries go


def test_compile_rejects_unknown_op_names(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "jitgrad.compile", "--ops", "no_such_op"],
                          env=_env(tmp_path / "cache"), capture_output=True, text=True)
    assert proc.returncode == 2 and "no_such_op" in proc.stdout


def test_stamps_are_content_hashes_of_a_file_and_its_kernel_imports(tmp_path):
    pkg = tmp_path / "k"
    pkg.mkdir()
    shutil.copy(os.path.join(KERNELS_DIR, "_jit.py"), pkg)
    (pkg / "helper.py").write_text("from ._jit import kernel\n\n@kernel\ndef h(x):\n    return x\n")
    (pkg / "user.py").write_text("from .helper import h\n")
    (pkg / "user2.py").write_text("from . import helper\n")
    (pkg / "chain.py").write_text("from .user import h\n")
    (pkg / "alone.py").write_text("from ._jit import kernel\n")
    before = _jit._file_stamps(str(pkg))
    os.utime(pkg / "alone.py", (0, 0))  # a touch alone changes nothing
    assert _jit._file_stamps(str(pkg)) == before
    (pkg / "helper.py").write_text("from ._jit import kernel\n\n@kernel\ndef h(x):\n    return -x\n")
    after = _jit._file_stamps(str(pkg))
    changed = {m for m in before if before[m] != after[m]}
    assert changed == {"helper", "user", "user2", "chain"}
    with open(pkg / "_jit.py", "a") as f:
        f.write("\n# changed options\n")
    assert all(after[m] != s for m, s in _jit._file_stamps(str(pkg)).items())


def test_stamps_of_the_shipped_kernels_do_not_depend_on_location(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(KERNELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _jit._file_stamps(str(copy)) == _jit._file_stamps()


def test_edited_helper_in_another_file_is_never_served_stale(tmp_path):
    """numba issue 1833: plain cache=True keeps the caller's old machine code here."""
    pkg = tmp_path / "kpkg"
    pkg.mkdir()
    shutil.copy(os.path.join(KERNELS_DIR, "_jit.py"), pkg)
    (pkg / "__init__.py").write_text("")
    helper = pkg / "helper.py"
    helper.write_text("from ._jit import kernel\n\n@kernel\ndef bump(x):\n    return x + 1.0\n")
    (pkg / "user.py").write_text("from ._jit import kernel\nfrom .helper import bump\n\n\n"
                                 "@kernel\ndef twice_bumped(x):\n    return 2.0 * bump(x)\n")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
            "from kpkg.user import twice_bumped\n"
            "print(twice_bumped(1.0), sum(twice_bumped.stats.cache_hits.values()))")
    env = _env(tmp_path / "cache")
    assert _run(["-c", code], env).stdout.split() == ["4.0", "0"]
    assert _run(["-c", code], env).stdout.split() == ["4.0", "1"]
    st = os.stat(helper)
    helper.write_text(helper.read_text().replace("x + 1.0", "x + 2.0"))  # same size
    os.utime(helper, ns=(st.st_atime_ns, st.st_mtime_ns))                # same mtime
    assert _run(["-c", code], env).stdout.split() == ["6.0", "0"]
    assert _run(["-c", code], env).stdout.split() == ["6.0", "1"]


@pytest.mark.parametrize("suffix", [".nbi", ".nbc"])
def test_truncated_cache_files_are_recompiled(tiny_cache, tmp_path, suffix):
    cache, first = tmp_path / "cache", tiny_cache[1]
    shutil.copytree(tiny_cache[0], cache)
    truncated = [f for f in _files(cache) if f.endswith(suffix)]
    assert truncated
    for f in truncated:
        with open(f, "r+b") as fh:
            fh.truncate(os.path.getsize(f) // 2)
    second, err = _workload(_env(cache))
    assert "discarding unreadable kernel cache entry" in err
    assert second["misses"] == first["misses"]  # everything recompiled, results checked
    third, err = _workload(_env(cache))
    assert "discarding" not in err and third["misses"] == 0  # and the cache is whole again


def test_unusable_cache_dir_turns_the_cache_off(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # makedirs under a regular file fails, even as root
    out, err = _workload(_env(blocker / "cache"))
    assert out["cache_dir"] is None and out["hits"] == 0
    assert "Traceback" not in err


def test_unusable_default_location_falls_back_to_temp(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out, _ = _workload(_env(XDG_CACHE_HOME=blocker / "xdg", TMPDIR=tmp))
    assert out["cache_dir"] == str(tmp / f"jitgrad-cache-{os.getuid()}")
    assert any(f.endswith(".nbi") for f in _files(out["cache_dir"]))


def test_disable_cache_setting(tmp_path):
    cache = tmp_path / "cache"
    env = _env(cache, JITGRAD_DISABLE_CACHE=1)
    out, _ = _workload(env)
    assert out["cache_dir"] is None and out["hits"] == 0
    assert not cache.exists() or not _files(cache)
    assert "cache enabled: False" in _run(["-m", "jitgrad.compile", "--info"], env).stdout


def test_users_numba_cache_location_is_untouched(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "usermod.py").write_text("import numba\n\n@numba.njit(cache=True)\n"
                                     "def f(x):\n    return x + 1\n")
    code = WORKLOAD + textwrap.dedent("""
        import numba, usermod
        assert usermod.f(1) == 2
        print(json.dumps([numba.config.CACHE_DIR, usermod.f.stats.cache_path]))
    """)
    cache = tmp_path / "cache"
    proc = _run(["-c", code], _env(cache, PYTHONPATH=user))
    lines = proc.stdout.strip().splitlines()
    assert json.loads(lines[-2])["numba_cache_dir_env"] is None
    numba_dir, user_path = json.loads(lines[-1])
    assert numba_dir == "" and user_path == str(user / "__pycache__")
    assert not any("usermod" in f for f in _files(cache))
