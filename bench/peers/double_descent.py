#!/usr/bin/python3
"""PyTorch peer of `benchtop run double-descent` (MLP variant): the same sweep, timed.

Setting (shared/specs/mnist1d.md section 6): 4000 training / 12000 test examples of MNIST-1D,
15% of training labels replaced by a uniform random label, MLP 40-n-n-10 (two hidden ReLU
layers), SGD lr 0.01 momentum 0.9, batch 100 reshuffled every epoch, 500 epochs, evaluation
on the full train and test sets every 10 epochs; one model after another, one thread.
The data must be written first by benchtop (the generator is not re-implemented here):

  build/benchtop data mnist1d num_samples=16000 train_split=0.25 --out /tmp/mnist1d-16k
  /usr/bin/python3 bench/peers/double_descent.py --data /tmp/mnist1d-16k [--epochs 500]
      [--widths 2,3,...,300] [--seeds 0,1,2] [--threads 1]

Prints one line per run (width, seed, train/test error, seconds) and the total wall time.
"""
import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

WIDTHS = "2,3,4,5,6,8,10,12,16,20,25,32,40,50,64,80,100,150,300"


def load(d):
    x_train = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(-1, 40)
    x_test = np.fromfile(os.path.join(d, "x_test.f64"), dtype="<f8").reshape(-1, 40)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    y_test = np.fromfile(os.path.join(d, "y_test.u8"), dtype=np.uint8).astype(np.int64)
    return x_train, y_train, x_test, y_test


def errors(model, x, y):
    with torch.no_grad():
        out = torch.cat([model(x[i:i + 2000]) for i in range(0, x.shape[0], 2000)])
        return (out.argmax(1) != y).float().mean().item()


def run(width, seed, data, epochs, noise, eval_every):
    x_train, y_train, x_test, y_test = data
    rng = np.random.RandomState(seed)
    y = y_train.copy()
    idx = rng.permutation(len(y))[: int(round(noise * len(y)))]
    y[idx] = rng.randint(0, 10, size=len(idx))
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y)
    xe = torch.tensor(x_test, dtype=torch.float32)
    ye = torch.tensor(y_test)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    n = xt.shape[0]
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 100):
            b = perm[i:i + 100]
            loss = F.cross_entropy(model(xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if (epoch + 1) % eval_every == 0 or epoch + 1 == epochs:
            tr, te = errors(model, xt, yt), errors(model, xe, ye)
    return tr, te, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--widths", default=WIDTHS)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--label-noise", type=float, default=0.15)
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.threads} thread(s), {len(data[1])} train, {len(data[3])} test")
    total = 0.0
    for w in [int(v) for v in a.widths.split(",")]:
        for s in [int(v) for v in a.seeds.split(",")]:
            tr, te, sec = run(w, s, data, a.epochs, a.label_noise, a.eval_every)
            total += sec
            print(f"width {w:4d} seed {s}: train error {tr:.4f} test error {te:.4f}  {sec:7.1f} s", flush=True)
    print(f"total {total:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
