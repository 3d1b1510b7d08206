// clip_grad_norm: per-tensor L2 norms accumulated in double and rounded to the param dtype (as
// torch's per-tensor norm results), combined into the member's total norm, then the scale.
#include "benchtop/optim/clip.h"

#include <cmath>

namespace benchtop {

std::vector<double> clip_grad_norm(ParamSet& params, const PerMember& max_norm) {
    const int64_t k_n = params.n_members();
    max_norm.check(k_n, "clip_grad_norm max_norm");
    std::vector<double> norms(static_cast<size_t>(k_n), 0.0);
    dispatch_float(params.dtype(), "clip_grad_norm", [&](auto tag) {
        using T = decltype(tag);
        for (int64_t k = 0; k < k_n; ++k) {
            double total_sq = 0;
            for (auto& e : params.entries()) {
                const int64_t n = e.grad.numel() / k_n;
                const T* g = e.grad.data<T>() + k * n;
                double s = 0;
                for (int64_t j = 0; j < n; ++j) s += static_cast<double>(g[j]) * g[j];
                double tn = static_cast<double>(static_cast<T>(std::sqrt(s)));
                total_sq += tn * tn;
            }
            const T total = static_cast<T>(std::sqrt(total_sq));
            norms[static_cast<size_t>(k)] = static_cast<double>(total);
            const T coef = static_cast<T>(max_norm[k]) / (total + static_cast<T>(1e-6));
            if (coef < T(1)) {
                for (auto& e : params.entries()) {
                    const int64_t n = e.grad.numel() / k_n;
                    T* g = e.grad.data<T>() + k * n;
                    for (int64_t j = 0; j < n; ++j) g[j] = g[j] * coef;
                }
            }
        }
    });
    return norms;
}

}  // namespace benchtop
