#include "benchtop/ops/linalg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "benchtop/ops/elementwise.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

TEST(Matmul, ForwardMatchesNaive) {
    Tensor a = random_tensor({2, 3, 4}, 1), b = random_tensor({2, 4, 5}, 2);
    Graph g;
    Var y = matmul(g.input(a), g.input(b));
    ASSERT_EQ(y.shape(), Shape({2, 3, 5}));
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 5; ++j) {
                double s = 0;
                for (int l = 0; l < 4; ++l) s += a.at(k * 12 + i * 4 + l) * b.at(k * 20 + l * 5 + j);
                EXPECT_NEAR(y.value().at(k * 15 + i * 5 + j), s, 1e-12);
            }
}

TEST(Matmul, GradCheckBatchedAndBroadcast) {
    auto f = [](Graph&, const std::vector<Var>& v) { return matmul(v[0], v[1]); };
    check_gradients(f, {random_tensor({3, 2, 4}, 1), random_tensor({3, 4, 5}, 2)});
    check_gradients(f, {random_tensor({2, 4}, 3), random_tensor({3, 4, 5}, 4)});
    check_gradients(f, {random_tensor({2, 1, 3, 4}, 5), random_tensor({5, 4, 2}, 6)});
}

TEST(Matmul, RejectsMismatchedShapes) {
    Graph g;
    Var a = g.input(Tensor::zeros({2, 3, 4})), b = g.input(Tensor::zeros({2, 5, 6}));
    try {
        matmul(a, b);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("[2, 3, 4]"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("[2, 5, 6]"), std::string::npos) << e.what();
    }
}

TEST(Linear, GradCheckPerMemberAndShared) {
    auto f = [](Graph&, const std::vector<Var>& v) { return linear(v[0], v[1], v[2]); };
    check_gradients(f, {random_tensor({3, 5, 4}, 1), random_tensor({3, 2, 4}, 2),
                        random_tensor({3, 2}, 3)});
    check_gradients(f, {random_tensor({1, 5, 4}, 4), random_tensor({3, 2, 4}, 5),
                        random_tensor({3, 2}, 6)});
    check_gradients(f, {random_tensor({2, 3, 2, 4}, 7), random_tensor({2, 6, 4}, 8),
                        random_tensor({2, 6}, 9)});
    auto nobias = [](Graph&, const std::vector<Var>& v) { return linear(v[0], v[1]); };
    check_gradients(nobias, {random_tensor({1, 5, 4}, 4), random_tensor({1, 2, 4}, 5)});
}

TEST(LinearRelu, GradCheckPerMemberAndShared) {
    auto f = [](Graph&, const std::vector<Var>& v) { return linear_relu(v[0], v[1], v[2]); };
    check_gradients(f, {random_tensor({1, 5, 4}, 11), random_tensor({1, 3, 4}, 12),
                        random_tensor({1, 3}, 13)});
    check_gradients(f, {random_tensor({3, 5, 4}, 1), random_tensor({3, 2, 4}, 2),
                        random_tensor({3, 2}, 3)});
    check_gradients(f, {random_tensor({1, 5, 4}, 4), random_tensor({3, 2, 4}, 5),
                        random_tensor({3, 2}, 6)});
    check_gradients(f, {random_tensor({2, 3, 2, 4}, 7), random_tensor({2, 6, 4}, 8),
                        random_tensor({2, 6}, 9)});
    auto nobias = [](Graph&, const std::vector<Var>& v) { return linear_relu(v[0], v[1]); };
    check_gradients(nobias, {random_tensor({1, 5, 4}, 4), random_tensor({2, 2, 4}, 5)});
}

