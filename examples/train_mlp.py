"""Train a small MLP on two interleaved spirals with jitgrad core ops and plain SGD.

Run:  python examples/train_mlp.py
Prints the loss and accuracy per epoch, the total time, and a final accuracy line.
"""
import time

import numpy as np

import jitgrad as jg


def spirals(n_per_class, noise, rng):
    """Two interleaved 2-D spirals, labels 0 and 1 (float32 inputs, int64 labels)."""
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * 3 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise, (2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)]).astype(np.int64)
    return x.astype(np.float32), y


def init_params(sizes, rng):
    """Weights with He-style scaling (ReLU layers), zero biases; all require grad."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.normal(0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)).astype(np.float32)
        params += [jg.tensor(w, requires_grad=True), jg.zeros(fan_out, requires_grad=True)]
    return params


def forward(params, x):
    h = x
    for i in range(0, len(params) - 2, 2):
        h = jg.relu(h @ params[i] + params[i + 1])
    return h @ params[-2] + params[-1]


def cross_entropy(logits, onehot):
    """Mean negative log-likelihood of the targets under softmax(logits)."""
    logp = logits - jg.logsumexp(logits, dim=1, keepdim=True)
    return -(logp * onehot).sum() / logits.shape[0]


def accuracy(params, x, y):
    with jg.no_grad():
        return float((forward(params, x).argmax(dim=1).numpy() == y).mean())


def main(epochs=60, batch=64, lr=0.1, seed=0):
    jg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_np, y_np = spirals(1000, 0.02, rng)
    x_all, onehot_all = jg.tensor(x_np), jg.tensor(np.eye(2, dtype=np.float32)[y_np])
    params = init_params([2, 64, 64, 2], rng)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_np))
        total = 0.0
        for start in range(0, len(order), batch):
            idx = jg.tensor(order[start:start + batch])
            loss = cross_entropy(forward(params, x_all[idx]), onehot_all[idx])
            loss.backward()
            with jg.no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            total += loss.item() * len(idx)
        if epoch % 10 == 0 or epoch == 1:
            print(f"epoch {epoch:3d}  loss {total / len(order):.4f}  "
                  f"accuracy {accuracy(params, x_all, y_np):.3f}")
    elapsed = time.perf_counter() - t0
    final_loss = cross_entropy(forward(params, x_all), onehot_all).item()
    acc = accuracy(params, x_all, y_np)
    print(f"trained {epochs} epochs in {elapsed:.2f} s (first-call JIT compile included)")
    print(f"final: accuracy {acc:.3f}  loss {final_loss:.4f}")
    return acc


if __name__ == "__main__":
    main()
