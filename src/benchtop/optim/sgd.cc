// SGD step: torch 1.13 _single_tensor_sgd, per member. Python scalars are cast to the tensor
// dtype where torch's kernels do (alpha arguments). torch's CPU `a.add(b, alpha=s)` computes
// fmadd(b, s, a) (one rounding) in its vectorised kernel, so those ops are std::fma (the loop
// itself is kernels/optim_loops.h).
#include "benchtop/optim/sgd.h"

#include <cmath>
#include <type_traits>

#include "benchtop/kernels/dispatch.h"
#include "benchtop/kernels/optim_loops.h"

namespace benchtop {

Sgd::Sgd(ParamSet& params, SgdOptions options) : ps_(params), opt_(std::move(options)) {
    const int64_t k = ps_.n_members();
    opt_.lr.check(k, "Sgd lr");
    opt_.momentum.check(k, "Sgd momentum");
    opt_.dampening.check(k, "Sgd dampening");
    opt_.weight_decay.check(k, "Sgd weight_decay");
    if (opt_.nesterov)
        for (int64_t m = 0; m < k; ++m)
            BENCHTOP_CHECK(opt_.momentum[m] > 0 && opt_.dampening[m] == 0,
                           "Sgd: Nesterov momentum requires a momentum and zero dampening (member ",
                           m, ")");
}

void Sgd::set_lr(PerMember lr) {
    lr.check(ps_.n_members(), "Sgd::set_lr");
    opt_.lr = std::move(lr);
}

void Sgd::set_weight_decay(PerMember wd) {
    wd.check(ps_.n_members(), "Sgd::set_weight_decay");
    opt_.weight_decay = std::move(wd);
}

void Sgd::step() {
    auto& entries = ps_.entries();
    if (bufs_.empty()) bufs_.resize(entries.size());
    const int64_t k_n = ps_.n_members();
    for (size_t i = 0; i < entries.size(); ++i) {
        auto& e = entries[i];
        bool any_momentum = false;
        for (int64_t k = 0; k < k_n; ++k) any_momentum |= opt_.momentum[k] != 0;
        if (any_momentum && !bufs_[i].defined())
            bufs_[i] = Tensor::zeros(e.value.shape(), e.value.dtype());
        const int64_t n = e.value.numel() / k_n;
        dispatch_float(e.value.dtype(), "Sgd::step", [&](auto tag) {
            using T = decltype(tag);
            T* p_all = e.value.data<T>();
            const T* g_all = e.grad.data<T>();
            T* b_all = any_momentum ? bufs_[i].data<T>() : nullptr;
            for (int64_t k = 0; k < k_n; ++k) {
                const double wd = opt_.weight_decay[k], mom = opt_.momentum[k];
                const T wd_t = static_cast<T>(wd), mom_t = static_cast<T>(mom);
                const T damp_t = static_cast<T>(1.0 - opt_.dampening[k]);
                const T neg_lr = static_cast<T>(-opt_.lr[k]);
                T* p = p_all + k * n;
                const T* gr = g_all + k * n;
                T* b = b_all ? b_all + k * n : nullptr;
                const kernels::SgdArgs<T> args{wd_t,   mom_t,       damp_t,
                                               neg_lr, steps_ == 0, opt_.nesterov};
                // float32 on the active kernel path (vectorised for its instruction set).
                if constexpr (std::is_same_v<T, float>)
                    kernels::active().sgd_update(n, p, gr, b, args);
                else
                    kernels::sgd_update_t(n, p, gr, b, args);
            }
        });
    }
    ++steps_;
    ps_.apply_masks();  // pruned weights stay exactly zero (no-op without masks)
}

}  // namespace benchtop
