"""DistributedDataParallel: wrap a model so that ``loss.backward()`` leaves every rank with the
mean gradient over all ranks (torch.nn.parallel.DistributedDataParallel's signature).

How: construction broadcasts rank 0's parameters and buffers; each training-mode forward queues
a callback that the engine runs right after the next backward has finished every leaf
gradient. It all-reduces (mean) with one in-place Allreduce per flat gradient buffer: the
optimizer's GradStore when the parameters have one, else a packed copy per dtype. Bucketing and
overlapping the all-reduce with backward (torch's ~25 MB buckets) are not done: the gradients
of the models here are far below one bucket, where a single message is already the cheapest.
"""
from contextlib import contextmanager

from ... import distributed as dist
from ..._grad_mode import is_grad_enabled
from ...autograd.engine import queue_callback
from ..modules.module import Module


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel(): argument 'module' expected a "
                            f"jitgrad.nn.Module, got {type(module).__name__}")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel(): call "
                               "jitgrad.distributed.init_process_group('mpi') first")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        self._queued = False
        dist.broadcast_parameters(module, src=0)

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training:
            bufs = list(self.module.buffers())
            if bufs:
                dist._flat_broadcast(bufs, 0)
        out = self.module(*inputs, **kwargs)
        if (self.training and self.require_backward_grad_sync and is_grad_enabled()
                and not self._queued):
            self._queued = True
            queue_callback(self._reduce_gradients)
        return out

    def _reduce_gradients(self):
        self._queued = False
        params = [p for p in self.module.parameters() if p.requires_grad]
        homes, loose = {}, []
        for p in params:
            home = p._grad_home
            if home is None:
                loose.append(p)
            else:
                homes[id(home)] = home
        for home in homes.values():
            dist.reduce_store(home, dist.ReduceOp.AVG)
        if loose:
            dist.reduce_loose(loose, dist.ReduceOp.AVG)

    @contextmanager
    def no_sync(self):
        """Backward passes inside accumulate local gradients without all-reducing them."""
        prev = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = prev
