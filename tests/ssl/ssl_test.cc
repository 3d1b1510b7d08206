// Self-supervised learning pieces against known answers: the augmentations (each alone, exact),
// the linear probe on separable and on label-free data, singular values and effective rank of
// constructed matrices, the normalised standard deviation of collapsed and spread vectors, and the
// training loop's determinism, member independence and collapse switch.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "benchtop/ssl/augment.h"
#include "benchtop/ssl/contrastive.h"
#include "benchtop/ssl/probe.h"

namespace benchtop::ssl {
namespace {

Tensor ramp(int64_t n, int64_t L) {
    Tensor x = Tensor::empty({n, L}, DType::F32);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t t = 0; t < L; ++t) x.data<float>()[i * L + t] = float(i * 100 + t);
    return x;
}

TEST(SslAugment, EachAugmentationAlone) {
    const int64_t L = 10;
    const Tensor x = ramp(3, L);
    const std::vector<int64_t> rows = {2, 0};
    Rng rng(1);
    // Shift only: a rotation of the row.
    const Tensor s = augment_batch(x, rows, {.max_shift = 3, .offset = 0, .trend = 0, .noise = 0}, rng);
    for (int64_t b = 0; b < 2; ++b) {
        const float* v = s.data<float>() + b * L;
        const int64_t shift = ((int64_t(v[0]) % 100) == 0) ? 0 : L - int64_t(v[0]) % 100;
        EXPECT_LE(std::min(shift, L - shift), 3);
        for (int64_t t = 0; t < L; ++t) EXPECT_EQ(v[t], float(rows[size_t(b)] * 100 + ((t - shift) % L + L) % L));
    }
    // Offset only: a constant within the range.
    const Tensor o = augment_batch(x, rows, {.max_shift = 0, .offset = 0.5, .trend = 0, .noise = 0}, rng);
    for (int64_t b = 0; b < 2; ++b) {
        const float c = o.data<float>()[b * L] - float(rows[size_t(b)] * 100);
        EXPECT_LE(std::abs(c), 0.5f);
        for (int64_t t = 0; t < L; ++t) EXPECT_NEAR(o.data<float>()[b * L + t] - float(rows[size_t(b)] * 100 + t), c, 1e-4);
    }
    // Trend only: linear in t, zero mean over the signal.
    const Tensor tr = augment_batch(x, rows, {.max_shift = 0, .offset = 0, .trend = 2.0, .noise = 0}, rng);
    double mean = 0;
    for (int64_t t = 0; t < L; ++t) mean += tr.data<float>()[t] - float(200 + t);
    EXPECT_NEAR(mean, 0, 1e-3);
    // Noise only: about the right standard deviation.
    const Tensor big = ramp(200, 40);
    std::vector<int64_t> all(200);
    for (int64_t i = 0; i < 200; ++i) all[size_t(i)] = i;
    const Tensor n = augment_batch(big, all, {.max_shift = 0, .offset = 0, .trend = 0, .noise = 0.3}, rng);
    double ss = 0;
    for (int64_t i = 0; i < n.numel(); ++i) ss += std::pow(n.data<float>()[i] - big.data<float>()[i], 2);
    EXPECT_NEAR(std::sqrt(ss / double(n.numel())), 0.3, 0.01);
    EXPECT_THROW(augment_batch(x, std::vector<int64_t>{3}, {}, rng), Error);
}

TEST(SslProbe, SeparableClassesAndNoSignal) {
    // Three Gaussian blobs far apart in 5 of 20 dimensions: the probe is (nearly) perfect. With
    // labels independent of the features it is at chance on the test set.
    Rng rng(7);
    auto blobs = [&](int64_t n, bool signal, std::vector<int32_t>& y) {
        Features f{n, 20, std::vector<float>(size_t(n * 20))};
        for (int64_t i = 0; i < n; ++i) {
            y.push_back(int32_t(rng.below(3)));
            for (int64_t j = 0; j < 20; ++j)
                f.f[size_t(i * 20 + j)] = float(rng.normal() + (signal && j < 5 && (j % 3) == y.back() ? 4.0 : 0.0));
        }
        return f;
    };
    std::vector<int32_t> ytr, yte, ntr, nte;
    const Features tr = blobs(600, true, ytr), te = blobs(300, true, yte);
    const ProbeResult r = linear_probe(tr, ytr, te, yte, 3);
    EXPECT_GT(r.test_acc, 0.97);
    const Features ftr = blobs(600, false, ntr), fte = blobs(3000, false, nte);
    EXPECT_NEAR(linear_probe(ftr, ntr, fte, nte, 3).test_acc, 1.0 / 3, 0.05);
    EXPECT_THROW(linear_probe(tr, std::vector<int32_t>(600, 3), te, yte, 3), Error);
}

TEST(SslProbe, ProbeOfMnist1dSizedFeaturesIsQuick) {
    Rng rng(3);
    Features tr{4000, 160, std::vector<float>(4000 * 160)}, te{1000, 160, std::vector<float>(1000 * 160)};
    std::vector<int32_t> ytr, yte;
    for (float& v : tr.f) v = float(rng.normal());
    for (float& v : te.f) v = float(rng.normal());
    for (int i = 0; i < 4000; ++i) ytr.push_back(int32_t(rng.below(10)));
    for (int i = 0; i < 1000; ++i) yte.push_back(int32_t(rng.below(10)));
    const auto t0 = std::chrono::steady_clock::now();
    linear_probe(tr, ytr, te, yte, 10);
    std::printf("probe 4000 x 160: %.3f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

TEST(SslDiagnostics, RankAndSpread) {
    // Rank one: every row a multiple of one vector.
    Features one{50, 8, {}};
    Features iso{400, 8, {}};
    Rng rng(5);
    for (int64_t i = 0; i < 50; ++i)
        for (int64_t j = 0; j < 8; ++j) one.f.push_back(float((i + 1) * (j + 1)));
    for (int64_t i = 0; i < 400 * 8; ++i) iso.f.push_back(float(rng.normal()));
    const std::vector<double> s1 = singular_values(one);
    ASSERT_EQ(s1.size(), 8u);
    EXPECT_GT(s1[0], 0);
    for (size_t i = 1; i < 8; ++i) EXPECT_LT(s1[i], 1e-9 * s1[0]);
    EXPECT_NEAR(effective_rank(s1), 1.0, 1e-4);
    EXPECT_NEAR(effective_rank({2, 2, 2, 2}), 4.0, 1e-5);
    EXPECT_GT(effective_rank(singular_values(iso)), 7.5);  // nearly isotropic
    EXPECT_EQ(effective_rank({0, 0}), 0);
    // Collapsed (all rows along one direction, positive multiples): 0; isotropic: about 1/sqrt(d).
    EXPECT_NEAR(normalized_std(one), 0.0, 1e-6);
    EXPECT_NEAR(normalized_std(iso), 1 / std::sqrt(8.0), 0.03);
}

Tensor signals(int64_t n, uint64_t seed) {
    Rng rng(seed);
    Tensor x = Tensor::empty({n, 40}, DType::F32);
    for (int64_t i = 0; i < n; ++i) {
        const double f = 0.2 + 0.1 * double(i % 5), ph = rng.uniform(0, 6.28);
        for (int64_t t = 0; t < 40; ++t) x.data<float>()[i * 40 + t] = float(std::sin(f * double(t) + ph) + 0.1 * rng.normal());
    }
    return x;
}

TEST(SslTraining, DeterministicPerMemberAndTheStopGradientSwitch) {
    const EncoderSpec spec{.channels = 8, .proj_hidden = 16, .proj_dim = 8, .pred_hidden = 4};
    const Tensor x = signals(128, 1), mon = signals(64, 2);
    for (SslMethod m : {SslMethod::SimClr, SslMethod::SimSiam, SslMethod::Byol}) {
        const SslOptions o{.method = m, .epochs = 2, .batch = 32, .eval_every = 1};
        ParamSet a = make_ssl_params(spec, {4, 9}), b = make_ssl_params(spec, {9});
        const auto ca = pretrain(a, spec, x, mon, o), cb = pretrain(b, spec, x, mon, o);
        EXPECT_EQ(ca[1].loss, cb[0].loss);
        EXPECT_EQ(ca[1].proj_std, cb[0].proj_std);
        EXPECT_NE(ca[0].loss, ca[1].loss);
        EXPECT_EQ(ca[0].eval_epochs, (std::vector<int64_t>{0, 1, 2}));
        EXPECT_EQ(encode(a, spec, x)[1].f, encode(b, spec, x)[0].f);
    }
    // The switch changes the gradient, so the runs differ after one step.
    ParamSet a = make_ssl_params(spec, {1}), b = make_ssl_params(spec, {1});
    const auto sg = pretrain(a, spec, x, mon, {.method = SslMethod::SimSiam, .epochs = 2, .batch = 32});
    const auto nsg = pretrain(b, spec, x, mon, {.method = SslMethod::SimSiam, .epochs = 2, .batch = 32, .stop_gradient = false});
    EXPECT_EQ(sg[0].proj_std.front(), nsg[0].proj_std.front());
    EXPECT_NE(sg[0].loss, nsg[0].loss);
    EXPECT_EQ(representation_dim(spec), 40);
}

}  // namespace
}  // namespace benchtop::ssl
