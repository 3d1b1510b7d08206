// VAEs for stacks and the analysis-by-synthesis classifier: the negative ELBO's parameter
// gradients against finite differences; class-wise training lowers it; ABS separates separated
// classes; a larger search budget never lowers a bound; the attack gradient (envelope theorem) of
// the ABS target matches finite differences of its logits.
#include "benchtop/generative/vae.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/core/rng.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

// Three classes in D dimensions: class c is a curve (a 1-D manifold) around its own centre.
void curves(int64_t n_per, int64_t D, uint64_t seed, Tensor& x, Tensor& y) {
    x = Tensor::empty({3 * n_per, D}, DType::F32);
    y = Tensor::empty({3 * n_per}, DType::I32);
    Rng rng(seed);
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < n_per; ++i) {
            const int64_t r = c * n_per + i;
            const double t = rng.uniform(-1, 1);
            y.data<int32_t>()[r] = int32_t(c);
            for (int64_t d = 0; d < D; ++d)
                x.data<float>()[r * D + d] =
                    float(std::sin(double(d + 1) * (t + double(c))) + (d == c ? 2.0 : 0.0) + 0.05 * rng.normal());
        }
}

TEST(Vae, NegativeElboGradientsMatchFiniteDifferences) {
    const VaeSpec spec{.in = 5, .hidden = 6, .latent = 2};
    ParamSet ps(2, DType::F64);
    add_vae_params(ps, spec);
    ps.add("log_var", {1});
    Rng rng(4);
    for (auto& e : ps.entries())
        for (int64_t i = 0; i < e.value.numel(); ++i) e.value.set(i, 0.4 * rng.normal());
    const Tensor x = testing::random_tensor({2, 3, 5}, 1);
    Tensor eps = testing::random_tensor({2, 3, 2}, 2);
    testing::check_param_gradients(
        [&](Graph& g, ParamSet& p) {
            Tensor xf = x;
            return vae_negative_elbo(p, spec, g.input(xf), eps);
        },
        ps);
}

TEST(Vae, ClassWiseTrainingAndAbsClassification) {
    Tensor x, y, xt, yt;
    curves(200, 10, 1, x, y);
    curves(50, 10, 2, xt, yt);
    const VaeSpec spec{.in = 10, .hidden = 32, .latent = 2};
    ParamSet ps(3);
    add_vae_params(ps, spec);
    init_vae(ps, std::vector<uint64_t>{1, 2, 3});
    std::vector<double> first;
    VaeTrainOptions o{.steps = 600, .batch = 32, .lr = 3e-3, .seeds = {1, 2, 3}};
    o.on_step = [&](int64_t) {};
    {
        VaeTrainOptions probe = o;
        probe.steps = 1;
        ParamSet copy(3);
        add_vae_params(copy, spec);
        init_vae(copy, std::vector<uint64_t>{1, 2, 3});
        first = train_class_vaes(copy, spec, x, y, probe);
    }
    const std::vector<double> last = train_class_vaes(ps, spec, x, y, o);
    for (int k = 0; k < 3; ++k) EXPECT_LT(last[size_t(k)], first[size_t(k)] - 5) << k;
    const AbsResult coarse = abs_infer(ps, spec, xt, {.samples = 20, .steps = 0});
    const AbsResult fine = abs_infer(ps, spec, xt, {.samples = 20, .steps = 30});
    int64_t ok = 0;
    for (int64_t m = 0; m < 150; ++m) {
        int64_t best = 0;
        for (int64_t c = 0; c < 3; ++c) {
            EXPECT_GE(fine.bound[size_t(m * 3 + c)], coarse.bound[size_t(m * 3 + c)]);  // search only improves
            if (fine.bound[size_t(m * 3 + c)] > fine.bound[size_t(m * 3 + best)]) best = c;
        }
        ok += best == yt.data<int32_t>()[m] ? 1 : 0;
    }
    EXPECT_GT(double(ok) / 150.0, 0.95);

    // The target's input gradients: with steps = 0 each bound is a maximum over fixed draws, so
    // its gradient is the chosen draw's, exactly, away from ties.
    AbsTarget target(ps, spec, {.samples = 20, .steps = 0});
    const Tensor probe = Tensor::from<float>({1, 1, 10}, std::vector<float>(xt.data<float>(), xt.data<float>() + 10));
    Tensor logits;
    const Tensor lg = target.logit_gradients(probe, &logits);
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t d : {0, 3, 9}) {
            Tensor xp = probe.clone(), xm = probe.clone();
            xp.set(d, probe.at(d) + 1e-3);
            xm.set(d, probe.at(d) - 1e-3);
            const double fd = (target.logits(xp).at(c) - target.logits(xm).at(c)) / 2e-3;
            EXPECT_NEAR(lg.at(c * 10 + d), fd, 1e-2 * (1 + std::abs(fd))) << c << " " << d;
        }
}

}  // namespace
}  // namespace benchtop
