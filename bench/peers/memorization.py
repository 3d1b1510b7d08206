#!/usr/bin/python3
"""PyTorch peer of `benchtop run memorization`: the same runs, timed.

Setting (Zhang et al., ICLR 2017; Prince, UDL figs 20.1, 20.2): 8000 MNIST-1D examples, the
first 4000 train, the rest test; one model after another, one thread. Protocol fit (default):
per data variant (true; noise: training inputs replaced by Gaussian noise of the training set's
scalar mean and variance; permuted: training labels permuted once) and seed, an MLP
40-300-300-300-300-10 (ReLU, kaiming-uniform weights, zero biases), SGD lr 0.02 momentum 0.9,
lr halved every 20 epochs, batch 100 reshuffled every epoch, 60 epochs, full-set train/test
error after every epoch. Protocol depth: permuted labels, full-batch gradient descent (lr 0.5,
no momentum), MLPs of 1..4 hidden layers of widths 298, 100, 75, 63 (~15200 parameters each),
until the training error is zero or after --gd-epochs steps. The data must be written first by
benchtop (the generator is not re-implemented here):

  build/benchtop data mnist1d num_samples=8000 train_split=0.5 --out /tmp/m1d-8k
  /usr/bin/python3 bench/peers/memorization.py --data /tmp/m1d-8k [--epochs 60]
      [--data-variants true,noise,permuted] [--seeds 0,1,2] [--threads 1]
  /usr/bin/python3 bench/peers/memorization.py --data /tmp/m1d-8k --protocol depth
      [--layers 1,2,3,4] [--gd-epochs 8000] [--gd-lr 0.5] [--seeds 0,1,2]

Prints one line per run and the total wall time.
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

DEPTH_WIDTHS = {1: 298, 2: 100, 3: 75, 4: 63}


def load(d):
    x_train = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(-1, 40)
    x_test = np.fromfile(os.path.join(d, "x_test.f64"), dtype="<f8").reshape(-1, 40)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    y_test = np.fromfile(os.path.join(d, "y_test.u8"), dtype=np.uint8).astype(np.int64)
    return x_train, y_train, x_test, y_test


def mlp(hidden):
    layers, fan_in = [], 40
    for w in hidden:
        layers += [nn.Linear(fan_in, w), nn.ReLU()]
        fan_in = w
    layers.append(nn.Linear(fan_in, 10))
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


def evaluate(model, x, y):
    """(error, mean cross-entropy) on the full set."""
    with torch.no_grad():
        out = torch.cat([model(x[i:i + 2000]) for i in range(0, x.shape[0], 2000)])
        return (out.argmax(1) != y).float().mean().item(), F.cross_entropy(out, y).item()


def variant_data(variant, seed, data):
    x_train, y_train, x_test, y_test = data
    rng = np.random.RandomState(seed)
    x, y = x_train, y_train
    if variant == "noise":
        x = rng.normal(x_train.mean(), x_train.std(), size=x_train.shape)
    elif variant == "permuted":
        y = y_train[rng.permutation(len(y_train))]
    elif variant != "true":
        raise SystemExit(f"unknown data variant {variant!r}")
    f = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return f(x), torch.tensor(y), f(x_test), torch.tensor(y_test)


def run_fit(variant, seed, data, epochs):
    xt, yt, xe, ye = variant_data(variant, seed, data)
    torch.manual_seed(seed)
    model = mlp([300] * 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=20, gamma=0.5)
    n, fit_at = xt.shape[0], None
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 100):
            b = perm[i:i + 100]
            loss = F.cross_entropy(model(xt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        tr, tr_loss = evaluate(model, xt, yt)
        te, _ = evaluate(model, xe, ye)
        if tr == 0 and fit_at is None:
            fit_at = epoch + 1
    return fit_at, tr, te, tr_loss, time.perf_counter() - t0


def run_depth(layers, seed, data, gd_epochs, lr):
    xt, yt, _, _ = variant_data("permuted", seed, data)
    torch.manual_seed(seed)
    model = mlp([DEPTH_WIDTHS[layers]] * layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    # the forward pass of step k sees the model after k updates: it is the evaluation after epoch k
    for k in range(gd_epochs + 1):
        out = model(xt)
        if (out.argmax(1) != yt).sum().item() == 0:
            return k, time.perf_counter() - t0
        if k == gd_epochs:
            break
        loss = F.cross_entropy(out, yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--protocol", choices=["fit", "depth"], default="fit")
    ap.add_argument("--data-variants", default="true,noise,permuted")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--layers", default="1,2,3,4")
    ap.add_argument("--gd-epochs", type=int, default=8000)
    ap.add_argument("--gd-lr", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    print(f"torch {torch.__version__}, {a.threads} thread(s), {len(data[1])} train, {len(data[3])} test,"
          f" protocol {a.protocol}")
    seeds = [int(v) for v in a.seeds.split(",")]
    t_start = time.perf_counter()
    if a.protocol == "fit":
        for variant in a.data_variants.split(","):
            for s in seeds:
                fit_at, tr, te, tr_loss, sec = run_fit(variant, s, data, a.epochs)
                fit = "-" if fit_at is None else str(fit_at)
                print(f"{variant:8s} seed {s}: zero train error at epoch {fit:>4s}  train error {tr:.4f} "
                      f"(loss {tr_loss:.4f}) test error {te:.4f}  {sec:7.1f} s", flush=True)
    else:
        for layers in [int(v) for v in a.layers.split(",")]:
            if layers not in DEPTH_WIDTHS:
                raise SystemExit(f"--layers: {layers} not in {sorted(DEPTH_WIDTHS)}")
            for s in seeds:
                fit_at, sec = run_depth(layers, s, data, a.gd_epochs, a.gd_lr)
                fit = "-" if fit_at is None else str(fit_at)
                print(f"hidden layers {layers} (width {DEPTH_WIDTHS[layers]:3d}) seed {s}: "
                      f"epochs to fit {fit:>5s}  {sec:7.1f} s", flush=True)
    print(f"total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
