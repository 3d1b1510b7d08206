#!/usr/bin/python3
"""Writes the MNIST-1D training-trajectory golden case, computed by PyTorch.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tests/golden/make_trajectory.py
(not part of the default tests; its outputs are committed). It reads the frozen dataset from
../shared/data/mnist1d (relative to the repository root), or from $BENCHTOP_SHARED_DATA/mnist1d.

Model: the MNIST-1D reference MLP ("MLPBase" of Greydanus & Kobak): linear1 40->100, relu;
h2 = h1 + relu(linear2(h1)); linear3 100->10, initialised by torch's default Linear init after
torch.manual_seed(42). Training, all in float32: Adam(lr=1e-2, default betas/eps, single-tensor
path), batch 100 in fixed order (step s uses train rows [(100 s) mod 4000, +100)), mean
cross-entropy, steps 0..99. The float64 frozen data is rounded to float32 (numpy astype).

Outputs (cases/):
  mlp_trajectory_init.safetensors  the initial state_dict (F32, PyTorch names and layouts),
                                   written by hand in the safetensors format.
  mlp_trajectory.json              {"steps", "lr", "batch",
                                    "test_loss":  [mean CE on the full test set after step s],
                                    "batch_loss": [mean CE of step s's batch, before its update],
                                    "final_test_acc": test accuracy after the last step}
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "cases")
STEPS, LR, BATCH = 100, 1e-2, 100


class MLPBase(nn.Module):
    def __init__(self, input_size=40, output_size=10, hidden_size=100):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.linear2 = nn.Linear(hidden_size, hidden_size)
        self.linear3 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h1 = F.relu(self.linear1(x))
        h2 = h1 + F.relu(self.linear2(h1))
        return self.linear3(h2)


def data_dir():
    env = os.environ.get("BENCHTOP_SHARED_DATA")
    base = env if env else os.path.join(ROOT, "..", "shared", "data")
    return os.path.join(base, "mnist1d")


def load_mnist1d(d):
    def raw(name, dtype):
        return np.fromfile(os.path.join(d, name), dtype=dtype)
    length = raw("t.f64", "<f8").size
    x_train = raw("x_train.f64", "<f8").reshape(-1, length)
    x_test = raw("x_test.f64", "<f8").reshape(-1, length)
    y_train = raw("y_train.u8", "u1").astype(np.int64)
    y_test = raw("y_test.u8", "u1").astype(np.int64)
    assert x_train.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    return (torch.from_numpy(x_train.astype(np.float32)), torch.from_numpy(y_train),
            torch.from_numpy(x_test.astype(np.float32)), torch.from_numpy(y_test))


def write_safetensors(path, tensors):
    """The safetensors format by hand: u64 LE header length, JSON header, raw LE data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # keeps the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.set_num_threads(1)  # deterministic reductions
    x_train, y_train, x_test, y_test = load_mnist1d(data_dir())

    torch.manual_seed(42)
    model = MLPBase()
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "mlp_trajectory_init.safetensors"),
                      list(model.state_dict().items()))

    opt = torch.optim.Adam(model.parameters(), lr=LR)
    n = x_train.shape[0]
    test_loss, batch_loss = [], []
    for s in range(STEPS):
        start = (BATCH * s) % n
        xb, yb = x_train[start:start + BATCH], y_train[start:start + BATCH]
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        batch_loss.append(float(loss.item()))
        with torch.no_grad():
            test_loss.append(float(F.cross_entropy(model(x_test), y_test).item()))
    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).double().mean().item()

    doc = {"steps": STEPS, "lr": LR, "batch": BATCH, "test_loss": test_loss,
           "batch_loss": batch_loss, "final_test_acc": acc,
           "torch_version": torch.__version__}
    with open(os.path.join(OUT, "mlp_trajectory.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"test loss {test_loss[0]:.6f} -> {test_loss[-1]:.6f}, final test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
