"""The digits CNN of train_digits.py trained data-parallel on several processes: a torchrun program.

    ndgrad-run --nproc-per-node 2 examples/train_digits_ddp.py            # ndgrad (or python -m ndgrad.distributed.run)
    torchrun --nproc-per-node 2 examples/train_digits_ddp.py --lib torch  # the same program with PyTorch

Each process takes its share of every epoch (DistributedSampler), DistributedDataParallel averages the gradients
during backward, so all processes keep identical weights and the global batch is `--batch-size` (split between
the processes). Rank 0 evaluates, prints the log and saves the checkpoint (the plain model's state_dict, without
DDP's `module.` prefix). Needs scikit-learn (`pip install -e ".[examples,distributed]"`).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_digits import load_digits_split, make_models  # noqa: E402


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="Data-parallel training of the digits CNN.")
    p.add_argument("--lib", default="ndgrad", choices=["ndgrad", "torch"])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64, help="global batch size (split between the processes)")
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--out", default="digits-output")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch = importlib.import_module(args.lib)
    dist = importlib.import_module(f"{args.lib}.distributed")
    DDP = importlib.import_module(f"{args.lib}.nn.parallel").DistributedDataParallel
    data = torch.utils.data
    DistributedSampler = importlib.import_module(f"{args.lib}.utils.data.distributed").DistributedSampler

    dist.init_process_group("gloo")          # RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from the launcher
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must divide by the number of processes {world}")
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = load_digits_split(args.seed)
    train_ds = data.TensorDataset(torch.tensor(xtr), torch.tensor(ytr))
    test_loader = data.DataLoader(data.TensorDataset(torch.tensor(xte), torch.tensor(yte)), batch_size=256)
    sampler = DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = data.DataLoader(train_ds, batch_size=args.batch_size // world, sampler=sampler)

    model = DDP(make_models(torch)["cnn"])   # rank 0's initial weights are broadcast to every process
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    if rank == 0:
        print(f"{world} processes, global batch {args.batch_size}, {len(loader)} steps per epoch")
    t0 = time.perf_counter()
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)             # a new shuffle each epoch, the same on every process
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()                  # gradients are averaged across the processes here
            opt.step()
            total += loss.item()
        sched.step()
        mean_loss = torch.tensor([total / len(loader)])
        dist.all_reduce(mean_loss, op=dist.ReduceOp.SUM)
        if rank == 0:
            model.eval()
            with torch.no_grad():
                correct = sum((model.module(xb).argmax(dim=1) == yb).sum().item() for xb, yb in test_loader)
            acc = correct / len(test_loader.dataset)
            print(f"epoch {epoch:2d}  train loss {mean_loss.item() / world:.4f}  test acc {acc:.2%}  "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "digits_cnn_ddp.pt")
        torch.save(model.module.state_dict(), path)
        print(f"checkpoint saved to {path}")
    dist.destroy_process_group()
    return {"test_acc": acc, "seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    run()
