"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim."""
import numpy as np

from ... import _check
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _float_dtype
from .module import Module


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1); row `padding_idx` (if given) starts at
    zero and receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = None if padding_idx is None else \
            _check.index_in_range("Embedding", "padding_idx", padding_idx, self.num_embeddings)
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim),
                                         _float_dtype(dtype, "Embedding", device)))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
