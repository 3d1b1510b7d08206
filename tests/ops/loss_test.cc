// Tests of the losses: cross_entropy and mse_loss forward values against naive formulas for
// every reduction, per-member and shared labels/targets, float64 gradient checks on several
// shapes (K > 1), numerical stability, and errors for bad labels, shapes and dtypes.
#include "benchtop/ops/loss.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "benchtop/ops/fast_math.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

Tensor labels_of(const Shape& s, const std::vector<int32_t>& v) {
    return Tensor::from(s, v);
}

// Naive cross entropy of row r of logits [R, C] against label y.
double naive_ce(const Tensor& x, int64_t r, int64_t C, int32_t y) {
    double den = 0;
    for (int64_t c = 0; c < C; ++c) den += std::exp(x.at(r * C + c));
    return std::log(den) - x.at(r * C + y);
}

TEST(Loss, CrossEntropyForwardMatchesNaive) {
    Tensor x = random_tensor({2, 3, 4}, 1, -3, 3);
    Tensor per = labels_of({2, 3}, {0, 3, 1, 2, 2, 0});
    Tensor shared = labels_of({3}, {1, 0, 3});
    for (bool sh : {false, true}) {
        const Tensor& lab = sh ? shared : per;
        std::vector<double> rows;
        for (int64_t r = 0; r < 6; ++r)
            rows.push_back(naive_ce(x, r, 4, static_cast<int32_t>(lab.at(sh ? r % 3 : r))));
        Graph g;
        Var none = cross_entropy(g.input(x), lab, Reduction::None);
        Var s = cross_entropy(g.input(x), lab, Reduction::Sum);
        Var m = cross_entropy(g.input(x), lab);
        ASSERT_EQ(none.shape(), Shape({2, 3}));
        ASSERT_EQ(s.shape(), Shape({2}));
        ASSERT_EQ(m.shape(), Shape({2}));
        for (int64_t r = 0; r < 6; ++r) EXPECT_NEAR(none.value().at(r), rows[size_t(r)], 1e-12);
        for (int k = 0; k < 2; ++k) {
            double t = rows[size_t(3 * k)] + rows[size_t(3 * k + 1)] + rows[size_t(3 * k + 2)];
            EXPECT_NEAR(s.value().at(k), t, 1e-12);
            EXPECT_NEAR(m.value().at(k), t / 3, 1e-12);
        }
        Graph g32;
        Var m32 = cross_entropy(g32.input(x.to(DType::F32)), lab);
        ASSERT_EQ(m32.dtype(), DType::F32);
        for (int k = 0; k < 2; ++k) EXPECT_NEAR(m32.value().at(k), m.value().at(k), 1e-5);
    }
}

TEST(Loss, CrossEntropyIsStableForLargeLogits) {
    for (DType dt : {DType::F32, DType::F64}) {
        Graph g;
        Tensor x = Tensor::from<double>({1, 1, 3}, {1000, 0, -1000}).to(dt);
        Var l = cross_entropy(g.variable(x), labels_of({1}, {1}));
        EXPECT_NEAR(l.value().at(0), 1000, 1e-3);
        g.backward(l);
        for (double v : g.grad(g.node(l.id).inputs[0]).to_vector()) EXPECT_TRUE(std::isfinite(v));
    }
}

// float32 (vectorised exp, ops/fast_math.h) against float64 (std::exp) on the same inputs:
// several blocks of rows, logits spread over [-40, 40], per-member labels.
TEST(Loss, CrossEntropyFloat32AgreesWithFloat64) {
    const int64_t K = 3, N = 150, C = 10;
    Tensor x64 = random_tensor({K, N, C}, 11, -40, 40).to(DType::F32).to(DType::F64);
    std::vector<int32_t> lv;
    for (int64_t i = 0; i < K * N; ++i) lv.push_back(static_cast<int32_t>((i * 7 + i / 5) % C));
    Tensor lab = labels_of({K, N}, lv);
    for (Reduction red : {Reduction::None, Reduction::Mean}) {
        Graph g64, g32;
        Var v64 = g64.variable(x64);
        Var v32 = g32.variable(x64.to(DType::F32));
        Var l64 = cross_entropy(v64, lab, red);
        Var l32 = cross_entropy(v32, lab, red);
        ASSERT_EQ(l32.shape(), l64.shape());
        for (int64_t i = 0; i < l64.value().numel(); ++i) {
            double ref = l64.value().at(i);
            EXPECT_NEAR(l32.value().at(i), ref, 1e-6 * (1 + std::fabs(ref))) << i;
        }
        g64.backward(l64);
        g32.backward(l32);
        Tensor d64 = g64.grad(v64), d32 = g32.grad(v32);
        double scale = red == Reduction::Mean ? 1.0 / N : 1.0;
        for (int64_t i = 0; i < d64.numel(); ++i)
            ASSERT_NEAR(d32.at(i), d64.at(i), 1e-6 * scale) << i;
    }
}

