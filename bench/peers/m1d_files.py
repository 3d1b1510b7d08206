"""MNIST-1D raw files written by `benchtop data mnist1d ... --out DIR`, as PyTorch tensors, for
the peers: float32 inputs [N, 40] and int64 labels."""
import os

import numpy as np
import torch


def load(d):
    x_train = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(-1, 40)
    x_test = np.fromfile(os.path.join(d, "x_test.f64"), dtype="<f8").reshape(-1, 40)
    y_train = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8).astype(np.int64)
    y_test = np.fromfile(os.path.join(d, "y_test.u8"), dtype=np.uint8).astype(np.int64)
    f = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return f(x_train), torch.tensor(y_train), f(x_test), torch.tensor(y_test)
