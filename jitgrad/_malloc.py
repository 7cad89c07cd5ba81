"""Keep freed memory in the process for the next training step (glibc malloc thresholds).

A training step frees and re-allocates the same large arrays every time. glibc hands memory
back to the OS when the free space at the top of its heap passes the trim threshold, and serves
requests above the mmap threshold with fresh mappings; either way the next step touches new
pages, and each first touch is a page fault (2-2.5 us here). Its own dynamic scheme raises the
mmap threshold to the largest freed mapping (up to 32 MiB) and the trim threshold to twice that,
but in a GRUCell loop (64 steps, batch 32, hidden 128) the heap top was still trimmed every
step: 1,762 page faults per training step, backward 11.3-11.9 ms; the 3 MiB concatenation of
the gate gradients alone took 1.76 ms, 729 of them. With the thresholds fixed at the top of
glibc's own range (mmap above 32 MiB, trim above 64 MiB of free heap top): 0.05 faults per step,
backward 7.0-9.3 ms. The cost: up to 64 MiB of freed heap stays mapped (glibc's own scheme
allows as much once it has seen a 32 MiB array freed).

Applied on import (glibc only) unless ``JITGRAD_MALLOC_TUNING=0`` or the user set any of
glibc's MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ (their choice stays).
"""
import ctypes
import os

# glibc <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
_USER_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

status = "not applied yet"


def glibc():
    """True when this process runs on GNU libc."""
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


def _why_not():
    env = os.environ
    if env.get("JITGRAD_MALLOC_TUNING", "").strip() == "0":
        return "JITGRAD_MALLOC_TUNING=0"
    for v in _USER_VARS:
        if v in env:
            return f"{v} is set (kept)"
    return "" if glibc() else "the C library is not glibc"


def apply():
    """Fix glibc's mmap and trim thresholds (see the module docstring); returns the status."""
    global status
    why = _why_not()
    if why:
        status = f"glibc defaults: {why}"
        return status
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    status = (f"freed memory kept: mmap above {MMAP_THRESHOLD >> 20} MiB, trim above "
              f"{TRIM_THRESHOLD >> 20} MiB" if ok else "glibc defaults: mallopt refused")
    return status
