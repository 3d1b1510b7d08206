// Evaluation helpers on plain tensors (no graph): accuracy per member, and row batches as
// zero-copy views.
#pragma once

#include <vector>

#include "benchtop/tensor/tensor.h"

namespace benchtop {

// logits [K, N, C] (float32/float64); labels int32 [N] (shared) or [K, N].
// Returns the fraction of argmax(logits) == label for each member (ties: first maximum).
std::vector<double> accuracy(const Tensor& logits, const Tensor& labels);

// Rows [start, start + n) of a row-major [N, ...] tensor as a view with a leading axis of
// size 1: [1, n, ...] (the shared-input form). Labels [N] give [n].
Tensor batch_rows(const Tensor& data, int64_t start, int64_t n, bool add_member_axis = true);

// Standard deviation (population) of all entries of a float tensor, e.g. of a training set's inputs.
double value_sd(const Tensor& x);

}  // namespace benchtop
