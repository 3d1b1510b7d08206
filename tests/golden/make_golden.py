#!/usr/bin/python3
"""Writes golden reference cases for benchtop, computed by PyTorch.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 tests/golden/make_golden.py

Every input is a float32-representable value; the references (outputs and gradients) are
computed by torch in float64 from those values and stored rounded to float32, so they are
as exact as a float32 engine can hope to match. Layouts follow benchtop's member-leading
convention: parameters [K, ...] with PyTorch's per-member layout, losses [K]; torch computes
member by member where its own layout differs.

Op case file (cases/ops_<family>.json): {"family": ..., "cases": [case...]}, case =
  {"name", "op", "args": {...}, "inputs": [{"name", "shape", "data", "dtype": "f32"|"i32",
   "grad": bool}], "output": tensor, "upstream": tensor, "grads": {input name: tensor},
   "extra": {name: tensor}}   (extra: e.g. batch-norm running statistics after the call)
tensor = {"shape": [...], "data": [...]} (row-major).

Model file (cases/model_transformer.json): {"family", "cases": [{"name", "spec", "members",
  "params": {PyTorch-like name: tensor [K, ...]}, "tokens", "labels", "logits" (every position),
  "loss" [K] (mean cross-entropy at the last position), "grads": {name: d(sum of losses)}}]}.

Optimizer file (cases/optim_<model>_<optimizer>.json): model, members K, optimizer config,
initial parameters (PyTorch names, [K, ...]), per-step batches, per-step losses [steps][K],
gradients at step 1, and the parameters after the checkpoint steps.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261123
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")
torch.manual_seed(SEED)
GEN = torch.Generator().manual_seed(SEED)


def f32list(t):
    return [float(repr(np.float32(v))) for v in t.detach().to(torch.float32).flatten().tolist()]


def tj(t):
    if t.dtype in (torch.int32, torch.int64):
        return {"shape": list(t.shape), "data": [int(v) for v in t.flatten().tolist()]}
    return {"shape": list(t.shape), "data": f32list(t)}


def rnd(*shape, lo=-1.0, hi=1.0):
    """float32-representable values, returned as float64."""
    t = torch.rand(*shape, generator=GEN, dtype=torch.float32) * (hi - lo) + lo
    return t.to(torch.float64)


def away_from_zero(*shape, margin=0.1):
    t = rnd(*shape)
    return (t.sign() * (t.abs() * (1 - margin) + margin)).to(torch.float32).to(torch.float64)


def labels(*shape, n):
    return torch.randint(0, n, shape, generator=GEN, dtype=torch.int64)


class Case:
    def __init__(self, name, op, args=None):
        self.name, self.op, self.args = name, op, args or {}
        self.inputs = []  # (name, tensor, grad)

    def inp(self, name, t, grad=True):
        if t.is_floating_point():  # float32-representable values, computed on in float64
            t = t.detach().to(torch.float32).to(torch.float64)
        if grad and t.is_floating_point():
            t = t.detach().clone().requires_grad_(True)
        self.inputs.append((name, t, grad and t.is_floating_point()))
        return t

    def finish(self, out, extra=None):
        up = rnd(*out.shape)
        diff = [t for (_, t, g) in self.inputs if g]
        grads = torch.autograd.grad(out, diff, up, allow_unused=True) if diff else []
        gd, i = {}, 0
        for (n, t, g) in self.inputs:
            if g:
                gr = grads[i]
                gd[n] = tj(gr if gr is not None else torch.zeros_like(t))
                i += 1
        ins = []
        for (n, t, g) in self.inputs:
            d = tj(t)
            d["name"] = n
            d["dtype"] = "f32" if t.is_floating_point() else "i32"
            d["grad"] = g
            ins.append(d)
        return {"name": self.name, "op": self.op, "args": self.args, "inputs": ins,
                "output": tj(out), "upstream": tj(up), "grads": gd,
                "extra": {k: tj(v) for k, v in (extra or {}).items()}}


def unary(name, op, fn, x, args=None):
    c = Case(name, op, args)
    x = c.inp("x", x)
    return c.finish(fn(x))


def binary(name, op, fn, a, b):
    c = Case(name, op)
    a = c.inp("a", a)
    b = c.inp("b", b)
    return c.finish(fn(a, b))


def elementwise_cases():
    cs = []
    for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]:
        cs.append(binary(op + "_same", op, fn, rnd(2, 3, 4), rnd(2, 3, 4)))
        cs.append(binary(op + "_bias", op, fn, rnd(2, 5, 3), rnd(2, 1, 3)))
        cs.append(binary(op + "_shared", op, fn, rnd(1, 4, 3), rnd(3, 4, 3)))
    cs.append(binary("div_same", "div", torch.div, rnd(2, 3, 4), away_from_zero(2, 3, 4)))
    cs.append(binary("div_broadcast", "div", torch.div, rnd(1, 4, 3), away_from_zero(2, 1, 3)))
    cs.append(binary("add_rank", "add", torch.add, rnd(2, 3, 4), rnd(4)))
    cs.append(unary("add_scalar", "add_scalar", lambda x: x + 0.75, rnd(2, 5), {"s": 0.75}))
    cs.append(unary("mul_scalar", "mul_scalar", lambda x: x * -1.5, rnd(2, 5), {"s": -1.5}))
    cs.append(unary("neg", "neg", torch.neg, rnd(2, 5)))
    x = lambda: away_from_zero(2, 3, 5) * 2  # noqa: E731
    cs.append(unary("relu", "relu", F.relu, x()))
    cs.append(unary("leaky_relu", "leaky_relu", lambda t: F.leaky_relu(t, 0.2), x(),
                    {"negative_slope": 0.2}))
    cs.append(unary("elu", "elu", lambda t: F.elu(t, 0.7), x(), {"alpha": 0.7}))
    cs.append(unary("gelu", "gelu", F.gelu, x()))
    cs.append(unary("tanh", "tanh", torch.tanh, x()))
    cs.append(unary("sigmoid", "sigmoid", torch.sigmoid, x()))
    cs.append(unary("softplus", "softplus", F.softplus, x(), {"beta": 1.0, "threshold": 20.0}))
    big = rnd(2, 8) * 15
    cs.append(unary("softplus_beta", "softplus", lambda t: F.softplus(t, 2.0, 10.0), big,
                    {"beta": 2.0, "threshold": 10.0}))
    cs.append(unary("exp", "exp", torch.exp, x()))
    pos = lambda: rnd(2, 3, 5, lo=0.2, hi=3.0)  # noqa: E731
    cs.append(unary("log", "log", torch.log, pos()))
    cs.append(unary("sqrt", "sqrt", torch.sqrt, pos()))
    cs.append(unary("pow_2", "pow", lambda t: torch.pow(t, 2.0), x(), {"exponent": 2.0}))
    cs.append(unary("pow_3", "pow", lambda t: torch.pow(t, 3.0), x(), {"exponent": 3.0}))
    cs.append(unary("pow_frac", "pow", lambda t: torch.pow(t, 1.5), pos(), {"exponent": 1.5}))
    cs.append(unary("pow_neg", "pow", lambda t: torch.pow(t, -0.5), pos(), {"exponent": -0.5}))
    cs.append(unary("abs", "abs", torch.abs, x()))
    return cs


def reduce_cases():
    cs = []
    for ax in (0, 1, -1):
        for keep in (False, True):
            sfx = f"_ax{ax}" + ("_keep" if keep else "")
            cs.append(unary("sum" + sfx, "sum", lambda t: t.sum(ax, keepdim=keep), rnd(2, 3, 4),
                            {"axis": ax, "keepdim": keep}))
            cs.append(unary("mean" + sfx, "mean", lambda t: t.mean(ax, keepdim=keep),
                            rnd(2, 3, 4), {"axis": ax, "keepdim": keep}))
            cs.append(unary("max" + sfx, "max", lambda t: t.max(ax, keepdim=keep)[0],
                            rnd(2, 3, 4), {"axis": ax, "keepdim": keep}))
    cs.append(unary("sum_all", "sum_all", lambda t: t.sum().reshape(1), rnd(2, 3, 4)))
    cs.append(unary("mean_all", "mean_all", lambda t: t.mean().reshape(1), rnd(2, 3, 4)))
    for ax in (-1, 1):
        cs.append(unary(f"softmax_ax{ax}", "softmax", lambda t: torch.softmax(t, ax),
                        rnd(2, 3, 5) * 3, {"axis": ax}))
        cs.append(unary(f"log_softmax_ax{ax}", "log_softmax", lambda t: torch.log_softmax(t, ax),
                        rnd(2, 3, 5) * 3, {"axis": ax}))
    return cs


def loss_cases():
    cs = []
    K, N, C = 2, 5, 4
    for red in ("mean", "sum", "none"):
        for shared in (False, True):
            c = Case(f"cross_entropy_{red}" + ("_shared" if shared else ""), "cross_entropy",
                     {"reduction": red})
            z = c.inp("logits", rnd(K, N, C) * 3)
            y = labels(N, n=C) if shared else labels(K, N, n=C)
            c.inp("labels", y.to(torch.int32), grad=False)
            outs = [F.cross_entropy(z[k], y if shared else y[k], reduction=red) for k in range(K)]
            cs.append(c.finish(torch.stack(outs)))
    c = Case("cross_entropy_mean_3d", "cross_entropy", {"reduction": "mean"})
    z = c.inp("logits", rnd(K, 2, 3, C) * 3)
    y = labels(K, 2, 3, n=C)
    c.inp("labels", y.to(torch.int32), grad=False)
    cs.append(c.finish(torch.stack([F.cross_entropy(z[k].reshape(-1, C), y[k].reshape(-1))
                                    for k in range(K)])))
    for red in ("mean", "sum", "none"):
        for shared in (False, True):
            c = Case(f"mse_{red}" + ("_shared" if shared else ""), "mse_loss", {"reduction": red})
            p = c.inp("pred", rnd(K, N, 3))
            t = c.inp("target", rnd(N, 3) if shared else rnd(K, N, 3))
            outs = [F.mse_loss(p[k], t if shared else t[k], reduction=red) for k in range(K)]
            cs.append(c.finish(torch.stack(outs)))
    return cs


def linalg_cases():
    cs = []
    cs.append(binary("matmul_batched", "matmul", torch.matmul, rnd(2, 3, 4), rnd(2, 4, 5)))
    cs.append(binary("matmul_shared_2d", "matmul", torch.matmul, rnd(3, 4), rnd(2, 4, 5)))
    cs.append(binary("matmul_broadcast_4d", "matmul", torch.matmul, rnd(2, 1, 3, 4),
                     rnd(3, 4, 2)))
    cs.append(binary("matmul_shared_1", "matmul", torch.matmul, rnd(2, 3, 4), rnd(1, 4, 2)))
    K, B, D, O = 2, 5, 4, 3
    for bias in (True, False):
        for shared in (False, True):
            c = Case("linear" + ("" if bias else "_nobias") + ("_shared" if shared else ""),
                     "linear")
            x = c.inp("x", rnd(1 if shared else K, B, D))
            w = c.inp("w", rnd(K, O, D))
            b = c.inp("b", rnd(K, O)) if bias else None
            outs = [F.linear(x[0 if shared else k], w[k], b[k] if bias else None)
                    for k in range(K)]
            cs.append(c.finish(torch.stack(outs)))
    c = Case("linear_3d", "linear")
    x = c.inp("x", rnd(K, 2, 3, D))
    w = c.inp("w", rnd(K, O, D))
    b = c.inp("b", rnd(K, O))
    cs.append(c.finish(torch.stack([F.linear(x[k], w[k], b[k]) for k in range(K)])))
    return cs


def conv_cases():
    cs = []
    K, B = 2, 3
    for (C, O, L, k, s, p, bias, shared) in [(1, 2, 9, 3, 1, 0, True, False),
                                             (3, 4, 12, 5, 2, 1, True, False),
                                             (2, 3, 11, 3, 3, 2, False, True),
                                             (2, 2, 8, 4, 1, 2, True, True)]:
        c = Case(f"conv1d_c{C}_o{O}_k{k}_s{s}_p{p}" + ("" if bias else "_nobias")
                 + ("_shared" if shared else ""), "conv1d", {"stride": s, "padding": p})
        x = c.inp("x", rnd(1 if shared else K, B, C, L))
        w = c.inp("w", rnd(K, O, C, k))
        b = c.inp("b", rnd(K, O)) if bias else None
        outs = [F.conv1d(x[0 if shared else m], w[m], b[m] if bias else None, s, p)
                for m in range(K)]
        cs.append(c.finish(torch.stack(outs)))
    for (L, k, s, p) in [(8, 2, 2, 0), (9, 3, 2, 1), (10, 3, 1, 0), (7, 4, 3, 2)]:
        for kind, fn in (("max", F.max_pool1d), ("avg", F.avg_pool1d)):
            c = Case(f"{kind}_pool1d_L{L}_k{k}_s{s}_p{p}", f"{kind}_pool1d",
                     {"kernel": k, "stride": s, "padding": p})
            x = c.inp("x", rnd(K, B, 2, L))
            y = fn(x.reshape(K * B, 2, L), k, s, p)
            cs.append(c.finish(y.reshape(K, B, 2, -1)))
    c = Case("max_pool1d_default_stride", "max_pool1d", {"kernel": 3, "stride": -1, "padding": 0})
    x = c.inp("x", rnd(K, B, 2, 9))
    cs.append(c.finish(F.max_pool1d(x.reshape(K * B, 2, 9), 3).reshape(K, B, 2, -1)))
    c = Case("avg_pool1d_default_stride", "avg_pool1d", {"kernel": 2, "stride": -1, "padding": 0})
    x = c.inp("x", rnd(K, B, 2, 9))
    cs.append(c.finish(F.avg_pool1d(x.reshape(K * B, 2, 9), 2).reshape(K, B, 2, -1)))
    return cs


def norm_cases():
    cs = []
    K = 2
    for shape, aff in [((K, 5, 6), True), ((K, 2, 3, 4), True), ((K, 4, 5), False)]:
        H = shape[-1]
        c = Case(f"layer_norm_{'x'.join(map(str, shape))}" + ("" if aff else "_noaffine"),
                 "layer_norm", {"eps": 1e-5})
        x = c.inp("x", rnd(*shape) * 2 + 0.5)
        w = c.inp("weight", rnd(K, H, lo=0.5, hi=1.5)) if aff else None
        b = c.inp("bias", rnd(K, H)) if aff else None
        outs = [F.layer_norm(x[k], (H,), w[k] if aff else None, b[k] if aff else None, 1e-5)
                for k in range(K)]
        cs.append(c.finish(torch.stack(outs)))
    for shape in [(K, 6, 3), (K, 4, 3, 5)]:
        C = shape[2]
        for training in (True, False):
            c = Case(f"batch_norm_{'x'.join(map(str, shape))}_{'train' if training else 'eval'}",
                     "batch_norm", {"training": training, "momentum": 0.1, "eps": 1e-5})
            x = c.inp("x", rnd(*shape) * 2 + 0.3)
            w = c.inp("weight", rnd(K, C, lo=0.5, hi=1.5))
            b = c.inp("bias", rnd(K, C))
            rm0 = rnd(K, C) * 0.5
            rv0 = rnd(K, C, lo=0.5, hi=2.0)
            rm0 = c.inp("running_mean", rm0, grad=False)
            rv0 = c.inp("running_var", rv0, grad=False)
            rm, rv = rm0.clone(), rv0.clone()
            outs = [F.batch_norm(x[k], rm[k], rv[k], w[k], b[k], training, 0.1, 1e-5)
                    for k in range(K)]
            cs.append(c.finish(torch.stack(outs),
                               {"running_mean": rm, "running_var": rv}))
    return cs


def shape_cases():
    cs = []
    cs.append(unary("reshape", "reshape", lambda t: t.reshape(2, 6, 2), rnd(2, 3, 4),
                    {"shape": [2, 6, 2]}))
    cs.append(unary("reshape_flatten", "reshape", lambda t: t.reshape(2, 3, 8), rnd(2, 3, 2, 4),
                    {"shape": [2, 3, 8]}))
    for order in ([0, 2, 1], [2, 0, 1], [1, 2, 0]):
        cs.append(unary("permute_" + "".join(map(str, order)), "permute",
                        lambda t: t.permute(*order), rnd(2, 3, 4), {"order": order}))
    cs.append(unary("permute_4d", "permute", lambda t: t.permute(0, 3, 1, 2), rnd(2, 3, 4, 5),
                    {"order": [0, 3, 1, 2]}))
    cs.append(unary("transpose_12", "transpose", lambda t: t.transpose(1, 2), rnd(2, 3, 4),
                    {"axis0": 1, "axis1": 2}))
    for ax, shapes in [(0, [(1, 3, 2), (2, 3, 2)]), (1, [(2, 1, 3), (2, 2, 3), (2, 3, 3)]),
                       (-1, [(2, 3, 2), (2, 3, 1)])]:
        c = Case(f"concat_ax{ax}_n{len(shapes)}", "concat", {"axis": ax})
        xs = [c.inp(f"x{i}", rnd(*s)) for i, s in enumerate(shapes)]
        cs.append(c.finish(torch.cat(xs, ax)))
    for ax, st, en in [(1, 1, 3), (-1, 0, 2), (0, 1, 2), (2, 2, 5)]:
        cs.append(unary(f"slice_ax{ax}_{st}_{en}", "slice",
                        lambda t: t.narrow(ax, st, en - st), rnd(2, 3, 5),
                        {"axis": ax, "start": st, "end": en}))
    K, V, E = 2, 6, 3
    for shared in (False, True):
        c = Case("embedding" + ("_shared" if shared else ""), "embedding")
        idx = labels(1 if shared else K, 4, n=V)
        idx[0, 1] = idx[0, 3]  # a repeated index: gradients accumulate
        c.inp("indices", idx.to(torch.int32), grad=False)
        w = c.inp("weight", rnd(K, V, E))
        outs = [F.embedding(idx[0 if shared else k], w[k]) for k in range(K)]
        cs.append(c.finish(torch.stack(outs)))
    return cs


# ---------------------------------------------------------------------------------------------
# Attention and the transformer. Each family draws from its own generator, so that adding or
# regenerating it leaves the other families' cases unchanged.


class own_stream:
    """Within the block, rnd() and labels() draw from a generator seeded SEED + offset."""

    def __init__(self, offset):
        self.offset = offset

    def __enter__(self):
        global GEN
        self.saved = GEN
        GEN = torch.Generator().manual_seed(SEED + self.offset)

    def __exit__(self, *exc):
        global GEN
        GEN = self.saved


def causal_mask(tq, tk):
    """True where query i (absolute position tk - tq + i) must not see key j."""
    return torch.ones(tq, tk, dtype=torch.bool).triu(tk - tq + 1)


def attention_ref(q, k, v, n_heads, causal):
    """q [K, B, Tq, D], k, v [K, B, Tk, D] -> [K, B, Tq, D]: per member and head (features
    [h*dh, (h+1)*dh)), softmax(q k^T / sqrt(dh) + mask) v."""
    K, B, tq, D = q.shape
    tk, dh = k.shape[2], D // n_heads
    mask = torch.zeros(tq, tk, dtype=q.dtype)
    if causal:
        mask = mask.masked_fill(causal_mask(tq, tk), float("-inf"))
    outs = []
    for m in range(K):
        heads = []
        for h in range(n_heads):
            f = slice(h * dh, (h + 1) * dh)
            s = q[m, :, :, f] @ k[m, :, :, f].transpose(-1, -2) / math.sqrt(dh) + mask
            heads.append(torch.softmax(s, -1) @ v[m, :, :, f])
        outs.append(torch.cat(heads, -1))
    return torch.stack(outs)


def torch_mha(q, k, v, n_heads, causal, wq=None, wk=None, wv=None, bq=None, bk=None, bv=None,
              wo=None, bo=None):
    """torch's own multi-head attention (F.multi_head_attention_forward) on [B, T, D] inputs,
    projections identity unless given."""
    D = q.shape[-1]
    eye, zero = torch.eye(D, dtype=q.dtype), torch.zeros(D, dtype=q.dtype)
    w_in = torch.cat([wq if wq is not None else eye, wk if wk is not None else eye,
                      wv if wv is not None else eye])
    b_in = torch.cat([bq if bq is not None else zero, bk if bk is not None else zero,
                      bv if bv is not None else zero])
    mask = causal_mask(q.shape[1], k.shape[1]) if causal else None
    out, _ = F.multi_head_attention_forward(
        q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), D, n_heads, w_in, b_in, None,
        None, False, 0.0, wo if wo is not None else eye, bo if bo is not None else zero,
        training=False, need_weights=False, attn_mask=mask)
    return out.transpose(0, 1)


def attention_cases():
    cs = []
    with own_stream(101):
        for (K, B, tq, tk, D, H, causal) in [(2, 3, 4, 4, 6, 1, False), (2, 3, 4, 4, 6, 1, True),
                                             (2, 2, 3, 3, 8, 4, False), (2, 2, 3, 3, 8, 4, True),
                                             (2, 2, 2, 5, 8, 4, True), (2, 2, 2, 5, 8, 2, False),
                                             (1, 3, 4, 4, 8, 4, True)]:
            name = (f"attention_K{K}_h{H}_tq{tq}_tk{tk}" + ("_causal" if causal else ""))
            c = Case(name, "attention", {"n_heads": H, "causal": causal})
            q = c.inp("q", rnd(K, B, tq, D) * 2)
            k = c.inp("k", rnd(K, B, tk, D) * 2)
            v = c.inp("v", rnd(K, B, tk, D))
            out = attention_ref(q, k, v, H, causal)
            for m in range(K):  # the head layout is torch's own
                ref = torch_mha(q[m], k[m], v[m], H, causal)
                assert torch.allclose(out[m], ref, rtol=1e-12, atol=1e-12), name
            cs.append(c.finish(out))
    return cs


TRANSFORMER_CASES = [
    # name, spec, members, batch, length, tokens shared by the members
    ("layer_norm_shared_tokens", {"vocab": 7, "max_seq": 5, "d_model": 8, "n_heads": 2,
                                  "d_mlp": 16, "n_layers": 2, "layer_norm": True, "out": 0},
     2, 3, 4, True),
    ("plain_member_tokens_out5", {"vocab": 6, "max_seq": 4, "d_model": 8, "n_heads": 4,
                                  "d_mlp": 12, "n_layers": 2, "layer_norm": False, "out": 5},
     2, 3, 4, False),
]


def transformer_param_shapes(s):
    d, out = s["d_model"], s["out"] or s["vocab"]
    shapes = {"embed.weight": (s["vocab"], d), "pos_embed.weight": (s["max_seq"], d)}
    for l in range(s["n_layers"]):
        p = f"blocks.{l}."
        if s["layer_norm"]:
            shapes[p + "ln1.weight"], shapes[p + "ln1.bias"] = (d,), (d,)
        for n in ("q", "k", "v", "out"):
            shapes[p + f"attn.{n}.weight"], shapes[p + f"attn.{n}.bias"] = (d, d), (d,)
        if s["layer_norm"]:
            shapes[p + "ln2.weight"], shapes[p + "ln2.bias"] = (d,), (d,)
        shapes[p + "mlp.fc1.weight"], shapes[p + "mlp.fc1.bias"] = (s["d_mlp"], d), (s["d_mlp"],)
        shapes[p + "mlp.fc2.weight"], shapes[p + "mlp.fc2.bias"] = (d, s["d_mlp"]), (d,)
    if s["layer_norm"]:
        shapes["ln_f.weight"], shapes["ln_f.bias"] = (d,), (d,)
    shapes["unembed.weight"], shapes["unembed.bias"] = (out, d), (out,)
    return shapes


def transformer_member(P, s, toks, m, margins):
    """Logits [B, T, out] of member m: torch's layers (embedding, layer_norm, linear, relu and
    multi_head_attention_forward with q, k, v as its in-projection)."""
    d, T = s["d_model"], toks.shape[1]
    w = {n: t[m] for n, t in P.items()}
    x = F.embedding(toks.long(), w["embed.weight"]) + w["pos_embed.weight"][:T]
    norm = lambda n, t: F.layer_norm(t, (d,), w[n + ".weight"], w[n + ".bias"], 1e-5)  # noqa
    for l in range(s["n_layers"]):
        p = f"blocks.{l}."
        h = norm(p + "ln1", x) if s["layer_norm"] else x
        a = p + "attn."
        x = x + torch_mha(h, h, h, s["n_heads"], True, w[a + "q.weight"], w[a + "k.weight"],
                          w[a + "v.weight"], w[a + "q.bias"], w[a + "k.bias"], w[a + "v.bias"],
                          w[a + "out.weight"], w[a + "out.bias"])
        h = norm(p + "ln2", x) if s["layer_norm"] else x
        z = F.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"])
        margins.append(z.detach().abs().min().item())
        x = x + F.linear(F.relu(z), w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
    if s["layer_norm"]:
        x = norm("ln_f", x)
    return F.linear(x, w["unembed.weight"], w["unembed.bias"])


def transformer_cases():
    cs = []
    with own_stream(202):
        for (name, s, K, B, T, shared) in TRANSFORMER_CASES:
            P = {}
            for n, shape in transformer_param_shapes(s).items():
                if n.endswith("ln1.weight") or n.endswith("ln2.weight") or n == "ln_f.weight":
                    t = rnd(K, *shape, lo=0.5, hi=1.5)
                elif "embed" in n:
                    t = rnd(K, *shape)
                else:  # linears: about torch's scale, queries and keys larger for peaked softmaxes
                    fan_in = shape[-1] if n.endswith(".weight") else shape_of_weight(s, n)
                    gain = 3.0 if (".attn.q." in n or ".attn.k." in n) else 1.5
                    t = rnd(K, *shape) * gain / math.sqrt(fan_in)
                P[n] = t.to(torch.float32).to(torch.float64).requires_grad_(True)
            V, out = s["vocab"], s["out"] or s["vocab"]
            toks = labels(1 if shared else K, B, T, n=V).to(torch.int32)
            ys = labels(K, B, n=out).to(torch.int32)
            margins = []
            logits = torch.stack([transformer_member(P, s, toks[0 if shared else m], m, margins)
                                  for m in range(K)])
            assert min(margins) > 1e-4, f"{name}: a ReLU input {min(margins)} is too close to 0"
            loss = torch.stack([F.cross_entropy(logits[m, :, -1], ys[m].long()) for m in range(K)])
            names = list(P)
            grads = torch.autograd.grad(loss.sum(), [P[n] for n in names])
            cs.append({"name": name, "spec": s, "members": K, "param_names": names,
                       "params": {n: tj(P[n]) for n in names}, "tokens": tj(toks),
                       "labels": tj(ys), "logits": tj(logits), "loss": tj(loss),
                       "grads": {n: tj(g) for n, g in zip(names, grads)},
                       "min_relu_margin": min(margins)})
    return cs


def shape_of_weight(s, bias_name):
    """fan_in of the weight beside a bias."""
    return transformer_param_shapes(s)[bias_name[:-len("bias")] + "weight"][-1]


# ---------------------------------------------------------------------------------------------
# Optimizer trajectories.

K_MEMBERS = 2
STEPS = 20
CHECKPOINTS = [1, 5, 10, 20]
B = 10


def relu_tracked(module, a):
    """ReLU that records the smallest |pre-activation| seen (distance to the kink)."""
    module.margin = min(getattr(module, "margin", math.inf), a.detach().abs().min().item())
    return F.relu(a)


# A trajectory whose ReLU inputs come closer to 0 than this is regenerated with another seed:
# float32 rounding could flip such a unit and the trajectories would then part for good.
MIN_RELU_MARGIN = 2e-5


class MLP(torch.nn.Module):
    """8 -> 16 ReLU -> h + ReLU(fc2 h) -> 4."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.fc2 = torch.nn.Linear(16, 16)
        self.fc3 = torch.nn.Linear(16, 4)

    def forward(self, x):
        h = relu_tracked(self, self.fc1(x))
        h = h + relu_tracked(self, self.fc2(h))
        return self.fc3(h)


