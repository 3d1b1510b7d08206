#!/usr/bin/python3
"""PyTorch peer of `benchtop run grokking` (protocol=modular): the same runs, timed.

Setting (Power et al. 2022; Nanda et al. 2023): every equation a + b mod p (p = 59) as tokens
[a, b, =], 40% of them for training (benchtop's split is not reproduced: the same sizes, a torch
permutation). A one-layer decoder transformer: token and position embeddings ~ N(0, 1/d_model),
causal multi-head self-attention (d_model 128, 4 heads, q/k/v/out Linear with bias), a ReLU MLP
(512), no layer norm, an unembedding Linear with bias; the logits at "=" are trained with
cross-entropy. Full-batch AdamW, lr 1e-3, betas (0.9, 0.98), linear warm-up over 10 updates,
weight decay 1 and 0 (one run each, one after the other, one thread); train and test accuracy and
the weight norm every 10 updates.

  /usr/bin/python3 bench/peers/grokking.py [--steps 4000] [--weight-decays 1,0] [--last-only]
      [--threads 1]

--last-only computes queries, the MLP and the unembedding at the last position only (as benchtop
does); without it the model runs on every position, as a plain PyTorch transformer would.
Prints the steps to 99% train and test accuracy per run and the wall times.
"""
import argparse
import math
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class OneLayer(nn.Module):
    def __init__(self, vocab, out, d=128, heads=4, mlp=512, seq=3):
        super().__init__()
        self.h = heads
        self.embed = nn.Parameter(torch.randn(vocab, d) / math.sqrt(d))
        self.pos = nn.Parameter(torch.randn(seq, d) / math.sqrt(d))
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)
        self.unembed = nn.Linear(d, out)

    def forward(self, tokens, last_only):
        B, T = tokens.shape
        x = self.embed[tokens] + self.pos[:T]
        dh = x.shape[-1] // self.h
        split = lambda t: t.view(B, t.shape[1], self.h, dh).transpose(1, 2)  # noqa: E731
        k, v = split(self.k(x)), split(self.v(x))
        xq = x[:, -1:] if last_only else x
        q = split(self.q(xq))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        Tq = xq.shape[1]
        mask = torch.ones(Tq, T, dtype=torch.bool).tril(T - Tq)
        scores = scores.masked_fill(~mask, float("-inf"))
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, Tq, -1)
        x = xq + self.o(a)
        x = x + self.fc2(F.relu(self.fc1(x)))
        return self.unembed(x[:, -1])


def run(wd, steps, last_only, data, p):
    xt, yt, xe, ye = data
    torch.manual_seed(0)
    model = OneLayer(p + 1, p)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=wd)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / 10, 1.0))
    train_at = test_at = None
    t0 = time.perf_counter()
    for s in range(steps + 1):
        out = model(xt, last_only)
        loss = F.cross_entropy(out, yt)
        if s % 10 == 0 or s == steps:
            with torch.no_grad():
                tr = (out.argmax(1) == yt).float().mean().item()
                te = (model(xe, last_only).argmax(1) == ye).float().mean().item()
                _ = math.sqrt(sum((w.detach() ** 2).sum().item() for w in model.parameters()))
            if train_at is None and tr >= 0.99:
                train_at = s
            if test_at is None and te >= 0.99:
                test_at = s
        if s == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return train_at, test_at, te, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--train-fraction", type=float, default=0.4)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--weight-decays", default="1,0")
    ap.add_argument("--last-only", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    p = a.p
    ab = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    tokens = torch.cat([ab, torch.full((p * p, 1), p)], 1)
    labels = (ab[:, 0] + ab[:, 1]) % p
    perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(0))
    n = round(a.train_fraction * p * p)
    data = (tokens[perm[:n]], labels[perm[:n]], tokens[perm[n:]], labels[perm[n:]])
    print(f"torch {torch.__version__}, {a.threads} thread(s), p {p}, {n} train, {p * p - n} test, "
          f"{'last position only' if a.last_only else 'every position'}")
    total = time.perf_counter()
    for wd in [float(v) for v in a.weight_decays.split(",")]:
        train_at, test_at, te, sec = run(wd, a.steps, a.last_only, data, p)
        print(f"weight decay {wd:g}: train 99% at {train_at}, test 99% at {test_at}, final test {te:.3f}, "
              f"{sec:.1f} s", flush=True)
    print(f"total {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
