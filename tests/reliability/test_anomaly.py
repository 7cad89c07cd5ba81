"""Anomaly mode (issue 12): the first op with a NaN forward output or a NaN/Inf gradient
raises, naming the op and the user's line that created it."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F
from jitgrad import autograd


def _line_of(marker):
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return i
    raise AssertionError(marker)


def test_forward_nan_names_op_and_user_line():
    x = jg.tensor([-1.0, 4.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x * 2
        with pytest.raises(RuntimeError) as info:
            jg.sqrt(y)  # MARK-SQRT
    msg = str(info.value)
    assert "sqrt" in msg.lower() and "NaN" in msg
    assert f"{__file__}:{_line_of('MARK-SQRT')}" in msg
    assert not autograd.is_anomaly_enabled()
    assert np.isnan(jg.sqrt(x * 2).detach().numpy()[0])  # off again: no raise


def test_forward_inf_is_legitimate():
    with autograd.detect_anomaly():
        scores = jg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        mask = jg.tensor([[0.0, float("-inf"), 0.0]])
        p = F.softmax(scores + mask, dim=1)
        p.sum().backward()
    assert np.isfinite(scores.grad).all()


def test_backward_nan_names_op_and_creation_site():
    x = jg.tensor([0.0, 1.0], requires_grad=True)
    autograd.set_detect_anomaly(True)
    try:
        y = jg.sqrt(x)  # MARK-BWD
        with pytest.raises(RuntimeError) as info:
            (y * 0.0).sum().backward()  # d sqrt at 0 is inf; times 0 -> nan
    finally:
        autograd.set_detect_anomaly(False)
    msg = str(info.value)
    assert "SqrtBackward" in msg and "nan" in msg
    assert f"{__file__}:{_line_of('MARK-BWD')}" in msg


def test_backward_inf_gradient_raises():
    x = jg.tensor([0.0, 1.0], requires_grad=True)
    with autograd.set_detect_anomaly(True):
        y = jg.sqrt(x)
        with pytest.raises(RuntimeError, match="returned inf values"):
            y.sum().backward()
    assert not autograd.is_anomaly_enabled()
    x.grad = None
    jg.sqrt(x).sum().backward()  # off: inf gradient accepted, as without anomaly mode
    assert np.isinf(x.grad[0])


def test_decorator_and_clean_training_step():
    jg.manual_seed(0)
    model = jg.nn.Sequential(jg.nn.Linear(4, 8), jg.nn.ReLU(), jg.nn.Linear(8, 3))
    opt = jg.optim.Adam(model.parameters())

    @autograd.detect_anomaly()
    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(jg.randn(5, 4)), jg.tensor([0, 1, 2, 0, 1]))
        loss.backward()
        opt.step()
        return loss.item()

    assert np.isfinite(step())
    assert not autograd.is_anomaly_enabled()


def test_nan_input_data_is_reported_at_first_op():
    w = jg.nn.Linear(2, 2)
    with autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="produced NaN"):
            w(jg.tensor([[float("nan"), 1.0]]))  # MARK-LIN
    with autograd.detect_anomaly():
        try:
            w(jg.tensor([[float("nan"), 1.0]]))  # MARK-LIN2
        except RuntimeError as e:
            assert f"{__file__}:{_line_of('MARK-LIN2')}" in str(e)
