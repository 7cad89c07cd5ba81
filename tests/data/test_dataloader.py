"""jitgrad.data: datasets, samplers, DataLoader (torch.utils.data semantics)."""
import threading

import numpy as np
import pytest

import jitgrad as jg
from jitgrad.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                          SequentialSampler, Subset, TensorDataset, get_worker_info,
                          random_split)


def _ds(n=10):
    x = jg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = jg.tensor(np.arange(n))
    return TensorDataset(x, y)


class Pairs(Dataset):
    """A map-style data set returning (array, int, dict) samples."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.full(2, i, np.float32), i, {"sq": float(i * i)}


def test_batches_cover_the_data_in_order_with_a_short_last_batch():
    dl = DataLoader(_ds(), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                                  [8, 9]]
    assert batches[0][0].shape == (4, 3) and batches[0][0].dtype == np.float32
    assert len(list(DataLoader(_ds(), batch_size=4, drop_last=True))) == 2


def test_default_collate_stacks_nested_samples():
    x, i, d = next(iter(DataLoader(Pairs(), batch_size=3)))
    assert x.shape == (3, 2) and i.dtype == np.int64 and i.tolist() == [0, 1, 2]
    assert d["sq"].tolist() == [0.0, 1.0, 4.0]
    assert next(iter(DataLoader(Pairs(), batch_size=None)))[1] == 0   # no auto-batching


def test_shuffle_is_reproducible_from_a_seed_or_a_generator():
    def order(**kw):
        return [b[1].tolist() for b in DataLoader(_ds(), batch_size=5, shuffle=True, **kw)]
    jg.manual_seed(0)
    a = order()
    jg.manual_seed(0)
    assert order() == a and sorted(sum(a, [])) == list(range(10))
    g = jg.Generator().manual_seed(1)
    b = order(generator=g)
    assert order(generator=jg.Generator().manual_seed(1)) == b
    assert order(generator=g) != b                                # the next epoch reshuffles


def test_samplers_and_batch_sampler():
    ds = _ds(6)
    assert list(SequentialSampler(ds)) == list(range(6))
    rs = RandomSampler(ds, replacement=True, num_samples=9, generator=jg.Generator())
    assert len(list(rs)) == 9 and all(0 <= i < 6 for i in rs)
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5]] and len(bs) == 2
    dl = DataLoader(ds, batch_sampler=bs)
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5]]


@pytest.mark.parametrize("kw, match", [
    (dict(batch_sampler=[[0]], batch_size=2), "mutually exclusive"),
    (dict(sampler=[0, 1], shuffle=True), "mutually exclusive"),
    (dict(batch_size=0), "batch_size"),
    (dict(num_workers=-1), "num_workers"),
    (dict(generator=np.random.default_rng(0)), "generator"),
    (dict(prefetch_factor=2), "prefetch_factor"),
])
def test_bad_arguments_raise_clear_errors(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DataLoader(_ds(), **kw)


def test_subset_random_split_and_concat():
    ds = _ds(10)
    sub = Subset(ds, [3, 1])
    assert len(sub) == 2 and sub[0][1].item() == 3
    parts = random_split(ds, [7, 3], generator=jg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [len(p) for p in random_split(ds, [0.5, 0.3, 0.2])] == [5, 3, 2]
    with pytest.raises(ValueError, match="lengths"):
        random_split(ds, [4, 4])
    cat = ConcatDataset([ds, Subset(ds, [0])])
    assert len(cat) == 11 and cat[10][1].item() == 0 and cat[-1][1].item() == 0
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(jg.ones(3), jg.ones(4))


def test_thread_workers_give_the_same_batches_in_order():
    ds = _ds(50)
    want = [b[0].numpy() for b in DataLoader(ds, batch_size=4)]
    got = [b[0].numpy() for b in DataLoader(ds, batch_size=4, num_workers=3)]
    assert len(got) == len(want) and all(np.array_equal(a, b) for a, b in zip(got, want))
    got = [b[1].tolist() for b in DataLoader(Pairs(), batch_size=2, num_workers=2)]
    assert got == [[0, 1], [2, 3], [4, 5], [6]]


class Noisy(Dataset):
    """Draws from the worker's own generator: workers must not share a stream. Each worker's
    first sample waits for the other worker's (a barrier), so both surely take part."""

    def __init__(self):
        self.started = threading.Barrier(2, timeout=20)
        self.seen = threading.local()

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        if not getattr(self.seen, "first", False):
            self.seen.first = True
            self.started.wait()
        return np.array([info.id, info.generator.numpy.random()]), threading.get_ident()


def test_each_worker_has_its_own_random_stream():
    assert get_worker_info() is None
    seen = {}
    for x, _ in DataLoader(Noisy(), batch_size=1, num_workers=2,
                           generator=jg.Generator().manual_seed(3)):
        wid, r = x.numpy()[0]
        seen.setdefault(int(wid), []).append(r)
    assert set(seen) == {0, 1}
    assert not set(seen[0]) & set(seen[1])


class Broken(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is missing")
        return np.zeros(1)


@pytest.mark.parametrize("workers", [0, 2])
def test_errors_in_the_data_set_reach_the_caller(workers):
    with pytest.raises(KeyError, match="sample 2"):
        list(DataLoader(Broken(), batch_size=1, num_workers=workers))


def test_torch_style_import_path():
    from jitgrad.utils.data import DataLoader as DL, TensorDataset as TD
    assert DL is DataLoader and TD is TensorDataset
    import jitgrad.utils.data as d
    assert d is jg.data


def test_bundled_text_is_the_pinned_copy():
    text = jg.data.load_text()
    assert len(text) == 465126 and len(set(text)) == 103
