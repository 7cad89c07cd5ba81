"""Error messages users see: they name the op, the argument and both shapes or types."""
import numpy as np
import pytest

import jitgrad as jg


@pytest.mark.parametrize("op,fn", [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b),
                                   ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b),
                                   ("pow", lambda a, b: a ** b),
                                   ("maximum", jg.maximum), ("minimum", jg.minimum)])
def test_broadcast_mismatch_names_op_and_both_shapes(op, fn):
    with pytest.raises(ValueError, match=rf"{op}: shapes cannot be broadcast together: input has "
                                         rf"shape \(2, 3\), other has shape \(4,\)"):
        fn(jg.ones(2, 3), jg.ones(4))


def test_broadcast_mismatch_with_grad_raises_before_recording():
    x = jg.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        x * jg.ones(3, 2)


def test_backward_on_non_scalar_names_the_shape():
    y = jg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for scalar "
                                           r"outputs \(output has shape \(2, 3\)\)"):
        y.backward()


def test_backward_gradient_of_wrong_shape():
    y = jg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad_output has shape \(3,\) and output has shape "
                                           r"\(2,\)"):
        y.backward(jg.ones(3))


def test_unsupported_operand_types():
    with pytest.raises(TypeError, match="add: unsupported operand of type str"):
        jg.ones(2) + "a"
    with pytest.raises(TypeError, match="mul: unsupported operand of type list"):
        jg.ones(2) * [1.0, 2.0]
    with pytest.raises(TypeError, match=r"exp\(\): argument 'input' expected a Tensor, got list"):
        jg.exp([1.0])


def test_autograd_misuse():
    with pytest.raises(RuntimeError, match="does not require grad"):
        jg.ones(1).sum().backward()
    x = jg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        jg.autograd.grad(x.sum(), jg.ones(2))
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="floating point"):
        jg.arange(3).requires_grad_()


def test_creation_argument_errors():
    with pytest.raises(ValueError, match="non-negative"):
        jg.zeros(-1)
    with pytest.raises(ValueError, match="step must be nonzero"):
        jg.arange(0, 5, 0)
    with pytest.raises(TypeError, match="unsupported dtype"):
        jg.ones(2, dtype="complex128")


def test_scalar_conversions():
    with pytest.raises(ValueError, match="2 elements cannot be converted"):
        jg.ones(2).item()
    with pytest.raises(TypeError, match="0-d"):
        len(jg.tensor(1.0))
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        [0, 1][jg.tensor(1.0)]
    assert [0, 1][jg.tensor(1)] == 1
    np.testing.assert_equal(float(jg.tensor([2.5])), 2.5)
