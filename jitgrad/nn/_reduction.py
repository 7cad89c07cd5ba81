"""The losses' ``reduction`` argument (torch.nn._reduction), shared by functionals and modules."""
import warnings

REDUCTIONS = ("none", "mean", "sum")


def reduction_arg(name, reduction, size_average=None, reduce=None):
    """PyTorch's reduction string, honouring the deprecated size_average / reduce flags."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean'/'sum'/'none' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}(): argument 'reduction' expected 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")
    return reduction
