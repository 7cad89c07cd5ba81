"""Learning test: a small Transformer encoder learns to sort sequences of 8 digits."""
import numpy as np

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

T, D = 8, 32


class Sorter(nn.Module):
    """Token + learned position embeddings, 2 encoder layers (4 heads, dropout 0.1), and a
    per-position read-out of the digit that belongs there."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(10, D)
        self.pos = nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(D, 10)

    def forward(self, x):
        return self.head(self.encoder(self.tok(x) + self.pos(jg.arange(T))))


def test_transformer_encoder_learns_to_sort_digit_sequences():
    """Exact-sequence accuracy (all 8 positions right) >= 95% on 500 held-out sequences (the
    goal: within 60 s; wall time is not asserted, pytest --durations prints it). Measured on
    the shared 2-core machine (load average ~9.5): 97% after 200 steps of batch 64 in 5.7-6.9 s.
    One thread: the model's GEMMs are small ((512 x 32) @ (32 x 96)); one of them took 7.5 ms
    with OpenBLAS's two threads against 0.125 ms with one while other processes held the cores
    (load ~10), and the whole test took 91 s instead of ~6 s."""
    threads = jg.get_num_threads()
    jg.set_num_threads(1)
    try:
        jg.manual_seed(0)
        model = Sorter()
        opt = jg.optim.Adam(model.parameters(), lr=3e-3)
        rng = np.random.default_rng(0)
        x_test = np.random.default_rng(1).integers(0, 10, (500, T))
        y_test = np.sort(x_test, axis=1)
        acc = 0.0
        for step in range(1, 1001):
            x = rng.integers(0, 10, (64, T))
            loss = F.cross_entropy(model(jg.tensor(x)).reshape(-1, 10),
                                   jg.tensor(np.sort(x, axis=1).reshape(-1)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 50 == 0:
                model.eval()
                with jg.no_grad():
                    pred = model(jg.tensor(x_test)).numpy().argmax(-1)
                model.train()
                acc = float((pred == y_test).all(axis=1).mean())
                if acc >= 0.97:
                    break
    finally:
        jg.set_num_threads(threads)
    assert acc >= 0.95, f"sorted {acc:.3f} of the test sequences after {step} steps"
