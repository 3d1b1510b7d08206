#!/usr/bin/python3
"""PyTorch peers of benchtop's end-to-end MNIST-1D MLP benchmark.

Variants (all: cross-entropy, Adam lr 1e-2, batch 100 taken in fixed order, rows
(100*s) mod 4000 .. +100 at step s):
  single     one reference MLP 40 -> 100 ReLU; h2 = h1 + ReLU(Linear 100->100 (h1)); 100 -> 10
  loop64     64 such MLPs with hidden width 64, trained one after another (each model its
             own nn.Module and Adam); reported as ms per step of all 64
  vmap64     the same 64 as a functorch ensemble (combine_state_for_ensemble + vmap(grad)),
             Adam on the stacked parameters
  bmm64      the same 64 written by hand with torch.baddbmm on stacked weights, autograd
             through the stack, Adam on the stacked parameters

Each variant: warm-up steps, then the best (minimum) of --reps timed runs. Prints one JSON
object: ms_per_step (best wall time) and cpu_ms_per_step (best process CPU time; equal to
the wall time on an idle machine, and less disturbed by other processes on a shared one).
--adam-foreach uses torch's multi-tensor Adam (foreach=True) instead of its default.
Usage: /usr/bin/python3 bench/peers/mnist1d_mlp.py [--steps N] [--threads N] [--adam-foreach]
"""
import argparse
import json
import os
import platform
import sys
import time


def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# torch's BLAS here is the system one (BLAS_INFO=generic: OpenBLAS via libblas.so.3) and it
# starts its own threads regardless of torch.set_num_threads; pin every runtime to the
# requested thread count before torch (and with it the BLAS) is loaded.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv(sys.argv[1:])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

N_TRAIN, N_IN, N_OUT, BATCH, ENSEMBLE = 4000, 40, 10, 100, 64


def load_data(data_dir):
    xp, yp = os.path.join(data_dir, "x_train.f32"), os.path.join(data_dir, "y_train.u8")
    if os.path.exists(xp) and os.path.exists(yp):
        x = torch.from_file(xp, size=N_TRAIN * N_IN, dtype=torch.float32).reshape(N_TRAIN, N_IN)
        y = torch.from_file(yp, size=N_TRAIN, dtype=torch.uint8).long()
        return x.clone(), y.clone(), "mnist1d:" + os.path.abspath(data_dir)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_TRAIN, N_IN, generator=g)
    y = torch.randint(0, N_OUT, (N_TRAIN,), generator=g)
    return x, y, "random (no data at %s)" % data_dir


def batches(x, y):
    """Pre-sliced batches in the fixed order: step s uses rows (100*s) mod 4000 .. +100."""
    nb = N_TRAIN // BATCH
    return [(x[i * BATCH:(i + 1) * BATCH].contiguous(), y[i * BATCH:(i + 1) * BATCH].contiguous())
            for i in range(nb)]


class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(N_IN, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, N_OUT)

    def forward(self, x):
        h1 = F.relu(self.fc1(x))
        h2 = h1 + F.relu(self.fc2(h1))
        return self.fc3(h2)


CPU_MS = {}  # variant -> best process-CPU ms/step (robust to other processes on the machine)


def best_of(run, steps, warmup, reps, name):
    """run(n) trains n steps and returns the last loss; returns (best wall ms/step, last loss).

    The best process CPU time per step is recorded in CPU_MS[name]: with one thread it
    equals the wall time on an idle machine, and it does not count time spent waiting for
    a core that another process holds."""
    run(warmup)
    best, best_cpu, loss = float("inf"), float("inf"), None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = run(steps)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best, best_cpu = min(best, dt), min(best_cpu, dc)
    CPU_MS[name] = 1e3 * best_cpu / steps
    return 1e3 * best / steps, loss


def adam(params, args):
    # foreach=None is torch's default (the single-tensor loop on CPU in 1.13).
    return torch.optim.Adam(params, lr=1e-2, foreach=True if args.adam_foreach else None)


def make_models(width, count, seed):
    torch.manual_seed(seed)
    return [MLP(width) for _ in range(count)]


def bench_single(data, args):
    (model,) = make_models(100, 1, args.seed)
    opt = adam(model.parameters(), args)
    state = {"s": 0}

    def run(n):
        loss = None
        for _ in range(n):
            xb, yb = data[state["s"] % len(data)]
            state["s"] += 1
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return float(loss)

    return best_of(run, args.steps, args.warmup, args.reps, "single")


