#include "benchtop/ops/linalg.h"

#include <gtest/gtest.h>

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

TEST(Linear, RejectsWrongDtypeAndShape) {
    Graph g;
    Var x = g.input(Tensor::zeros({1, 5, 4}, DType::F64));
    Var w = g.input(Tensor::zeros({2, 3, 4}, DType::F32));
    EXPECT_THROW(linear(x, w), Error);
    Var w2 = g.input(Tensor::zeros({2, 3, 7}, DType::F64));
    EXPECT_THROW(linear(x, w2), Error);
}

}  // namespace
}  // namespace benchtop