class CNN(torch.nn.Module):
    """[B, 1, 20] -> conv 1->4 k5 s2 p1 -> ReLU -> conv 4->4 k3 s2 p1 -> ReLU -> flatten -> 4."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(1, 4, 5, stride=2, padding=1)
        self.conv2 = torch.nn.Conv1d(4, 4, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(20, 4)

    def forward(self, x):
        h = relu_tracked(self, self.conv1(x))
        h = relu_tracked(self, self.conv2(h))
        return self.fc(h.flatten(1))


OPTIMIZERS = {
    "sgd_momentum": ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0,
                             "nesterov": False}),
    "sgd_momentum_wd": ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01,
                                "nesterov": False}),
    "sgd_nesterov": ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01,
                             "nesterov": True}),
    "adam": ("adam", {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}),
    "adamw": ("adamw", {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}),
}


def make_opt(kind, cfg, params):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"],
                               weight_decay=cfg["weight_decay"], nesterov=cfg["nesterov"])
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=cfg["lr"], betas=tuple(cfg["betas"]), eps=cfg["eps"],
               weight_decay=cfg["weight_decay"])


def trajectory(model_name, opt_name):
    for attempt in range(50):
        t, margin = trajectory_attempt(model_name, opt_name, SEED + 1000 * attempt)
        if margin >= MIN_RELU_MARGIN:
            t["seed"] = SEED + 1000 * attempt
            t["min_relu_margin"] = margin
            return t
    raise RuntimeError(f"no well-conditioned trajectory for {model_name} {opt_name}")


def trajectory_attempt(model_name, opt_name, seed):
    kind, cfg = OPTIMIZERS[opt_name]
    g = torch.Generator().manual_seed(seed + len(model_name))
    torch.manual_seed(seed + len(model_name))
    members = []
    for _ in range(K_MEMBERS):  # float32 initial values, trained on in float64
        m = MLP() if model_name == "mlp" else CNN()
        members.append(m.double())
    if model_name == "mlp":
        xs = (torch.rand(STEPS, B, 8, generator=g) * 2 - 1)
    else:
        xs = (torch.rand(STEPS, B, 1, 20, generator=g) * 2 - 1)
    ys = torch.randint(0, 4, (STEPS, B), generator=g)
    names = [n for n, _ in members[0].named_parameters()]

    def stacked():
        return {n: torch.stack([dict(m.named_parameters())[n].detach() for m in members])
                for n in names}

    init = stacked()
    opts = [make_opt(kind, cfg, m.parameters()) for m in members]
    losses, ckpts, grads1 = [], {}, None
    for step in range(1, STEPS + 1):
        x, y = xs[step - 1].double(), ys[step - 1]
        ls = []
        for m, o in zip(members, opts):
            o.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            ls.append(loss.item())
        if step == 1:
            grads1 = {n: torch.stack([dict(m.named_parameters())[n].grad.detach()
                                      for m in members]) for n in names}
        for o in opts:
            o.step()
        losses.append(ls)
        if step in CHECKPOINTS:
            ckpts[str(step)] = {n: tj(t) for n, t in stacked().items()}
    return {"model": model_name, "members": K_MEMBERS, "optimizer": kind, "config": cfg,
            "name": f"{model_name}_{opt_name}", "steps": STEPS, "checkpoints": CHECKPOINTS,
            "param_names": names, "initial": {n: tj(t) for n, t in init.items()},
            "inputs": tj(xs), "labels": tj(ys.to(torch.int32)),
            "losses": [[float(repr(np.float32(v))) for v in ls] for ls in losses],
            "grads_step1": {n: tj(t) for n, t in grads1.items()},
            "params": ckpts}, min(getattr(m, "margin", math.inf) for m in members)


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    files = []
    for fam, fn in [("elementwise", elementwise_cases), ("reduce", reduce_cases),
                    ("loss", loss_cases), ("linalg", linalg_cases), ("conv", conv_cases),
                    ("norm", norm_cases), ("shape", shape_cases),
                    ("attention", attention_cases)]:
        cases = fn()
        name = f"ops_{fam}.json"
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"family": fam, "cases": cases}, f, separators=(",", ":"))
        files.append({"file": name, "kind": "ops", "cases": [c["name"] for c in cases]})
    cases = transformer_cases()
    with open(os.path.join(OUT, "model_transformer.json"), "w") as f:
        json.dump({"family": "transformer", "cases": cases}, f, separators=(",", ":"))
    files.append({"file": "model_transformer.json", "kind": "model",
                  "cases": [c["name"] for c in cases]})
    for model in ("mlp", "cnn"):
        torch.set_default_dtype(torch.float32)
        for opt in OPTIMIZERS:
            t = trajectory(model, opt)
            name = f"optim_{model}_{opt}.json"
            with open(os.path.join(OUT, name), "w") as f:
                json.dump(t, f, separators=(",", ":"))
            files.append({"file": name, "kind": "optim", "cases": [t["name"]]})
    manifest = {"generator": "tests/golden/make_golden.py", "torch": torch.__version__,
                "seed": SEED, "reference_dtype": "float64 from float32-representable inputs",
                "files": files}
    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, x["file"])) for x in files)
    print(f"wrote {len(files)} files, {sum(len(x['cases']) for x in files)} cases, "
          f"{total} bytes")


if __name__ == "__main__":
    main()
