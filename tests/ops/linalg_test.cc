#include "benchtop/ops/linalg.h"

#include <gtest/gtest.h>

#include <cstring>

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