// Logits of -inf (and far below the row maximum) contribute 0; a NaN logit makes its own
// row's loss NaN and leaves the other rows alone; without recording the loss is the same.
TEST(Loss, CrossEntropyFloat32SpecialLogits) {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor x = Tensor::from<double>({1, 3, 4}, {0, -inf, 1, -1000,  //
                                                2, nan, 0, 1,       //
                                                -inf, -inf, 5, 5})
                   .to(DType::F32);
    Tensor lab = labels_of({3}, {2, 0, 3});
    Graph g;
    Var v = g.variable(x);
    Var l = cross_entropy(v, lab, Reduction::None);
    EXPECT_NEAR(l.value().at(0), std::log(1 + std::exp(-1.0)), 1e-6);
    EXPECT_TRUE(std::isnan(l.value().at(1)));
    EXPECT_NEAR(l.value().at(2), std::log(2.0), 1e-6);
    g.backward(l);
    Tensor d = g.grad(v);
    EXPECT_EQ(d.at(1), 0.0);  // exp(-inf)
    EXPECT_EQ(d.at(3), 0.0);  // exp(-1001)
    EXPECT_EQ(d.at(8), 0.0);
    EXPECT_EQ(d.at(9), 0.0);
    EXPECT_NEAR(d.at(10), 0.5, 1e-7);
    EXPECT_NEAR(d.at(11), -0.5, 1e-7);
    Graph ge;
    ge.set_grad_enabled(false);
    Var le = cross_entropy(ge.variable(x), lab, Reduction::None);
    EXPECT_EQ(le.value().at(0), l.value().at(0));
    EXPECT_TRUE(std::isnan(le.value().at(1)));
    EXPECT_EQ(le.value().at(2), l.value().at(2));
}

// float32, bit for bit, against the definition written out here (in-order max, exp_approx
// of the shifted logits, in-order sum, loss, probabilities, backward w * p - w at the
// label), for class counts on both sides of 16 (up to 16 take a vector path), several
// blocks of 64 rows, shared and per-member labels, mean and per-example losses.
TEST(Loss, CrossEntropyFloat32EqualsItsDefinitionBitForBit) {
    const int64_t K = 2, N = 70;
    for (int64_t C : {1, 3, 8, 9, 10, 16, 17, 33}) {
        Tensor x = random_tensor({K, N, C}, 100 + uint64_t(C), -30, 30).to(DType::F32);
        float* px = x.data<float>();
        px[5] = 0.0f;  // signed zeros in one row (C >= 2 puts both in a row)
        px[4] = -0.0f;
        for (bool shared : {false, true}) {
            std::vector<int32_t> lv;
            for (int64_t i = 0; i < (shared ? N : K * N); ++i)
                lv.push_back(static_cast<int32_t>((i * 5 + i / 3) % C));
            Tensor lab = shared ? labels_of({N}, lv) : labels_of({K, N}, lv);
            for (Reduction red : {Reduction::None, Reduction::Mean}) {
                std::vector<float> loss(size_t(red == Reduction::None ? K * N : K), 0.0f);
                std::vector<float> grad(size_t(K * N * C));
                for (int64_t r = 0; r < K * N; ++r) {
                    const float* xr = px + r * C;
                    const int32_t y = lv[size_t(shared ? r % N : r)];
                    float m = xr[0];
                    for (int64_t c = 1; c < C; ++c) m = xr[c] > m ? xr[c] : m;
                    std::vector<float> e(static_cast<size_t>(C));
                    float s = 0;
                    for (int64_t c = 0; c < C; ++c) s += e[size_t(c)] = detail::exp_approx(xr[c] - m);
                    const float l = (m - xr[y]) + std::log(s);
                    if (red == Reduction::None)
                        loss[size_t(r)] = l;
                    else
                        loss[size_t(r / N)] += l;
                    const float inv = 1.0f / s;
                    const float w = red == Reduction::None ? 1.0f : 1.0f / static_cast<float>(N);
                    for (int64_t c = 0; c < C; ++c) grad[size_t(r * C + c)] = w * (e[size_t(c)] * inv);
                    grad[size_t(r * C + y)] -= w;
                }
                if (red == Reduction::Mean)
                    for (float& l : loss) l /= static_cast<float>(N);
                Graph g;
                Var v = g.variable(x);
                Var l = cross_entropy(v, lab, red);
                const float* pl = l.value().data<float>();
                for (size_t i = 0; i < loss.size(); ++i)
                    ASSERT_EQ(std::bit_cast<uint32_t>(pl[i]), std::bit_cast<uint32_t>(loss[i]))
                        << "C " << C << " shared " << shared << " loss " << i;
                g.backward(l);
                const float* pg = g.grad(v).data<float>();
                for (size_t i = 0; i < grad.size(); ++i)
                    ASSERT_EQ(std::bit_cast<uint32_t>(pg[i]), std::bit_cast<uint32_t>(grad[i]))
                        << "C " << C << " shared " << shared << " grad " << i;
            }
        }
    }
}

