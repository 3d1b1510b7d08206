// The GRU's gate arithmetic over the batch, written once and compiled by each kernel file for
// its instruction set (float32) and by ops/rnn.cc (float64, gradient checks). With
// -ffp-contract=off every operation rounds on its own, so vectorised and scalar loops give the
// same bits. In an unnamed namespace: each file gets its own copy, compiled for its own
// instruction set.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "benchtop/kernels/kernel_table.h"
#include "benchtop/ops/fast_math.h"

namespace benchtop::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): one copy per kernel file

// Activations. float: branch-free forms the compiler vectorises over the batch (glibc's
// scalar tanhf/expf calls were over a third of a training step). Largest relative errors
// over all floats in [-30, 30): exp 0.87 (ops/fast_math.h), sigmoid 1.28 and tanh 1.58 times
// 2^-23 (these two measured when exp_approx was contracted to fused multiply-adds), the class of
// PyTorch's vectorised (SLEEF) kernels (exp_approx: ops/fast_math.h). double (gradient
// checks): std:: functions.
template <class T>
inline T gate_sigmoid(T x) {
    if constexpr (std::is_same_v<T, float>) {
        return 1.0f / (1.0f + detail::exp_approx(-x));
    } else {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        T e = std::exp(x);
        return e / (T(1) + e);
    }
}

template <class T>
inline T gate_tanh(T x) {
    if constexpr (std::is_same_v<T, float>) {
        // |x| < 0.4: Taylor series to x^13 (truncation < 1e-8 relative); else
        // 1 - 2 / (e^{2|x|} + 1) with the sign restored. |x| >= 9 gives +-1 in float.
        float a = __builtin_fabsf(x);
        a = a > 9.0f ? 9.0f : a;  // keeps NaN
        const float x2 = x * x;
        float p = 21844.0f / 6081075;
        p = p * x2 - 1382.0f / 155925;
        p = p * x2 + 62.0f / 2835;
        p = p * x2 - 17.0f / 315;
        p = p * x2 + 2.0f / 15;
        p = p * x2 - 1.0f / 3;
        const float small = x + x * (x2 * p);
        const float big =
            __builtin_copysignf(1.0f - 2.0f / (detail::exp_approx(2.0f * a) + 1.0f), x);
        return a < 0.4f ? small : big;
    } else {
        return std::tanh(x);
    }
}

// One step of the gate arithmetic for one hidden unit j over the batch (B contiguous
// values per row). gi_* / gh_* are the input and hidden projections of gates r, z, n
// without biases; bi_* / bh_* the biases of unit j.
template <class T>
void gate_forward(int64_t count,
                  const GruGateRow<T>& g,
                  const T* __restrict hp,
                  T* __restrict r,
                  T* __restrict z,
                  T* __restrict n,
                  T* __restrict hn,
                  T* __restrict h) {
    const T* __restrict gi_r = g.gi_r;
    const T* __restrict gi_z = g.gi_z;
    const T* __restrict gi_n = g.gi_n;
    const T* __restrict gh_r = g.gh_r;
    const T* __restrict gh_z = g.gh_z;
    const T* __restrict gh_n = g.gh_n;
    for (int64_t b = 0; b < count; ++b) {
        // Same association as torch: (W_i x + b_i) + (W_h h + b_h).
        const T rb = gate_sigmoid((gi_r[b] + g.bi_r) + (gh_r[b] + g.bh_r));
        const T zb = gate_sigmoid((gi_z[b] + g.bi_z) + (gh_z[b] + g.bh_z));
        const T hnb = gh_n[b] + g.bh_n;
        const T nb = gate_tanh((gi_n[b] + g.bi_n) + rb * hnb);
        r[b] = rb;
        z[b] = zb;
        n[b] = nb;
        hn[b] = hnb;
        h[b] = nb + zb * (hp[b] - nb);  // (1 - z) * n + z * h
    }
}

// dh in: gradient of the new state (dout added by the caller); out: its direct part
// dh * z (the caller's GEMM adds the W_hh part). Writes the pre-activation gradients of
// r, z, n (= the input-projection gradients) and of W_hn h + b_hn.
template <class T>
void gate_backward(int64_t count,
                   const T* __restrict r,
                   const T* __restrict z,
                   const T* __restrict n,
                   const T* __restrict hn,
                   const T* __restrict hp,
                   T* __restrict dh,
                   T* __restrict dar,
                   T* __restrict daz,
                   T* __restrict dan,
                   T* __restrict dhn) {
    for (int64_t b = 0; b < count; ++b) {
        const T dhv = dh[b];
        const T an = dhv * (T(1) - z[b]) * (T(1) - n[b] * n[b]);  // d pre-activation of n
        dar[b] = an * hn[b] * (r[b] * (T(1) - r[b]));
        daz[b] = dhv * (hp[b] - n[b]) * (z[b] * (T(1) - z[b]));
        dan[b] = an;
        dhn[b] = an * r[b];
        dh[b] = dhv * z[b];
    }
}

[[maybe_unused]] void gru_gate_forward(int64_t count,
                                       const GruGateRow<float>& g,
                                       const float* hp,
                                       float* r,
                                       float* z,
                                       float* n,
                                       float* hn,
                                       float* h) {
    gate_forward(count, g, hp, r, z, n, hn, h);
}

[[maybe_unused]] void gru_gate_backward(int64_t count,
                                        const float* r,
                                        const float* z,
                                        const float* n,
                                        const float* hn,
                                        const float* hp,
                                        float* dh,
                                        float* dar,
                                        float* daz,
                                        float* dan,
                                        float* dhn) {
    gate_backward(count, r, z, n, hn, hp, dh, dar, daz, dan, dhn);
}

}  // namespace
}  // namespace benchtop::kernels
