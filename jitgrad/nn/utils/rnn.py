"""Variable-length batches (torch.nn.utils.rnn): PackedSequence, pack_padded_sequence,
pad_packed_sequence, pad_sequence, pack_sequence.

A PackedSequence keeps its rows time-major and sorted by decreasing length: ``data`` holds step 0
of every sequence, then step 1 of those at least 2 long, ...; ``batch_sizes[t]`` counts the
sequences still running at step t. Every conversion is one differentiable row gather (packed
rows from a padded tensor, or padded rows from the packed data plus one padding row), so
gradients flow through packing and unpacking.
"""
from collections import namedtuple

import numpy as np

from ... import _check as C
from ..._creation import full
from ..._ops import cat
from ..._tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Packed rows of a batch of sequences (see the module docstring); ``sorted_indices`` maps
    sorted position -> original batch index (None when the batch was given sorted)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _as_tensor(np.argsort(_ints(sorted_indices), kind="stable"))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _ints(x):
    a = np.asarray(x.data if isinstance(x, Tensor) else x)
    if a.dtype.kind not in "iu" and a.size:
        raise TypeError(f"expected integer lengths/indices, got dtype {a.dtype}")
    return a.astype(np.int64).reshape(-1)


def _as_tensor(a):
    return Tensor(np.ascontiguousarray(a, dtype=np.int64))


def _lengths_of(batch_sizes):
    """Sequence lengths (sorted order) from the batch sizes per step."""
    bs = _ints(batch_sizes)
    return np.count_nonzero(np.arange(bs[0])[:, None] < bs[None, :], axis=1) if bs.size else bs


def _packed_positions(batch_sizes):
    """(step t, sorted batch position b) of every packed row, in packed order."""
    bs = _ints(batch_sizes)
    t = np.repeat(np.arange(bs.size), bs)
    b = np.concatenate([np.arange(n) for n in bs]) if bs.size else bs
    return t, b


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of the given
    lengths. With enforce_sorted=True the lengths must be decreasing; otherwise the batch is
    sorted here and the permutation kept in the PackedSequence."""
    C.tensor("pack_padded_sequence", "input", input)
    lengths = _ints(lengths)
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence(): argument 'input' expected at least 2 "
                         f"dimensions (T, B, *), got shape {tuple(input.shape)}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.shape != (B,):
        raise ValueError(f"pack_padded_sequence(): expected {B} lengths (the batch size), got "
                         f"{lengths.size}")
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"pack_padded_sequence(): lengths must be in 1..{T} (the padded "
                         f"length), got {lengths.tolist()}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
    batch_sizes = np.count_nonzero(np.arange(int(lengths.max()) if B else 0)[:, None]
                                   < lengths[None, :], axis=1)
    t, b = _packed_positions(batch_sizes)
    orig = b if order is None else order[b]
    rows = orig * T + t if batch_first else t * B + orig
    data = input.reshape((T * B,) + tuple(input.shape[2:]))[rows]
    return PackedSequence(data, _as_tensor(batch_sizes),
                          None if order is None else _as_tensor(order), None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded (T, B, *) or (B, T, *), lengths) from a PackedSequence, in the original batch
    order; total_length pads T further."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence(): argument 'sequence' expected a PackedSequence, "
                        f"got {type(sequence).__name__}")
    data, batch_sizes = sequence.data, sequence.batch_sizes
    lengths = _lengths_of(batch_sizes)
    T, B = int(_ints(batch_sizes).size), int(lengths.size)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence ({T}), got total_length={total_length}")
        T = int(total_length)
    t, b = _packed_positions(batch_sizes)
    sort = None if sequence.sorted_indices is None else _ints(sequence.sorted_indices)
    orig = b if sort is None else sort[b]
    n = data.shape[0]
    src = np.full(T * B, n, np.int64)  # row n is the padding row
    src[orig * T + t if batch_first else t * B + orig] = np.arange(n)
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, pad], 0)[src]
    padded = padded.reshape(((B, T) if batch_first else (T, B)) + tuple(data.shape[1:]))
    if sort is not None:
        unsorted = np.empty_like(lengths)
        unsorted[sort] = lengths
        lengths = unsorted
    return padded, _as_tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padded with
    padding_value on the right (or left)."""
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(sequences.shape[0])]
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence(): received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence(): padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    for i, s in enumerate(sequences):
        C.tensor("pad_sequence", f"sequences[{i}]", s)
        if s.ndim < 1 or tuple(s.shape[1:]) != tuple(sequences[0].shape[1:]):
            raise ValueError(f"pad_sequence(): argument 'sequences[{i}]' expected shape "
                             f"(*, {', '.join(map(str, sequences[0].shape[1:]))}), got "
                             f"{tuple(s.shape)}")
    lens = np.array([s.shape[0] for s in sequences], np.int64)
    T, B = int(lens.max()), len(sequences)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    n = int(lens.sum())
    src = np.full(T * B, n, np.int64)
    for b, (L, s0) in enumerate(zip(lens, starts)):
        t = np.arange(L) + (T - L if padding_side == "left" else 0)
        src[b * T + t if batch_first else t * B + b] = s0 + np.arange(L)
    rest = tuple(sequences[0].shape[1:])
    pad = full((1,) + rest, padding_value, dtype=sequences[0].dtype)
    padded = cat(list(sequences) + [pad], 0)[src]
    return padded.reshape(((B, T) if batch_first else (T, B)) + rest)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (pad_sequence then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
