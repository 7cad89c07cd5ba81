"""Every op of the op table: its result prints (the node's name() cannot be shadowed by an
op's own attributes), and a saved array modified in place gives autograd's clear error."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad.autograd.function import Context
from jitgrad.testing import all_specs
from jitgrad.testing.spec import make_inputs

GRAD_SPECS = [s for s in all_specs() if s.grad]


def _outputs(out):
    return [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=[s.name for s in GRAD_SPECS])
def test_repr_and_inplace_error(spec):
    case = spec.cases[0]
    arrays = make_inputs(spec, case, np.float64, np.random.default_rng(0))
    tensors = [jg.from_numpy(a) if isinstance(a, np.ndarray) else a for a in arrays]
    diff = case.diff if case.diff is not None else \
        [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    for i in diff:
        tensors[i].requires_grad_(True)
    outs = _outputs(spec.fn(*tensors, **case.kwargs))
    assert outs, spec.name
    for o in outs:
        text = repr(o)
        assert "grad_fn=<" in text and "Backward>" in text, text
    loss = sum((o * jg.tensor(np.random.default_rng(1).uniform(0.5, 1.5, o.shape))).sum()
               for o in outs)
    with jg.no_grad():                       # bump every version an op may have saved
        for t in [tensors[i] for i in diff] + outs:
            t.mul_(1.0)
    try:
        loss.backward()
    except RuntimeError as e:                # an op that saved an input or its output
        assert "modified by an inplace operation" in str(e), e


def test_context_name_is_reserved():
    ctx = Context()
    with pytest.raises(AttributeError, match="reserved"):
        ctx.name = "mine"


def test_custom_function_cannot_shadow_name():
    class Scale(jg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.name = "scale"
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(AttributeError, match="Context.name is reserved"):
        Scale.apply(jg.ones(2, requires_grad=True))