// The fused op is bit-identical to relu(linear(...)) in float32, values and all gradients.
TEST(LinearRelu, BitIdenticalToUnfused) {
    Tensor x = random_tensor({3, 7, 9}, 21).to(DType::F32), w = random_tensor({3, 5, 9}, 22).to(DType::F32);
    Tensor b = random_tensor({3, 5}, 23).to(DType::F32), seed = random_tensor({3, 7, 5}, 24).to(DType::F32);
    std::vector<Tensor> res[2];
    for (int fused = 0; fused < 2; ++fused) {
        Graph g;
        Var vx = g.variable(x), vw = g.variable(w), vb = g.variable(b);
        Var y = fused ? linear_relu(vx, vw, vb) : relu(linear(vx, vw, vb));
        g.backward(y, seed);
        res[fused] = {y.value().clone(), g.grad(vx).clone(), g.grad(vw).clone(), g.grad(vb).clone()};
    }
    for (size_t i = 0; i < res[0].size(); ++i) {
        ASSERT_EQ(res[0][i].nbytes(), res[1][i].nbytes());
        EXPECT_EQ(std::memcmp(res[0][i].raw(), res[1][i].raw(), res[0][i].nbytes()), 0) << "tensor " << i;
    }
}

TEST(LinearReluResidual, GradCheckPerMemberAndShared) {
    auto f = [](Graph&, const std::vector<Var>& v) {
        return linear_relu_residual(v[0], v[1], v[2]);
    };
    check_gradients(
        f, {random_tensor({1, 5, 4}, 41), random_tensor({1, 4, 4}, 42), random_tensor({1, 4}, 43)});
    check_gradients(
        f, {random_tensor({3, 5, 4}, 44), random_tensor({3, 4, 4}, 45), random_tensor({3, 4}, 46)});
    check_gradients(
        f, {random_tensor({1, 5, 4}, 47), random_tensor({3, 4, 4}, 48), random_tensor({3, 4}, 49)});
    check_gradients(f, {random_tensor({2, 3, 2, 4}, 50), random_tensor({2, 4, 4}, 51),
                        random_tensor({2, 4}, 52)});
    auto nobias = [](Graph&, const std::vector<Var>& v) {
        return linear_relu_residual(v[0], v[1]);
    };
    check_gradients(nobias, {random_tensor({1, 5, 4}, 53), random_tensor({2, 4, 4}, 54)});
    // x also feeds a later op, so its gradient already holds a contribution.
    auto reused = [](Graph&, const std::vector<Var>& v) {
        return linear_relu_residual(v[0], v[1], v[2]) * v[0];
    };
    check_gradients(reused, {random_tensor({1, 5, 4}, 55), random_tensor({3, 4, 4}, 56),
                             random_tensor({3, 4}, 57)});
    check_gradients(reused, {random_tensor({3, 5, 4}, 58), random_tensor({3, 4, 4}, 59),
                             random_tensor({3, 4}, 60)});
}

// The fused op is bit-identical to x + linear_relu(x, w, b) in float32, values and all
// gradients: K = 1 and K = 3, shared and per-member x, with and without bias, and with x
// also feeding a later op (its gradient then already holds a contribution).
TEST(LinearReluResidual, BitIdenticalToComposed) {
    const int64_t N = 7, D = 9;
    for (int64_t K : {1, 3}) {
        for (int64_t Kx : {int64_t(1), K}) {
            for (bool bias : {true, false}) {
                for (bool reuse : {false, true}) {
                    SCOPED_TRACE("K " + std::to_string(K) + " Kx " + std::to_string(Kx) + " bias " +
                                 std::to_string(bias) + " reuse " + std::to_string(reuse));
                    Tensor x = random_tensor({Kx, N, D}, 61).to(DType::F32);
                    Tensor w = random_tensor({K, D, D}, 62).to(DType::F32);
                    Tensor b = random_tensor({K, D}, 63).to(DType::F32);
                    Tensor seed = random_tensor({K, N, D}, 64, -3, 3).to(DType::F32);
                    std::vector<Tensor> res[2];
                    for (int fused = 0; fused < 2; ++fused) {
                        Graph g;
                        Var vx = g.variable(x), vw = g.variable(w), vb = g.variable(b);
                        Var ub = bias ? vb : Var{};
                        Var y =
                            fused ? linear_relu_residual(vx, vw, ub) : vx + linear_relu(vx, vw, ub);
                        if (reuse) y = y * vx;
                        g.backward(y, seed);
                        res[fused] = {y.value().clone(), g.grad(vx).clone(), g.grad(vw).clone()};
                        if (bias) res[fused].push_back(g.grad(vb).clone());
                    }
                    ASSERT_EQ(res[0].size(), res[1].size());
                    for (size_t i = 0; i < res[0].size(); ++i) {
                        ASSERT_EQ(res[0][i].nbytes(), res[1][i].nbytes());
                        EXPECT_EQ(std::memcmp(res[0][i].raw(), res[1][i].raw(), res[0][i].nbytes()),
                                  0)
                            << "tensor " << i;
                    }
                }
            }
        }
    }
}

