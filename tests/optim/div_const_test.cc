// div_by_reciprocal (x / c by a correction step instead of the divider) against the division,
// bit for bit: every float mantissa for the divisors Adam uses, random divisors, the whole
// exponent range Adam can pass, and the special values; then Adam's float32 step against the
// same update written with the division.
#include "benchtop/optim/div_const.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "benchtop/optim/adam.h"

namespace benchtop {
namespace {

float from_bits(uint32_t u) {
    return std::bit_cast<float>(u);
}

uint32_t bits_of(float f) {
    return std::bit_cast<uint32_t>(f);
}

// Mismatches of div_by_reciprocal(x, c) over every x in [1, 2) (the result of any other
// power-of-two scaling of x is that one scaled, while nothing leaves the normal range).
int64_t mismatches_over_mantissas(float c, uint32_t stride = 1) {
    const float r = 1.0f / c;
    int64_t bad = 0;
    for (uint32_t m = 0; m < (1u << 23); m += stride) {
        const float x = from_bits((127u << 23) | m);
        bad += bits_of(div_by_reciprocal(x, c, r)) != bits_of(x / c);
    }
    return bad;
}

TEST(DivConst, EqualsDivisionForEveryMantissaWithAdamsDivisors) {
    // c = sqrt(1 - beta2^t) rounded to float, as Adam::step forms it.
    for (double beta2 : {0.999, 0.99, 0.95}) {
        for (int t : {1, 2, 3, 10, 100, 1000, 6000}) {
            const float c = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
            ASSERT_TRUE(div_by_reciprocal_ok(c));
            EXPECT_EQ(mismatches_over_mantissas(c, beta2 == 0.999 ? 1 : 7), 0)
                << "beta2 " << beta2 << " t " << t << " c " << c;
        }
    }
}

TEST(DivConst, EqualsDivisionForRandomDivisors) {
    std::mt19937 rng(7);
    for (int i = 0; i < 48; ++i) {
        const float c = from_bits((127u << 23) | (rng() & 0x7FFFFFu));
        EXPECT_EQ(mismatches_over_mantissas(c, 11), 0) << "c " << c;
    }
}

TEST(DivConst, EqualsDivisionOverTheExponentRange) {
    // x = sqrt(v) of a float v > 0 lies in [2^-75, 2^64]; c in [2^-30, 2^30].
    std::mt19937 rng(11);
    int64_t bad = 0;
    for (int ex = -75; ex <= 63; ++ex) {
        for (int ec = -30; ec <= 29; ++ec) {
            const float c = from_bits(uint32_t(127 + ec) << 23 | (rng() & 0x7FFFFFu));
            const float r = 1.0f / c;
            for (int s = 0; s < 8; ++s) {
                const float x = from_bits(uint32_t(127 + ex) << 23 | (rng() & 0x7FFFFFu));
                bad += bits_of(div_by_reciprocal(x, c, r)) != bits_of(x / c);
            }
        }
    }
    EXPECT_EQ(bad, 0);
    const float top = std::sqrt(std::numeric_limits<float>::max());
    const float bottom = std::sqrt(std::numeric_limits<float>::denorm_min());
    for (float c : {0x1p-30f, 0.0316f, 1.0f, 0x1p30f})
        for (float x : {top, bottom})
            EXPECT_EQ(bits_of(div_by_reciprocal(x, c, 1.0f / c)), bits_of(x / c)) << x << " " << c;
}

TEST(DivConst, SpecialValues) {
    const float c = 0.0316f, r = 1.0f / c;
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(bits_of(div_by_reciprocal(0.0f, c, r)), bits_of(0.0f));
    EXPECT_EQ(div_by_reciprocal(inf, c, r), inf);
    EXPECT_TRUE(std::isnan(div_by_reciprocal(std::nanf(""), c, r)));
    EXPECT_FALSE(div_by_reciprocal_ok(0.0f));
    EXPECT_FALSE(div_by_reciprocal_ok(0x1p-31f));
    EXPECT_FALSE(div_by_reciprocal_ok(inf));
    EXPECT_FALSE(div_by_reciprocal_ok(std::nanf("")));
}

// Adam's float32 step equals the same update written with the division, bit for bit, on
// gradients from tiny to huge (v = g^2 overflowing to inf included) and zeros.
TEST(DivConst, AdamFloat32StepEqualsTheUpdateWithDivision) {
    const int64_t n = 4096;
    ParamSet ps(2, DType::F32);
    ps.add("w", {n});
    Tensor& w = ps.entries()[0].value;
    Tensor& g = ps.entries()[0].grad;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> p(size_t(2 * n)), m(size_t(2 * n), 0.0f), v(size_t(2 * n), 0.0f);
    for (int64_t i = 0; i < 2 * n; ++i) w.set(i, p[size_t(i)] = u(rng));
    const double lr[2] = {1e-2, 3e-3}, beta2[2] = {0.999, 0.95};
    Adam opt(ps, AdamOptions{.lr = {lr[0], lr[1]}, .beta2 = {beta2[0], beta2[1]}});
    for (int t = 1; t <= 25; ++t) {
        for (int64_t i = 0; i < 2 * n; ++i) {
            const int kind = int(i % 8);
            float gi = u(rng) * std::pow(10.0f, float(int(i % 13) - 6) * 3.0f);
            if (kind == 0) gi = 0;
            if (kind == 1 && t % 5 == 0) gi = 3e38f;  // g * g overflows
            g.set(i, gi);
        }
        opt.step();
        for (int64_t k = 0; k < 2; ++k) {
            const double bc1 = 1.0 - std::pow(0.9, t), bc2 = 1.0 - std::pow(beta2[k], t);
            const float nss = float(-(lr[k] / bc1)), c = float(std::sqrt(bc2));
            const float b2 = float(beta2[k]), omb2 = float(1.0 - beta2[k]);
            for (int64_t j = 0; j < n; ++j) {
                const size_t i = size_t(k * n + j);
                const float gi = g.data<float>()[i];
                m[i] = std::fma(float(1.0 - 0.9), gi, m[i] * 0.9f);
                v[i] = v[i] * b2 + omb2 * gi * gi;
                const float denom = std::sqrt(v[i]) / c + 1e-8f;
                p[i] = p[i] + nss * m[i] / denom;
            }
        }
        for (int64_t i = 0; i < 2 * n; ++i) {
            const float got = w.data<float>()[size_t(i)], want = p[size_t(i)];
            ASSERT_TRUE(bits_of(got) == bits_of(want) || (std::isnan(got) && std::isnan(want)))
                << "step " << t << " element " << i << ": " << got << " vs " << want;
        }
    }
}

}  // namespace
}  // namespace benchtop
