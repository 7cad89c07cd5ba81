"""Hyper-parameter validation shared by the optimizers (PyTorch's messages)."""


def check(lr=None, eps=None, weight_decay=None, betas=None, momentum=None, **named):
    if lr is not None and not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    if momentum is not None and not 0.0 <= momentum:
        raise ValueError(f"Invalid momentum value: {momentum}")
    if betas is not None:
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    for name, v in named.items():
        if not 0.0 <= v:
            raise ValueError(f"Invalid {name} value: {v}")
