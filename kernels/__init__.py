"""jitgrad's numba kernels: pure @njit functions on NumPy arrays (installed as jitgrad.kernels).

Nothing here imports jitgrad's Python layer. Numba options and caching live in ``_jit.py``.
"""
