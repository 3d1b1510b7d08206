// Tests of the parameter initialisers: bounds and moments, member independence from K and
// position, the per-member scale, float32/float64 agreement.
#include "benchtop/nn/init.h"

#include <gtest/gtest.h>

#include <cmath>

namespace benchtop {
namespace {

struct Moments {
    double mean = 0, std = 0, max_abs = 0;
};

Moments moments(const Tensor& t) {
    Moments m;
    const double n = static_cast<double>(t.numel());
    for (int64_t i = 0; i < t.numel(); ++i) {
        m.mean += t.at(i) / n;
        m.max_abs = std::max(m.max_abs, std::abs(t.at(i)));
    }
    for (int64_t i = 0; i < t.numel(); ++i) m.std += (t.at(i) - m.mean) * (t.at(i) - m.mean) / n;
    m.std = std::sqrt(m.std);
    return m;
}

TEST(Init, FansFollowPyTorch) {
    Fans f = compute_fans(Shape({16, 4, 3}));
    EXPECT_EQ(f.fan_in, 12);
    EXPECT_EQ(f.fan_out, 48);
    EXPECT_THROW(compute_fans(Shape({5})), Error);
}

TEST(Init, DefaultUniformBoundsAndBias) {
    ParamSet ps(2);
    ps.add("w", {200, 100});
    ps.add("b", {200});
    std::vector<uint64_t> seeds{1, 2};
    init_default(ps, "w", seeds);
    init_default(ps, "b", seeds, {}, 100);
    for (const char* n : {"w", "b"}) {
        Moments m = moments(ps.value(n));
        EXPECT_LE(m.max_abs, 0.1 + 1e-7) << n;
        EXPECT_GT(m.max_abs, 0.09) << n;
    }
    Moments m = moments(ps.value("w"));
    EXPECT_NEAR(m.std, 0.1 / std::sqrt(3.0), 0.002);
    EXPECT_NEAR(m.mean, 0.0, 0.002);
}

TEST(Init, KaimingAndXavierMoments) {
    ParamSet ps(1, DType::F64);
    ps.add("w", {300, 200});
    std::vector<uint64_t> seeds{7};
    init_kaiming_normal(ps, "w", seeds);
    EXPECT_NEAR(moments(ps.value("w")).std, std::sqrt(2.0 / 200), 0.002);
    init_kaiming_normal(ps, "w", seeds, {}, 1.0, FanMode::FanOut);
    EXPECT_NEAR(moments(ps.value("w")).std, std::sqrt(1.0 / 300), 0.002);
    init_kaiming_uniform(ps, "w", seeds);
    Moments m = moments(ps.value("w"));
    double bound = std::sqrt(2.0) * std::sqrt(3.0 / 200);
    EXPECT_LE(m.max_abs, bound);
    EXPECT_GT(m.max_abs, 0.99 * bound);
    EXPECT_NEAR(m.std, bound / std::sqrt(3.0), 0.002);
    init_xavier_normal(ps, "w", seeds);
    EXPECT_NEAR(moments(ps.value("w")).std, std::sqrt(2.0 / 500), 0.002);
    init_xavier_uniform(ps, "w", seeds);
    m = moments(ps.value("w"));
    bound = std::sqrt(6.0 / 500);
    EXPECT_LE(m.max_abs, bound);
    EXPECT_GT(m.max_abs, 0.99 * bound);
    init_zeros(ps, "w");
    EXPECT_EQ(moments(ps.value("w")).max_abs, 0.0);
}

TEST(Init, MemberDependsOnlyOnSeedAndName) {
    ParamSet big(3), one(1);
    big.add("layer.weight", {8, 5});
    one.add("layer.weight", {8, 5});
    std::vector<uint64_t> seeds{11, 22, 33}, single{22};
    init_xavier_normal(big, "layer.weight", seeds);
    init_xavier_normal(one, "layer.weight", single);
    Tensor a = big.value("layer.weight").member(1), b = one.value("layer.weight").member(0);
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.at(i), b.at(i));
    // Different members and different names differ.
    Tensor c = big.value("layer.weight").member(0);
    EXPECT_NE(a.at(0), c.at(0));
    ParamSet other(1);
    other.add("layer2.weight", {8, 5});
    init_xavier_normal(other, "layer2.weight", single);
    EXPECT_NE(other.value("layer2.weight").at(0), b.at(0));
}

TEST(Init, ScaleMultiplierAndDtypes) {
    ParamSet f32(2, DType::F32), f64(2, DType::F64);
    f32.add("w", {6, 4});
    f64.add("w", {6, 4});
    std::vector<uint64_t> seeds{5, 5};
    std::vector<double> scale{1.0, 0.5};
    init_kaiming_uniform(f32, "w", seeds, scale);
    init_kaiming_uniform(f64, "w", seeds, scale);
    Tensor a = f64.value("w").member(0), b = f64.value("w").member(1);
    for (int64_t i = 0; i < a.numel(); ++i) {
        EXPECT_DOUBLE_EQ(b.at(i), 0.5 * a.at(i));
        EXPECT_EQ(f32.value("w").at(i), static_cast<float>(f64.value("w").at(i)));
    }
}

TEST(Init, RejectsWrongSeedCount) {
    ParamSet ps(3);
    ps.add("w", {2, 2});
    std::vector<uint64_t> seeds{1, 2};
    EXPECT_THROW(init_default(ps, "w", seeds), Error);
    std::vector<uint64_t> ok{1, 2, 3};
    std::vector<double> scale{1.0};
    EXPECT_THROW(init_default(ps, "w", ok, scale), Error);
}

}  // namespace
}  // namespace benchtop
