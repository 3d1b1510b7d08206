// Losses. The leading axis is the member axis: a loss reduces over every other axis and
// returns one value per member, shape [K] (Reduction::Mean), or per example (None).
// Calling backward() on a [K] loss trains every member on its own loss.
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

enum class Reduction { Mean, Sum, None };

// logits [K, N..., C]; labels int32 of shape [K, N...] or shared [N...].
// Mean: [K] (mean over N...), Sum: [K], None: [K, N...]. Labels outside [0, C) are an error.
Var cross_entropy(Var logits, const Tensor& labels, Reduction reduction = Reduction::Mean);
// pred [K, N...]; target the same shape or shared [N...] (broadcast over members).
Var mse_loss(Var pred, Var target, Reduction reduction = Reduction::Mean);

}  // namespace benchtop
