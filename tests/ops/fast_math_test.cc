// Tests of the branch-free float32 helpers in ops/fast_math.h: detail::exp_approx against
// double-precision std::exp over a dense sweep of every float range it handles differently
// (accurate range, underflow range, clamp above 88) and the special values.
#include "benchtop/ops/fast_math.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "support/isa.h"

namespace benchtop {
namespace {

using detail::exp_approx;

uint32_t bits_of(float x) {
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
}

float float_of(uint32_t u) {
    float x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

// Largest relative error of exp_approx against std::exp in double over floats in [lo, hi),
// visiting every `stride`-th float by bit pattern (dense near 0), every float at the
// spacing `step` (dense at large magnitudes) and hi's predecessor.
double worst_rel_error(float lo, float hi, uint32_t stride, double step, float* where) {
    double worst = 0;
    auto visit = [&](float x) {
        const double ref = std::exp(static_cast<double>(x));
        const double err = std::fabs(static_cast<double>(exp_approx(x)) - ref) / ref;
        if (err > worst) {
            worst = err;
            *where = x;
        }
    };
    // Floats are ordered by bit pattern within each sign: walk the negative part from lo
    // towards min(hi, -0) and the positive part from max(lo, +0) towards hi.
    if (lo < 0) {
        const uint32_t b0 = bits_of(lo), b1 = bits_of(hi < 0 ? hi : -0.0f);
        for (int64_t b = b0; b > b1; b -= stride) visit(float_of(static_cast<uint32_t>(b)));
    }
    if (hi > 0) {
        const uint32_t b0 = bits_of(lo > 0 ? lo : 0.0f), b1 = bits_of(hi);
        for (int64_t b = b0; b < b1; b += stride) visit(float_of(static_cast<uint32_t>(b)));
    }
    visit(std::nextafter(hi, lo));
    for (double x = lo; x < hi; x += step) visit(static_cast<float>(x));
    return worst;
}

TEST(FastMath, ExpMatchesStdExpOverTheNormalRange) {
    // An exhaustive run over all floats in [ln(FLT_MIN), 88) gave 0.8621 * 2^-23 at
    // 59.2652245 (written without fused multiply-adds, so that every instruction set gives the
    // same bits; with them it was 0.6622); the sweeps visit that float and ~3 million others.
    const float ln_min = -87.33654f;
    ASSERT_GE(std::exp(static_cast<double>(ln_min)), FLT_MIN);
    float where = 0;
    double worst = worst_rel_error(ln_min, 88.0f, 4093, 1e-4, &where);
    EXPECT_LE(worst, 0.87 * FLT_EPSILON) << "at " << where;
    worst = worst_rel_error(59.26f, 59.27f, 1, 1.0, &where);  // every float around the worst case
    EXPECT_LE(worst, 0.87 * FLT_EPSILON) << "at " << where;
    EXPECT_GT(worst, 0.86 * FLT_EPSILON) << "the sweep missed the known worst case";
    worst = worst_rel_error(ln_min, -87.0f, 1, 1.0, &where);  // every float next to the flush to 0
    EXPECT_LE(worst, 0.87 * FLT_EPSILON) << "at " << where;
    EXPECT_EQ(exp_approx(0.0f), 1.0f);
    EXPECT_EQ(exp_approx(-0.0f), 1.0f);
}

TEST(FastMath, ExpGivesZeroWhereStdExpIsSubnormal) {
    // Below ln(FLT_MIN) std::exp's float result is subnormal or 0; exp_approx gives 0,
    // an absolute error below FLT_MIN.
    const float ln_min = -87.33654f;
    for (float x = std::nextafter(ln_min, -1000.0f); x > -200.0f; x = std::nextafter(x, -1000.0f)) {
        ASSERT_EQ(exp_approx(x), 0.0f) << "at " << x;
        ASSERT_LT(std::exp(static_cast<double>(x)), FLT_MIN) << "at " << x;
    }
    const float inf = std::numeric_limits<float>::infinity();
    for (float x : {-200.0f, -1000.0f, -1e30f, -FLT_MAX, -inf}) EXPECT_EQ(exp_approx(x), 0.0f) << x;
    EXPECT_GE(exp_approx(ln_min), FLT_MIN);
}

TEST(FastMath, ExpPropagatesNanAndClampsAbove88) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(exp_approx(nan)));
    EXPECT_TRUE(std::isnan(exp_approx(-nan)));
    // Documented: arguments above 88 give exp(88) (no overflow to inf).
    const float e88 = exp_approx(88.0f);
    EXPECT_NEAR(e88, std::exp(88.0), 1e-6 * std::exp(88.0));
    EXPECT_EQ(exp_approx(100.0f), e88);
    EXPECT_EQ(exp_approx(std::numeric_limits<float>::infinity()), e88);
}

// The active kernel path's vector exp (16 lanes with AVX-512, 2 x 8 with AVX2) on 16 floats.
constexpr int kLanes = 16;
void vector_exp(const float* in, float* out) {
    kernels::active().exp16(in, out);
}

class FastMathPerIsa : public PerIsa {};

TEST_P(FastMathPerIsa, VectorExpEqualsScalarExpBitForBit) {
    // Every 251st float by bit pattern (both signs, NaNs and infinities included), a vector at
    // a time through the vector exp, against exp_approx one by one.
    float in[kLanes], out[kLanes];
    int64_t checked = 0, mismatches = 0;
    uint32_t first_bad = 0;
    for (uint64_t b0 = 0; b0 < (uint64_t(1) << 32); b0 += kLanes * 251) {
        for (int l = 0; l < kLanes; ++l)
            in[l] = float_of(static_cast<uint32_t>(b0 + uint64_t(l) * 251));
        vector_exp(in, out);
        for (int l = 0; l < kLanes; ++l) {
            ++checked;
            if (bits_of(out[l]) != bits_of(exp_approx(in[l])) &&
                !(std::isnan(out[l]) && std::isnan(exp_approx(in[l])))) {
                if (mismatches++ == 0) first_bad = bits_of(in[l]);
            }
        }
    }
    EXPECT_GT(checked, 17000000);
    EXPECT_EQ(mismatches, 0) << "first at " << float_of(first_bad);
    const float special[] = {0.0f, -0.0f, -87.33654f, 88.0f, -INFINITY, INFINITY, NAN, -1e-30f};
    for (const float x : special) {
        for (float& v : in) v = x;
        vector_exp(in, out);
        if (std::isnan(x))
            EXPECT_TRUE(std::isnan(out[0]));
        else
            EXPECT_EQ(bits_of(out[0]), bits_of(exp_approx(x))) << "at " << x;
    }
}
BENCHTOP_PER_ISA(FastMathPerIsa);

}  // namespace
}  // namespace benchtop
