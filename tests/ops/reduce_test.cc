// Tests of the reductions and softmaxes: forward values against naive loops for every axis
// (negative ones too, with and without keepdim), the first-maximum rule of max, numerical
// stability of softmax, float64 gradient checks with a member axis, and axis errors.
#include "benchtop/ops/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

// Naive reduction of x [2, 3, 4] over `axis` (0..2): kind 0 sum, 1 mean, 2 max.
std::vector<double> naive_reduce(const Tensor& x, int axis, int kind) {
    int64_t d[3] = {2, 3, 4};
    std::vector<double> out;
    int a0 = axis == 0 ? 1 : 0, a1 = axis == 2 ? 1 : 2;
    for (int64_t i = 0; i < d[a0]; ++i)
        for (int64_t j = 0; j < d[a1]; ++j) {
            double s = 0, m = -std::numeric_limits<double>::infinity();
            for (int64_t r = 0; r < d[axis]; ++r) {
                int64_t idx[3];
                idx[axis] = r;
                idx[a0] = i;
                idx[a1] = j;
                double v = x.at((idx[0] * 3 + idx[1]) * 4 + idx[2]);
                s += v;
                m = std::max(m, v);
            }
            out.push_back(kind == 0 ? s : kind == 1 ? s / static_cast<double>(d[axis]) : m);
        }
    return out;
}

TEST(Reduce, ForwardMatchesNaive) {
    Tensor x = random_tensor({2, 3, 4}, 1);
    Var (*ops[3])(Var, int, bool) = {sum, mean, max};
    for (int kind = 0; kind < 3; ++kind)
        for (int axis = -3; axis < 3; ++axis) {
            int ax = axis < 0 ? axis + 3 : axis;
            std::vector<double> want = naive_reduce(x, ax, kind);
            for (bool keep : {false, true}) {
                Graph g;
                Var y = ops[kind](g.input(x), axis, keep);
                std::vector<int64_t> dims = {2, 3, 4};
                if (keep)
                    dims[static_cast<size_t>(ax)] = 1;
                else
                    dims.erase(dims.begin() + ax);
                EXPECT_EQ(y.shape(), Shape(dims)) << kind << " " << axis;
                std::vector<double> got = y.value().to_vector();
                ASSERT_EQ(got.size(), want.size());
                for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12);
            }
        }
}

TEST(Reduce, WholeTensorSumsHaveShapeOne) {
    Tensor x = Tensor::from<double>({2, 2}, {1, 2, 3, 4});
    Graph g;
    Var s = sum_all(g.input(x)), m = mean_all(g.input(x));
    EXPECT_EQ(s.shape(), Shape({1}));
    EXPECT_EQ(m.shape(), Shape({1}));
    EXPECT_EQ(s.value().at(0), 10);
    EXPECT_EQ(m.value().at(0), 2.5);
    Graph g1;
    Var r = sum(g1.input(Tensor::from<double>({3}, {1, 2, 3})), 0);
    EXPECT_EQ(r.shape(), Shape({1}));
    EXPECT_EQ(r.value().at(0), 6);
    Graph g32;
    Var s32 = sum_all(g32.input(x.to(DType::F32)));
    EXPECT_EQ(s32.dtype(), DType::F32);
    EXPECT_EQ(s32.value().at(0), 10);
}

TEST(Reduce, MaxGradientGoesToFirstMaximum) {
    Graph g;
    Var x = g.variable(Tensor::from<double>({2, 4}, {1, 3, 3, 2, 5, 5, 5, 5}));
    Var y = max(x, 1);
    EXPECT_EQ(y.value().to_vector(), (std::vector<double>{3, 5}));
    g.backward(y);
    EXPECT_EQ(g.grad(x).to_vector(), (std::vector<double>{0, 1, 0, 0, 1, 0, 0, 0}));
}

