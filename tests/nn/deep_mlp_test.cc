// Tests of the plain deep ReLU MLP: forward pass against loops written out by hand, the
// parameter names and shapes that init_torch_default relies on, gradients against central
// finite differences in float64, and the parameter count.
#include "benchtop/nn/deep_mlp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

void randomize(ParamSet& ps, uint64_t seed) {
    for (auto& e : ps.entries())
        e.value.copy_from(testing::random_tensor(e.value.shape(), seed++, -0.6, 0.6));
}

// y = W x + b with W [out, in] taken from member k of a stacked parameter.
std::vector<double> affine(const ParamSet& ps,
                           const std::string& layer,
                           int64_t k,
                           const std::vector<double>& x) {
    Tensor w = ps.value(layer + ".weight").member(k);
    Tensor b = ps.value(layer + ".bias").member(k);
    const int64_t out = w.size(0), in = w.size(1);
    std::vector<double> y(static_cast<size_t>(out));
    for (int64_t i = 0; i < out; ++i) {
        double s = b.at(i);
        for (int64_t j = 0; j < in; ++j) s += w.at(i * in + j) * x[static_cast<size_t>(j)];
        y[static_cast<size_t>(i)] = s;
    }
    return y;
}

std::vector<double> relu(std::vector<double> v) {
    for (double& x : v) x = std::max(x, 0.0);
    return v;
}

TEST(DeepMlp, ParamNamesAndShapes) {
    DeepMlpSpec spec{.in = 7, .hidden = {5, 4, 3}, .out = 2};
    ParamSet ps(3);
    add_deep_mlp_params(ps, spec);
    ASSERT_EQ(ps.entries().size(), 8u);
    EXPECT_EQ(ps.value("layers.0.weight").shape(), Shape({3, 5, 7}));
    EXPECT_EQ(ps.value("layers.0.bias").shape(), Shape({3, 5}));
    EXPECT_EQ(ps.value("layers.1.weight").shape(), Shape({3, 4, 5}));
    EXPECT_EQ(ps.value("layers.2.weight").shape(), Shape({3, 3, 4}));
    EXPECT_EQ(ps.value("layers.3.weight").shape(), Shape({3, 2, 3}));
    EXPECT_EQ(ps.value("layers.3.bias").shape(), Shape({3, 2}));
    EXPECT_EQ(ps.numel_per_member(), deep_mlp_param_count(spec));
}

TEST(DeepMlp, ParamCount) {
    EXPECT_EQ(deep_mlp_param_count({.in = 40, .hidden = {100, 100}, .out = 10}),
              40 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10);
    EXPECT_EQ(deep_mlp_param_count({.in = 3, .hidden = {}, .out = 2}), 3 * 2 + 2);
    EXPECT_EQ(deep_mlp_param_count({.in = 1, .hidden = {2, 2, 2, 2}, .out = 1}), 4 + 3 * 6 + 3);
    EXPECT_THROW(deep_mlp_param_count({.in = 3, .hidden = {4, 0}, .out = 2}), Error);
}

TEST(DeepMlp, TorchDefaultInitUsesEachLayersFanIn) {
    DeepMlpSpec spec{.in = 40, .hidden = {100, 25}, .out = 10};
    ParamSet ps(2);
    add_deep_mlp_params(ps, spec);
    std::vector<uint64_t> seeds{1, 2};
    init_torch_default(ps, seeds);
    const std::vector<std::pair<std::string, int64_t>> fan_in{
        {"layers.0", 40}, {"layers.1", 100}, {"layers.2", 25}};
    for (const auto& [layer, fan] : fan_in) {
        for (const char* suffix : {".weight", ".bias"}) {
            const Tensor& t = ps.value(layer + suffix);
            double max_abs = 0;
            for (int64_t i = 0; i < t.numel(); ++i) max_abs = std::max(max_abs, std::abs(t.at(i)));
            const double bound = 1.0 / std::sqrt(static_cast<double>(fan));
            EXPECT_LE(max_abs, bound + 1e-7) << layer << suffix;
            EXPECT_GT(max_abs, 0.5 * bound) << layer << suffix;
        }
    }
}

