"""Data sets shipped inside the package, so examples and tests need no network.

``digits.npz`` holds the 8x8 handwritten digits scikit-learn ships (BSD-3; source and license
in ``DIGITS-LICENSE.txt`` beside it) as uint8 arrays, plus a fixed stratified train/test split.
"""
import os

import numpy as np

from .._creation import tensor

_HERE = os.path.dirname(os.path.abspath(__file__))
_SPLITS = (None, "train", "test")


def load_digits(split=None):
    """The 8x8 handwritten digits: ``(images, labels)`` as Tensors.

    images: float32 of shape (N, 8, 8), pixels scaled from 0..16 to [0, 1];
    labels: int64 of shape (N,), classes 0..9.
    ``split``: None (all 1,797 images, in the original order), ``"train"`` (1,438) or
    ``"test"`` (359): a fixed split with 20% of every class in the test set, the same on
    every machine and version.
    """
    if split not in _SPLITS:
        raise ValueError(f"load_digits(): argument 'split' expected one of None, 'train', "
                         f"'test', got {split!r}")
    with np.load(os.path.join(_HERE, "digits.npz")) as f:
        images, labels = f["images"], f["labels"]
        if split is not None:
            idx = f[split]
            images, labels = images[idx], labels[idx]
    return (tensor(images.astype(np.float32) / np.float32(16.0)),
            tensor(labels.astype(np.int64)))
