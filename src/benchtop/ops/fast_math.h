// Private helper of the ops: branch-free float32 functions the compiler vectorises, for
// hot loops where glibc's scalar expf was a visible share of a training step (GRU gates,
// log-softmax). float64 code keeps the std:: functions (gradient checks).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace benchtop::detail {

// exp(x) for float. Largest relative error over all floats in [ln(FLT_MIN), 88):
// 0.66 times 2^-23 (tests/ops/fast_math_test.cc). Below ln(FLT_MIN) ~ -87.3365, where
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

#if defined(__AVX512F__)
// exp_approx on 16 lanes: the same operations in the same order, so every lane equals
// exp_approx of it bit for bit (tests/ops/fast_math_test.cc checks this).
inline __m512 exp_approx16(__m512 xin) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 lo = _mm512_set1_ps(-87.33654f);
    const __m512 hi = _mm512_set1_ps(88.0f);
    const __mmask16 below = _mm512_cmp_ps_mask(xin, lo, _CMP_LT_OQ);
    __m512 x = _mm512_mask_mov_ps(xin, below, lo);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
    const __m512 shifted = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         magic);
    const __m512 n = _mm512_sub_ps(shifted, magic);
    const __m512 r =
        _mm512_sub_ps(_mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693145751953125f))),
                      _mm512_mul_ps(n, _mm512_set1_ps(1.42860682030941723e-6f)));
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    const float coef[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
    for (const float c : coef) p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(c));
    const __m512i bits = _mm512_slli_epi32(
        _mm512_add_epi32(
            _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(magic)),
            _mm512_set1_epi32(127)),
        23);
    const __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
    return _mm512_mask_mov_ps(e, below, _mm512_setzero_ps());
}
#elif defined(__AVX2__) && defined(__FMA__)
// exp_approx on 8 lanes (AVX2), as exp_approx16: equal to exp_approx bit for bit.
inline __m256 exp_approx8(__m256 xin) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    const __m256 hi = _mm256_set1_ps(88.0f);
    const __m256 below = _mm256_cmp_ps(xin, lo, _CMP_LT_OQ);
    __m256 x = _mm256_blendv_ps(xin, lo, below);
    x = _mm256_blendv_ps(x, hi, _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    const __m256 shifted =
        _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    const __m256 r =
        _mm256_sub_ps(_mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693145751953125f))),
                      _mm256_mul_ps(n, _mm256_set1_ps(1.42860682030941723e-6f)));
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    const float coef[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
    for (const float c : coef) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic)),
                         _mm256_set1_epi32(127)),
        23);
    const __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(below, e);
}
#endif

}  // namespace benchtop::detail
