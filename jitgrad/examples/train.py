"""The main job: train a model on data bundled with jitgrad, no network and no arguments needed.

    python -m jitgrad.examples.train                 # MLP on the 8x8 digits
    python -m jitgrad.examples.train --model cnn     # or lstm (images read row by row), charlstm
    jitgrad-train --model lstm --epochs 5 --save run.jg --plot curves.png

Prints a progress bar per epoch (loss, samples/s), then the test accuracy (validation loss in
nats/char and a generated sample for charlstm), the wall time per epoch and how long the first
step took (numba compiles each kernel on first use and caches it on disk: a cold first run
spends most of its first step compiling). ``--save`` writes a checkpoint (model, optimizer,
scheduler, RNG state, epoch, history) after every epoch; ``--resume`` continues one, with the
same random streams, so an interrupted run ends with the same weights as an uninterrupted one.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import jitgrad as jg
from jitgrad import nn

# model: (epochs, batch size, learning rate) defaults, measured to reach the README's accuracy
DEFAULTS = {"mlp": (40, 64, 5e-3), "cnn": (30, 64, 3e-3), "lstm": (25, 64, 1e-2),
            "charlstm": (3, 32, 3e-3)}
OPTIMIZERS = {"adam": jg.optim.Adam, "adamw": jg.optim.AdamW, "sgd": jg.optim.SGD,
              "rmsprop": jg.optim.RMSprop, "adagrad": jg.optim.Adagrad, "nadam": jg.optim.NAdam,
              "lion": jg.optim.Lion}


# ----------------------------------------------------------------------------- models
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
                                 nn.Linear(256, 10))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    """conv 1->16 3x3, relu, conv 16->16 3x3, relu, maxpool 2, conv 16->32 3x3, relu, maxpool 2
    (all padding 1), dropout 0.3, linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 2 * 2, 10))

    def forward(self, x):
        return self.head(self.features(x.unsqueeze(1)))


class RowLSTM(nn.Module):
    """Reads each 8x8 image as 8 steps of 8 pixels; classifies from the last hidden state."""

    def __init__(self, hidden=64):
        super().__init__()
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=32, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


# ----------------------------------------------------------------------------- data
def digits(args):
    x, y = jg.data.load_digits("train")
    xt, yt = jg.data.load_digits("test")
    if args.quick:
        x, y, xt, yt = x[:256], y[:256], xt[:128], yt[:128]
    return jg.data.TensorDataset(x, y), jg.data.TensorDataset(xt, yt)


class CharChunks(jg.data.Dataset):
    """(input, target) windows of `length` characters; target is the input shifted by one."""

    def __init__(self, codes, length):
        self.codes, self.length = codes, length

    def __len__(self):
        return (len(self.codes) - 1) // self.length

    def __getitem__(self, i):
        s = i * self.length
        return self.codes[s:s + self.length], self.codes[s + 1:s + self.length + 1]


def text(args):
    corpus = jg.data.load_text()
    vocab = sorted(set(corpus))
    codes = np.array([vocab.index(c) for c in vocab], np.int64)[
        np.searchsorted(np.array(vocab), np.array(list(corpus)))]
    if args.quick:
        codes = codes[:20000]
    split = int(len(codes) * 0.95)
    return (CharChunks(codes[:split], args.seq_len), CharChunks(codes[split:], args.seq_len),
            vocab)


# ----------------------------------------------------------------------------- training
def progress(iterable, total, desc, enabled):
    try:
        from tqdm import tqdm
    except ImportError:  # a plain install without the tqdm dependency: stay quiet but work
        return iterable
    # disable=None: no bar when stdout is not a terminal (CI logs, pipes)
    return tqdm(iterable, total=total, desc=desc, disable=None if enabled else True,
                leave=False, dynamic_ncols=True, file=sys.stdout)


