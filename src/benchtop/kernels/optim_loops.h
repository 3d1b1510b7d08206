// The optimisers' update loops, written once and compiled by each kernel file for its
// instruction set (and by optim/ for float64). They follow torch 1.13's CPU kernels: `a.add(b,
// alpha=s)` is fmadd(b, s, a) (one rounding), hence std::fma; addcmul_/addcdiv_ are
// self + (value * t1) * t2 and self + (value * t1) / t2. With -ffp-contract=off every other
// operation rounds on its own, so vectorised and scalar loops give the same bits.
// In an unnamed namespace: each file gets its own copy, compiled for its instruction set.
#pragma once

#include <cmath>
#include <cstdint>

#include "benchtop/kernels/kernel_table.h"

namespace benchtop::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): one copy per kernel file

template <int kMode, class T>
void adam_loop(int64_t n,
               T* __restrict p,
               const T* __restrict gr,
               T* __restrict m,
               T* __restrict v,
               const AdamArgs<T>& a) {
    const T neg_step_size = a.neg_step_size, bc2_sqrt = a.bc2_sqrt, b1 = a.b1, b2 = a.b2;
    const T one_m_b1 = a.one_m_b1, one_m_b2 = a.one_m_b2, eps = a.eps, wd = a.wd, decay = a.decay;
    for (int64_t j = 0; j < n; ++j) {
        T g = gr[j];
        T pj = p[j];
        if constexpr (kMode == 2) pj = pj * decay;
        if constexpr (kMode == 1) g = std::fma(wd, pj, g);
        const T mj = std::fma(one_m_b1, g, m[j] * b1);
        const T vj = v[j] * b2 + one_m_b2 * g * g;
        const T denom = std::sqrt(vj) / bc2_sqrt + eps;
        m[j] = mj;
        v[j] = vj;
        p[j] = pj + neg_step_size * mj / denom;
    }
}

// One branch-free loop per weight-decay mode, so that the compiler vectorises it.
template <class T>
void adam_update_t(int64_t n, T* p, const T* g, T* m, T* v, const AdamArgs<T>& a) {
    if (a.mode == 2)
        adam_loop<2>(n, p, g, m, v, a);
    else if (a.mode == 1)
        adam_loop<1>(n, p, g, m, v, a);
    else
        adam_loop<0>(n, p, g, m, v, a);
}

template <class T>
void sgd_update_t(
    int64_t n, T* __restrict p, const T* __restrict gr, T* __restrict b, const SgdArgs<T>& a) {
    const T wd = a.wd, mom = a.mom, damp = a.damp, neg_lr = a.neg_lr;
    for (int64_t j = 0; j < n; ++j) {
        T g = gr[j];
        if (wd != 0) g = std::fma(wd, p[j], g);
        if (mom != 0) {
            if (a.first_step)
                b[j] = g;  // torch.clone(d_p)
            else
                b[j] = std::fma(damp, g, b[j] * mom);
            g = a.nesterov ? std::fma(mom, b[j], g) : b[j];
        }
        p[j] = std::fma(neg_lr, g, p[j]);
    }
}

[[maybe_unused]] void adam_update(
    int64_t n, float* p, const float* g, float* m, float* v, const AdamArgs<float>& a) {
    adam_update_t(n, p, g, m, v, a);
}

[[maybe_unused]] void sgd_update(
    int64_t n, float* p, const float* g, float* b, const SgdArgs<float>& a) {
    sgd_update_t(n, p, g, b, a);
}

}  // namespace
}  // namespace benchtop::kernels
