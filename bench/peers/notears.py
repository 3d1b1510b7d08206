#!/usr/bin/python3
"""SciPy peer of `benchtop run causal-discovery method=notears`: linear NOTEARS on the same workload, timed.

Setting (Zheng et al., "DAGs with NO TEARS", NeurIPS 2018): an Erdos-Renyi DAG on d nodes (a random
node order, each pair of the order joined with probability 2k/(d-1)), weights U([-2,-0.5] U [0.5,2]),
n samples of X = X W + N with N ~ N(0, 1), not standardized. NOTEARS centres X and minimises
1/(2n) |X - X W|_F^2 + lambda1 |W|_1 (lambda1 0.1) subject to h(W) = tr(expm(W o W)) - d = 0 by the
augmented Lagrangian (rho 1, alpha 0; rho x10 while h does not fall below a quarter of the last h;
up to 100 outer steps; stop at h <= 1e-8 or rho >= 1e16), then zeroes |w| < 0.3 and is scored by
SHD (missing + extra + reversed, each pair once) against the true DAG. The data come from NumPy's
RNG, so they match benchtop's in law, not bit for bit.

Deviation: benchtop solves each inner problem with OWL-QN (libLBFGS, backtracking, gradient
tolerance 1e-6, stop when the objective gains < 1e-10 over 3 iterations) over the off-diagonal
entries of W; this peer uses SciPy's L-BFGS-B with its default tolerances on the split
W = W+ - W- (both >= 0, diagonals fixed at 0), which makes the L1 term linear, as the authors'
reference code does. Both evaluate the loss through X^T X / n, so one evaluation costs O(d^3)
(the matrix exponential dominates), not O(n d^2). One fit after another on one thread; the timed
part is the fit alone (centring to thresholding), as benchtop's fit_seconds.

Compare with benchtop (fit_seconds is a metric of every run):

  build/benchtop run causal-discovery method=notears standardize=false d=20 k=1 seed=0,1,2,3,4 -j 1
  build/benchtop export causal-discovery        # read fit_seconds and shd
  /usr/bin/python3 bench/peers/notears.py --d 10 20 50 --k 1 --seeds 5

Prints, per d, the mean fit time and the mean SHD over the seeds.
"""
import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg as sla  # noqa: E402
import scipy.optimize as sopt  # noqa: E402


def random_dag(d, k, rng):
    """ER-k: a random order, each ordered pair joined with probability 2k/(d-1); g[i, j] = 1 is i -> j."""
    p = rng.permutation(d)
    prob = min(1.0, 2.0 * k / (d - 1))
    upper = np.triu(rng.random((d, d)) < prob, k=1)
    g = np.zeros((d, d))
    g[np.ix_(p, p)] = upper  # order position a < b becomes edge p[a] -> p[b]
    return g


def random_weights(g, rng):
    mag = rng.uniform(0.5, 2.0, size=g.shape)
    sign = np.where(rng.random(g.shape) < 0.5, -1.0, 1.0)
    return g * mag * sign


def sample_linear(w, n, rng):
    """Rows of X solve x = x W + e, i.e. X = N (I - W)^-1 (W is nilpotent, so I - W is invertible)."""
    d = w.shape[0]
    noise = rng.standard_normal((n, d))
    return np.linalg.solve((np.eye(d) - w).T, noise.T).T


def notears_linear(x, lambda1=0.1, threshold=0.3, h_tol=1e-8, rho_max=1e16, max_outer=100):
    n, d = x.shape
    x = x - x.mean(axis=0)
    xtx = x.T @ x / n
    eye = np.eye(d)
    state = {"rho": 1.0, "alpha": 0.0, "evals": 0}

    def unpack(v):
        return v[: d * d].reshape(d, d) - v[d * d :].reshape(d, d)

    def h_of(w):
        e = sla.expm(w * w)
        return np.trace(e) - d, e

    def objective(v):
        state["evals"] += 1
        w = unpack(v)
        r = eye - w
        xtxr = xtx @ r
        loss = 0.5 * np.sum(r * xtxr)  # 1/(2n) |X (I - W)|_F^2
        h, e = h_of(w)
        rho, alpha = state["rho"], state["alpha"]
        g = -xtxr + (rho * h + alpha) * e.T * (2 * w)
        f = loss + 0.5 * rho * h * h + alpha * h + lambda1 * v.sum()
        return f, np.concatenate([(g + lambda1).ravel(), (-g + lambda1).ravel()])

    bounds = [(0, 0) if i == j else (0, None) for _ in range(2) for i in range(d) for j in range(d)]
    v = np.zeros(2 * d * d)
    h = np.inf
    outer = 0
    while outer < max_outer and state["rho"] < rho_max:
        h_new = 0.0
        while state["rho"] < rho_max:
            sol = sopt.minimize(objective, v, method="L-BFGS-B", jac=True, bounds=bounds)
            trial = sol.x
            h_new = h_of(unpack(trial))[0]
            if h_new > 0.25 * h:
                state["rho"] *= 10
            else:
                break
        v, h = trial, h_new
        state["alpha"] += state["rho"] * h
        outer += 1
        if h <= h_tol:
            break
    w = unpack(v)
    w[np.abs(w) < threshold] = 0
    return w, h, outer, state["evals"]


def shd(est, truth):
    """Missing + extra + reversed over unordered pairs; an undirected estimate of a true edge is right."""
    e, t = est != 0, truth != 0
    iu = np.triu_indices(truth.shape[0], k=1)
    ef, eb, tf, tb = e[iu], e.T[iu], t[iu], t.T[iu]
    e_any, t_any = ef | eb, tf | tb
    missing = np.sum(t_any & ~e_any)
    extra = np.sum(e_any & ~t_any)
    both = e_any & t_any
    undirected = ef & eb
    reversed_ = np.sum(both & ~undirected & (ef != tf))
    return int(missing + extra + reversed_)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--d", type=int, nargs="+", default=[10, 20])
    ap.add_argument("--k", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0 .. seeds-1")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--lambda1", type=float, default=0.1)
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--verbose", action="store_true", help="print every fit")
    a = ap.parse_args()
    for d in a.d:
        times, shds = [], []
        for seed in range(a.seeds):
            rng = np.random.default_rng([seed, d])
            g = random_dag(d, a.k, rng)
            x = sample_linear(random_weights(g, rng), a.n, rng)
            t0 = time.perf_counter()
            w, h, outer, evals = notears_linear(x, a.lambda1, a.threshold)
            times.append(time.perf_counter() - t0)
            shds.append(shd(w, g))
            if a.verbose:
                print(f"  d={d} seed={seed}: {times[-1]:.3f} s, SHD {shds[-1]}, edges {int(g.sum())}, "
                      f"h {h:.2e}, outer {outer}, evaluations {evals}", flush=True)
        print(f"notears peer (SciPy {scipy.__version__}): d={d} k={a.k:g}: {np.mean(times):.2f} s per fit, "
              f"SHD {np.mean(shds):.1f} ({a.seeds} seeds)", flush=True)


if __name__ == "__main__":
    main()
