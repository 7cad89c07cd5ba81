"""Learning tests for the recurrent modules: digits read row by row, and the adding problem."""
import numpy as np

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F


class RowReader(nn.Module):
    """LSTM over the 8 rows of a digit (8 pixels per step), a linear read-out of the last h."""

    def __init__(self, hidden=64):
        super().__init__()
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        _, (hn, _) = self.lstm(x)
        return self.head(hn[0])


def test_lstm_classifies_digits_row_by_row():
    jg.manual_seed(0)
    xtr, ytr = jg.data.load_digits("train")
    xte, yte = jg.data.load_digits("test")
    model = RowReader()
    opt = jg.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for epoch in range(30):
        order = rng.permutation(len(xtr))
        for k in range(0, len(order), 64):
            idx = order[k:k + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        with jg.no_grad():
            acc = float((model(xte).argmax(1).numpy() == yte.numpy()).mean())
        if acc >= 0.97:
            break
    assert acc >= 0.95, f"test accuracy {acc:.3f} after {epoch + 1} epochs"


def _adding_batch(rng, n, T=50):
    """Inputs (T, n, 2): a value in [0, 1) and a marker set at two random steps (one in each
    half); the target is the sum of the two marked values."""
    values = rng.uniform(0, 1, (T, n))
    marks = np.zeros((T, n))
    first = rng.integers(0, T // 2, n)
    second = rng.integers(T // 2, T, n)
    marks[first, np.arange(n)] = 1
    marks[second, np.arange(n)] = 1
    x = np.stack([values, marks], axis=2).astype(np.float32)
    y = (values[first, np.arange(n)] + values[second, np.arange(n)]).astype(np.float32)
    return jg.tensor(x), jg.tensor(y[:, None])


def test_lstm_solves_adding_problem_T50():
    jg.manual_seed(0)
    rng = np.random.default_rng(1)
    lstm = nn.LSTM(2, 32)
    head = nn.Linear(32, 1)
    opt = jg.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-2)
    xte, yte = _adding_batch(rng, 500)

    def predict(x):
        _, (hn, _) = lstm(x)
        return head(hn[0])
    mse = None
    for step in range(1, 2001):
        x, y = _adding_batch(rng, 64)
        opt.zero_grad()
        F.mse_loss(predict(x), y).backward()
        opt.step()
        if step % 100 == 0:
            with jg.no_grad():
                mse = float(F.mse_loss(predict(xte), yte).item())
            if mse < 0.01:
                break
    assert mse < 0.05, f"test MSE {mse:.4f} after {step} steps (chance ~0.167)"
