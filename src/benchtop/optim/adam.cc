// Adam step: torch 1.13 _single_tensor_adam, per member. Bias corrections and step size are
// computed in double like torch's Python floats; tensor ops round once each in the param dtype.
// The update loop itself is kernels/optim_loops.h.
#include "benchtop/optim/adam.h"

#include <cmath>
#include <type_traits>

#include "benchtop/kernels/dispatch.h"
#include "benchtop/kernels/optim_loops.h"

namespace benchtop {

Adam::Adam(ParamSet& params, AdamOptions options) : ps_(params), opt_(std::move(options)) {
    const int64_t k = ps_.n_members();
    opt_.lr.check(k, "Adam lr");
    opt_.beta1.check(k, "Adam beta1");
    opt_.beta2.check(k, "Adam beta2");
    opt_.eps.check(k, "Adam eps");
    opt_.weight_decay.check(k, "Adam weight_decay");
    for (auto& e : ps_.entries()) {
        m_.push_back(Tensor::zeros(e.value.shape(), e.value.dtype()));
        v_.push_back(Tensor::zeros(e.value.shape(), e.value.dtype()));
    }
    bc1_.resize(static_cast<size_t>(k));
    bc2_.resize(static_cast<size_t>(k));
}

void Adam::set_lr(PerMember lr) {
    lr.check(ps_.n_members(), "Adam::set_lr");
    opt_.lr = std::move(lr);
}

void Adam::set_weight_decay(PerMember wd) {
    wd.check(ps_.n_members(), "Adam::set_weight_decay");
    opt_.weight_decay = std::move(wd);
}

void Adam::step() {
    auto& entries = ps_.entries();
    BENCHTOP_CHECK(entries.size() == m_.size(),
                   "Adam::step: the ParamSet gained parameters after the optimiser was made");
    ++steps_;
    const int64_t k_n = ps_.n_members();
    const double t = static_cast<double>(steps_);
    // Bias corrections once per member and step, not once per parameter tensor.
    for (int64_t k = 0; k < k_n; ++k) {
        bc1_[static_cast<size_t>(k)] = 1.0 - std::pow(opt_.beta1[k], t);
        bc2_[static_cast<size_t>(k)] = 1.0 - std::pow(opt_.beta2[k], t);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
        auto& e = entries[i];
        const int64_t n = e.value.numel() / k_n;
        dispatch_float(e.value.dtype(), "Adam::step", [&](auto tag) {
            using T = decltype(tag);
            for (int64_t k = 0; k < k_n; ++k) {
                const double lr = opt_.lr[k], b1 = opt_.beta1[k], b2 = opt_.beta2[k];
                const double wd = opt_.weight_decay[k];
                const double bc1 = bc1_[static_cast<size_t>(k)];
                const double bc2 = bc2_[static_cast<size_t>(k)];
                const T neg_step_size = static_cast<T>(-(lr / bc1));
                const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
                const T b1_t = static_cast<T>(b1), one_m_b1 = static_cast<T>(1.0 - b1);
                const T b2_t = static_cast<T>(b2), one_m_b2 = static_cast<T>(1.0 - b2);
                const T eps_t = static_cast<T>(opt_.eps[k]);
                const T wd_t = static_cast<T>(wd);
                const T decay = static_cast<T>(1.0 - lr * wd);
                T* p = e.value.data<T>() + k * n;
                const T* gr = e.grad.data<T>() + k * n;
                T* m = m_[i].data<T>() + k * n;
                T* v = v_[i].data<T>() + k * n;
                const kernels::AdamArgs<T> args{
                    neg_step_size, bc2_sqrt, b1_t, one_m_b1, b2_t,
                    one_m_b2,      eps_t,    wd_t, decay,    opt_.decoupled ? 2 : wd != 0 ? 1 : 0};
                // float32 on the active kernel path (vectorised for its instruction set).
                if constexpr (std::is_same_v<T, float>)
                    kernels::active().adam_update(n, p, gr, m, v, args);
                else
                    kernels::adam_update_t(n, p, gr, m, v, args);
            }
        });
    }
    ps_.apply_masks();  // pruned weights stay exactly zero (no-op without masks)
}

}  // namespace benchtop
