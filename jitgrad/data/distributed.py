"""DistributedSampler (torch.utils.data.distributed.DistributedSampler): each rank a disjoint
shard of the data set, the same length on every rank, reshuffled per epoch by set_epoch."""
import math

import numpy as np

from .. import _check
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Indices for rank `rank` of `num_replicas` (both from jitgrad.distributed when None).
    With shuffle, epoch e uses the permutation seeded by seed + e (the same on every rank);
    without drop_last the index list is padded by wrapping around so it divides evenly."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        self.num_replicas = _check.integer("DistributedSampler", "num_replicas", num_replicas,
                                           minimum=1)
        rank = _check.integer("DistributedSampler", "rank", rank, minimum=0)
        if rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler(): argument 'rank' expected an int in [0, "
                             f"{self.num_replicas - 1}], got {rank}")
        self.dataset, self.rank = dataset, rank
        self.shuffle, self.seed, self.drop_last = shuffle, int(seed), drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            rng = np.random.Generator(np.random.PCG64(self.seed + self.epoch))
            indices = rng.permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0:
                indices += (indices * math.ceil(pad / max(len(indices), 1)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Make the next iteration use the permutation of `epoch` (call it every epoch)."""
        self.epoch = int(epoch)
