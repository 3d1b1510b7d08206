#!/usr/bin/python3
"""PyTorch peer of `benchtop run contrastive method=simclr` (pre-training only): the same loop, timed.

Setting: 4000 signals of length 40 (random normal values: the timing does not depend on them),
50 epochs of shuffled batches of 256, two augmented views per signal (circular shift up to 8,
offset up to 0.3, linear trend up to 0.5, white noise 0.1), the MNIST-1D CNN's convolutions
(1->32 k5 s2 p1, 32->32 k3 s2 p1 twice, ReLU) flattened to 160 features, a projector Linear(160,
128), BatchNorm1d, ReLU, Linear(128, 64), NT-Xent with temperature 0.1, AdamW (lr 1e-3, weight
decay 1e-4). The augmentations run as batched tensor ops.

  /usr/bin/python3 bench/peers/contrastive.py [--epochs 50] [--threads 1] [--method simclr|simsiam]

Prints the pre-training wall time.
"""
import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def augment(x, g):
    b, n = x.shape
    shift = torch.randint(-8, 9, (b, 1), generator=g)
    idx = (torch.arange(n).unsqueeze(0) - shift) % n
    v = torch.gather(x, 1, idx)
    v = v + (torch.rand(b, 1, generator=g) * 0.6 - 0.3)
    t = (torch.arange(n, dtype=torch.float32) - (n - 1) / 2) / n
    v = v + (torch.rand(b, 1, generator=g) - 0.5) * t.unsqueeze(0)
    return v + 0.1 * torch.randn(b, n, generator=g)


class Encoder(nn.Module):
    def __init__(self, c=32):
        super().__init__()
        self.c1 = nn.Conv1d(1, c, 5, 2, 1)
        self.c2 = nn.Conv1d(c, c, 3, 2, 1)
        self.c3 = nn.Conv1d(c, c, 3, 2, 1)

    def forward(self, x):
        h = F.relu(self.c1(x.unsqueeze(1)))
        h = F.relu(self.c2(h))
        return F.relu(self.c3(h)).flatten(1)


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, o))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--method", default="simclr", choices=["simclr", "simsiam"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4000, 40)
    enc, proj, pred = Encoder(), mlp(160, 128, 64), mlp(64, 32, 64)
    params = list(enc.parameters()) + list(proj.parameters()) + (list(pred.parameters()) if a.method == "simsiam" else [])
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    B = 256
    labels = torch.cat([torch.arange(B, 2 * B), torch.arange(0, B)])
    mask = torch.eye(2 * B, dtype=torch.bool)
    t0 = time.perf_counter()
    for epoch in range(a.epochs):
        perm = torch.randperm(4000, generator=g)
        for b in range(4000 // B):
            xb = x[perm[b * B:(b + 1) * B]]
            v = torch.cat([augment(xb, g), augment(xb, g)])
            z = proj(enc(v))
            if a.method == "simclr":
                zn = F.normalize(z, dim=1)
                sim = (zn @ zn.t() / 0.1).masked_fill(mask, -1e9)
                loss = F.cross_entropy(sim, labels)
            else:
                p = pred(z)
                t = z.detach()
                loss = -F.cosine_similarity(p, torch.cat([t[B:], t[:B]]), dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    wall = time.perf_counter() - t0
    print(f"{a.method}: {a.epochs} epochs of 4000 signals, batch {B}, {a.threads} thread(s): {wall:.2f} s, last loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
