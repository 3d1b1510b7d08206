// PyTorch's default initialisation for a whole model's ParamSet, member by member:
// Linear/Conv weights and biases uniform(±1/sqrt(fan_in)) with the weight's fan_in;
// GRU parameters (names "gru.*") uniform(±1/sqrt(hidden)) as torch.nn.GRU.
#pragma once

#include <cstdint>
#include <span>

#include "benchtop/nn/params.h"

namespace benchtop {

// seeds: one per member; scale: per-member multiplier (empty = 1).
void init_torch_default(ParamSet& ps, std::span<const uint64_t> seeds,
                        std::span<const double> scale = {});

}  // namespace benchtop
