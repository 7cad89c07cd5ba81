"""jitgrad.distributed: data-parallel training over MPI, with torch.distributed's names.

Install with ``pip install "jitgrad[mpi]"`` (mpi4py, for a cluster's own MPI) or
``pip install "jitgrad[mpich]"`` (plus the MPICH wheel, for one machine and CI), then launch
``mpirun -n N python train.py`` (under Slurm: ``srun -n N python train.py``). Importing jitgrad
never needs MPI; these functions raise a clear error saying how to install it.

Gradients are reduced with one in-place ``Allreduce(MPI.IN_PLACE, flat)`` per flat gradient
buffer of the optimizer (``Optimizer.grad_buffers()``), not one message per tensor. Every rank
ends with the same reduced gradients, so ranks that start from the same parameters
(``broadcast_parameters``) stay identical step after step.
"""
import os
import sys

import numpy as np

from .. import _check
from .._tensor import Tensor

__all__ = ["ReduceOp", "is_available", "init_process_group", "is_initialized", "get_rank",
           "get_world_size", "barrier", "all_reduce", "broadcast", "destroy_process_group",
           "broadcast_parameters", "broadcast_optimizer_state", "allreduce_gradients",
           "DistributedSampler"]

_INSTALL = ("jitgrad.distributed needs mpi4py and an MPI library: pip install 'jitgrad[mpi]' "
            "(uses the MPI your cluster provides) or pip install 'jitgrad[mpich]' (adds the "
            "MPICH wheel, for a single machine)")


class ReduceOp:
    """Reduction operators of all_reduce (torch.distributed.ReduceOp)."""
    SUM, PRODUCT, MIN, MAX, AVG = "sum", "product", "min", "max", "avg"


class _State:
    comm = None
    hook = None


_state = _State()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(f"{_INSTALL} ({type(e).__name__}: {e})") from None
    return MPI


def is_available():
    """True if mpi4py (and so an MPI library) can be imported."""
    try:
        _mpi()
    except RuntimeError:
        return False
    return True


def _comm():
    if _state.comm is None:
        raise RuntimeError("jitgrad.distributed: the default process group is not initialized; "
                           "call jitgrad.distributed.init_process_group('mpi') first")
    return _state.comm


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the MPI job launched by mpirun / srun (``backend`` must be 'mpi'; world size and
    rank come from MPI, so ``world_size`` / ``rank``, if given, must match).

    Also: an uncaught exception on any rank aborts the whole job (MPI_Abort) instead of
    leaving the other ranks waiting forever in a collective; and unless JITGRAD_NUM_THREADS is
    set, each rank takes its share of the node's cores (cores // ranks on the node, at least
    one) for numba and BLAS."""
    if backend != "mpi":
        raise ValueError(f"init_process_group(): argument 'backend' expected 'mpi' (the only "
                         f"backend jitgrad has), got {backend!r}")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    for name, want, got in (("world_size", world_size, comm.Get_size()),
                            ("rank", rank, comm.Get_rank())):
        if want not in (-1, None) and want != got:
            raise ValueError(f"init_process_group(): argument '{name}' expected {got} (from "
                             f"MPI), got {want}")
    _state.comm = comm
    _install_abort_hook(comm)
    if not os.environ.get("JITGRAD_NUM_THREADS"):
        local = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
        from .._threads import set_num_threads
        set_num_threads(max(1, (os.cpu_count() or 1) // local))


def _install_abort_hook(comm):
    previous = sys.excepthook

    def abort_on_error(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        comm.Abort(1)
    if _state.hook is None:
        _state.hook = previous
        sys.excepthook = abort_on_error


def is_initialized():
    return _state.comm is not None


def get_rank():
    return _comm().Get_rank()


def get_world_size():
    return _comm().Get_size()


def barrier():
    _comm().Barrier()


def destroy_process_group():
    """Leave the process group (MPI itself is finalized at exit by mpi4py)."""
    if _state.hook is not None:
        sys.excepthook = _state.hook
        _state.hook = None
    _state.comm = None


def _buffer(op, t):
    _check.tensor(op, "tensor", t)
    data = t.data
    if not data.flags.c_contiguous or not data.flags.writeable:
        raise ValueError(f"{op}(): argument 'tensor' expected a contiguous, writable tensor "
                         f"(it is reduced in place), got shape {data.shape} with strides "
                         f"{data.strides}")
    return data


def _allreduce_inplace(buf, op):
    MPI = _mpi()
    ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
           ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    if op not in ops:
        raise ValueError(f"all_reduce(): argument 'op' expected a ReduceOp, got {op!r}")
    comm = _comm()
    comm.Allreduce(MPI.IN_PLACE, buf, op=ops[op])
    if op == ReduceOp.AVG:
        buf /= comm.Get_size()


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` across all ranks, in place (every rank gets the result)."""
    _allreduce_inplace(_buffer("all_reduce", tensor), op)
    tensor._version[0] += 1


