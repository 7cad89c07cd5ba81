"""jitgrad.data: data sets, samplers and the DataLoader (torch.utils.data's names; also
importable as jitgrad.utils.data), plus the bundled data sets."""
from ._bundled import load_digits, load_text  # noqa: F401
from .dataloader import DataLoader, default_collate, get_worker_info  # noqa: F401
from .distributed import DistributedSampler  # noqa: F401
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                      SubsetRandomSampler)

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
           "default_collate", "get_worker_info", "load_digits", "load_text", "random_split"]
