// Normalisation and dropout.
#pragma once

#include <cstdint>
#include <span>

#include "benchtop/autograd/graph.h"

namespace benchtop {

// Normalises over the last axis. x [K, N..., H]; weight, bias [K, H] (or undefined).
Var layer_norm(Var x, Var weight, Var bias, double eps = 1e-5);

// x [K, B, C] or [K, B, C, L]; statistics per member and channel over B (and L).
// weight, bias [K, C] (or undefined); running_mean, running_var [K, C] are updated in
// training mode (torch: unbiased variance in the running estimate, momentum 0.1) and used
// in evaluation mode.
Var batch_norm(Var x, Var weight, Var bias, Tensor running_mean, Tensor running_var,
               bool training, double momentum = 0.1, double eps = 1e-5);

// Inverted dropout. x [K, ...]; member k draws its mask from the counter-based stream
// (member_seeds[k], counter), so a member's mask does not depend on its neighbours.
// Identity when !training or p == 0.
Var dropout(Var x, double p, bool training, std::span<const uint64_t> member_seeds,
            uint64_t counter);

}  // namespace benchtop
