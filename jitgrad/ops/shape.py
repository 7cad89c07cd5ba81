"""PLACEHOLDER: being written."""


def _todo(*a, **k):
    raise NotImplementedError


reshape = _todo
view = _todo
flatten = _todo
squeeze = _todo
unsqueeze = _todo
transpose = _todo
permute = _todo
expand = _todo
broadcast_to = _todo
repeat = _todo
t = _todo
swapaxes = _todo
expand_as = _todo
view_as = _todo
reshape_as = _todo
