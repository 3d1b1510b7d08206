#!/usr/bin/python3
"""PyTorch peer of `benchtop run arithmetic`: the same model and training step, timed.

Setting: 3-digit addition in the reverse format ("123+456=975$"), character tokens (vocabulary
17), sequences padded to 12 inputs, batches of 128 random problems. A decoder-only pre-norm
transformer: token and learned position embeddings, 4 blocks of causal multi-head attention
(width 64, 4 heads, q/k/v/out Linear with bias) and a GELU MLP (256), a final LayerNorm and an
unembedding Linear with bias (203k parameters, as benchtop's). Cross-entropy on the answer's
tokens only; AdamW (lr 1e-3, betas (0.9, 0.99), weight decay 0.1).

  /usr/bin/python3 bench/peers/arithmetic.py [--steps 200] [--threads 1] [--activation gelu|relu]

Prints the mean seconds per training step (after 10 warm-up steps).
"""
import argparse
import math
import os
import random
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB, PAD = 17, 16
ACT = F.gelu


def encode(a, b):
    s = f"{a}+{b}={str(a + b)[::-1]}$"
    t = [int(c) if c.isdigit() else {"+": 10, "=": 11, "$": 12}[c] for c in s]
    return t, s.index("=")


class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.h = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, x, mask):
        B, T, D = x.shape
        h = self.ln1(x)
        q, k, v = (f(h).view(B, T, self.h, D // self.h).transpose(1, 2) for f in (self.q, self.k, self.v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D // self.h)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + self.fc2(ACT(self.fc1(self.ln2(x))))


class Model(nn.Module):
    def __init__(self, T, d=64, heads=4, mlp=256, layers=4):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(T, d)
        self.blocks = nn.ModuleList(Block(d, heads, mlp) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, VOCAB)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, x):
        T = x.shape[1]
        h = self.embed(x) + self.pos(torch.arange(T))
        for b in self.blocks:
            h = b(h, self.mask[:T, :T])
        return self.out(self.ln(h))


def batch(B, T, rng):
    x = torch.full((B, T), PAD)
    y = torch.full((B, T), PAD)
    m = torch.zeros(B, T)
    for i in range(B):
        t, eq = encode(rng.randrange(1000), rng.randrange(1000))
        n = len(t) - 1
        x[i, :n] = torch.tensor(t[:-1])
        y[i, :n] = torch.tensor(t[1:])
        m[i, eq:n] = 1
    return x, y, m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--activation", default="gelu", choices=["gelu", "relu"])
    a = ap.parse_args()
    global ACT
    ACT = F.gelu if a.activation == "gelu" else F.relu
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    T = 12
    model = Model(T)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    batches = [batch(128, T, rng) for _ in range(32)]
    t0 = None
    for s in range(a.steps + 10):
        if s == 10:
            t0 = time.perf_counter()
        x, y, m = batches[s % 32]
        ce = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1), reduction="none")
        loss = (ce * m.reshape(-1)).sum() / m.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    per = (time.perf_counter() - t0) / a.steps
    print(f"{a.steps} steps, batch 128, {a.threads} thread(s): {per * 1000:.1f} ms per step (loss {loss.item():.3f})")


if __name__ == "__main__":
    main()
