"""Op table entries: nn layer functionals (linear and its fused activations, dropout,
embedding, one_hot, pad)."""
import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec

_IDX = np.array([[0, 2, 4], [2, 2, 1]])  # repeated indices: the scatter-add must accumulate


def _linear_ref(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


_ACT_REFS = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
             "sigmoid": _sigmoid}


def _linear_act_ref(x, w, b=None, activation=None):
    return _ACT_REFS[activation](_linear_ref(x, w, b))


_LINEAR = [
    Case([(4, 3), (5, 3), (5,)], name="bias"),
    Case([(4, 3), (5, 3)], name="no bias"),
    Case([(2, 3, 3), (4, 3), (4,)], name="leading dims"),
    Case([(3,), (2, 3), (2,)], name="1-d input"),
    Case([(4, 3), (5, 3), (5,)], layout="transposed", name="transposed"),
    Case([(3, 4), (2, 4), (2,)], layout="sliced", name="sliced"),
]


def _pad_ref(x, pad, value=None):
    value = 0 if value is None else value
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        lo, hi = pad[2 * k], pad[2 * k + 1]
        x = np.take(x, np.arange(max(-lo, 0), x.shape[d] - max(-hi, 0)), axis=d)
        widths[d] = (max(lo, 0), max(hi, 0))
    return np.pad(x, widths, constant_values=value)


SPECS = [
    OpSpec("nn.functional.linear", F.linear, _linear_ref, _LINEAR),
    # fused op: checked against the composed F.<activation>(F.linear(...)) in
    # tests/nn/test_layers.py as well as against this reference
    OpSpec("nn.functional.linear_act", F.linear_act, _linear_act_ref,
           [Case(c.shapes, dict(activation=a), layout=c.layout, name=f"{a} {c.name}")
            for a, c in [("relu", _LINEAR[0]), ("relu", _LINEAR[2]), ("tanh", _LINEAR[0]),
                         ("tanh", _LINEAR[4]), ("sigmoid", _LINEAR[0]), ("sigmoid", _LINEAR[5]),
                         (None, _LINEAR[1])]]),
    OpSpec("nn.functional.dropout", F.dropout, lambda x, p=0.5, training=True: x,
           [Case([(3, 4)], dict(p=0.0), name="p=0"),
            Case([(3, 4)], dict(p=0.5, training=False), name="eval"),
            Case([(4, 3)], dict(p=0.0), layout="transposed", name="transposed")]),
    OpSpec("nn.functional.embedding", F.embedding, lambda i, w, padding_idx=None: w[i],
           [Case([_IDX, (5, 3)], diff=[1]),
            Case([np.array(3), (5, 2)], diff=[1], name="0-d index"),
            Case([_IDX.astype(np.int32), (6, 4)], layout="transposed", diff=[1],
                 name="int32 index, transposed weight")]),
    # the padding row gets no gradient (finite differences would see one): forward only here,
    # its gradient is tested in tests/test_nn_layers.py
    OpSpec("nn.functional.embedding(padding_idx)", F.embedding, lambda i, w, padding_idx=None: w[i],
           [Case([_IDX, (5, 3)], dict(padding_idx=2))], grad=False),
    OpSpec("nn.functional.one_hot", F.one_hot,
           lambda t, num_classes=-1: np.eye(t.max() + 1 if num_classes == -1 else num_classes,
                                            dtype=np.int64)[t],
           [Case([np.array([0, 2, 1, 3])]), Case([_IDX], dict(num_classes=6), name="2-d"),
            Case([np.array(1)], dict(num_classes=3), name="0-d")], grad=False),
    OpSpec("nn.functional.pad", F.pad, _pad_ref,
           [Case([(2, 3)], dict(pad=(1, 2))),
            Case([(2, 3, 4)], dict(pad=(1, 0, 0, 2), value=1.5), name="two dims, value"),
            Case([(3, 4)], dict(pad=(-1, 2, 1, -2)), name="crop"),
            Case([(4, 3)], dict(pad=(0, 1, 2, 0)), layout="transposed", name="transposed")]),
]
