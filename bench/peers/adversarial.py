#!/usr/bin/python3
"""PyTorch peer of `benchtop run adversarial model=mlp`: the same training and attacks, timed.

Setting (Madry et al., ICLR 2018; UDL section 20.4.6): MNIST-1D with 5000 examples, the first 4000
train, the rest test. The residual MLP 40-100-100-10 (torch's default init), Adam lr 1e-2,
batches of 100 in fixed order, steps 0..6000; with --adv-train each batch is replaced by its PGD
examples (L-inf, 0.1 sigma, 7 steps of 2.5 eps / 7, random start). Then the first 500 test signals
are attacked: FGSM, PGD L-inf and PGD L2 (20 steps) at seven radii (units of sigma, L2 radii
times sqrt(40)), and the minimal L2 perturbation by PGD with 10 bisections (max radius 4 x the
class gap given). DeepFool and the boundary attack of benchtop's battery are not reproduced, so
the peer does less work than benchtop. One seed after another on one thread. The data must be
written first by benchtop:

  build/benchtop data mnist1d num_samples=5000 train_split=0.8 --out /tmp/m1d-5k
  /usr/bin/python3 bench/peers/adversarial.py --data /tmp/m1d-5k [--seeds 0,1,2] [--adv-train]

Prints the accuracies per seed and the total wall time.
"""
import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from m1d_files import load  # noqa: E402  (bench/peers/m1d_files.py)

EPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


class ResMlp(nn.Module):
    def __init__(self, h=100):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(40, h), nn.Linear(h, h), nn.Linear(h, 10)

    def forward(self, x):
        h = F.relu(self.l1(x))
        return self.l3(h + F.relu(self.l2(h)))


def project(d, eps, norm):
    if norm == "linf":
        return d.clamp(-eps, eps)
    n = d.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return d * torch.clamp(eps / n, max=1.0)


def pgd(model, x, y, eps, norm, steps, random_start=True):
    """eps: a float or a per-example tensor [B, 1]."""
    eps = torch.as_tensor(eps, dtype=torch.float32)
    if eps.dim() == 0:
        eps = eps.expand(x.shape[0], 1)
    alpha = 2.5 * eps / steps
    d = torch.zeros_like(x)
    if random_start:
        if norm == "linf":
            d = (torch.rand_like(x) * 2 - 1) * eps
        else:
            z = torch.randn_like(x)
            d = z / z.norm(dim=1, keepdim=True) * eps * torch.rand(x.shape[0], 1) ** (1 / 40)
    best = x + d
    found = torch.zeros(x.shape[0], dtype=torch.bool)
    for _ in range(steps):
        d.requires_grad_(True)
        logits = model(x + d)
        fooled = logits.argmax(1) != y
        new = fooled & ~found
        best[new] = (x + d).detach()[new]
        found |= fooled
        (g,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), d)
        with torch.no_grad():
            step = g.sign() if norm == "linf" else g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
            d = project(d + alpha * step * (~found).unsqueeze(1), eps, norm)
    with torch.no_grad():
        fooled = model(x + d).argmax(1) != y
        new = fooled & ~found
        best[new] = (x + d)[new]
        found |= fooled
        best[~found] = (x + d)[~found]
    return best


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--adv-train", action="store_true")
    ap.add_argument("--examples", type=int, default=500)
    ap.add_argument("--class-gap", type=float, default=4.0, help="median class gap (absolute L2)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    xt, yt, xs, ys = load(a.data)
    sigma = xt.std(unbiased=False).item()
    l2_unit = sigma * 40 ** 0.5
    xa, ya = xs[: a.examples], ys[: a.examples]
    t0 = time.time()
    for seed in [int(s) for s in a.seeds.split(",")]:
        torch.manual_seed(seed)
        model = ResMlp()
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        n = xt.shape[0]
        for s in range(a.steps + 1):
            start = (100 * s) % n
            xb, yb = xt[start : start + 100], yt[start : start + 100]
            if a.adv_train:
                xb = pgd(model, xb, yb, 0.1 * sigma, "linf", 7)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        line = [f"seed {seed} clean {accuracy(model, xa, ya):.3f}"]
        for e in EPS:
            xf = xa.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(F.cross_entropy(model(xf), ya, reduction="sum"), xf)
            fg = accuracy(model, xa + e * sigma * g.sign(), ya)
            pi = accuracy(model, pgd(model, xa, ya, e * sigma, "linf", 20), ya)
            p2 = accuracy(model, pgd(model, xa, ya, e * l2_unit, "l2", 20), ya)
            line.append(f"eps {e}: fgsm {fg:.3f} pgd-linf {pi:.3f} pgd-l2 {p2:.3f}")
        lo = torch.zeros(xa.shape[0], 1)
        hi = torch.full((xa.shape[0], 1), 4 * a.class_gap)
        for _ in range(11):
            mid = (lo + hi) / 2
            adv = pgd(model, xa, ya, mid, "l2", 20, random_start=False)
            with torch.no_grad():
                ok = (model(adv).argmax(1) != ya).unsqueeze(1)
            hi = torch.where(ok, mid, hi)
            lo = torch.where(ok, lo, mid)
        line.append(f"median min-L2 (PGD search) {hi.median().item() / l2_unit:.4f}")
        print("; ".join(line), flush=True)
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
