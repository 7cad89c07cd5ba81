"""Run code in a fresh interpreter (settings read once at import: threads, malloc, BLAS pool)
and return the JSON its last output line prints."""
import json
import os
import subprocess
import sys


def run_json(code, *args, env=None, drop=(), timeout=180):
    """`python -c code *args` with os.environ minus `drop` plus `env`; fails on a non-zero exit."""
    full = {k: v for k, v in os.environ.items() if k not in drop}
    full.update(env or {})
    out = subprocess.run([sys.executable, "-c", code, *args], env=full, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])
