"""jitgrad.data: bundled data sets (more of ``torch.utils.data`` lands here)."""
from ._bundled import load_digits  # noqa: F401

__all__ = ["load_digits"]
