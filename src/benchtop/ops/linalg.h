// Matrix products, batched over members.
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

// a [..., M, N] x b [..., N, P] -> [..., M, P]; the leading (batch) dims broadcast, so a
// shared [M, N] or [1, M, N] operand meets a per-member [K, N, P] one.
Var matmul(Var a, Var b);
// y = x W^T + b, per member (PyTorch's Linear layout).
// x [K, N..., D] or shared [1, N..., D]; w [K, O, D]; b [K, O] or undefined -> [K, N..., O].
Var linear(Var x, Var w, Var b = {});
// relu(linear(x, w, b)) as one node: bias and ReLU run in one pass over the GEMM output, and
// backward masks each member's gradient and sums its bias gradient while it is in cache.
// Bit-identical to relu(linear(x, w, b)), values and gradients.
Var linear_relu(Var x, Var w, Var b = {});
// x + relu(linear(x, w, b)) as one node (a residual block; in == out features): the ReLU
// and the residual add run in one pass over each member's GEMM output, and backward adds
// the output gradient to x's before the GEMM accumulates into it. Bit-identical to
// x + linear_relu(x, w, b), values and gradients.
Var linear_relu_residual(Var x, Var w, Var b = {});

}  // namespace benchtop
