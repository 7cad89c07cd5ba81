"""parameters_to_vector / vector_to_parameters (torch.nn.utils): one flat vector of all
parameters and back."""
from ... import _ops
from ..._tensor import Tensor


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): expected jitgrad.Tensor, but got: {type(x).__name__}")


def parameters_to_vector(parameters):
    """The parameters, flattened and concatenated in order, as one 1-D Tensor (differentiable:
    a gradient on it flows back to each parameter)."""
    flat = []
    for p in parameters:
        _check_tensor("parameters_to_vector", p)
        flat.append(_ops.reshape(p, -1))
    if not flat:
        raise ValueError("parameters_to_vector(): expected at least one parameter")
    return _ops.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D Tensor `vec` into the parameters, in order.
    PyTorch makes each parameter a view of `vec`; here the values are copied into the
    parameters' own arrays, so optimizers holding them (and their flat buffers) stay valid."""
    _check_tensor("vector_to_parameters", vec)
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters(): expected a 1-D vec, got shape "
                         f"{tuple(vec.shape)}")
    params = list(parameters)
    for p in params:
        _check_tensor("vector_to_parameters", p)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters(): vec has {vec.numel()} elements, the "
                         f"parameters have {total}")
    i = 0
    for p in params:
        n = p.numel()
        p.data[...] = vec.data[i:i + n].reshape(p.shape)
        p._version[0] += 1
        i += n