TEST(LinearReluResidual, RejectsOutputsOtherThanInputs) {
    Graph g;
    Var x = g.input(Tensor::zeros({1, 5, 4}));
    Var w = g.input(Tensor::zeros({2, 3, 4}));
    try {
        linear_relu_residual(x, w);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("[1, 5, 4]"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("[2, 3, 4]"), std::string::npos) << e.what();
    }
}

// float32 bias gradients (fixed-order partial sums over the rows) against a double sum of
// the same float32 terms, for row counts around the group of four and column counts around
// the chunk of 32; each member's gradient is bit-identical to the member's op alone.
TEST(Linear, Float32BiasGradientMatchesDoubleSum) {
    const int64_t K = 3, D = 5;
    for (bool relu_out : {false, true}) {
        for (int64_t N : {1, 3, 4, 7, 37, 100}) {
            for (int64_t O : {1, 10, 32, 70, 100}) {
                SCOPED_TRACE("relu " + std::to_string(relu_out) + " N " + std::to_string(N) +
                             " O " + std::to_string(O));
                Tensor x = random_tensor({K, N, D}, 31).to(DType::F32);
                Tensor w = random_tensor({K, O, D}, 32).to(DType::F32);
                Tensor b = random_tensor({K, O}, 33).to(DType::F32);
                Tensor seed = random_tensor({K, N, O}, 34, -3, 3).to(DType::F32);
                Graph g;
                Var vb = g.variable(b);
                Var y = relu_out ? linear_relu(g.input(x), g.input(w), vb)
                                 : linear(g.input(x), g.input(w), vb);
                g.backward(y, seed);
                Tensor db = g.grad(vb);
                for (int64_t k = 0; k < K; ++k) {
                    for (int64_t o = 0; o < O; ++o) {
                        double ref = 0, mag = 0;
                        for (int64_t i = 0; i < N; ++i) {
                            int64_t at = (k * N + i) * O + o;
                            double t = relu_out && !(y.value().at(at) > 0) ? 0.0 : seed.at(at);
                            ref += t;
                            mag += std::fabs(t);
                        }
                        ASSERT_NEAR(db.at(k * O + o), ref, 1e-6 * mag)
                            << "member " << k << " unit " << o;
                    }
                }
                // Member 1 alone: the same bits.
                auto member1 = [](const Tensor& t) {
                    std::vector<int64_t> dims = t.shape().vec();
                    dims[0] = 1;
                    return t.member(1).clone().reshape(Shape(dims));
                };
                Tensor x1 = member1(x), w1 = member1(w), b1 = member1(b), s1 = member1(seed);
                Graph g1;
                Var vb1 = g1.variable(b1);
                Var y1 = relu_out ? linear_relu(g1.input(x1), g1.input(w1), vb1)
                                  : linear(g1.input(x1), g1.input(w1), vb1);
                g1.backward(y1, s1);
                EXPECT_EQ(std::memcmp(g1.grad(vb1).raw(), db.data<float>() + O,
                                      static_cast<size_t>(O) * 4),
                          0);
            }
        }
    }
}

TEST(Linear, RejectsWrongDtypeAndShape) {
    Graph g;
    Var x = g.input(Tensor::zeros({1, 5, 4}, DType::F64));
    Var w = g.input(Tensor::zeros({2, 3, 4}, DType::F32));
    EXPECT_THROW(linear(x, w), Error);
    Var w2 = g.input(Tensor::zeros({2, 3, 7}, DType::F64));
    EXPECT_THROW(linear(x, w2), Error);
    EXPECT_THROW(linear_relu(x, w2), Error);
}

}  // namespace
}  // namespace benchtop
