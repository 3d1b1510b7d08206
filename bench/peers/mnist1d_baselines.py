#!/usr/bin/python3
"""PyTorch peer of `benchtop run mnist1d-baselines`: the same eight runs, the same protocol.

Models (shared/specs/mnist1d.md section 5): logistic regression (Linear 40->10), the residual
MLP (hidden 100), the CNN (3 conv layers of 25 channels, stride 2) and the bidirectional GRU
(hidden 6), each on the original and on the feature-shuffled data (the reference's fixed
permutation, np.random.seed(42); permutation(40)). Cross-entropy, Adam lr 1e-2, batch 100 in
fixed order (rows (100 s) mod 4000 .. +100), steps 0..6000, evaluation on the full train and
test sets every 250 steps, torch.manual_seed(42) before each model. One thread.

Prints one line per run (model, shuffled, test accuracy, seconds) and the total wall time.
Usage: /usr/bin/python3 bench/peers/mnist1d_baselines.py [--steps 6000] [--models logistic,mlp,cnn,gru]
       [--data ../shared/data/mnist1d] [--threads 1]
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


class Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(40, 10)

    def forward(self, x):
        return self.linear(x)


class Mlp(nn.Module):
    def __init__(self, hidden=100):
        super().__init__()
        self.linear1 = nn.Linear(40, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, 10)

    def forward(self, x):
        h = F.relu(self.linear1(x))
        h = h + F.relu(self.linear2(h))
        return self.linear3(h)


class Cnn(nn.Module):
    def __init__(self, channels=25):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.linear = nn.Linear(channels * 5, 10)

    def forward(self, x):
        h = x.unsqueeze(1)
        h = F.relu(self.conv1(h))
        h = F.relu(self.conv2(h))
        h = F.relu(self.conv3(h))
        return self.linear(h.flatten(1))


class Gru(nn.Module):
    def __init__(self, hidden=6):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(40 * 2 * hidden, 10)

    def forward(self, x):
        out, _ = self.gru(x.unsqueeze(-1))
        return self.linear(out.flatten(1))


MODELS = {"logistic": Logistic, "mlp": Mlp, "cnn": Cnn, "gru": Gru}


def load(data_dir):
    def f64(name, cols=None):
        a = np.fromfile(os.path.join(data_dir, name), dtype="<f8")
        return a.reshape(-1, cols) if cols else a
    x_train, x_test = f64("x_train.f64", 40), f64("x_test.f64", 40)
    y_train = np.fromfile(os.path.join(data_dir, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    y_test = np.fromfile(os.path.join(data_dir, "y_test.u8"), dtype=np.uint8).astype(np.int64)
    return x_train, y_train, x_test, y_test


def run(model_name, shuffled, data, steps, eval_every):
    x_train, y_train, x_test, y_test = data
    if shuffled:
        np.random.seed(42)
        perm = np.random.permutation(40)
        x_train, x_test = x_train[:, perm], x_test[:, perm]
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train)
    xe = torch.tensor(x_test, dtype=torch.float32)
    ye = torch.tensor(y_test)
    torch.manual_seed(42)
    model = MODELS[model_name]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    n = xt.shape[0]
    t0 = time.perf_counter()
    acc = 0.0
    for step in range(steps + 1):
        i = (100 * step) % n
        loss = F.cross_entropy(model(xt[i:i + 100]), yt[i:i + 100])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                F.cross_entropy(model(xt), yt)
                acc = (model(xe).argmax(1) == ye).float().mean().item()
    return acc, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--models", default="logistic,mlp,cnn,gru")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/mnist1d"))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.data)
    total = 0.0
    print(f"torch {torch.__version__}, {a.threads} thread(s), steps 0..{a.steps}")
    for m in a.models.split(","):
        for shuffled in (False, True):
            acc, sec = run(m, shuffled, data, a.steps, a.eval_every)
            total += sec
            print(f"{m:9s} shuffled={str(shuffled):5s} test_acc {acc:.3f}  {sec:7.1f} s", flush=True)
    print(f"total {total:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
