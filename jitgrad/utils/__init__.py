"""jitgrad.utils: ``jitgrad.utils.data`` is jitgrad.data, so ``from torch.utils.data import ...``
ports by renaming torch to jitgrad."""
from .. import data  # noqa: F401

import sys as _sys

_sys.modules[__name__ + ".data"] = data  # `import jitgrad.utils.data` / `from ... import`