def evaluate(model, loader, charlm):
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with jg.no_grad():
        for xb, yb in loader:
            if charlm:
                logits, _ = model(xb)
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                   yb.reshape(-1), reduction="sum")
                loss_sum += loss.item()
                total += yb.numel()
            else:
                pred = model(xb).argmax(dim=1).numpy()
                correct += int((pred == yb.numpy()).sum())
                total += len(pred)
    model.train()
    return loss_sum / total if charlm else correct / total


def sample_text(model, vocab, prompt="def ", n=200, temperature=0.8, seed=0):
    gen = jg.Generator().manual_seed(seed)
    model.eval()
    idx = [vocab.index(c) for c in prompt if c in vocab]
    state, out = None, list(prompt)
    with jg.no_grad():
        x = jg.tensor([idx])
        for _ in range(n):
            logits, state = model(x, state)
            p = nn.functional.softmax(logits[0, -1] / temperature, dim=0).numpy()
            k = int(gen.numpy.choice(len(vocab), p=p / p.sum()))
            out.append(vocab[k])
            x = jg.tensor([[k]])
    model.train()
    return "".join(out)


def kernel_counts():
    """(compiled, loaded from cache) numba specialisations so far in this process."""
    from jitgrad.compile import kernel_dispatchers
    ds = kernel_dispatchers().values()
    return (sum(sum(d.stats.cache_misses.values()) for d in ds),
            sum(sum(d.stats.cache_hits.values()) for d in ds))


