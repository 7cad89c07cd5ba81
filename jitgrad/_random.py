"""Random number generators: ``jitgrad.Generator`` and the default one behind every draw.

A Generator wraps a NumPy ``PCG64`` bit generator. Its state is a uint8 Tensor of 40 bytes
(128-bit state, 128-bit increment, and the buffered 32-bit half-draw), like PyTorch's ByteTensor
state: ``get_state()`` / ``set_state()`` round-trip it exactly, and it saves with ``jg.save``,
so a checkpoint resumes the same random streams. Random functions, initialisers, dropout and
the data loader take ``generator=`` (None means the default generator).
"""
import numpy as np

from . import _check
from ._tensor import Tensor, _make

_STATE_BYTES = 40
_DEFAULT_SEED = 67280421310721  # torch's default_generator initial seed


def _to_bytes(bit_gen):
    s = bit_gen.state
    words = [s["state"]["state"], s["state"]["inc"]]
    raw = b"".join(w.to_bytes(16, "little") for w in words)
    raw += int(s["has_uint32"]).to_bytes(4, "little") + int(s["uinteger"]).to_bytes(4, "little")
    return np.frombuffer(raw, np.uint8).copy()


def _from_bytes(arr):
    raw = bytes(arr)
    return {"bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": int.from_bytes(raw[32:36], "little"),
            "uinteger": int.from_bytes(raw[36:40], "little")}


class Generator:
    """A seeded stream of random numbers (torch.Generator): ``manual_seed``, ``seed``,
    ``initial_seed``, ``get_state``, ``set_state``. ``device`` may only be 'cpu'."""

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise ValueError(f"Generator(): argument 'device' expected 'cpu' (jitgrad runs on the "
                             f"CPU only), got {device!r}")
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        from ._device import device
        return device("cpu")

    def manual_seed(self, seed):
        """Reset the stream to the one `seed` defines; returns self."""
        seed = _check.integer("manual_seed", "seed", seed)
        self._seed = seed
        self.numpy = np.random.Generator(np.random.PCG64(seed & (2 ** 64 - 1)))
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().entropy) & (2 ** 63 - 1)
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The full state, as a uint8 Tensor of 40 bytes."""
        return _make(_to_bytes(self.numpy.bit_generator), False, None, 0)

    def set_state(self, new_state):
        """Restore a state from get_state() (a uint8 Tensor or array of 40 bytes)."""
        arr = new_state.data if isinstance(new_state, Tensor) else np.asarray(new_state)
        if arr.dtype != np.uint8 or arr.shape != (_STATE_BYTES,):
            raise ValueError(f"set_state(): argument 'new_state' expected a uint8 tensor of "
                             f"shape ({_STATE_BYTES},), got dtype {arr.dtype} and shape "
                             f"{arr.shape}")
        self.numpy.bit_generator.state = _from_bytes(arr)
        return self


default_generator = Generator()


def numpy_rng(generator=None):
    """The NumPy Generator to draw from: `generator`'s, or the default one's."""
    if generator is None:
        return default_generator.numpy
    if not isinstance(generator, Generator):
        raise TypeError(f"argument 'generator' expected a jitgrad.Generator, got "
                        f"{type(generator).__name__}")
    return generator.numpy


def manual_seed(seed):
    """Seed the default generator (random tensors, initialisation, dropout, shuffling);
    returns it, as torch.manual_seed does."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (a uint8 Tensor), for checkpoints."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)
