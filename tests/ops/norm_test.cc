// Tests for layer_norm, batch_norm and dropout: forward against naive references, running
// statistics as torch updates them, float64 gradient checks (per-member and shared inputs,
// training and evaluation), per-member dropout masks and error messages.
#include "benchtop/ops/norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

TEST(NormLayer, ForwardMatchesNaive) {
    Tensor x = random_tensor({2, 3, 4, 5}, 1), w = random_tensor({2, 5}, 2);
    Tensor b = random_tensor({2, 5}, 3);
    Graph g;
    Var y = layer_norm(g.input(x), g.input(w), g.input(b));
    ASSERT_EQ(y.shape(), x.shape());
    Var y32 =
        layer_norm(g.input(x.to(DType::F32)), g.input(w.to(DType::F32)), g.input(b.to(DType::F32)));
    for (int64_t row = 0; row < 24; ++row) {
        int64_t k = row / 12;
        double mu = 0, var = 0;
        for (int h = 0; h < 5; ++h) mu += x.at(row * 5 + h) / 5;
        for (int h = 0; h < 5; ++h) var += (x.at(row * 5 + h) - mu) * (x.at(row * 5 + h) - mu) / 5;
        for (int h = 0; h < 5; ++h) {
            double want = (x.at(row * 5 + h) - mu) / std::sqrt(var + 1e-5) * w.at(k * 5 + h) +
                          b.at(k * 5 + h);
            EXPECT_NEAR(y.value().at(row * 5 + h), want, 1e-12);
            EXPECT_NEAR(y32.value().at(row * 5 + h), want, 1e-5);
        }
    }
}

TEST(NormLayer, GradCheck) {
    auto full = [](Graph&, const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); };
    check_gradients(
        full, {random_tensor({2, 3, 4}, 1), random_tensor({2, 4}, 2), random_tensor({2, 4}, 3)});
    check_gradients(
        full, {random_tensor({1, 2, 3, 5}, 4), random_tensor({3, 5}, 5), random_tensor({3, 5}, 6)});
    auto bare = [](Graph&, const std::vector<Var>& v) { return layer_norm(v[0], {}, {}); };
    check_gradients(bare, {random_tensor({3, 4, 6}, 7)});
    auto bias_only = [](Graph&, const std::vector<Var>& v) { return layer_norm(v[0], {}, v[1]); };
    check_gradients(bias_only, {random_tensor({1, 4, 3}, 8), random_tensor({2, 3}, 9)});
}

TEST(NormLayer, RejectsMismatchedShapes) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3, 4}, DType::F64));
    try {
        layer_norm(x, g.input(Tensor::zeros({2, 5}, DType::F64)), {});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("layer_norm"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3, 4]"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 5]"), std::string::npos) << m;
    }
    EXPECT_THROW(layer_norm(x, g.input(Tensor::zeros({2, 4}, DType::F32)), {}), Error);
    EXPECT_THROW(layer_norm(x, g.input(Tensor::zeros({3, 4}, DType::F64)), {}), Error);
}

TEST(NormBatch, TrainingForwardAndRunningStats) {
    for (bool with_length : {false, true}) {
        Shape xs = with_length ? Shape({2, 4, 3, 5}) : Shape({2, 6, 3});
        int64_t B = xs[1], C = 3, L = with_length ? 5 : 1, n = B * L;
        Tensor x = random_tensor(xs, 1, -2, 3), w = random_tensor({2, 3}, 2);
        Tensor b = random_tensor({2, 3}, 3);
        Tensor rm = random_tensor({2, 3}, 4), rv = random_tensor({2, 3}, 5, 0.5, 2.0);
        Tensor rm0 = rm.clone(), rv0 = rv.clone();
        Graph g;
        Var y = batch_norm(g.input(x), g.input(w), g.input(b), rm, rv, true, 0.1, 1e-5);
        for (int64_t k = 0; k < 2; ++k)
            for (int64_t c = 0; c < C; ++c) {
                auto at = [&](int64_t bi, int64_t l) { return ((k * B + bi) * C + c) * L + l; };
                double mu = 0, var = 0;
                for (int64_t bi = 0; bi < B; ++bi)
                    for (int64_t l = 0; l < L; ++l) mu += x.at(at(bi, l)) / double(n);
                for (int64_t bi = 0; bi < B; ++bi)
                    for (int64_t l = 0; l < L; ++l)
                        var += (x.at(at(bi, l)) - mu) * (x.at(at(bi, l)) - mu);
                for (int64_t bi = 0; bi < B; ++bi)
                    for (int64_t l = 0; l < L; ++l) {
                        double want = (x.at(at(bi, l)) - mu) / std::sqrt(var / double(n) + 1e-5) *
                                          w.at(k * C + c) +
                                      b.at(k * C + c);
                        EXPECT_NEAR(y.value().at(at(bi, l)), want, 1e-12);
                    }
                int64_t j = k * C + c;
                EXPECT_NEAR(rm.at(j), 0.9 * rm0.at(j) + 0.1 * mu, 1e-12);
                EXPECT_NEAR(rv.at(j), 0.9 * rv0.at(j) + 0.1 * var / double(n - 1), 1e-12);
            }
    }
}