def broadcast(tensor, src, group=None, async_op=False):
    """Overwrite `tensor` on every rank with rank `src`'s, in place."""
    data = _buffer("broadcast", tensor)
    _comm().Bcast(data, root=_check.integer("broadcast", "src", src, minimum=0))
    tensor._version[0] += 1


def _flat_broadcast(tensors, src):
    """Broadcast many tensors with one message per dtype (packed into a flat array)."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t.data.dtype, []).append(t)
    comm = _comm()
    for dtype, ts in by_dtype.items():
        flat = np.concatenate([t.data.reshape(-1) for t in ts]) if ts else np.empty(0, dtype)
        comm.Bcast(flat, root=src)
        start = 0
        for t in ts:
            n = t.data.size
            t.data[...] = flat[start:start + n].reshape(t.data.shape)
            t._version[0] += 1
            start += n


def broadcast_parameters(module, src=0):
    """Make every rank's parameters and buffers equal to rank `src`'s (one message per
    dtype); call it once after building the model so all ranks start identical."""
    tensors = [t for t in list(module.parameters()) + list(module.buffers())
               if isinstance(t, Tensor)]
    _flat_broadcast(tensors, _check.integer("broadcast_parameters", "src", src, minimum=0))


def broadcast_optimizer_state(optimizer, src=0):
    """Make every rank's optimizer state (and hyper-parameters) equal to rank `src`'s."""
    comm = _comm()
    state = comm.bcast(optimizer.state_dict() if comm.Get_rank() == src else None, root=src)
    if comm.Get_rank() != src:
        optimizer.load_state_dict(state)


def allreduce_gradients(optimizer, op="mean"):
    """Replace every gradient of `optimizer`'s parameters by its mean (op='mean') or sum
    (op='sum') over all ranks: one in-place Allreduce per flat gradient buffer
    (``Optimizer.grad_buffers()``). A parameter without a gradient on this rank counts as a
    zero gradient, and afterwards every parameter's ``.grad`` is its slice of the buffer, the
    same on every rank."""
    if op not in ("mean", "sum"):
        raise ValueError(f"allreduce_gradients(): argument 'op' expected 'mean' or 'sum', got "
                         f"{op!r}")
    optimizer.grad_buffers()  # re-homes any group whose layout changed
    for layout in optimizer._layouts:
        for buf in layout.buffers:
            reduce_store(buf.store, ReduceOp.AVG if op == "mean" else ReduceOp.SUM)


def reduce_store(store, op):
    """All-reduce one GradStore's flat array in place: first every parameter's slot is made
    to hold its gradient (zeros where it has none, a hand-set gradient copied in) and
    ``.grad`` becomes the slot, so all ranks reduce (and step) the same layout."""
    for p, view in zip(store.params, store.views):
        g = p.grad
        if g is view:
            continue
        if g is None:
            view[...] = 0
        else:
            np.copyto(view, g, casting="unsafe")
        p.grad = view
    _allreduce_inplace(store.grad, op)


def reduce_loose(params, op):
    """All-reduce the gradients of parameters that have no GradStore (no optimizer yet): one
    message per dtype through a packed copy."""
    by_dtype = {}
    for p in params:
        by_dtype.setdefault(p.data.dtype, []).append(p)
    for dtype, ps in by_dtype.items():
        flat = np.concatenate([(np.zeros(p.data.size, dtype) if p.grad is None else
                                p.grad.reshape(-1)) for p in ps])
        _allreduce_inplace(flat, op)
        start = 0
        for p in ps:
            n = p.data.size
            p.grad = flat[start:start + n].reshape(p.data.shape).copy()
            start += n


from ..data.distributed import DistributedSampler  # noqa: E402,F401  (torch.utils.data's too)
