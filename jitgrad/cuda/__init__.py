"""jitgrad.cuda: present so scripts written for PyTorch run unchanged; jitgrad has no GPU."""


def is_available():
    """False: jitgrad runs on the CPU only."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted and ignored (no CUDA generator exists)."""


def manual_seed_all(seed):
    """Accepted and ignored (no CUDA generator exists)."""
