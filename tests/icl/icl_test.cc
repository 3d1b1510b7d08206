// In-context regression: prompt sampling, the exact baselines on cases with known answers, and
// the two models' forward passes (the hand-built linear-attention layer that is one GD step,
// causality of the GPT, member independence of a stack).
#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/icl/models.h"
#include "benchtop/icl/tasks.h"

namespace benchtop::icl {
namespace {

Prompts sample(FunctionClass f, int64_t d, int64_t n, int64_t batch, uint64_t seed = 1) {
    Rng rng(stream_key(seed, 0, Purpose::Data));
    return sample_prompts({.function = f, .d = d, .n = n, .sparsity = 2}, batch, rng);
}

TEST(IclTasks, LeastSquaresIsExactOnceTheContextDeterminesW) {
    for (FunctionClass f : {FunctionClass::Linear, FunctionClass::Sparse}) {
        const Prompts p = sample(f, 4, 8, 50);
        EXPECT_LT(mse_at(p, 4, least_squares_predict(p, 4)), 1e-18);
        EXPECT_LT(mse_at(p, 8, least_squares_predict(p, 8)), 1e-18);
        // Underdetermined: the minimum-norm solution is not exact, but beats predicting 0.
        const double zero = mse_at(p, 2, std::vector<double>(50, 0.0));
        const double ls = mse_at(p, 2, least_squares_predict(p, 2));
        EXPECT_GT(ls, 1e-3);
        EXPECT_LT(ls, zero);
    }
    // A ReLU network is not linear: least squares stays inexact.
    const Prompts r = sample(FunctionClass::Relu, 4, 8, 50);
    EXPECT_GT(mse_at(r, 8, least_squares_predict(r, 8)), 1e-3);
}

TEST(IclTasks, SparseFunctionsHaveTheirSparsity) {
    // With 2 of 4 coordinates of w non-zero, y lies in a 2-dimensional span: least squares on the
    // two true coordinates would be exact; instead check that w recovered from 4 points has
    // exactly 2 non-zeros.
    const Prompts p = sample(FunctionClass::Sparse, 4, 4, 20);
    for (int64_t b = 0; b < p.batch; ++b) {
        Prompts one{.batch = 1, .n = 4, .d = 4};
        one.x.assign(p.xi(b, 0), p.xi(b, 0) + 5 * 4);
        for (int64_t i = 0; i < 5; ++i) one.y.push_back(p.yi(b, i));
        int nonzero = 0;
        for (int64_t j = 0; j < 4; ++j) {  // w_j = prediction at a unit query
            Prompts q = one;
            for (int64_t t = 0; t < 4; ++t) q.x[size_t(4 * 4 + t)] = t == j ? 1.0 : 0.0;
            nonzero += std::abs(least_squares_predict(q, 4)[0]) > 1e-9;
        }
        EXPECT_EQ(nonzero, 2) << "prompt " << b;
    }
}

TEST(IclTasks, GradientDescentByHand) {
    const Prompts p = sample(FunctionClass::Linear, 3, 5, 4);
    const double eta = 0.7;
    const std::vector<double> g1 = gd_predict(p, 5, 1, eta), g2 = gd_predict(p, 5, 2, eta);
    for (int64_t b = 0; b < p.batch; ++b) {
        double w[3] = {0, 0, 0};
        double expect1 = 0;
        for (int step = 0; step < 2; ++step) {
            double g[3] = {0, 0, 0};
            for (int64_t i = 0; i < 5; ++i) {
                const double* x = p.xi(b, i);
                const double r = w[0] * x[0] + w[1] * x[1] + w[2] * x[2] - p.yi(b, i);
                for (int j = 0; j < 3; ++j) g[j] += r * x[j] / 5;
            }
            for (int j = 0; j < 3; ++j) w[j] -= eta * g[j];
            const double* q = p.xi(b, 5);
            const double pred = w[0] * q[0] + w[1] * q[1] + w[2] * q[2];
            if (step == 0) expect1 = pred;
            else EXPECT_NEAR(g2[size_t(b)], pred, 1e-12);
        }
        EXPECT_NEAR(g1[size_t(b)], expect1, 1e-12);
    }
    EXPECT_EQ(gd_predict(p, 0, 3, eta), std::vector<double>(4, 0.0));
}

TEST(IclTasks, BestStepSizeIsAMinimum) {
    const Prompts p = sample(FunctionClass::Linear, 5, 10, 400);
    for (int64_t steps : {1, 3}) {
        const double eta = best_gd_step_size(p, 10, steps);
        const double at = mse_at(p, 10, gd_predict(p, 10, steps, eta));
        for (double f : {0.8, 0.95, 1.05, 1.25})
            EXPECT_LE(at, mse_at(p, 10, gd_predict(p, 10, steps, eta * f)) + 1e-12) << steps << " steps, factor " << f;
        EXPECT_GT(eta, 0.05);
        EXPECT_LT(eta, 2.0);
    }
    // More steps with their best size do better; least squares (k >= d) best of all.
    const double one = mse_at(p, 10, gd_predict(p, 10, 1, best_gd_step_size(p, 10, 1)));
    const double three = mse_at(p, 10, gd_predict(p, 10, 3, best_gd_step_size(p, 10, 3)));
    EXPECT_LT(three, one);
    EXPECT_LT(mse_at(p, 10, least_squares_predict(p, 10)), three);
}

TEST(IclTasks, NearestNeighbours) {
    const Prompts p = sample(FunctionClass::Linear, 2, 6, 10);
    const std::vector<double> one = knn_predict(p, 1, 3);
    for (int64_t b = 0; b < p.batch; ++b) EXPECT_EQ(one[size_t(b)], p.yi(b, 0));
    // A query equal to context point 2 with one neighbour predicts y_2.
    Prompts q = p;
    for (int64_t b = 0; b < q.batch; ++b)
        for (int64_t j = 0; j < 2; ++j) q.x[size_t((b * 7 + 6) * 2 + j)] = q.xi(b, 2)[j];
    const std::vector<double> nn = knn_predict(q, 6, 1);
    for (int64_t b = 0; b < q.batch; ++b) EXPECT_EQ(nn[size_t(b)], q.yi(b, 2));
    EXPECT_THROW(knn_predict(p, 7), Error);
}

TEST(IclModels, OneLinearAttentionLayerCanBeOneGradientStep) {
    // von Oswald et al.'s construction: W_KQ = [[I, 0], [0, 0]], W_PV = eta [[0, 0], [0, 1]].
    const int64_t d = 4, n = 8;
    const IclModelSpec spec{.kind = IclModelKind::Lsa, .d = d, .n = n, .layers = 1};
    ParamSet ps = make_icl_params(spec, {0});
    const double eta = 0.6;
    Tensor& kq = ps.value("layers.0.w_kq");
    Tensor& pv = ps.value("layers.0.w_pv");
    kq.fill(0.0), pv.fill(0.0);
    for (int64_t j = 0; j < d; ++j) kq.data<float>()[j * (d + 1) + j] = 1.0f;
    pv.data<float>()[(d + 1) * (d + 1) - 1] = float(eta);
    const Prompts p = sample(FunctionClass::Linear, d, n, 64);
    for (int64_t k : {1, 5, 8}) {
        const std::vector<double> gd = gd_predict(p, k, 1, eta);
        const std::vector<double> lsa = icl_predict(ps, spec, p, k)[0];
        for (int64_t b = 0; b < p.batch; ++b) EXPECT_NEAR(lsa[size_t(b)], gd[size_t(b)], 1e-4 * (1 + std::abs(gd[size_t(b)])));
    }
}

TEST(IclModels, GptIsCausalAndMembersAreIndependent) {
    const IclModelSpec spec{.kind = IclModelKind::Gpt, .d = 3, .n = 6, .layers = 2, .width = 16, .heads = 2};
    ParamSet stack = make_icl_params(spec, {5, 9});
    ParamSet alone = make_icl_params(spec, {9});
    const Prompts p = sample(FunctionClass::Linear, 3, 6, 8);
    Prompts changed = p;
    for (int64_t b = 0; b < p.batch; ++b) changed.y[size_t(b * 7 + 4)] += 3.0, changed.x[size_t((b * 7 + 5) * 3)] -= 2.0;
    for (int64_t k = 0; k <= 4; ++k) {
        const auto a = icl_predict(stack, spec, p, k), b = icl_predict(stack, spec, changed, k);
        EXPECT_EQ(a, b) << "k = " << k;  // points after x_k do not matter
        EXPECT_EQ(a[1], icl_predict(alone, spec, p, k)[0]) << "k = " << k;
    }
    EXPECT_NE(icl_predict(stack, spec, p, 5), icl_predict(stack, spec, changed, 5));
}

TEST(IclModels, TrainingIsDeterministicAndLearns) {
    const IclModelSpec spec{.kind = IclModelKind::Lsa, .d = 3, .n = 6, .layers = 1};
    IclTrainOptions o{.task = {.d = 3, .n = 6}, .steps = 200, .batch = 128, .lr = 1e-2, .eval_every = 50};
    ParamSet a = make_icl_params(spec, {1, 2}), b = make_icl_params(spec, {2});
    const auto ca = train_icl(a, spec, o), cb = train_icl(b, spec, o);
    EXPECT_EQ(ca[1].loss, cb[0].loss);
    EXPECT_LT(ca[0].loss.back(), 0.7 * ca[0].loss.front());
    EXPECT_THROW(train_icl(a, {.kind = IclModelKind::Lsa, .d = 4, .n = 6}, o), Error);
}

}  // namespace
}  // namespace benchtop::icl
