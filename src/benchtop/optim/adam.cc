// Adam step: torch 1.13 _single_tensor_adam, per member. Bias corrections and step size are
// computed in double like torch's Python floats; tensor ops round once each in the param dtype.
// torch's CPU `a.add(b, alpha=s)` is fmadd(b, s, a) in its vectorised kernel, hence std::fma;
// addcmul_/addcdiv_ are evaluated as self + (value * t1) * t2 and self + (value * t1) / t2.
#include "benchtop/optim/adam.h"

#include <cmath>
#include <type_traits>

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
                T* __restrict p = e.value.data<T>() + k * n;
                const T* __restrict gr = e.grad.data<T>() + k * n;
                T* __restrict m = m_[i].data<T>() + k * n;
                T* __restrict v = v_[i].data<T>() + k * n;
                // One branch-free loop per weight-decay mode, so the compiler vectorises it.
                auto update = [&](auto mode) {
                    constexpr int kMode = decltype(mode)::value;  // 0 none, 1 L2, 2 decoupled
                    for (int64_t j = 0; j < n; ++j) {
                        T g = gr[j];
                        T pj = p[j];
                        if constexpr (kMode == 2) pj = pj * decay;
                        if constexpr (kMode == 1) g = std::fma(wd_t, pj, g);
                        T mj = std::fma(one_m_b1, g, m[j] * b1_t);
                        T vj = v[j] * b2_t + one_m_b2 * g * g;
                        T denom = std::sqrt(vj) / bc2_sqrt + eps_t;
                        m[j] = mj;
                        v[j] = vj;
                        p[j] = pj + neg_step_size * mj / denom;
                    }
                };
                if (opt_.decoupled) {
                    update(std::integral_constant<int, 2>{});
                } else if (wd != 0) {
                    update(std::integral_constant<int, 1>{});
                } else {
                    update(std::integral_constant<int, 0>{});
                }
            }
        });
    }
}

}  // namespace benchtop
