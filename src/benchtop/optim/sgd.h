// SGD with momentum, dampening, Nesterov and L2 weight decay over a ParamSet, matching
// PyTorch 1.13's single-tensor torch.optim.SGD operation by operation, with every
// hyper-parameter set per member. Arithmetic is in the ParamSet dtype, as torch's would be.
//
//   Sgd opt(ps, {.lr = {0.1, 0.01}, .momentum = 0.9});   opt.step();
#pragma once

#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop {

struct SgdOptions {
    PerMember lr = 1e-3;
    PerMember momentum = 0.0;
    PerMember dampening = 0.0;
    PerMember weight_decay = 0.0;
    bool nesterov = false;
};

class Sgd {
public:
    Sgd(ParamSet& params, SgdOptions options);

    // One update of every member from the gradients held in the ParamSet.
    void step();
    void set_lr(PerMember lr);
    void set_weight_decay(PerMember wd);
    const SgdOptions& options() const { return opt_; }
    int64_t steps() const { return steps_; }
    // Momentum buffer of parameter i (entries() order); undefined before the first step.
    const Tensor& momentum_buffer(size_t i) const { return bufs_.at(i); }

private:
    ParamSet& ps_;
    SgdOptions opt_;
    std::vector<Tensor> bufs_;
    int64_t steps_ = 0;
};

}  // namespace benchtop
