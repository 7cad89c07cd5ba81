"""Data-parallel training over MPI with real 2-rank runs (mpirun), and DistributedSampler.

The 2-rank tests need mpi4py and an mpirun (pip install 'jitgrad[mpich]'); they are skipped
with that reason where none is installed. Every launch has a timeout, so a hang fails."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jitgrad as jg
from jitgrad import nn
from jitgrad.data import DistributedSampler

K, B, LR = 6, 16, 1e-2


def _mpirun():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("no MPI: pip install 'jitgrad[mpich]' to run the 2-rank tests")
    exe = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or shutil.which("mpirun")
    if exe is None:
        pytest.skip("mpi4py is installed but no mpirun was found")
    return exe


def _launch(tmp_path, body, n=2, timeout=180, env=None):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([_mpirun(), "-n", str(n), sys.executable, str(script),
                           str(tmp_path)], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


TRAIN = f"""
import sys
import numpy as np
import jitgrad as jg
import jitgrad.distributed as dist
from jitgrad import nn

out = sys.argv[1]
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
jg.manual_seed(rank)              # different on purpose: DDP must broadcast rank 0's
model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).double()
MODE = "MODE_"
net = nn.parallel.DistributedDataParallel(model) if MODE == "ddp" else model
if MODE != "ddp":
    dist.broadcast_parameters(model)
opt = jg.optim.Adam(model.parameters(), lr={LR})
images, labels = jg.data.load_digits("train")
X, Y = images.numpy().reshape(-1, 64).astype(np.float64), labels.numpy()
from mpi4py import MPI
for step in range({K}):
    lo = step * {2 * B} + rank * {B}        # rank r: the r-th half of global batch `step`
    x, y = jg.tensor(X[lo:lo + {B}]), jg.tensor(Y[lo:lo + {B}])
    opt.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    if MODE != "ddp":
        dist.allreduce_gradients(opt)
    opt.step()
    sums = MPI.COMM_WORLD.allgather(float(sum(p.data.astype(np.float64).sum()
                                              for p in model.parameters())))
    assert len(set(sums)) == 1, (step, sums)          # identical on every rank, every step
np.savez(f"{{out}}/rank{{rank}}.npz", *[p.data for p in model.parameters()],
         threads=jg.get_num_threads())
"""


def _reference():
    """One process, batch 2B, the same data order and rank 0's initialisation (float64, so
    the only difference left is the order of a two-term sum)."""
    jg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).double()
    opt = jg.optim.Adam(model.parameters(), lr=LR)
    images, labels = jg.data.load_digits("train")
    X, Y = images.numpy().reshape(-1, 64).astype(np.float64), labels.numpy()
    for step in range(K):
        lo = step * 2 * B
        opt.zero_grad()
        nn.functional.cross_entropy(model(jg.tensor(X[lo:lo + 2 * B])),
                                    jg.tensor(Y[lo:lo + 2 * B])).backward()
        opt.step()
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("mode", ["ddp", "allreduce_gradients"])
def test_two_ranks_equal_one_process_with_the_double_batch(tmp_path, mode):
    r = _launch(tmp_path, TRAIN.replace("MODE_", mode),
                env={"JITGRAD_CACHE_DIR": str(tmp_path / "fresh-cache")})  # both compile
    assert r.returncode == 0, r.stdout + r.stderr
    want = _reference()
    for rank in (0, 1):
        got = np.load(tmp_path / f"rank{rank}.npz")
        assert int(got["threads"]) == max(1, os.cpu_count() // 2)   # its share of the cores
        for i, w in enumerate(want):
            np.testing.assert_allclose(got[f"arr_{i}"], w, rtol=1e-9, atol=1e-11)
    assert os.listdir(tmp_path / "fresh-cache")    # the shared fresh cache was written


def test_a_failing_rank_fails_the_job_promptly(tmp_path):
    r = _launch(tmp_path, """
        import jitgrad.distributed as dist
        dist.init_process_group("mpi")
        if dist.get_rank() == 1:
            raise RuntimeError("rank 1 broke")
        dist.barrier()        # would wait forever without the abort hook
        """, timeout=90)
    assert r.returncode != 0 and "rank 1 broke" in r.stderr


def test_collectives(tmp_path):
    r = _launch(tmp_path, """
        import numpy as np
        import jitgrad as jg
        import jitgrad.distributed as dist
        dist.init_process_group("mpi")
        rank = dist.get_rank()
        t = jg.tensor([1.0, 2.0]) * (rank + 1)
        dist.all_reduce(t)
        assert t.tolist() == [3.0, 6.0], t
        t = jg.tensor([float(rank)])
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        assert t.item() == 1.0
        t = jg.tensor([4.0, 8.0]) * (rank + 1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [6.0, 12.0]
        b = jg.tensor([float(rank + 5)])
        dist.broadcast(b, src=1)
        assert b.item() == 6.0
        assert dist.get_world_size() == 2 and dist.is_initialized()
        dist.destroy_process_group()
        print("ok")
        """, timeout=90)
    assert r.returncode == 0 and r.stdout.count("ok") == 2, r.stdout + r.stderr  # "ok\n": one write


def test_without_a_process_group_errors_are_clear():
    import jitgrad.distributed as dist
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("nccl")


def test_distributed_sampler_shards():
    ds = jg.data.TensorDataset(jg.arange(10))
    shards = [list(DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False))
              for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]       # padded, as torch
    s = [DistributedSampler(ds, num_replicas=3, rank=r, drop_last=True) for r in range(3)]
    got = [list(x) for x in s]
    assert all(len(g) == 3 for g in got) and not set(got[0]) & set(got[1])
    first = list(s[0])
    s[0].set_epoch(1)
    assert list(s[0]) != first
    s[0].set_epoch(0)
    assert list(s[0]) == first
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(ds, num_replicas=2, rank=2)
