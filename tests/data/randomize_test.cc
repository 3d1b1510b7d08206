#include "benchtop/data/randomize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace benchtop {
namespace {

TEST(Randomize, GaussianInputsMatchTheMeanAndVarianceAndDependOnlyOnTheSeed) {
    Tensor x = Tensor::empty({500, 40}, DType::F32);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(3.0 + 2.0 * std::sin(0.37 * double(i)));
    double m0 = 0, v0 = 0;
    for (int64_t i = 0; i < x.numel(); ++i) m0 += x.data<float>()[i];
    m0 /= double(x.numel());
    for (int64_t i = 0; i < x.numel(); ++i) v0 += std::pow(x.data<float>()[i] - m0, 2);
    v0 /= double(x.numel());

    Tensor a = gaussian_inputs_like(x, 7), b = gaussian_inputs_like(x, 7), c = gaussian_inputs_like(x, 8);
    ASSERT_EQ(a.shape(), x.shape());
    double m = 0, v = 0;
    for (int64_t i = 0; i < a.numel(); ++i) m += a.data<float>()[i];
    m /= double(a.numel());
    for (int64_t i = 0; i < a.numel(); ++i) v += std::pow(a.data<float>()[i] - m, 2);
    v /= double(a.numel());
    // 20,000 draws: the sample mean is within 4 standard errors, the variance within 5%.
    EXPECT_NEAR(m, m0, 4 * std::sqrt(v0 / 20000.0));
    EXPECT_NEAR(v / v0, 1.0, 0.05);
    EXPECT_TRUE(std::equal(a.data<float>(), a.data<float>() + a.numel(), b.data<float>()));
    EXPECT_FALSE(std::equal(a.data<float>(), a.data<float>() + a.numel(), c.data<float>()));
    // No trace of the inputs: the correlation with x is near zero.
    double cov = 0;
    for (int64_t i = 0; i < a.numel(); ++i) cov += (a.data<float>()[i] - m) * (x.data<float>()[i] - m0);
    EXPECT_LT(std::abs(cov / double(a.numel()) / std::sqrt(v * v0)), 0.05);
}

TEST(Randomize, PermutedLabelsKeepTheClassCountsAndMoveMostLabels) {
    Tensor y = Tensor::empty({1000}, DType::I32);
    for (int64_t i = 0; i < 1000; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
    Tensor p = permute_labels(y, 3), q = permute_labels(y, 3);
    std::vector<int> counts(10, 0);
    int same = 0;
    for (int64_t i = 0; i < 1000; ++i) {
        ++counts[size_t(p.data<int32_t>()[i])];
        same += p.data<int32_t>()[i] == y.data<int32_t>()[i];
        EXPECT_EQ(p.data<int32_t>()[i], q.data<int32_t>()[i]);
    }
    for (int c : counts) EXPECT_EQ(c, 100);
    // About a tenth of the labels stay by chance (binomial(1000, 0.1): 100 +- 9.5).
    EXPECT_GT(same, 60);
    EXPECT_LT(same, 140);
    EXPECT_THROW(permute_labels(Tensor::empty({2, 3}, DType::I32), 1), Error);
}

}  // namespace
}  // namespace benchtop
