"""The CPU device vocabulary, so PyTorch scripts port by renaming: ``jitgrad.device('cpu')``,
``Tensor.device``, ``Tensor.to('cpu')`` / ``.cpu()``, ``device=`` on creation functions and
layers. jitgrad runs on the CPU only: any other device raises a clear error."""


class device:
    """torch.device for the one device jitgrad has: ``device('cpu')`` (also 'cpu:0')."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' expected a string such as 'cpu', got "
                            f"{type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if name != "cpu" or (idx not in ("", "0")) or index not in (None, 0):
            raise RuntimeError(f"device(): jitgrad runs on the CPU only: expected 'cpu', got "
                               f"{type!r}" + ("" if index is None else f" index {index}"))
        self.type = "cpu"
        self.index = None

    def __eq__(self, other):
        return isinstance(other, device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"


CPU = device("cpu")


def check_device(op, dev):
    """None or anything naming the CPU passes; any other device raises."""
    if dev is None or isinstance(dev, device):
        return
    try:
        device(dev)
    except (RuntimeError, TypeError):
        raise RuntimeError(f"{op}(): argument 'device' expected 'cpu' (jitgrad runs on the CPU "
                           f"only), got {dev!r}") from None
