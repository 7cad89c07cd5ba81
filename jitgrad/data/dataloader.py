"""DataLoader (torch.utils.data.DataLoader): batches of jitgrad tensors from a data set.

Workers (``num_workers > 0``) are Python threads, not processes: a process that has run one of
numba's OpenMP parallel kernels and then forks kills any child that runs one (GNU OpenMP), so
forked workers would be a trap; NumPy collation and jitgrad's kernels release the GIL, and a
``TensorDataset`` batch is one gather. Each worker has its own ``jitgrad.Generator`` (seed =
base_seed + worker id, base_seed drawn once per epoch from the loader's generator), which
``get_worker_info().generator`` returns, so workers never share a random stream.
"""
import queue
import threading

import numpy as np

from .. import _check
from .._random import Generator, numpy_rng
from .._tensor import Tensor, _make
from .dataset import TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_worker = threading.local()


class WorkerInfo:
    """What a worker thread knows about itself (torch.utils.data.get_worker_info())."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset
        self.generator = Generator().manual_seed(seed)


def get_worker_info():
    """This worker's WorkerInfo inside a DataLoader worker thread, None elsewhere."""
    return getattr(_worker, "info", None)


def default_collate(batch):
    """Stack a list of samples: Tensors and arrays along a new first dim, numbers into a
    tensor, and tuples / lists / dicts element by element."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _make(np.stack([b.data for b in batch]), False, None, 0)
    if isinstance(first, np.ndarray):
        return _make(np.stack(batch), False, None, 0)
    if isinstance(first, (bool, np.bool_)):
        return _make(np.array(batch, np.bool_), False, None, 0)
    if isinstance(first, (int, np.integer)):
        return _make(np.array(batch, np.int64), False, None, 0)
    if isinstance(first, (float, np.floating)):
        return _make(np.array(batch, np.float32 if isinstance(first, float) else first.dtype),
                     False, None, 0)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a named tuple
        return type(first)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("default_collate(): each element in the batch should be of "
                               "equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate(): batch elements must be Tensors, NumPy arrays, "
                    f"numbers, strings, dicts or sequences; got {type(first).__name__}")


class DataLoader:
    """Iterate over `dataset` in batches, as torch.utils.data.DataLoader (same arguments and
    defaults; ``pin_memory``, ``timeout`` and ``multiprocessing_context`` are accepted and
    have no effect on the CPU)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        self.dataset = dataset
        self.num_workers = _check.integer("DataLoader", "num_workers", num_workers, minimum=0)
        if prefetch_factor is not None and self.num_workers == 0:
            raise ValueError("DataLoader(): prefetch_factor option could only be specified in "
                             "multiprocessing (num_workers > 0)")
        self.prefetch_factor = 2 if prefetch_factor is None else \
            _check.integer("DataLoader", "prefetch_factor", prefetch_factor, minimum=1)
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader(): argument 'generator' expected a jitgrad.Generator, "
                            f"got {type(generator).__name__}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader(): batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader(): batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader(): sampler option is mutually exclusive with shuffle")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn
        self.worker_init_fn = worker_init_fn
        self.pin_memory, self.timeout = pin_memory, timeout
        self.persistent_workers = persistent_workers

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    # ------------------------------------------------------------------ fetching one batch
    def _fetch(self, indices):
        if self.batch_sampler is None:             # batch_size=None: one sample at a time
            sample = self.dataset[indices]
            return sample if self.collate_fn is None else self.collate_fn(sample)
        if self.collate_fn is None and type(self.dataset) is TensorDataset:
            idx = np.asarray(indices, np.int64)    # one gather per tensor, no per-sample work
            return [_make(t.data[idx], False, None, 0) for t in self.dataset.tensors]
        collate = default_collate if self.collate_fn is None else self.collate_fn
        return collate([self.dataset[i] for i in indices])

    def __iter__(self):
        keys = self.batch_sampler if self.batch_sampler is not None else self.sampler
        if self.num_workers == 0:
            for indices in keys:
                yield self._fetch(indices)
            return
        yield from self._threaded(iter(keys))

    def _threaded(self, keys):
        """Workers take (n, indices) jobs in order and return batches; the loader yields them
        in order, keeping at most prefetch_factor * num_workers batches in flight."""
        base_seed = int(numpy_rng(self.generator).integers(2 ** 62))
        jobs, results, done = queue.Queue(), {}, threading.Condition()
        stop = threading.Event()

        def work(wid):
            _worker.info = WorkerInfo(wid, self.num_workers, base_seed + wid, self.dataset)
            try:
                if self.worker_init_fn is not None:
                    self.worker_init_fn(wid)
                while not stop.is_set():
                    job = jobs.get()
                    if job is None:
                        return
                    n, indices = job
                    try:
                        out = (True, self._fetch(indices))
                    except BaseException as e:  # re-raised in the main thread
                        out = (False, e)
                    with done:
                        results[n] = out
                        done.notify_all()
            finally:
                _worker.info = None

        threads = [threading.Thread(target=work, args=(w,), daemon=True,
                                    name=f"jitgrad-dataloader-{w}")
                   for w in range(self.num_workers)]
        for t in threads:
            t.start()
        sent = taken = 0
        try:
            for _ in range(self.prefetch_factor * self.num_workers):
                idx = next(keys, None)
                if idx is None:
                    break
                jobs.put((sent, idx))
                sent += 1
            while taken < sent:
                with done:
                    while taken not in results:
                        done.wait()
                    ok, value = results.pop(taken)
                taken += 1
                if not ok:
                    raise value
                idx = next(keys, None)
                if idx is not None:
                    jobs.put((sent, idx))
                    sent += 1
                yield value
        finally:
            stop.set()
            for _ in threads:
                jobs.put(None)
            for t in threads:
                t.join()