TEST(NormBatch, EvalUsesRunningStats) {
    Tensor x = random_tensor({2, 4, 3}, 1), w = random_tensor({2, 3}, 2);
    Tensor b = random_tensor({2, 3}, 3);
    Tensor rm = random_tensor({2, 3}, 4), rv = random_tensor({2, 3}, 5, 0.5, 2.0);
    Tensor rm0 = rm.clone(), rv0 = rv.clone();
    Graph g;
    Var y = batch_norm(g.input(x), g.input(w), g.input(b), rm, rv, false);
    for (int64_t i = 0; i < x.numel(); ++i) {
        int64_t k = i / 12, c = i % 3, j = k * 3 + c;
        double want = (x.at(i) - rm.at(j)) / std::sqrt(rv.at(j) + 1e-5) * w.at(j) + b.at(j);
        EXPECT_NEAR(y.value().at(i), want, 1e-12);
    }
    EXPECT_EQ(rm.to_vector(), rm0.to_vector());
    EXPECT_EQ(rv.to_vector(), rv0.to_vector());
}

TEST(NormBatch, GradCheckTrainingAndEval) {
    for (bool training : {true, false}) {
        Tensor rm = random_tensor({3, 2}, 10), rv = random_tensor({3, 2}, 11, 0.5, 2.0);
        auto f = [&](Graph&, const std::vector<Var>& v) {
            return batch_norm(v[0], v[1], v[2], rm, rv, training);
        };
        check_gradients(
            f, {random_tensor({3, 4, 2}, 1), random_tensor({3, 2}, 2), random_tensor({3, 2}, 3)});
        check_gradients(f, {random_tensor({3, 3, 2, 4}, 4), random_tensor({3, 2}, 5),
                            random_tensor({3, 2}, 6)});
        check_gradients(
            f, {random_tensor({1, 5, 2}, 7), random_tensor({3, 2}, 8), random_tensor({3, 2}, 9)});
        auto bare = [&](Graph&, const std::vector<Var>& v) {
            return batch_norm(v[0], {}, {}, rm, rv, training);
        };
        check_gradients(bare, {random_tensor({3, 3, 2, 3}, 12)});
        auto bias_only = [&](Graph&, const std::vector<Var>& v) {
            return batch_norm(v[0], {}, v[1], rm, rv, training);
        };
        check_gradients(bias_only, {random_tensor({1, 4, 2}, 13), random_tensor({3, 2}, 14)});
    }
}

TEST(NormBatch, RejectsMismatchedShapes) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 4, 3}, DType::F64));
    Tensor rm = Tensor::zeros({2, 5}, DType::F64), rv = Tensor::zeros({2, 5}, DType::F64);
    try {
        batch_norm(x, {}, {}, rm, rv, true);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("batch_norm"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 4, 3]"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 5]"), std::string::npos) << m;
    }
    Tensor rm3 = Tensor::zeros({2, 3}, DType::F64), rv3 = Tensor::zeros({2, 3}, DType::F64);
    EXPECT_THROW(batch_norm(x, g.input(Tensor::zeros({2, 4}, DType::F64)), {}, rm3, rv3, true),
                 Error);
    EXPECT_THROW(batch_norm(x, {}, {}, Tensor::zeros({2, 3}), Tensor::zeros({2, 3}), true), Error);
    EXPECT_THROW(batch_norm(g.input(Tensor::zeros({2, 4}, DType::F64)), {}, {}, rm3, rv3, true),
                 Error);
}

// float32 forward and backward agree with float64 for both normalisations.
TEST(NormBatch, Float32MatchesFloat64) {
    Tensor x = random_tensor({2, 4, 3, 5}, 1), w = random_tensor({2, 3}, 2);
    Tensor b = random_tensor({2, 3}, 3), lw = random_tensor({2, 5}, 4);
    for (bool training : {true, false}) {
        std::vector<std::vector<double>> grads[2];
        for (DType dt : {DType::F64, DType::F32}) {
            Tensor rm = Tensor::zeros({2, 3}, dt), rv = Tensor::full({2, 3}, 1.5, dt);
            Graph g;
            Var xv = g.variable(x.to(dt)), wv = g.variable(w.to(dt)), bv = g.variable(b.to(dt));
            Var lv = g.variable(lw.to(dt));
            Var y = layer_norm(batch_norm(xv, wv, bv, rm, rv, training), lv, {});
            g.backward(y, random_tensor(y.shape(), 5).to(dt));
            auto& out = grads[dt == DType::F32 ? 1 : 0];
            for (Var v : {xv, wv, bv, lv}) out.push_back(g.grad(v).to_vector());
            out.push_back(y.value().to_vector());
        }
        for (size_t i = 0; i < grads[0].size(); ++i)
            for (size_t j = 0; j < grads[0][i].size(); ++j)
                ASSERT_NEAR(grads[1][i][j], grads[0][i][j], 2e-4) << "tensor " << i;
    }
}

