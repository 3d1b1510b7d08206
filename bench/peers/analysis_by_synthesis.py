#!/usr/bin/python3
"""PyTorch peer of `benchtop run analysis-by-synthesis model=abs train_size=4000`: ABS-1D, timed.

Setting (Schott et al., ICLR 2019, on MNIST-1D): ten VAEs, one per class, each trained on its
class's training signals only: encoder 40-100 (ReLU) -> mean and log-variance of an 8-dim
Gaussian; decoder 8-100 (ReLU) -> 40; a learned scalar log-variance of the Gaussian likelihood per
VAE; negative ELBO with beta = 1; Adam lr 1e-3, batches of 64, 3000 steps. The ten VAEs train as
one batched computation (torch.bmm over the class axis), like benchtop's stack. Inference: per
class the best of N fixed latent draws by log p(x|z) + log p(z), refined by S Adam steps (lr 0.05)
on the latent; the class with the highest bound wins. Evaluated on the 1000 test signals for the
default budget (N = 100, S = 20) and the grid N in {1, 10, 100, 1000} x S in {0, 20}. One thread.
The data must be written first by benchtop:

  build/benchtop data mnist1d num_samples=5000 train_split=0.8 --out /tmp/m1d-5k
  /usr/bin/python3 bench/peers/analysis_by_synthesis.py --data /tmp/m1d-5k [--seed 0]
"""
import argparse
import math
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
from m1d_files import load  # noqa: E402  (bench/peers/m1d_files.py)

LOG2PI = math.log(2 * math.pi)


def linear_params(k, o, i):
    bound = 1 / math.sqrt(i)
    w = torch.empty(k, o, i).uniform_(-bound, bound).requires_grad_()
    b = torch.empty(k, 1, o).uniform_(-bound, bound).requires_grad_()
    return w, b


def lin(x, wb):
    w, b = wb
    return torch.bmm(x, w.transpose(1, 2)) + b


class Vaes:
    def __init__(self, k=10, d=40, h=100, latent=8):
        self.enc1, self.mu, self.lv = linear_params(k, h, d), linear_params(k, latent, h), linear_params(k, latent, h)
        self.dec1, self.dec2 = linear_params(k, h, latent), linear_params(k, d, h)
        self.log_var = torch.zeros(k, 1, 1, requires_grad=True)

    def params(self):
        out = [self.log_var]
        for wb in (self.enc1, self.mu, self.lv, self.dec1, self.dec2):
            out += list(wb)
        return out

    def decode(self, z):
        return lin(torch.relu(lin(z, self.dec1)), self.dec2)

    def neg_elbo(self, x):
        h = torch.relu(lin(x, self.enc1))
        mu, lv = lin(h, self.mu), lin(h, self.lv)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        xh = self.decode(z)
        d = x.shape[-1]
        rec = 0.5 * d * (LOG2PI + self.log_var[:, :, 0]) + 0.5 * ((x - xh) ** 2).sum(-1) * torch.exp(-self.log_var[:, :, 0])
        kl = -0.5 * (1 + lv - mu ** 2 - torch.exp(lv)).sum(-1)
        return (rec + kl).mean(1)


def infer(v, x, n, s, lr=0.05):
    k, latent, d = 10, 8, x.shape[1]
    with torch.no_grad():
        zs = torch.randn(k, n, latent)
        dec = v.decode(zs)  # [k, n, d]
        lv = v.log_var[:, 0, 0]
        sq = torch.cdist(x.unsqueeze(0).expand(k, -1, -1), dec) ** 2  # [k, m, n]
        bound = -0.5 * d * (LOG2PI + lv)[:, None, None] - 0.5 * sq * torch.exp(-lv)[:, None, None] \
            - 0.5 * (zs ** 2).sum(-1)[:, None, :]
        best, idx = bound.max(2)  # [k, m]
        z = torch.gather(zs, 1, idx.unsqueeze(-1).expand(-1, -1, latent)).clone()
    if s > 0:
        z.requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(s):
            xh = v.decode(z)
            b = -0.5 * d * (LOG2PI + lv)[:, None] - 0.5 * ((x.unsqueeze(0) - xh) ** 2).sum(-1) * torch.exp(-lv)[:, None] \
                - 0.5 * (z ** 2).sum(-1)
            best = torch.maximum(best, b.detach())
            opt.zero_grad()
            (-b.sum()).backward()
            opt.step()
        with torch.no_grad():
            xh = v.decode(z)
            b = -0.5 * d * (LOG2PI + lv)[:, None] - 0.5 * ((x.unsqueeze(0) - xh) ** 2).sum(-1) * torch.exp(-lv)[:, None] \
                - 0.5 * (z ** 2).sum(-1)
            best = torch.maximum(best, b)
    return best.argmax(0)  # [m]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    xt, yt, xs, ys = load(a.data)
    t0 = time.time()
    v = Vaes()
    opt = torch.optim.Adam(v.params(), lr=1e-3)
    rows = [torch.nonzero(yt == c)[:, 0] for c in range(10)]
    pos = [0] * 10
    perms = [r[torch.randperm(len(r))] for r in rows]
    def next_batch(c):  # 64 signals of class c, reshuffled after each pass over the class
        parts, need = [], 64
        while need > 0:
            if pos[c] >= len(perms[c]):
                perms[c], pos[c] = rows[c][torch.randperm(len(rows[c]))], 0
            take = min(need, len(perms[c]) - pos[c])
            parts.append(perms[c][pos[c]: pos[c] + take])
            pos[c] += take
            need -= take
        return xt[torch.cat(parts)]

    for _ in range(a.steps):
        batch = [next_batch(c) for c in range(10)]
        loss = v.neg_elbo(torch.stack(batch)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    t1 = time.time()
    acc = (infer(v, xs, 100, 20) == ys).float().mean().item()
    grid = []
    for n in (1, 10, 100, 1000):
        for s in (0, 20):
            grid.append(f"n{n}/s{s} {(infer(v, xs, n, s) == ys).float().mean().item():.3f}")
    t2 = time.time()
    print(f"test accuracy {acc:.3f}; budgets: " + ", ".join(grid))
    print(f"training {t1 - t0:.1f} s, inference {t2 - t1:.1f} s, total {t2 - t0:.1f} s")


if __name__ == "__main__":
    main()