TEST(Loss, CrossEntropyGradCheck) {
    struct Case {
        Shape logits, labels;
        std::vector<int32_t> values;
    };
    const Case cases[] = {
        {{3, 4, 5}, {3, 4}, {0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 2, 2}},
        {{3, 4, 5}, {4}, {4, 0, 2, 1}},
        {{3, 5}, {3}, {1, 4, 0}},
        {{2, 2, 3, 4}, {2, 3}, {0, 3, 1, 2, 2, 1}},
        {{1, 2, 10}, {1, 2}, {9, 0}},
    };
    for (const Case& c : cases) {
        Tensor lab = labels_of(c.labels, c.values);
        for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
            SCOPED_TRACE(c.logits.str() + " " + c.labels.str());
            auto f = [&](Graph&, const std::vector<Var>& v) {
                return cross_entropy(v[0], lab, red);
            };
            check_gradients(f, {random_tensor(c.logits, 7, -2, 2)});
        }
    }
}

TEST(Loss, CrossEntropyGradientIsProbsMinusOneHot) {
    Graph g;
    Tensor x = Tensor::from<double>({1, 1, 2}, {0, 0});
    Var v = g.variable(x);
    g.backward(cross_entropy(v, labels_of({1, 1}, {1})));
    EXPECT_EQ(g.grad(v).to_vector(), (std::vector<double>{0.5, -0.5}));
}

TEST(Loss, CrossEntropyRejectsBadLabels) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3, 10}));
    try {
        cross_entropy(x, labels_of({2, 3}, {0, 1, 2, 3, 10, 5}));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("label 10"), std::string::npos) << m;
        EXPECT_NE(m.find("[1, 1]"), std::string::npos) << m;
        EXPECT_NE(m.find("C = 10"), std::string::npos) << m;
    }
    EXPECT_THROW(cross_entropy(x, labels_of({3}, {0, -1, 2})), Error);
    try {
        cross_entropy(x, labels_of({2, 2}, {0, 1, 2, 3}));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("[2, 2]"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3, 10]"), std::string::npos) << m;
    }
    EXPECT_THROW(cross_entropy(x, Tensor::zeros({2, 3}, DType::F32)), Error);
    EXPECT_THROW(cross_entropy(g.input(Tensor::zeros({10})), labels_of({1}, {0})), Error);
}

TEST(Loss, MseForwardMatchesNaive) {
    Tensor p = random_tensor({2, 3, 2}, 1), t = random_tensor({2, 3, 2}, 2);
    Tensor ts = random_tensor({3, 2}, 3);
    for (bool sh : {false, true}) {
        const Tensor& tt = sh ? ts : t;
        Graph g;
        Var none = mse_loss(g.input(p), g.input(tt), Reduction::None);
        Var s = mse_loss(g.input(p), g.input(tt), Reduction::Sum);
        Var m = mse_loss(g.input(p), g.input(tt));
        ASSERT_EQ(none.shape(), Shape({2, 3, 2}));
        ASSERT_EQ(m.shape(), Shape({2}));
        double tot[2] = {0, 0};
        for (int64_t i = 0; i < 12; ++i) {
            double d = p.at(i) - tt.at(sh ? i % 6 : i);
            EXPECT_NEAR(none.value().at(i), d * d, 1e-12);
            tot[i / 6] += d * d;
        }
        for (int k = 0; k < 2; ++k) {
            EXPECT_NEAR(s.value().at(k), tot[k], 1e-12);
            EXPECT_NEAR(m.value().at(k), tot[k] / 6, 1e-12);
        }
    }
}

TEST(Loss, MseGradCheck) {
    for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        auto f = [=](Graph&, const std::vector<Var>& v) { return mse_loss(v[0], v[1], red); };
        check_gradients(f, {random_tensor({3, 4, 2}, 1), random_tensor({3, 4, 2}, 2)});
        check_gradients(f, {random_tensor({3, 4, 2}, 3), random_tensor({4, 2}, 4)});
        check_gradients(f, {random_tensor({3}, 5), random_tensor({3}, 6)});
        check_gradients(f, {random_tensor({1, 5}, 7), random_tensor({5}, 8)});
    }
}

TEST(Loss, MseRejectsBadInputs) {
    Graph g;
    Var p = g.input(Tensor::zeros({2, 3}));
    try {
        mse_loss(p, g.input(Tensor::zeros({2, 4})));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("[2, 4]"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    }
    try {
        mse_loss(p, g.input(Tensor::zeros({2, 3}, DType::F64)));
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("float32"), std::string::npos) << m;
        EXPECT_NE(m.find("float64"), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace benchtop