TEST(Dropout, MemberMaskIndependentOfStack) {
    const std::vector<uint64_t> seeds = {11, 22, 33};
    Tensor x1 = Tensor::full({1, 50, 8}, 1.0, DType::F32);
    Graph g;
    Var y3 = dropout(g.input(x1), 0.3, true, seeds, 7);  // shared input, 3 members
    ASSERT_EQ(y3.shape(), Shape({3, 50, 8}));
    for (size_t k = 0; k < 3; ++k) {
        std::vector<uint64_t> one = {seeds[k]};
        Var y1 = dropout(g.input(x1), 0.3, true, one, 7);
        for (int64_t i = 0; i < 400; ++i)
            ASSERT_EQ(y1.value().at(i), y3.value().at(int64_t(k) * 400 + i)) << "member " << k;
    }
    // Different members and counters give different masks.
    EXPECT_NE(y3.value().member(0).to_vector(), y3.value().member(1).to_vector());
    Var y3b = dropout(g.input(x1), 0.3, true, seeds, 8);
    EXPECT_NE(y3.value().to_vector(), y3b.value().to_vector());
}

TEST(Dropout, KeptFractionAndScale) {
    const std::vector<uint64_t> seeds = {1, 2};
    for (double p : {0.1, 0.5, 0.8}) {
        Tensor x = Tensor::full({2, 100, 100}, 2.0, DType::F64);
        Graph g;
        Var y = dropout(g.input(x), p, true, seeds, 0);
        int64_t kept = 0;
        for (int64_t i = 0; i < x.numel(); ++i) {
            double v = y.value().at(i);
            if (v != 0) {
                ++kept;
                EXPECT_NEAR(v, 2.0 / (1 - p), 1e-12);
            }
        }
        EXPECT_NEAR(double(kept) / double(x.numel()), 1 - p, 0.015) << "p " << p;
    }
}

TEST(Dropout, IdentityWhenEvalOrZero) {
    const std::vector<uint64_t> seeds = {1, 2};
    Graph g;
    Var x = g.variable(random_tensor({2, 3, 4}, 1));
    EXPECT_EQ(dropout(x, 0.5, false, seeds, 0).value().to_vector(), x.value().to_vector());
    EXPECT_EQ(dropout(x, 0.0, true, seeds, 0).value().to_vector(), x.value().to_vector());
}

TEST(Dropout, GradientFlowsThroughKeptUnits) {
    const std::vector<uint64_t> seeds = {5, 6, 7};
    for (int64_t kx : {3, 1}) {
        Graph g;
        Var x = g.variable(random_tensor({kx, 4, 10}, 2));
        Var y = dropout(x, 0.4, true, seeds, 3);
        Tensor seed = random_tensor(y.shape(), 9);
        g.backward(y, seed);
        const Tensor& dx = g.grad(x);
        std::vector<double> want(size_t(x.value().numel()), 0.0);
        for (int64_t k = 0; k < 3; ++k)
            for (int64_t i = 0; i < 40; ++i) {
                int64_t o = k * 40 + i, xi = (kx == 1 ? 0 : k * 40) + i;
                double m = y.value().at(o) / x.value().at(xi);  // 0 or 1 / (1 - p)
                EXPECT_TRUE(std::abs(m) < 1e-12 || std::abs(m - 1 / 0.6) < 1e-9) << m;
                want[size_t(xi)] += seed.at(o) * (std::abs(m) < 1e-12 ? 0.0 : 1 / 0.6);
            }
        for (int64_t i = 0; i < dx.numel(); ++i) EXPECT_NEAR(dx.at(i), want[size_t(i)], 1e-12);
        auto f = [&](Graph&, const std::vector<Var>& v) {
            return dropout(v[0], 0.4, true, seeds, 3);
        };
        check_gradients(f, {random_tensor({kx, 4, 10}, 2)});
    }
}

TEST(Dropout, RejectsBadArguments) {
    const std::vector<uint64_t> seeds = {1, 2};
    Graph g;
    Var x = g.input(Tensor::zeros({3, 4}, DType::F64));
    try {
        dropout(x, 0.5, true, seeds, 0);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("dropout"), std::string::npos) << m;
        EXPECT_NE(m.find("[3, 4]"), std::string::npos) << m;
    }
    EXPECT_THROW(dropout(x, 1.0, true, seeds, 0), Error);
    EXPECT_THROW(dropout(x, -0.1, true, seeds, 0), Error);
}

}  // namespace
}  // namespace benchtop
