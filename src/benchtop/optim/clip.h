// Per-member gradient-norm clipping, like torch.nn.utils.clip_grad_norm_ applied to each member
// of the stack separately: norm over all of member k's gradients; if max_norm/(norm+1e-6) < 1
// the member's gradients are scaled by that coefficient. Returns the per-member norms.
#pragma once

#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop {

std::vector<double> clip_grad_norm(ParamSet& params, const PerMember& max_norm);

}  // namespace benchtop
