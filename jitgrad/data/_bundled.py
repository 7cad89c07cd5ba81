"""Data sets shipped inside the package, so examples and tests need no network.

``digits.npz`` holds the 8x8 handwritten digits scikit-learn ships (BSD-3; source and license
in ``DIGITS-LICENSE.txt`` beside it) as uint8 arrays, plus a fixed stratified train/test split.
``pydoc_topics.txt.gz`` is a fixed copy of CPython 3.11.7's pydoc topics text (PSF license,
``TEXT-LICENSE.txt``), the corpus of the character-level language model.
"""
import gzip
import hashlib
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


TEXT_SHA256 = "71f2ff5d99bdc1f9c48c5c2353ad138201c5ca1c377e0226857ef8fa89b8bcee"


def load_text():
    """The bundled text corpus (465,126 characters of Python's help texts), as a str; the same
    bytes on every machine (its SHA-256 is checked)."""
    with gzip.open(os.path.join(_HERE, "pydoc_topics.txt.gz"), "rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != TEXT_SHA256:
        raise RuntimeError("load_text(): the bundled corpus is damaged (SHA-256 mismatch); "
                           "reinstall jitgrad")
    return raw.decode("utf-8")
