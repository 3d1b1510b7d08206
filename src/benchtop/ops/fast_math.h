// Private helper of the ops: branch-free float32 functions the compiler vectorises, for
// hot loops where glibc's scalar expf was a visible share of a training step (GRU gates,
// log-softmax). float64 code keeps the std:: functions (gradient checks). The vector kernel
// files (kernels/) have 8- and 16-lane versions with the same bits.
#pragma once

#include <cstdint>
#include <cstring>

namespace benchtop::detail {
// In an unnamed namespace: each file (the kernel files too, each compiled for its own
// instruction set) gets its own copy.
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp)

// exp(x) for float. Largest relative error over all floats in [ln(FLT_MIN), 88):
// 0.87 times 2^-23 (tests/ops/fast_math_test.cc). Below ln(FLT_MIN) ~ -87.3365, where
// std::exp's result is subnormal, it returns 0 (so -inf and -1000 give 0); above 88 it
// returns exp(88); NaN gives NaN.
inline float exp_approx(float x) {
    // exp(x) = 2^n e^r, n = round(x / ln 2), |r| <= ln(2) / 2; e^r by its Taylor series to
    // degree 7 (truncation < 1e-8 relative), 2^n through the exponent bits. Adding
    // 1.5 * 2^23 rounds to an integer held in the low mantissa bits (no float -> int
    // conversion, so NaN stays NaN without undefined behaviour).
    constexpr float kMagic = 12582912.0f;
    constexpr float kLo = -87.33654f;  // exp(kLo) is still a normal float (n = -126)
    const float xin = x;
    x = x < kLo ? kLo : x;  // written as selects: NaN passes through
    x = x > 88.0f ? 88.0f : x;
    const float shifted = x * 1.44269504088896341f + kMagic;
    const float n = shifted - kMagic;
    const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t ubits, umagic;
    std::memcpy(&ubits, &shifted, sizeof ubits);
    std::memcpy(&umagic, &kMagic, sizeof umagic);
    const uint32_t bits = (ubits - umagic + 127u) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const float e = p * scale;
    return xin < kLo ? 0.0f : e;
}
}  // namespace
}  // namespace benchtop::detail
