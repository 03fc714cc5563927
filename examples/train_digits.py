"""Train an MLP and a small CNN on scikit-learn's 8x8 handwritten digits, written as a PyTorch script.

    python examples/train_digits.py                 # with ndgrad
    python examples/train_digits.py --lib torch     # the same script with PyTorch, for comparison

The data set ships inside scikit-learn (1,797 images, no download). The script prints an epoch log with a
progress bar, saves each model's checkpoint (`ndgrad.save`: a state dict, optimizer state and history in
ndgrad's pickle-free format) and a PNG of the loss curves, and reports test accuracy.
Needs `pip install -e ".[examples]"` (scikit-learn and matplotlib).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time


def load_digits_split(seed: int = 0):
    """(x_train, y_train, x_test, y_test) as NumPy arrays: 80/20 split, pixels scaled to [0, 1]."""
    import numpy as np
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def make_models(torch):
    nn = torch.nn
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                       # 32 x 4 x 4
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
    return {"mlp": mlp, "cnn": cnn}


def progress(epoch: int, epochs: int, done: int, total: int, loss: float, width: int = 24) -> None:
    """A one-line progress bar on stderr, redrawn in place (only on a terminal)."""
    if not sys.stderr.isatty():
        return
    filled = int(width * done / total)
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r  epoch {epoch:2d}/{epochs} [{bar}] {done:4d}/{total} loss {loss:.4f}")
    if done == total:
        sys.stderr.write("\r" + " " * (width + 50) + "\r")
    sys.stderr.flush()


def accuracy(torch, model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in loader:
            correct += (model(xb).argmax(dim=1) == yb).sum().item()
            total += len(yb)
    return correct / total


def train(torch, name, model, train_loader, test_loader, epochs, lr, out_dir):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    n_batches = len(train_loader)
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters")
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running = 0.0
        for i, (xb, yb) in enumerate(train_loader, 1):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            running += loss.item()
            progress(epoch, epochs, i, n_batches, running / i)
        sched.step()
        model.eval()
        with torch.no_grad():
            test_loss = sum(loss_fn(model(xb), yb).item() * len(yb) for xb, yb in test_loader) / len(
                test_loader.dataset)
        acc = accuracy(torch, model, test_loader)
        history["train_loss"].append(running / n_batches)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(acc)
        print(f"{name} epoch {epoch:2d}  train loss {running / n_batches:.4f}  test loss {test_loss:.4f}  "
              f"test acc {acc:.2%}  ({time.perf_counter() - t0:.1f} s)")
    path = os.path.join(out_dir, f"digits_{name}.pt")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "history": history}, path)
    print(f"{name}: checkpoint saved to {path}")
    return history, time.perf_counter() - t0


def plot(histories: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, h in histories.items():
        epochs = range(1, len(h["train_loss"]) + 1)
        line, = ax.plot(epochs, h["train_loss"], label=f"{name} train")
        ax.plot(epochs, h["test_loss"], "--", color=line.get_color(), label=f"{name} test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.set_title("8x8 digits: loss curves")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _loaders(torch, batch_size: int, seed: int):
    xtr, ytr, xte, yte = load_digits_split(seed)
    data = torch.utils.data
    train_ds = data.TensorDataset(torch.tensor(xtr), torch.tensor(ytr))
    test_ds = data.TensorDataset(torch.tensor(xte), torch.tensor(yte))
    g = torch.Generator().manual_seed(seed)
    return (data.DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=g),
            data.DataLoader(test_ds, batch_size=256))


def run(argv: list[str] | None = None) -> dict:
    """Parse arguments, train the chosen models, save checkpoints and the plot; return the results."""
    p = argparse.ArgumentParser(description="Train an MLP and a CNN on scikit-learn's 8x8 digits.")
    p.add_argument("--lib", default="ndgrad", choices=["ndgrad", "torch"], help="the library to train with")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--models", default="mlp,cnn", help="comma-separated: mlp, cnn")
    p.add_argument("--out", default="digits-output", help="folder for the checkpoints and the plot")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch = importlib.import_module(args.lib)
    if args.lib == "torch":
        torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_loader, test_loader = _loaders(torch, args.batch_size, args.seed)
    models = make_models(torch)
    results, histories = {}, {}
    for name in args.models.split(","):
        history, seconds = train(torch, name, models[name], train_loader, test_loader, args.epochs, args.lr,
                                 args.out)
        histories[name] = history
        results[name] = {"test_acc": history["test_acc"][-1], "seconds": seconds}
    png = os.path.join(args.out, "digits_loss.png")
    try:
        plot(histories, png)
        print(f"loss curves saved to {png}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[examples]')")
    for name, r in results.items():
        print(f"{name}: test accuracy {r['test_acc']:.2%} in {r['seconds']:.1f} s")
    return results


if __name__ == "__main__":
    run()
