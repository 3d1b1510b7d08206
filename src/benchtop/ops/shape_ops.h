// Ops that move data without arithmetic: reshape, permute, concat, slice, embedding.
#pragma once

#include <vector>

#include "benchtop/autograd/graph.h"

namespace benchtop {

Var reshape(Var x, const Shape& shape);
Var permute(Var x, const std::vector<int>& order);  // out.shape[i] = x.shape[order[i]]
Var transpose(Var x, int axis0, int axis1);
Var concat(const std::vector<Var>& xs, int axis);
Var slice(Var x, int axis, int64_t start, int64_t end);  // [start, end)
// indices int32 [K, N...] or shared [1, N...]; weight [K, V, E] -> [K, N..., E].
// Indices outside [0, V) are an error.
Var embedding(const Tensor& indices, Var weight);

}  // namespace benchtop
