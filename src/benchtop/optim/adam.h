// Adam and AdamW over a ParamSet, matching PyTorch 1.13's single-tensor torch.optim.Adam /
// AdamW (amsgrad off, not capturable) operation by operation, with per-member hyper-parameters.
// State (exp_avg, exp_avg_sq) is held in the ParamSet dtype; arithmetic is in that dtype.
//
//   Adam opt(ps, {.lr = 1e-3, .weight_decay = {0.0, 1e-4}, .decoupled = true});  // AdamW
#pragma once

#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop {

struct AdamOptions {
    PerMember lr = 1e-3;
    PerMember beta1 = 0.9;
    PerMember beta2 = 0.999;
    PerMember eps = 1e-8;
    PerMember weight_decay = 0.0;
    bool decoupled = false;  // true: AdamW (p *= 1 - lr*wd, no L2 term in the gradient)
};

class Adam {
public:
    Adam(ParamSet& params, AdamOptions options);

    void step();
    void set_lr(PerMember lr);
    void set_weight_decay(PerMember wd);
    const AdamOptions& options() const { return opt_; }
    int64_t steps() const { return steps_; }
    const Tensor& exp_avg(size_t i) const { return m_.at(i); }
    const Tensor& exp_avg_sq(size_t i) const { return v_.at(i); }

private:
    ParamSet& ps_;
    AdamOptions opt_;
    std::vector<Tensor> m_, v_;
    std::vector<double> bc1_, bc2_;  // bias corrections of the current step, per member
    int64_t steps_ = 0;
};

// AdamW: Adam with decoupled weight decay (torch default weight_decay 1e-2 is not implied).
inline Adam make_adamw(ParamSet& params, AdamOptions options) {
    options.decoupled = true;
    return Adam(params, std::move(options));
}

}  // namespace benchtop
