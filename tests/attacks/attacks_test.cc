// The attack library: input gradients of every classifier against finite differences; every
// attack stays in its ball; on linear models the minimal L2 perturbation found equals the
// analytic distance to the decision boundary (and no attack goes below it); a member's result
// does not depend on its stack; a point is robust only if every attack fails.
#include "benchtop/attacks/attacks.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/core/rng.h"
#include "benchtop/nn/model_init.h"

namespace benchtop {
namespace {

Tensor random_inputs(const Shape& shape, uint64_t seed, DType dtype = DType::F32, double sd = 1.0) {
    Tensor t = Tensor::empty(shape, dtype);
    Rng rng(stream_key(seed, 0, Purpose::Other));
    for (int64_t i = 0; i < t.numel(); ++i) t.set(i, sd * rng.normal());
    return t;
}

Tensor labels(std::vector<int32_t> v) { return Tensor::from<int32_t>({int64_t(v.size())}, v); }

ParamSet model(const ClassifierSpec& spec, std::vector<uint64_t> seeds, DType dtype = DType::F32) {
    ParamSet ps(int64_t(seeds.size()), dtype);
    add_classifier_params(ps, spec);
    init_torch_default(ps, seeds);
    return ps;
}

// Summed cross-entropy of member k from logits [K, B, C].
double ce_sum(const Tensor& logits, const Tensor& y, int64_t k) {
    const int64_t B = logits.size(1), C = logits.size(2);
    double s = 0;
    for (int64_t b = 0; b < B; ++b) {
        double m = -1e300;
        for (int64_t c = 0; c < C; ++c) m = std::max(m, logits.at((k * B + b) * C + c));
        double z = 0;
        for (int64_t c = 0; c < C; ++c) z += std::exp(logits.at((k * B + b) * C + c) - m);
        s += m + std::log(z) - logits.at((k * B + b) * C + y.data<int32_t>()[b]);
    }
    return s;
}

TEST(InputGradients, MatchFiniteDifferencesForEveryModel) {
    for (ModelKind kind : {ModelKind::Logistic, ModelKind::Mlp, ModelKind::Cnn}) {
        ClassifierSpec spec{.kind = kind, .in = 40, .out = 10, .width = kind == ModelKind::Cnn ? 4 : 12};
        ParamSet ps = model(spec, {11, 12}, DType::F64);
        ClassifierTarget target(ps, spec);
        const Tensor x = random_inputs({2, 3, 40}, 5, DType::F64);
        const Tensor y = labels({1, 7, 3});
        const Tensor g = target.loss_gradient(x, y);
        ASSERT_EQ(g.shape(), x.shape());
        Rng pick(99);
        for (int trial = 0; trial < 24; ++trial) {
            const int64_t i = int64_t(pick.below(uint64_t(x.numel())));
            const int64_t k = i / (3 * 40);
            const double h = 1e-6;
            Tensor xp = x.clone(), xm = x.clone();
            xp.set(i, x.at(i) + h);
            xm.set(i, x.at(i) - h);
            const double fd = (ce_sum(target.logits(xp), y, k) - ce_sum(target.logits(xm), y, k)) / (2 * h);
            EXPECT_NEAR(g.at(i), fd, 1e-6 + 1e-5 * std::abs(fd)) << "model " << int(kind) << " element " << i;
        }
    }
}

TEST(Attacks, NeverLeaveTheirBall) {
    const ClassifierSpec spec{.kind = ModelKind::Mlp, .in = 40, .out = 10, .width = 16};
    ParamSet ps = model(spec, {3, 4});
    ClassifierTarget target(ps, spec);
    const Tensor x = random_inputs({20, 40}, 8);
    const Tensor y = labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    auto max_linf = [&](const Tensor& adv) {
        double m = 0;
        for (int64_t k = 0; k < 2; ++k)
            for (int64_t j = 0; j < 20 * 40; ++j) m = std::max(m, std::abs(adv.at(k * 800 + j) - x.at(j)));
        return m;
    };
    auto max_l2 = [&](const Tensor& adv) {
        double m = 0;
        for (int64_t r = 0; r < 40; ++r) {
            double s = 0;
            for (int64_t i = 0; i < 40; ++i) s += std::pow(adv.at(r * 40 + i) - x.at((r % 20) * 40 + i), 2);
            m = std::max(m, std::sqrt(s));
        }
        return m;
    };
    for (double eps : {0.01, 0.3, 2.0}) {
        EXPECT_LE(max_linf(fgsm(target, x, y, eps)), eps) << eps;
        EXPECT_LE(max_linf(pgd(target, x, y, {.norm = Norm::Linf, .eps = eps, .steps = 10}, {1, 2})), eps) << eps;
        EXPECT_LE(max_l2(pgd(target, x, y, {.norm = Norm::L2, .eps = eps, .steps = 10}, {1, 2})), eps) << eps;
        EXPECT_GT(max_linf(fgsm(target, x, y, eps)), 0.99 * eps);  // and they do move
    }
    const MinimalL2 m = minimal_l2_pgd(target, x, y, {.max_eps = 5}, {1, 2});
    for (double dist : m.distance) EXPECT_TRUE(dist == kNotFound || dist <= 5.0);
    // DeepFool's input gradients: every logit, against finite differences of the logits.
    Tensor logits;
    const Tensor x3 = random_inputs({2, 3, 40}, 9);
    const Tensor lg = target.logit_gradients(x3, &logits);
    ASSERT_EQ(lg.shape(), Shape({10, 2, 3, 40}));
    for (int64_t c : {0, 4, 9})
        for (int64_t i : {0, 17, 39}) {
            Tensor xp = x3.clone(), xm = x3.clone();
            const int64_t at = (1 * 3 + 2) * 40 + i;  // member 1, example 2
            xp.set(at, x3.at(at) + 1e-2);
            xm.set(at, x3.at(at) - 1e-2);
            const double fd = (target.logits(xp).at((1 * 3 + 2) * 10 + c) - target.logits(xm).at((1 * 3 + 2) * 10 + c)) / 2e-2;
            EXPECT_NEAR(lg.at(((c * 2 + 1) * 3 + 2) * 40 + i), fd, 2e-3 + 2e-2 * std::abs(fd)) << c << " " << i;
        }
}

// A linear model with random weights; the analytic minimal L2 distance of example b to leaving
// its predicted class is min over j != c of (z_c - z_j) / |w_c - w_j|.
struct Linear {
    ClassifierSpec spec;
    ParamSet ps;
    Tensor x, y;
    std::vector<double> distance;
};

Linear linear_problem(int64_t classes, int64_t B) {
    Linear p{{.kind = ModelKind::Logistic, .in = 40, .out = classes}, ParamSet(1), {}, {}, {}};
    add_classifier_params(p.ps, p.spec);
    init_torch_default(p.ps, std::vector<uint64_t>{21});
    p.x = random_inputs({B, 40}, 22);
    ClassifierTarget t(p.ps, p.spec);
    const Tensor logits = t.logits(p.x.reshape({1, B, 40}));
    const Tensor& w = p.ps.value("linear.weight");  // [1, C, 40]
    std::vector<int32_t> pred;
    for (int64_t b = 0; b < B; ++b) {
        int64_t c = 0;
        for (int64_t j = 1; j < classes; ++j)
            if (logits.at(b * classes + j) > logits.at(b * classes + c)) c = j;
        pred.push_back(int32_t(c));  // label = prediction: every example starts correct
        double best = 1e300;
        for (int64_t j = 0; j < classes; ++j) {
            if (j == c) continue;
            double nn = 0;
            for (int64_t i = 0; i < 40; ++i) nn += std::pow(w.at(c * 40 + i) - w.at(j * 40 + i), 2);
            best = std::min(best, (logits.at(b * classes + c) - logits.at(b * classes + j)) / std::sqrt(nn));
        }
        p.distance.push_back(best);
    }
    p.y = labels(pred);
    return p;
}

TEST(Attacks, MinimalL2EqualsTheDistanceToALinearBoundary) {
    Linear p = linear_problem(2, 30);
    ClassifierTarget target(p.ps, p.spec);
    const MinimalL2 m = minimal_l2_pgd(target, p.x, p.y, {.max_eps = 20, .bisections = 16}, {5});
    const MinimalL2 ba = boundary_attack(target, p.x, p.y, random_inputs({50, 40}, 23), {.steps = 1000}, {5});
    for (int64_t b = 0; b < 30; ++b) {
        const double d = p.distance[size_t(b)];
        EXPECT_GE(m.distance[size_t(b)], d * (1 - 1e-4)) << b;   // nothing beats the boundary
        EXPECT_LE(m.distance[size_t(b)], d * 1.01 + 1e-4) << b;  // and PGD finds it
        EXPECT_GE(ba.distance[size_t(b)], d * (1 - 1e-4)) << b;
        EXPECT_LE(ba.distance[size_t(b)], d * 1.10 + 1e-3) << b;  // the gradient-free walk gets close
    }
}

TEST(Attacks, NoAttackGoesBelowTheBoundaryOfAMulticlassLinearModel) {
    Linear p = linear_problem(10, 30);
    ClassifierTarget target(p.ps, p.spec);
    const MinimalL2 m = minimal_l2_pgd(target, p.x, p.y, {.max_eps = 20, .bisections = 14}, {5});
    const MinimalL2 ba = boundary_attack(target, p.x, p.y, random_inputs({50, 40}, 23), {.steps = 1000}, {5});
    const MinimalL2 df = deepfool(target, p.x, p.y, {});
    double ratio_pgd = 0, ratio_ba = 0;
    for (int64_t b = 0; b < 30; ++b) {
        const double d = p.distance[size_t(b)];
        EXPECT_GE(m.distance[size_t(b)], d * (1 - 1e-4)) << b;
        EXPECT_GE(ba.distance[size_t(b)], d * (1 - 1e-4)) << b;
        EXPECT_GE(df.distance[size_t(b)], d * (1 - 1e-4)) << b;
        // DeepFool's linearisation is exact here: the analytic distance plus its 2% overshoot.
        EXPECT_LE(df.distance[size_t(b)], d * 1.021 + 1e-4) << b;
        ratio_pgd += m.distance[size_t(b)] / d / 30;
        ratio_ba += ba.distance[size_t(b)] / d / 30;
    }
    // With ten classes the cross-entropy's gradient mixes several boundaries, and the random walk
    // has not converged after 1000 steps: within a third of the distance on average.
    std::printf("mean ratio to the analytic distance: PGD search %.3f, boundary attack %.3f\n", ratio_pgd, ratio_ba);
    EXPECT_LT(ratio_pgd, 1.35);
    EXPECT_LT(ratio_ba, 1.35);
}

TEST(Attacks, AMembersResultDoesNotDependOnItsStack) {
    const ClassifierSpec spec{.kind = ModelKind::Mlp, .in = 40, .out = 10, .width = 16};
    ParamSet two = model(spec, {3, 4});
    ParamSet one = model(spec, {4});
    ClassifierTarget t2(two, spec), t1(one, spec);
    const Tensor x = random_inputs({10, 40}, 8);
    const Tensor y = labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const Tensor a2 = pgd(t2, x, y, {.norm = Norm::L2, .eps = 1.0, .steps = 5}, {7, 9});
    const Tensor a1 = pgd(t1, x, y, {.norm = Norm::L2, .eps = 1.0, .steps = 5}, {9});
    for (int64_t i = 0; i < 400; ++i) ASSERT_EQ(a2.at(400 + i), a1.at(i)) << i;
    const MinimalL2 b2 = boundary_attack(t2, x, y, random_inputs({20, 40}, 3), {.steps = 50}, {7, 9});
    const MinimalL2 b1 = boundary_attack(t1, x, y, random_inputs({20, 40}, 3), {.steps = 50}, {9});
    for (int64_t b = 0; b < 10; ++b) EXPECT_EQ(b2.distance[size_t(10 + b)], b1.distance[size_t(b)]) << b;
}

TEST(Attacks, RobustOnlyIfEveryAttackFails) {
    const std::vector<uint8_t> clean = {1, 1, 1, 0};
    EXPECT_EQ(robust_mask(clean, {{0, 1, 0, 0}, {0, 0, 1, 0}}), (std::vector<uint8_t>{1, 0, 0, 0}));
    EXPECT_EQ(robust_mask(clean, {}), clean);
    EXPECT_THROW(robust_mask(clean, {{0, 1}}), Error);
    EXPECT_EQ(median({3, 1, 2}), 2);
    EXPECT_EQ(median({1, kNotFound}), kNotFound);
    EXPECT_EQ(median({4, 1, 2, 3}), 2.5);
}

}  // namespace
}  // namespace benchtop
