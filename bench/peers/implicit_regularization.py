#!/usr/bin/python3
"""PyTorch peer of `benchtop run implicit-regularization`: the same runs, timed.

Setting (Prince, UDL section 9.2; Smith, Dherin, Barrett & De, ICLR 2021; Keskar et al., ICLR
2017): 8000 MNIST-1D examples, the first 4000 train, the rest test; one model after another, one
thread. Per width, learning rate, batch size and seed: an MLP 40-w-w-10 (two hidden ReLU layers,
PyTorch's default init after torch.manual_seed(seed)), plain SGD (no momentum) for
max(round(distance / lr), min_epochs * ceil(N / batch)) steps, minibatches of `batch` taken in
order from a fresh permutation every epoch (batch == N: the whole set every step), full-set
train/test error and loss 20 times during training and at the end. Then, in float64: the
sharpness (largest Hessian eigenvalue of the mean training cross-entropy, power iteration on exact
Hessian-vector products; a negative estimate is redone on H - lambda I) and the gradient-variance
term lr / (4B) * sum_b |grad L_b - grad L|^2 over the B = N // batch consecutive batches of the
unshuffled training set (0 for batch == N). The data must be written first by benchtop (the
generator is not re-implemented here):

  build/benchtop data mnist1d num_samples=8000 train_split=0.5 --out /tmp/m1d-8k
  /usr/bin/python3 bench/peers/implicit_regularization.py --data /tmp/m1d-8k
      [--widths 25,50,100,200] [--lrs 0.05,0.1,0.5] [--batches 10,100,4000] [--seeds 0]
      [--distance 600] [--min-epochs 100] [--power-iterations 30] [--threads 1]

Prints one line per run (width, lr, batch, seed, steps, train/test error, sharpness,
gradient-variance term, seconds) and the total wall time.
"""
import argparse
import copy
import math
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def load(d):
    x_train = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(-1, 40)
    x_test = np.fromfile(os.path.join(d, "x_test.f64"), dtype="<f8").reshape(-1, 40)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    y_test = np.fromfile(os.path.join(d, "y_test.u8"), dtype=np.uint8).astype(np.int64)
    return x_train, y_train, x_test, y_test


def evaluate(model, x, y):
    """(error, mean cross-entropy) on the full set."""
    with torch.no_grad():
        out = torch.cat([model(x[i:i + 2000]) for i in range(0, x.shape[0], 2000)])
        return (out.argmax(1) != y).float().mean().item(), F.cross_entropy(out, y).item()


def grad(model, x, y, create_graph=False):
    return torch.autograd.grad(F.cross_entropy(model(x), y), list(model.parameters()), create_graph=create_graph)


def dot(a, b):
    return sum((u * v).sum() for u, v in zip(a, b))


def sharpness(model, x, y, iterations, seed):
    """Largest eigenvalue of the Hessian of the mean loss: power iteration, exact H v."""
    g = grad(model, x, y, create_graph=True)
    params = list(model.parameters())
    hvp = lambda v: torch.autograd.grad(g, params, grad_outputs=v, retain_graph=True)  # noqa: E731
    gen = torch.Generator().manual_seed(seed)

    def power(shift):
        v = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
        est = 0.0
        for _ in range(iterations):
            norm = dot(v, v).sqrt()
            v = [t / norm for t in v]
            hv = [h - shift * t for h, t in zip(hvp(v), v)]
            est = dot(v, hv).item()  # Rayleigh quotient of the unit vector v
            v = hv
        return est

    lam = power(0.0)
    return power(lam) + lam if lam < 0 else lam


def grad_variance_term(model, x, y, lr, batch):
    n = x.shape[0]
    if batch >= n:
        return 0.0
    full = grad(model, x, y)
    nb = n // batch
    total = 0.0
    for i in range(nb):
        d = [gb - g for gb, g in zip(grad(model, x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]), full)]
        total += dot(d, d).item()
    return lr / (4 * nb) * total


def run(width, lr, batch, seed, data, a):
    x_train, y_train, x_test, y_test = data
    xt, yt = torch.tensor(x_train, dtype=torch.float32), torch.tensor(y_train)
    xe, ye, n = torch.tensor(x_test, dtype=torch.float32), torch.tensor(y_test), xt.shape[0]
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    steps = max(int(math.floor(a.distance / lr + 0.5)), a.min_epochs * math.ceil(n / batch))
    every = max(1, steps // 20)
    t0 = time.perf_counter()
    perm, pos = None, n  # pos >= n: draw a fresh permutation (a new epoch)
    for k in range(steps):
        if batch >= n:
            xb, yb = xt, yt
        else:
            if pos >= n:
                perm, pos = torch.randperm(n), 0
            b = perm[pos:pos + batch]
            pos += batch
            xb, yb = xt[b], yt[b]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (k + 1) % every == 0 or k + 1 == steps:
            (tr, _), (te, _) = evaluate(model, xt, yt), evaluate(model, xe, ye)
    m64 = copy.deepcopy(model).double()
    x64 = torch.tensor(x_train, dtype=torch.float64)
    sh, gv = sharpness(m64, x64, yt, a.power_iterations, seed), grad_variance_term(m64, x64, yt, lr, batch)
    return steps, tr, te, sh, gv, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--widths", default="25,50,100,200")
    ap.add_argument("--lrs", default="0.05,0.1,0.5")
    ap.add_argument("--batches", default="10,100,4000")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--distance", type=float, default=600)
    ap.add_argument("--min-epochs", type=int, default=100)
    ap.add_argument("--power-iterations", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.threads} thread(s), {len(data[1])} train, {len(data[3])} test")
    t_start = time.perf_counter()
    for w in [int(v) for v in a.widths.split(",")]:
        for lr in [float(v) for v in a.lrs.split(",")]:
            for bs in [int(v) for v in a.batches.split(",")]:
                for s in [int(v) for v in a.seeds.split(",")]:
                    steps, tr, te, sh, gv, sec = run(w, lr, bs, s, data, a)
                    print(f"width {w:4d} lr {lr:<5g} batch {bs:5d} seed {s}: steps {steps:7d}  train error "
                          f"{tr:.4f} test error {te:.4f}  sharpness {sh:10.4f}  grad-var term {gv:.3e}"
                          f"  {sec:7.1f} s", flush=True)
    print(f"total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