TEST(DeepMlp, ForwardMatchesHandComputation) {
    DeepMlpSpec spec{.in = 3, .hidden = {4, 5, 3}, .out = 2};
    const int64_t K = 2, B = 3;
    ParamSet ps(K, DType::F64);
    add_deep_mlp_params(ps, spec);
    randomize(ps, 5);
    Tensor x = testing::random_tensor({1, B, spec.in}, 17, -2.0, 2.0);
    Graph g;
    Tensor y = deep_mlp_forward(ps, spec, g.input(x)).value();
    ASSERT_EQ(y.shape(), Shape({K, B, spec.out}));
    int64_t n_negative = 0;  // the ReLUs must actually cut something
    for (int64_t k = 0; k < K; ++k) {
        for (int64_t b = 0; b < B; ++b) {
            std::vector<double> h(static_cast<size_t>(spec.in));
            for (int64_t j = 0; j < spec.in; ++j) h[static_cast<size_t>(j)] = x.at(b * spec.in + j);
            for (const char* layer : {"layers.0", "layers.1", "layers.2"}) {
                std::vector<double> z = affine(ps, layer, k, h);
                for (double v : z) n_negative += v < 0;
                h = relu(z);
            }
            std::vector<double> logits = affine(ps, "layers.3", k, h);
            for (int64_t o = 0; o < spec.out; ++o)
                EXPECT_NEAR(y.at((k * B + b) * spec.out + o), logits[static_cast<size_t>(o)], 1e-12)
                    << "member " << k << " row " << b << " logit " << o;
        }
    }
    EXPECT_GT(n_negative, 0);
}

TEST(DeepMlp, NoHiddenLayerIsLinear) {
    DeepMlpSpec spec{.in = 2, .hidden = {}, .out = 1};
    ParamSet ps(1, DType::F64);
    add_deep_mlp_params(ps, spec);
    ps.value("layers.0.weight").copy_from(Tensor::from<double>({1, 1, 2}, {2.0, -3.0}));
    ps.value("layers.0.bias").copy_from(Tensor::from<double>({1, 1}, {0.5}));
    Tensor x = Tensor::from<double>({1, 2, 2}, {1.0, 1.0, -1.0, 2.0});
    Graph g;
    Tensor y = deep_mlp_forward(ps, spec, g.input(x)).value();
    EXPECT_DOUBLE_EQ(y.at(0), 2.0 - 3.0 + 0.5);
    EXPECT_DOUBLE_EQ(y.at(1), -2.0 - 6.0 + 0.5);  // no ReLU on the output
}

TEST(DeepMlp, GradientsMatchFiniteDifferences) {
    DeepMlpSpec spec{.in = 4, .hidden = {5, 4}, .out = 3};
    ParamSet ps(2, DType::F64);
    add_deep_mlp_params(ps, spec);
    randomize(ps, 41);
    Tensor x = testing::random_tensor({1, 4, spec.in}, 3);
    Tensor y = Tensor::empty({4}, DType::I32);
    for (int32_t i = 0; i < 4; ++i) y.data<int32_t>()[i] = i % 3;
    ps.zero_grad();
    Graph g;
    Var out = cross_entropy(deep_mlp_forward(ps, spec, g.input(x)), y);
    Tensor w = testing::random_tensor(out.shape(), 99);
    g.backward(out, w);
    auto weighted = [&](ParamSet& p) {
        Graph g2;
        Tensor v = cross_entropy(deep_mlp_forward(p, spec, g2.input(x)), y).value();
        double s = 0;
        for (int64_t i = 0; i < v.numel(); ++i) s += v.at(i) * w.at(i);
        return s;
    };
    const double eps = 1e-6;
    for (auto& e : ps.entries()) {
        for (int64_t i = 0; i < e.value.numel(); ++i) {
            const double x0 = e.value.at(i);
            e.value.set(i, x0 + eps);
            const double lp = weighted(ps);
            e.value.set(i, x0 - eps);
            const double lm = weighted(ps);
            e.value.set(i, x0);
            const double numeric = (lp - lm) / (2 * eps);
            EXPECT_NEAR(e.grad.at(i), numeric, 1e-6 + 1e-5 * std::abs(numeric))
                << e.name << "[" << i << "]";
        }
    }
}

}  // namespace
}  // namespace benchtop