def build(args):
    if args.model == "charlstm":
        train_set, test_set, vocab = text(args)
        model = CharLSTM(len(vocab))
    else:
        train_set, test_set = digits(args)
        vocab = None
        model = {"mlp": MLP, "cnn": CNN, "lstm": RowLSTM}[args.model]()
    opt_cls = OPTIMIZERS[args.optimizer]
    opt = opt_cls(model.parameters(), lr=args.lr)
    sched = jg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    return model, opt, sched, train_set, test_set, vocab


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="jitgrad-train", description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(DEFAULTS), default="mlp")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="numba and BLAS threads")
    ap.add_argument("--seq-len", type=int, default=64, help="charlstm: characters per window")
    ap.add_argument("--save", metavar="PATH", help="checkpoint after every epoch ('{epoch}' in "
                    "PATH keeps one file per epoch, e.g. run-{epoch}.jg)")
    ap.add_argument("--resume", metavar="PATH", help="continue from a checkpoint")
    ap.add_argument("--plot", metavar="PATH", help="loss/accuracy curves as PNG (matplotlib)")
    ap.add_argument("--quick", action="store_true", help="a smoke run on a small slice")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    ap.add_argument("--distributed", action="store_true",
                    help="data-parallel over MPI: mpirun -n N python -m jitgrad.examples.train "
                         "--distributed (per-rank --batch-size; rank 0 prints and saves)")
    args = ap.parse_args(argv)
    epochs, batch, lr = DEFAULTS[args.model]
    args.epochs = (1 if args.quick else epochs) if args.epochs is None else args.epochs
    args.batch_size = batch if args.batch_size is None else args.batch_size
    args.lr = lr if args.lr is None else args.lr
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse(argv)
    rank, world = 0, 1
    if args.distributed:
        import jitgrad.distributed as dist
        dist.init_process_group("mpi")   # before set_num_threads: it takes this rank's share
        rank, world = dist.get_rank(), dist.get_world_size()
    if args.threads:
        jg.set_num_threads(args.threads)
    jg.manual_seed(args.seed)
    model, opt, sched, train_set, test_set, vocab = build(args)
    net = model
    if args.distributed:
        net = nn.parallel.DistributedDataParallel(model)   # rank 0's weights everywhere
        if rank != 0:
            args.no_progress, args.save, args.plot = True, None, None
    charlm = args.model == "charlstm"
    start_epoch, history = 0, []
    if args.resume:
        ckpt = jg.load(args.resume)
        if ckpt.get("model_name") != args.model:
            raise SystemExit(f"jitgrad-train: {args.resume} holds a {ckpt.get('model_name')!r} "
                             f"run, not {args.model!r}")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        jg.set_rng_state(ckpt["rng"])
        start_epoch, history = ckpt["epoch"], list(ckpt["history"])
        if rank == 0:
            print(f"resumed {args.resume} after epoch {start_epoch}")
    sampler = jg.data.DistributedSampler(train_set, world, rank, seed=args.seed) \
        if args.distributed else None
    loader = jg.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None,
                                sampler=sampler)
    say = print if rank == 0 else (lambda *a, **k: None)
    test_loader = jg.data.DataLoader(test_set, batch_size=256)
    say(f"jitgrad {jg.__version__}: {args.model}, {sum(p.numel() for p in model.parameters()):,}"
        f" parameters, {len(train_set):,} training samples, {args.optimizer} lr {args.lr}, "
        f"batch {args.batch_size}, {jg.get_num_threads()} threads"
        + (f", {world} MPI ranks" if args.distributed else ""))
    say("first use compiles the kernels this model needs (numba JIT; cached on disk for the "
          "next run): the first step of a cold run can take 10-40 s ...", flush=True)
    compiled0, loaded0 = kernel_counts()
    metric = "val nats/char" if charlm else "test acc"
    first_step = None
    for epoch in range(start_epoch, args.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        seen, loss_sum, steps = 0, 0.0, 0
        bar = progress(loader, len(loader), f"epoch {epoch + 1}/{args.epochs}",
                       not args.no_progress)
        for xb, yb in bar:
            ts = time.perf_counter()
            opt.zero_grad()
            if charlm:
                logits, _ = net(xb)
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                   yb.reshape(-1))
            else:
                loss = nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            if charlm:
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if first_step is None:
                first_step = time.perf_counter() - ts
                compiled, loaded = kernel_counts()
                say(f"first step took {first_step:.1f} s ({compiled - compiled0} kernel "
                      f"specialisations compiled, {loaded - loaded0} loaded from the cache)",
                      flush=True)
            seen += len(xb)
            steps += 1
            loss_sum += loss.item()
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss_sum / steps:.4f}",
                                samples_per_s=f"{seen / (time.perf_counter() - t0):,.0f}")
        sched.step()
        wall = time.perf_counter() - t0
        score = evaluate(model, test_loader, charlm)
        history.append({"epoch": epoch + 1, "loss": loss_sum / max(steps, 1), "score": score,
                        "seconds": wall})
        say(f"epoch {epoch + 1:3d}  train loss {loss_sum / max(steps, 1):.4f}  {metric} "
              f"{score:.4f}  {wall:6.2f} s  ({seen / wall:,.0f} samples/s)", flush=True)
        if args.save:
            jg.save({"model_name": args.model, "model": model.state_dict(),
                     "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "rng": jg.get_rng_state(), "epoch": epoch + 1, "history": history},
                    args.save.format(epoch=epoch + 1) if "{epoch" in args.save else args.save)
    if history:
        final = history[-1]["score"]
        per_epoch = np.median([h["seconds"] for h in history])
        say(f"final {metric}: {final:.4f}   median wall time per epoch {per_epoch:.2f} s   "
              f"first step (incl. JIT) {first_step or 0:.1f} s")
    if charlm and rank == 0:
        print("sample:\n" + sample_text(model, vocab))
    if args.plot:
        plot(history, args.plot, metric)
    return history


def plot(history, path, metric):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib, which is not installed: pip install 'jitgrad[plot]' "
              "(or pip install matplotlib)")
        return
    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(ep, [h["loss"] for h in history], marker="o")
    a.set_xlabel("epoch")
    a.set_ylabel("train loss")
    b.plot(ep, [h["score"] for h in history], marker="o", color="tab:green")
    b.set_xlabel("epoch")
    b.set_ylabel(metric)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"curves written to {os.path.abspath(path)}")


if __name__ == "__main__":
    main()
