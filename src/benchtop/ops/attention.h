// Batched multi-head scaled dot-product attention for a stack of members, as one node.
// Inputs are the projected queries, keys and values with the heads interleaved in the feature
// axis as in PyTorch's nn.MultiheadAttention after its projections (head h owns features
// [h*dh, (h+1)*dh), dh = D / n_heads), so a model needs no reshape or permute around it:
//
//   Var q = linear(x, wq, bq), k = linear(x, wk, bk), v = linear(x, wv, bv);   // [K, B, T, D]
//   Var a = attention(q, k, v, /*n_heads=*/4, /*causal=*/true);                // [K, B, T, D]
//
// Per member, example and head: softmax(q k^T / sqrt(dh) [+ causal mask]) v, the softmax with
// its row maximum subtracted; the probabilities are kept for backward. With `causal`, query i
// (0-based among the Tq queries) sits at absolute position Tk - Tq + i and sees keys
// j <= Tk - Tq + i, so Tq < Tk computes the last Tq positions of a causal sequence: each
// query row's values do not depend on Tq (the same bits as that row of the full Tq = Tk call).
#pragma once

#include <cstdint>

#include "benchtop/autograd/graph.h"

namespace benchtop {

// q [K, B, Tq, D]; k, v [K, B, Tk, D] (the same K, B and D; K may be 1) -> [K, B, Tq, D].
// n_heads must divide D; Tk >= 1; Tq <= Tk when causal. float32 or float64.
Var attention(Var q, Var k, Var v, int64_t n_heads, bool causal);

}  // namespace benchtop
