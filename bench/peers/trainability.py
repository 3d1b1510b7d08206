#!/usr/bin/python3
"""PyTorch peer of `benchtop run trainability`: the same grid, timed.

Setting (Prince, Understanding Deep Learning, 7.5 and 11; Fort & Scherlis, AAAI 2019): the
first 4000 MNIST-1D training examples; a stack of `depth` blocks Linear(in, 64) -> norm -> ReLU
(norm: none, LayerNorm or BatchNorm1d; residual: h = h + block(h) for every block but the
first), then Linear(64, 10). Linear weights N(0, (init_scale * sqrt(2 / fan_in))^2), biases
zero. Trained 400 steps of batch 100 in fixed order (step s uses rows (100 s) mod N onward),
train mode throughout, by SGD (lr 0.05, momentum 0.9) or Adam (lr 1e-3). A run diverges at its
first non-finite minibatch loss; otherwise final loss = mean minibatch loss over the last epoch
(the last 40 steps). One model after another, one thread. The data must be written first by
benchtop (the generator needs a test split; it is not used here):

  build/benchtop data mnist1d num_samples=4010 train_split=0.9975062344139651 --out /tmp/m1d-4k
  /usr/bin/python3 bench/peers/trainability.py --data /tmp/m1d-4k [--steps 400]
      [--scales 0.01,...,100] [--depths 1,2,4,8,16,32] [--optimizers sgd,adam]
      [--norms none,layer,batch] [--residual false,true] [--seed 0] [--threads 1]

Prints one line per run and the total wall time.
"""
import argparse
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

SCALES = ",".join(repr(10 ** (-2 + 0.5 * i)) for i in range(9))
WIDTH, BATCH = 64, 100


def load(d):
    x_train = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(-1, 40)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    return x_train, y_train


class BlockMlp(nn.Module):
    def __init__(self, depth, norm, residual, scale):
        super().__init__()
        norms = {"none": nn.Identity, "layer": nn.LayerNorm, "batch": nn.BatchNorm1d}
        if norm not in norms:
            raise SystemExit(f"unknown norm {norm!r}")
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(40 if l == 0 else WIDTH, WIDTH),
                          nn.Identity() if norm == "none" else norms[norm](WIDTH), nn.ReLU())
            for l in range(depth))
        self.head = nn.Linear(WIDTH, 10)
        self.residual = residual
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                with torch.no_grad():
                    m.weight.mul_(scale)
                nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, h):
        for l, block in enumerate(self.blocks):
            h = h + block(h) if (self.residual and l > 0) else block(h)
        return self.head(h)


def run(cfg, seed, x, y, steps):
    opt_name, norm, residual, depth, scale = cfg
    torch.manual_seed(seed)
    model = BlockMlp(depth, norm, residual, scale)
    model.train()
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif opt_name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        raise SystemExit(f"unknown optimizer {opt_name!r}")
    n = x.shape[0]
    window = min(steps, math.ceil(n / BATCH))  # the last epoch: 40 steps for 4000 examples
    total = 0.0
    t0 = time.perf_counter()
    for s in range(steps):
        start = (BATCH * s) % n
        loss = F.cross_entropy(model(x[start:start + BATCH]), y[start:start + BATCH])
        value = loss.item()
        if not math.isfinite(value):
            return None, time.perf_counter() - t0
        if s >= steps - window:
            total += value
        opt.zero_grad()
        loss.backward()
        opt.step()
    return total / window, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--scales", default=SCALES)
    ap.add_argument("--depths", default="1,2,4,8,16,32")
    ap.add_argument("--optimizers", default="sgd,adam")
    ap.add_argument("--norms", default="none,layer,batch")
    ap.add_argument("--residual", default="false,true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x_np, y_np = load(a.data)
    x, y = torch.tensor(x_np, dtype=torch.float32), torch.tensor(y_np)
    print(f"torch {torch.__version__}, {a.threads} thread(s), {len(y)} train")
    flags = {"true": True, "false": False}
    grid = [(o, nm, flags[r.lower()], int(d), float(sc))
            for o in a.optimizers.split(",") for nm in a.norms.split(",") for r in a.residual.split(",")
            for d in a.depths.split(",") for sc in a.scales.split(",")]
    t_start = time.perf_counter()
    for cfg in grid:
        final, sec = run(cfg, a.seed, x, y, a.steps)
        res = "diverged" if final is None else f"{final:.5g}"
        print(f"{cfg[0]:4s} norm {cfg[1]:5s} residual {str(cfg[2]).lower():5s} depth {cfg[3]:2d} "
              f"scale {cfg[4]:8.4g}: final loss {res:>8s}  {sec:6.2f} s", flush=True)
    print(f"total {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
