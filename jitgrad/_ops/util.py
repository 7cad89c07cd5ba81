"""Array helpers shared by the ops."""
import numpy as np


def contiguous(x):
    """x as a C-contiguous array, copied only if needed (np.ascontiguousarray turns 0-d into 1-d)."""
    return x if x.flags.c_contiguous else x.copy(order="C")
