// 1-D convolution and pooling (PyTorch semantics: cross-correlation, zero padding,
// output length floor((L + 2p - k) / s) + 1).
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

// x [K, B, C, L] or shared [1, B, C, L]; w [K, O, C, k]; b [K, O] or undefined
// -> [K, B, O, L'].
Var conv1d(Var x, Var w, Var b = {}, int stride = 1, int padding = 0);
// relu(conv1d(...)) as one node: bias and ReLU in the GEMM epilogue, the ReLU mask applied
// in backward's transpose of dy (same values and gradients as the composed form).
Var conv1d_relu(Var x, Var w, Var b = {}, int stride = 1, int padding = 0);
// The same convolution in a batch-innermost layout: x [K, C, L, B] or shared [1, C, L, B];
// w [K, O, C, k]; b [K, O] or undefined -> [K, O, L', B]. The im2col columns, the GEMM
// output and the next layer's input then share one layout (no transposes; copies of whole
// batch rows), which is how nn/cnn.cc runs the reference CNN.
Var conv1d_clb(Var x, Var w, Var b = {}, int stride = 1, int padding = 0);
Var conv1d_clb_relu(Var x, Var w, Var b = {}, int stride = 1, int padding = 0);
// x [K, B, C, L] -> [K, B, C, L']. Max pooling pads with -inf, average pooling with zeros
// counted in the divisor (torch's count_include_pad=True default).
Var max_pool1d(Var x, int kernel, int stride = -1 /* = kernel */, int padding = 0);
Var avg_pool1d(Var x, int kernel, int stride = -1 /* = kernel */, int padding = 0);

}  // namespace benchtop