def bench_loop64(data, args):
    models = make_models(64, ENSEMBLE, args.seed)
    opts = [adam(m.parameters(), args) for m in models]
    steps = args.loop_steps

    def run(n):
        losses = []
        for m, opt in zip(models, opts):  # one model after another, n steps each
            loss = None
            for s in range(n):
                xb, yb = data[s % len(data)]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(m(xb), yb)
                loss.backward()
                opt.step()
            losses.append(float(loss))
        return sum(losses) / len(losses)

    ms, loss = best_of(run, steps, max(1, args.warmup // 10), args.reps, "loop64")
    return ms, loss, steps


def bench_vmap64(data, args):
    from functorch import combine_state_for_ensemble, grad, vmap

    models = make_models(64, ENSEMBLE, args.seed)
    fmodel, params, buffers = combine_state_for_ensemble(models)
    params = tuple(p.detach().clone().requires_grad_(True) for p in params)
    opt = adam(params, args)

    def loss_fn(p, b, xb, yb):
        return F.cross_entropy(fmodel(p, b, xb), yb)

    grad_and_loss = vmap(grad(loss_fn, has_aux=False), in_dims=(0, 0, None, None))
    loss_all = vmap(loss_fn, in_dims=(0, 0, None, None))
    state = {"s": 0}

    def run(n):
        xb = yb = None
        for _ in range(n):
            xb, yb = data[state["s"] % len(data)]
            state["s"] += 1
            grads = grad_and_loss(params, buffers, xb, yb)
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
        with torch.no_grad():
            return float(loss_all(params, buffers, xb, yb).mean())

    return best_of(run, args.steps, args.warmup, args.reps, "vmap64")


def bench_bmm64(data, args):
    models = make_models(64, ENSEMBLE, args.seed)

    def stack(get):
        return torch.stack([get(m).detach() for m in models]).clone().requires_grad_(True)

    w1 = stack(lambda m: m.fc1.weight)                 # [E, 64, 40]
    b1 = stack(lambda m: m.fc1.bias.unsqueeze(0))      # [E, 1, 64]
    w2 = stack(lambda m: m.fc2.weight)                 # [E, 64, 64]
    b2 = stack(lambda m: m.fc2.bias.unsqueeze(0))
    w3 = stack(lambda m: m.fc3.weight)                 # [E, 10, 64]
    b3 = stack(lambda m: m.fc3.bias.unsqueeze(0))
    params = [w1, b1, w2, b2, w3, b3]
    opt = adam(params, args)
    state = {"s": 0}

    def run(n):
        per_model = None
        for _ in range(n):
            xb, yb = data[state["s"] % len(data)]
            state["s"] += 1
            xe = xb.unsqueeze(0).expand(ENSEMBLE, BATCH, N_IN)
            h1 = F.relu(torch.baddbmm(b1, xe, w1.transpose(1, 2)))
            h2 = h1 + F.relu(torch.baddbmm(b2, h1, w2.transpose(1, 2)))
            logits = torch.baddbmm(b3, h2, w3.transpose(1, 2))          # [E, B, 10]
            per_model = F.cross_entropy(logits.reshape(-1, N_OUT), yb.repeat(ENSEMBLE),
                                        reduction="none").view(ENSEMBLE, BATCH).mean(1)
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # sum: each model gets its own mean-loss gradient
            opt.step()
        return float(per_model.mean())

    return best_of(run, args.steps, args.warmup, args.reps, "bmm64")


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=2000, help="timed steps per run")
    ap.add_argument("--loop-steps", type=int, default=None,
                    help="timed steps per model for loop64 (default: steps/10, at least 20)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=os.path.join(repo, "..", "shared", "data", "mnist1d"))
    ap.add_argument("--variants", default="single,loop64,vmap64,bmm64")
    ap.add_argument("--adam-foreach", action="store_true",
                    help="multi-tensor Adam (foreach=True) instead of torch's default")
    args = ap.parse_args()
    if args.loop_steps is None:
        args.loop_steps = max(20, args.steps // 10)
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    x, y, source = load_data(args.data)
    data = batches(x, y)
    wanted = args.variants.split(",")
    out = {"torch_version": torch.__version__, "python": platform.python_version(),
           "threads": torch.get_num_threads(), "steps": args.steps, "reps": args.reps,
           "warmup": args.warmup, "data": source, "ms_per_step": {}, "final_loss": {},
           "adam_foreach": args.adam_foreach, "errors": {}}
    if "single" in wanted:
        ms, loss = bench_single(data, args)
        out["ms_per_step"]["single"], out["final_loss"]["single"] = ms, loss
    if "loop64" in wanted:
        ms, loss, st = bench_loop64(data, args)
        out["ms_per_step"]["loop64"], out["final_loss"]["loop64"] = ms, loss
        out["loop64_steps"] = st
    for name, fn in (("vmap64", bench_vmap64), ("bmm64", bench_bmm64)):
        if name in wanted:
            try:
                ms, loss = fn(data, args)
                out["ms_per_step"][name], out["final_loss"][name] = ms, loss
            except Exception as e:  # functorch may be unavailable or unsupported
                out["errors"][name] = "%s: %s" % (type(e).__name__, e)
    out["cpu_ms_per_step"] = dict(CPU_MS)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
