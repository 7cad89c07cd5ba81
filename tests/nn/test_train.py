"""End-to-end training: the classic XOR MLP, and (where scikit-learn is installed) an MLP on
the 8x8 handwritten digits."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F
from jitgrad import nn, optim


def test_xor_mlp_learns():
    """2-3-1 MLP, tanh hidden, sigmoid output, MSE, plain SGD with lr 0.1, full batch."""
    x = jg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = jg.tensor([[0.0], [1.0], [1.0], [0.0]])
    jg.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    loss_fn = nn.MSELoss()
    opt = optim.SGD(model.parameters(), lr=0.1)
    first = None
    for _ in range(2500):
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    pred = model(x).data
    assert loss.item() < 0.03 < first
    assert np.all(np.abs(pred - t.data) < 0.3), pred


def test_digits_mlp_reaches_95_percent():
    """64-64-10 MLP (fused ReLU Dense, dropout 0.1), Adam lr 1e-2, batch 64, 15 epochs on the
    bundled digits' fixed train split: test-split accuracy reaches ~98%; we require 95%."""
    images, labels = jg.data.load_digits("train")
    X, y = images.numpy().reshape(-1, 64), labels.numpy()
    test_images, test_labels = jg.data.load_digits("test")
    rng = np.random.default_rng(0)
    train = np.arange(len(X))
    jg.manual_seed(0)
    model = nn.Sequential(nn.Dense(64, 64, activation="relu"), nn.Dropout(0.1),
                          nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(15):
        model.train()
        order = rng.permutation(train)
        for i in range(0, len(order), 64):
            b = order[i:i + 64]
            logits = model(jg.tensor(X[b]))
            loss = F.cross_entropy(logits, jg.tensor(y[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with jg.no_grad():
        acc = (model(test_images.reshape(-1, 64)).data.argmax(1) == test_labels.numpy()).mean()
    assert acc >= 0.95, acc
