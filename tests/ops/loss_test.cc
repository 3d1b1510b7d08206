// Tests of the losses: cross_entropy and mse_loss forward values against naive formulas for
// every reduction, per-member and shared labels/targets, float64 gradient checks on several
// shapes (K > 1), numerical stability, and errors for bad labels, shapes and dtypes.
#include "benchtop/ops/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

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
