#!/usr/bin/python3
"""PyTorch peer of `benchtop run lottery-ticket`: the same runs, timed.

Setting (Frankle & Carbin, ICLR 2019; UDL section 20.2.7): MNIST-1D with 5000 examples, the first
4000 train, the rest test. The residual MLP 40-h-h-10 (h1 = relu(l1 x); h2 = h1 + relu(l2 h1);
out = l3 h2; torch's default init), Adam lr 2e-2, batches of 100 in fixed order, 1500 steps, test
accuracy every 250 steps and at the end. Iterative magnitude pruning per seed: train, remove the
prune rate (0.4) of each weight matrix's surviving weights with the smallest magnitude, rewind the
survivors to their initial values, retrain; 8 rounds. At each sparsity two controls: the ticket's
mask with a fresh initialisation, and a random mask with the same per-layer counts on the initial
weights. Masks multiply the weights in the forward pass and are re-applied after every step, one
model after another on one thread. The data must be written first by benchtop:

  build/benchtop data mnist1d num_samples=5000 train_split=0.8 --out /tmp/m1d-5k
  /usr/bin/python3 bench/peers/lottery_ticket.py --data /tmp/m1d-5k [--seeds 0] [--hidden 500]
      [--rounds 8] [--rate 0.4] [--steps 1500] [--no-controls] [--threads 1]

Prints one line per round and the total wall time.
"""
import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from m1d_files import load  # noqa: E402  (bench/peers/m1d_files.py)

NAMES = ("l1", "l2", "l3")


class ResMlp(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(40, h), nn.Linear(h, h), nn.Linear(h, 10)

    def forward(self, x, masks):
        w = [getattr(self, n).weight * m for n, m in zip(NAMES, masks)]
        h1 = F.relu(F.linear(x, w[0], self.l1.bias))
        h2 = h1 + F.relu(F.linear(h1, w[1], self.l2.bias))
        return F.linear(h2, w[2], self.l3.bias)


def accuracy(model, masks, x, y):
    with torch.no_grad():
        return (model(x, masks).argmax(1) == y).float().mean().item()


def train(h, state, masks, data, steps, lr, eval_every):
    xt, yt, xe, ye = data
    model = ResMlp(h)
    model.load_state_dict(state)
    with torch.no_grad():
        for n, m in zip(NAMES, masks):
            getattr(model, n).weight.mul_(m)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n_train, best = xt.shape[0], 0.0
    for s in range(steps):
        i = (100 * s) % n_train
        loss = F.cross_entropy(model(xt[i:i + 100], masks), yt[i:i + 100])
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for n, m in zip(NAMES, masks):
                getattr(model, n).weight.mul_(m)
        if s % eval_every == 0 or s == steps - 1:
            best = max(best, accuracy(model, masks, xe, ye))
    return model, accuracy(model, masks, xe, ye), best


def prune(model, masks, rate):
    out = []
    for n, m in zip(NAMES, masks):
        w = getattr(model, n).weight.detach().abs().flatten()
        alive = m.flatten().nonzero().flatten()
        k = int(round(rate * alive.numel()))
        order = torch.argsort(w[alive], stable=True)
        new = m.flatten().clone()
        new[alive[order[:k]]] = 0
        out.append(new.view_as(m))
    return out


def random_like(masks, gen):
    out = []
    for m in masks:
        kept = int(m.sum().item())
        new = torch.zeros(m.numel())
        new[torch.randperm(m.numel(), generator=gen)[:kept]] = 1
        out.append(new.view_as(m))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--rate", type=float, default=0.4)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=2e-2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--no-controls", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.threads} thread(s), hidden {a.hidden}, {a.rounds} rounds of {a.rate}")
    t_start = time.perf_counter()
    for seed in [int(v) for v in a.seeds.split(",")]:
        torch.manual_seed(seed)
        init = ResMlp(a.hidden).state_dict()
        init = {k: v.clone() for k, v in init.items()}
        masks = [torch.ones_like(init[n + ".weight"]) for n in NAMES]
        gen = torch.Generator().manual_seed(seed)
        for r in range(a.rounds + 1):
            if r > 0:
                masks = prune(model, masks, a.rate)  # noqa: F821 (model of the previous round)
            model, acc, best = train(a.hidden, init, masks, data, a.steps, a.lr, a.eval_every)
            kept = sum(m.sum().item() for m in masks) / sum(m.numel() for m in masks)
            line = f"seed {seed} round {r} sparsity {1 - kept:.4f} ticket {acc:.3f} (best {best:.3f})"
            if r > 0 and not a.no_controls:
                fresh = {k: v.clone() for k, v in ResMlp(a.hidden).state_dict().items()}
                _, re_acc, _ = train(a.hidden, fresh, masks, data, a.steps, a.lr, a.eval_every)
                _, ra_acc, _ = train(a.hidden, init, random_like(masks, gen), data, a.steps, a.lr, a.eval_every)
                line += f" reinit {re_acc:.3f} random {ra_acc:.3f}"
            print(line, flush=True)
    print(f"total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
