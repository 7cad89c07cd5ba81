"""Grad mode: whether operations record a graph. Thread-local, as in PyTorch: a ``no_grad``
block in one thread does not affect another, and every new thread starts with grad enabled.

A leaf module (imports nothing from jitgrad), so the tensor and autograd modules can import it
in any order. The hot path (``Function.apply``) reads one attribute: a ``threading.local``
subclass whose class attribute is every thread's default (~20 ns more per read than a plain
object; measured in the structure issue's note).
"""
import functools
import threading


class _State(threading.local):
    enabled = True


state = _State()


def is_grad_enabled():
    return state.enabled


class set_grad_enabled:
    """Context manager / decorator / plain call setting grad mode, like torch.set_grad_enabled."""

    def __init__(self, mode=True):
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False

    def __call__(self, fn):
        state.enabled = self.prev  # used as a decorator: the call above must not leak
        return _with_mode(self.mode, fn)


class _Mode:
    mode = True

    def __new__(cls, fn=None):
        # ``@no_grad`` without parentheses decorates ``fn`` directly, as in torch
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False

    def __call__(self, fn):
        return _with_mode(self.mode, fn)


def _with_mode(mode, fn):
    """fn wrapped so that each call runs with grad mode `mode` (restored afterwards)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with set_grad_enabled(mode):
            return fn(*args, **kwargs)
    return wrapper


class no_grad(_Mode):
    """Disable graph recording inside a ``with`` block or a decorated function."""
    mode = False


class enable_grad(_Mode):
    """Enable graph recording inside a ``with`` block or a decorated function."""
    mode = True
