#include "benchtop/analysis/signal_propagation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/autograd/graph.h"
#include "benchtop/core/rng.h"
#include "benchtop/ops/ops.h"

namespace benchtop {
namespace {

double variance_of(const Tensor& t) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < t.numel(); ++i) mean += t.data<double>()[i];
    mean /= double(t.numel());
    for (int64_t i = 0; i < t.numel(); ++i) var += std::pow(t.data<double>()[i] - mean, 2);
    return var / double(t.numel());
}

// The hand-written forward and backward passes against the autograd engine on the same network
// (weights and inputs drawn from the streams the header documents).
TEST(SignalPropagation, MatchesTheAutogradEngine) {
    for (int64_t outputs : {1, 3, 6}) {
    SignalPropagationSpec s{.depth = 4, .width = 6, .inputs = 9, .outputs = outputs, .sigma2 = 0.5, .seed = 3};
    SignalPropagation r = measure_signal_propagation(s);
    ASSERT_EQ(r.forward_var.size(), 4u);
    ASSERT_EQ(r.backward_var.size(), 4u);

    Graph g;
    Tensor x = Tensor::empty({1, s.inputs, s.width}, DType::F64);
    Rng data(stream_key(s.seed, 0, Purpose::Data));
    for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = data.normal();
    Var h = g.input(x);
    std::vector<Var> pre;
    for (int64_t l = 0; l <= s.depth; ++l) {
        Tensor w = Tensor::empty({1, l == s.depth ? s.outputs : s.width, s.width}, DType::F64);
        Rng rng(stream_key(s.seed, uint64_t(l + 1), Purpose::Init));
        for (int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = std::sqrt(s.sigma2) * rng.normal();
        Var f = linear(h, g.variable(w));
        pre.push_back(f);
        h = l < s.depth ? relu(f) : f;
    }
    Var loss = mul_scalar(sum_all(mul(h, h)), 0.5);
    g.backward(loss);
    for (int64_t l = 0; l < s.depth; ++l) {
        EXPECT_NEAR(r.forward_var[size_t(l)], variance_of(pre[size_t(l)].value()), 1e-12 * r.forward_var[size_t(l)])
            << "layer " << l + 1;
        EXPECT_NEAR(r.backward_var[size_t(l)], variance_of(g.grad(pre[size_t(l)])),
                    1e-12 * r.backward_var[size_t(l)])
            << "layer " << l + 1;
    }
    }
}

// Weights scaled by sqrt(c) (sigma2 times c) scale every variance exactly, since ReLU is
// positively homogeneous and the biases are 0: forward layer l by c^l, backward layer l by
// c^(2L + 2 - l) (the output carries c^((L+1)/2), each layer back to l one more sqrt(c)).
TEST(SignalPropagation, VariancesScaleExactlyWithSigma2) {
    SignalPropagationSpec a{.depth = 12, .width = 30, .inputs = 50, .outputs = 4, .sigma2 = 0.05, .seed = 2};
    SignalPropagationSpec b = a;
    const double c = 1.5;
    b.sigma2 = a.sigma2 * c;
    SignalPropagation ra = measure_signal_propagation(a), rb = measure_signal_propagation(b);
    for (int64_t l = 1; l <= a.depth; ++l) {
        EXPECT_NEAR(rb.forward_var[size_t(l - 1)] / ra.forward_var[size_t(l - 1)], std::pow(c, double(l)),
                    1e-9 * std::pow(c, double(l)));
        const double e = std::pow(c, double(2 * a.depth + 2 - l));
        EXPECT_NEAR(rb.backward_var[size_t(l - 1)] / ra.backward_var[size_t(l - 1)], e, 1e-9 * e);
    }
}

// Each layer multiplies both variances by width * sigma2 / 2 in expectation: at He's sigma2 the
// fitted per-layer factor, averaged over seeds, is 1 within the finite-width fluctuation (one
// output). With a wide output the gradient follows the activations and grows even at He.
TEST(SignalPropagation, PerLayerFactorIsOneAtHe) {
    double fwd = 0, bwd = 0;
    const int seeds = 6;
    for (int seed = 0; seed < seeds; ++seed) {
        SignalPropagationSpec s{.depth = 20, .width = 200, .inputs = 200, .sigma2 = 2.0 / 200, .seed = uint64_t(seed)};
        SignalPropagation r = measure_signal_propagation(s);
        fwd += std::pow(10.0, log10_slope(r.forward_var)) / seeds;
        bwd += std::pow(10.0, -log10_slope(r.backward_var)) / seeds;
    }
    std::printf("mean per-layer factor at He: forward %.4f backward %.4f\n", fwd, bwd);
    EXPECT_NEAR(fwd, 1.0, 0.05);
    EXPECT_NEAR(bwd, 1.0, 0.05);
    SignalPropagationSpec wide{.depth = 20, .width = 200, .inputs = 200, .outputs = 200, .sigma2 = 2.0 / 200};
    const double wide_bwd = std::pow(10.0, -log10_slope(measure_signal_propagation(wide).backward_var));
    std::printf("with 200 outputs: backward %.4f\n", wide_bwd);
    EXPECT_GT(wide_bwd, 1.08);
}

TEST(SignalPropagation, Log10SlopeAndBadSpecs) {
    EXPECT_NEAR(log10_slope({1, 10, 100, 1000}), 1.0, 1e-12);
    EXPECT_NEAR(log10_slope({4, 0, 4, -1, 4}), 0.0, 1e-12);  // non-positive values skipped
    EXPECT_TRUE(std::isnan(log10_slope({3})));
    EXPECT_THROW(measure_signal_propagation({.depth = 0}), Error);
    EXPECT_THROW(measure_signal_propagation({.sigma2 = -1}), Error);
}

}  // namespace
}  // namespace benchtop
