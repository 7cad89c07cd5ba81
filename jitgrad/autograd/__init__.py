"""Autograd: Function (the custom-op API), backward / grad, grad-mode switches, anomaly mode,
gradcheck."""
import numpy as np

from .._tensor import Tensor, _make
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .engine import run_backward
from .function import Context, Function  # noqa: F401
from .._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401


def _seed(outputs, grads, caller):
    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    outputs = tuple(outputs)
    if grads is None or isinstance(grads, (Tensor, np.ndarray)):
        grads = (grads,) * len(outputs) if len(outputs) == 1 else grads
    if grads is None:
        grads = (None,) * len(outputs)
    grads = tuple(grads)
    if len(grads) != len(outputs):
        raise RuntimeError(f"{caller}: got {len(grads)} gradients for {len(outputs)} outputs")
    seeds = []
    for t, g in zip(outputs, grads):
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(f"{caller}: grad can be implicitly created only for scalar "
                                   f"outputs (output has shape {t.data.shape}); pass a "
                                   f"gradient of that shape")
            g = np.ones(t.data.shape, t.data.dtype)
        else:
            g = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=t.data.dtype)
            if g.shape != t.data.shape:
                raise RuntimeError(f"{caller}: mismatch in shape: grad_output has shape "
                                   f"{g.shape} and output has shape {t.data.shape}")
            if g.dtype != t.data.dtype:
                g = g.astype(t.data.dtype)
        seeds.append(g)
    return outputs, seeds


def _no_higher_order(caller, create_graph):
    if create_graph:
        raise NotImplementedError(f"{caller}(create_graph=True): higher-order gradients are not "
                                  f"supported yet in jitgrad (backward functions run on NumPy "
                                  f"arrays and record no graph)")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (torch.autograd.backward)."""
    _no_higher_order("backward", create_graph)
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...): not supported; use autograd.grad")
    outputs, seeds = _seed(tensors, grad_tensors, "backward")
    run_backward(outputs, seeds, bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as Tensors without touching any ``.grad``."""
    _no_higher_order("grad", create_graph)
    outputs, seeds = _seed(outputs, grad_outputs, "grad")
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    keys = []
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        keys.append(id(t) if t.grad_fn is None else (id(t.grad_fn), t._out_idx))
    capture = dict.fromkeys(keys)
    run_backward(outputs, seeds, bool(retain_graph), capture=capture)
    result = []
    for t, k in zip(inputs, keys):
        g = capture[k]
        if g is None:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(None)
        else:
            result.append(_make(g, False, None, 0))
    return tuple(result)