TEST(Reduce, GradCheckAxisReductions) {
    for (int axis : {0, 1, 2, -1}) {
        for (bool keep : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "axis " << axis << " keepdim " << keep);
            auto fs = [=](Graph&, const std::vector<Var>& v) { return sum(v[0], axis, keep); };
            auto fm = [=](Graph&, const std::vector<Var>& v) { return mean(v[0], axis, keep); };
            auto fx = [=](Graph&, const std::vector<Var>& v) { return max(v[0], axis, keep); };
            check_gradients(fs, {random_tensor({3, 4, 5}, 1)});
            check_gradients(fm, {random_tensor({3, 4, 5}, 2)});
            check_gradients(fx, {random_tensor({3, 4, 5}, 3)});
        }
    }
    auto fa = [](Graph&, const std::vector<Var>& v) { return sum_all(v[0]); };
    auto fb = [](Graph&, const std::vector<Var>& v) { return mean_all(v[0]); };
    check_gradients(fa, {random_tensor({3, 4, 5}, 4)});
    check_gradients(fb, {random_tensor({3, 4, 5}, 5)});
    check_gradients(fb, {random_tensor({1}, 6)});
}

TEST(Reduce, SoftmaxForwardMatchesNaive) {
    Tensor x = random_tensor({2, 3, 4}, 9, -3, 3);
    for (int axis : {-1, 1, 0}) {
        Graph g;
        Var p = softmax(g.input(x), axis);
        Var lp = log_softmax(g.input(x), axis);
        int ax = axis < 0 ? axis + 3 : axis;
        // Compare against exp(x) / sum exp(x) computed directly.
        int64_t d[3] = {2, 3, 4};
        for (int64_t i = 0; i < 24; ++i) {
            int64_t idx[3] = {i / 12, (i / 4) % 3, i % 4};
            double den = 0;
            for (int64_t r = 0; r < d[ax]; ++r) {
                int64_t j[3] = {idx[0], idx[1], idx[2]};
                j[ax] = r;
                den += std::exp(x.at((j[0] * 3 + j[1]) * 4 + j[2]));
            }
            EXPECT_NEAR(p.value().at(i), std::exp(x.at(i)) / den, 1e-12);
            EXPECT_NEAR(lp.value().at(i), x.at(i) - std::log(den), 1e-12);
        }
    }
}

TEST(Reduce, SoftmaxIsNumericallyStable) {
    for (DType dt : {DType::F32, DType::F64}) {
        Graph g;
        Tensor x = Tensor::from<double>({1, 3}, {1000, 1001, -1000}).to(dt);
        Var p = softmax(g.input(x));
        Var lp = log_softmax(g.input(x));
        double e = std::exp(-1.0);
        EXPECT_NEAR(p.value().at(0), e / (1 + e), 1e-6);
        EXPECT_NEAR(p.value().at(1), 1 / (1 + e), 1e-6);
        EXPECT_EQ(p.value().at(2), 0);
        EXPECT_NEAR(lp.value().at(1), -std::log1p(e), 1e-5);
        EXPECT_TRUE(std::isfinite(lp.value().at(2)));
    }
}

TEST(Reduce, GradCheckSoftmax) {
    for (int axis : {-1, 1, 0}) {
        SCOPED_TRACE(axis);
        auto f = [=](Graph&, const std::vector<Var>& v) { return softmax(v[0], axis); };
        auto fl = [=](Graph&, const std::vector<Var>& v) { return log_softmax(v[0], axis); };
        check_gradients(f, {random_tensor({3, 4, 5}, 21, -2, 2)});
        check_gradients(fl, {random_tensor({3, 4, 5}, 22, -2, 2)});
    }
}

TEST(Reduce, RejectsBadAxis) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3}));
    EXPECT_THROW(sum(x, 2), Error);
    EXPECT_THROW(max(x, -3), Error);
    EXPECT_THROW(softmax(x, 5), Error);
    EXPECT_THROW(sum_all(g.input(Tensor::zeros({2}, DType::I32))), Error);
}

}  // namespace
}  // namespace benchtop
