"""Padding layers: F.pad with a fixed mode and padding, PyTorch's names and arguments (an int
padding pads every side; a tuple is (left, right[, top, bottom[, front, back]]))."""
from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _Pad(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{n} ints, got {padding}")
        self.padding = padding
        self.value = value

    def forward(self, input):
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self._mode == "constant" else "")


def _layer(name, mode, dims, zero=False):
    doc = f"Pad the last {dims} dim{'s' if dims > 1 else ''} ({mode} mode)."
    if zero:
        def init(self, padding):
            _Pad.__init__(self, padding, 0.0)
    elif mode == "constant":
        def init(self, padding, value):
            _Pad.__init__(self, padding, value)
    else:
        def init(self, padding):
            _Pad.__init__(self, padding)
    return type(name, (_Pad,), {"__init__": init, "_mode": mode, "_dims": dims,
                                "__doc__": doc, "__module__": __name__})


for _d in (1, 2, 3):
    globals()[f"ConstantPad{_d}d"] = _layer(f"ConstantPad{_d}d", "constant", _d)
    globals()[f"ZeroPad{_d}d"] = _layer(f"ZeroPad{_d}d", "constant", _d, zero=True)
    globals()[f"ReflectionPad{_d}d"] = _layer(f"ReflectionPad{_d}d", "reflect", _d)
    globals()[f"ReplicationPad{_d}d"] = _layer(f"ReplicationPad{_d}d", "replicate", _d)
    globals()[f"CircularPad{_d}d"] = _layer(f"CircularPad{_d}d", "circular", _d)
