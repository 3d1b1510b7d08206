// Reductions and normalised exponentials. Axes may be negative (counted from the end).
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

Var sum(Var x, int axis, bool keepdim = false);
Var mean(Var x, int axis, bool keepdim = false);
// Maximum along an axis; the gradient goes to the first maximal element (as torch.max(dim)).
Var max(Var x, int axis, bool keepdim = false);
// Sum of every element, as a tensor of shape [1].
Var sum_all(Var x);
Var mean_all(Var x);
Var softmax(Var x, int axis = -1);
Var log_softmax(Var x, int axis = -1);

}  // namespace benchtop
