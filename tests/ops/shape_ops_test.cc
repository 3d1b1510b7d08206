// Tests for reshape, permute, transpose, concat, slice and embedding: forward against index
// arithmetic, float64 gradient checks (per-member and shared forms) and error messages.
#include "benchtop/ops/shape_ops.h"

#include <gtest/gtest.h>

#include <string>

#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/reduce.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << m;
    }
}

TEST(ShapeReshape, ForwardAndGrad) {
    Tensor x = random_tensor({2, 3, 4}, 1);
    Graph g;
    Var y = reshape(g.input(x), {2, 12});
    EXPECT_EQ(y.shape(), Shape({2, 12}));
    EXPECT_EQ(y.value().to_vector(), x.to_vector());
    auto f = [](Graph&, const std::vector<Var>& v) { return reshape(v[0], {3, 2, 2, 2}); };
    check_gradients(f, {random_tensor({3, 8}, 2)});
    auto f1 = [](Graph&, const std::vector<Var>& v) { return reshape(v[0], {1, 6}); };
    check_gradients(f1, {random_tensor({1, 2, 3}, 3)});
    expect_error([&] { reshape(g.input(x), {5, 5}); }, {"reshape", "[2, 3, 4]", "[5, 5]"});
}

TEST(ShapePermute, ForwardMatchesIndexing) {
    Tensor x = random_tensor({2, 3, 4, 5}, 1);
    Graph g;
    Var y = permute(g.input(x), {0, 3, 1, 2});
    ASSERT_EQ(y.shape(), Shape({2, 5, 3, 4}));
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 5; ++b)
            for (int c = 0; c < 3; ++c)
                for (int d = 0; d < 4; ++d)
                    ASSERT_EQ(y.value().at(((a * 5 + b) * 3 + c) * 4 + d),
                              x.at(((a * 3 + c) * 4 + d) * 5 + b));
    Var t = transpose(g.input(x), 1, -1);
    ASSERT_EQ(t.shape(), Shape({2, 5, 4, 3}));
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 5; ++b)
            for (int c = 0; c < 4; ++c)
                for (int d = 0; d < 3; ++d)
                    ASSERT_EQ(t.value().at(((a * 5 + b) * 4 + c) * 3 + d),
                              x.at(((a * 3 + d) * 4 + c) * 5 + b));
    Var y32 = permute(g.input(x.to(DType::F32)), {3, 2, 1, 0});
    EXPECT_EQ(y32.shape(), Shape({5, 4, 3, 2}));
    EXPECT_FLOAT_EQ(float(y32.value().at(1)), float(x.at(60)));
}

TEST(ShapePermute, GradCheck) {
    auto f = [](Graph&, const std::vector<Var>& v) { return permute(v[0], {0, 2, 3, 1}); };
    check_gradients(f, {random_tensor({2, 3, 2, 4}, 1)});
    check_gradients(f, {random_tensor({1, 2, 3, 2}, 2)});
    auto tr = [](Graph&, const std::vector<Var>& v) { return transpose(v[0], 1, 2); };
    check_gradients(tr, {random_tensor({3, 4, 5}, 3)});
}

// Block swaps of trailing axes run as tiled 2-D transposes; sizes beyond one 16 x 16 tile
// and with partial tiles, against indexing, forward and backward (accumulating).
TEST(ShapePermute, TiledTransposeMatchesIndexing) {
    Tensor x = random_tensor({2, 3, 7, 37}, 4);
    Graph g;
    Var vx = g.variable(x);
    Var y = permute(vx, {0, 3, 1, 2});  // [2, 37, 3, 7]
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 37; ++b)
            for (int c = 0; c < 3; ++c)
                for (int d = 0; d < 7; ++d)
                    ASSERT_EQ(y.value().at(((a * 37 + b) * 3 + c) * 7 + d),
                              x.at(((a * 3 + c) * 7 + d) * 37 + b));
    Tensor seed = random_tensor(y.shape(), 5);
    Var z = permute(vx, {0, 2, 3, 1});  // x also reaches the loss through a second path
    Tensor seed2 = random_tensor(z.shape(), 6);
    g.backward(add(sum_all(mul(y, g.input(seed))), sum_all(mul(z, g.input(seed2)))));
    for (int a = 0; a < 2; ++a)
        for (int c = 0; c < 3; ++c)
            for (int d = 0; d < 7; ++d)
                for (int b = 0; b < 37; ++b) {
                    double want = seed.at(((a * 37 + b) * 3 + c) * 7 + d) +
                                  seed2.at(((a * 7 + d) * 37 + b) * 3 + c);
                    ASSERT_EQ(g.grad(vx).at(((a * 3 + c) * 7 + d) * 37 + b), want);
                }
    auto f = [](Graph&, const std::vector<Var>& v) { return permute(v[0], {1, 0}); };
    check_gradients(f, {random_tensor({17, 33}, 7)});
}

TEST(ShapePermute, RejectsBadOrder) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3, 4}, DType::F64));
    expect_error([&] { permute(x, {0, 1}); }, {"permute", "[2, 3, 4]"});
    expect_error([&] { permute(x, {0, 1, 1}); }, {"permute", "[0, 1, 1]", "[2, 3, 4]"});
    EXPECT_THROW(transpose(x, 0, 3), Error);
}

TEST(ShapeConcat, ForwardAlongEveryAxis) {
    Tensor a = random_tensor({2, 3, 4}, 1);
    for (int axis = 0; axis < 3; ++axis) {
        Shape sb = a.shape();
        sb[axis] = 2;
        Tensor b = random_tensor(sb, 2);
        Graph g;
        Var y = concat({g.input(a), g.input(b)}, axis);
        Shape so = a.shape();
        so[axis] += 2;
        ASSERT_EQ(y.shape(), so);
        for (int i = 0; i < so[0]; ++i)
            for (int j = 0; j < so[1]; ++j)
                for (int k = 0; k < so[2]; ++k) {
                    int idx[3] = {i, j, k};
                    double want;
                    if (idx[axis] < a.shape()[axis]) {
                        want = a.at((i * 3 + j) * 4 + k);
                    } else {
                        idx[axis] -= int(a.shape()[axis]);
                        want = b.at((idx[0] * sb[1] + idx[1]) * sb[2] + idx[2]);
                    }
                    ASSERT_EQ(y.value().at((i * so[1] + j) * so[2] + k), want);
                }
    }
    Graph g;
    Var one = concat({g.input(a)}, -1);
    EXPECT_EQ(one.value().to_vector(), a.to_vector());
}

TEST(ShapeConcat, GradCheckIncludingManyInputs) {
    auto f1 = [](Graph&, const std::vector<Var>& v) { return concat(v, 1); };
    check_gradients(f1, {random_tensor({2, 3, 2}, 1), random_tensor({2, 1, 2}, 2),
                         random_tensor({2, 2, 2}, 3)});
    auto f0 = [](Graph&, const std::vector<Var>& v) { return concat(v, 0); };
    check_gradients(f0, {random_tensor({1, 3}, 4), random_tensor({2, 3}, 5)});
    std::vector<Tensor> many;
    for (uint64_t i = 0; i < 7; ++i) many.push_back(random_tensor({1, 2, int64_t(i % 3) + 1}, i));
    auto f2 = [](Graph&, const std::vector<Var>& v) { return concat(v, -1); };
    check_gradients(f2, many);
    Graph g;
    std::vector<Var> vs;
    for (const Tensor& t : many) vs.push_back(g.input(t));
    Var y = concat(vs, 2);
    EXPECT_EQ(y.shape(), Shape({1, 2, 13}));  // widths 1, 2, 3, 1, 2, 3, 1
    EXPECT_EQ(y.value().at(13 + 12), many[6].at(1));
    EXPECT_EQ(y.value().at(13 + 3), many[2].at(3));
}

TEST(ShapeConcat, RejectsMismatchedShapes) {
    Graph g;
    Var a = g.input(Tensor::zeros({2, 3, 4}, DType::F64));
    Var b = g.input(Tensor::zeros({2, 5, 4}, DType::F64));
    expect_error([&] { concat({a, b}, 2); }, {"concat", "[2, 3, 4]", "[2, 5, 4]"});
    EXPECT_THROW(concat({a, g.input(Tensor::zeros({2, 3, 4}, DType::F32))}, 0), Error);
    EXPECT_THROW(concat({}, 0), Error);
    EXPECT_THROW(concat({a, a}, 3), Error);
}

TEST(ShapeSlice, ForwardGradAndErrors) {
    Tensor x = random_tensor({2, 5, 3}, 1);
    Graph g;
    Var y = slice(g.input(x), 1, 1, 4);
    ASSERT_EQ(y.shape(), Shape({2, 3, 3}));
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b)
            for (int c = 0; c < 3; ++c)
                ASSERT_EQ(y.value().at((a * 3 + b) * 3 + c), x.at((a * 5 + b + 1) * 3 + c));
    auto f = [](Graph&, const std::vector<Var>& v) { return slice(v[0], -1, 1, 3); };
    check_gradients(f, {random_tensor({3, 2, 4}, 2)});
    auto f0 = [](Graph&, const std::vector<Var>& v) { return slice(v[0], 0, 1, 2); };
    check_gradients(f0, {random_tensor({3, 2, 4}, 3)});
    expect_error([&] { slice(g.input(x), 1, 2, 6); }, {"slice", "[2, 6)", "[2, 5, 3]"});
    EXPECT_THROW(slice(g.input(x), 1, -1, 2), Error);
    EXPECT_THROW(slice(g.input(x), 1, 3, 2), Error);
    EXPECT_THROW(slice(g.input(x), 3, 0, 1), Error);
}

TEST(Embedding, ForwardPerMemberAndShared) {
    Tensor w = random_tensor({2, 5, 3}, 1);
    for (int64_t ki : {2, 1}) {
        Tensor idx =
            Tensor::from<int32_t>({ki, 2, 2}, ki == 2 ? std::vector<int32_t>{0, 4, 2, 2, 1, 3, 0, 4}
                                                      : std::vector<int32_t>{3, 1, 0, 4});
        Graph g;
        Var y = embedding(idx, g.input(w));
        ASSERT_EQ(y.shape(), Shape({2, 2, 2, 3}));
        for (int k = 0; k < 2; ++k)
            for (int i = 0; i < 4; ++i) {
                int v = int(idx.at((ki == 1 ? 0 : k) * 4 + i));
                for (int e = 0; e < 3; ++e)
                    ASSERT_EQ(y.value().at((k * 4 + i) * 3 + e), w.at((k * 5 + v) * 3 + e));
            }
    }
}

TEST(Embedding, GradCheckWithRepeatedIndices) {
    Tensor idx = Tensor::from<int32_t>({3, 4}, {0, 1, 1, 3, 2, 2, 2, 0, 3, 0, 1, 3});
    auto f = [&](Graph&, const std::vector<Var>& v) { return embedding(idx, v[0]); };
    check_gradients(f, {random_tensor({3, 4, 2}, 1)});
    Tensor shared = Tensor::from<int32_t>({1, 2, 3}, {0, 3, 3, 1, 2, 0});
    auto fs = [&](Graph&, const std::vector<Var>& v) { return embedding(shared, v[0]); };
    check_gradients(fs, {random_tensor({2, 4, 3}, 2)});
}

TEST(Embedding, BackwardScattersIntoRowsAndKeepsIndices) {
    Tensor idx = Tensor::from<int32_t>({1, 3}, {2, 0, 2});
    Graph g;
    Var w = g.variable(random_tensor({2, 3, 2}, 1));
    Var y = embedding(idx, w);
    idx.set(0, 1);  // the op kept its own copy of the indices
    g.backward(y);
    std::vector<double> want = {1, 1, 0, 0, 2, 2, 1, 1, 0, 0, 2, 2};
    EXPECT_EQ(g.grad(w).to_vector(), want);
}

TEST(Embedding, RejectsOutOfRangeAndBadShapes) {
    Graph g;
    Var w = g.input(Tensor::zeros({2, 5, 3}, DType::F64));
    Tensor bad = Tensor::from<int32_t>({2, 2}, {0, 1, 7, 2});
    expect_error([&] { embedding(bad, w); }, {"embedding", "7", "V = 5"});
    Tensor neg = Tensor::from<int32_t>({1, 2}, {-1, 2});
    expect_error([&] { embedding(neg, w); }, {"embedding", "-1"});
    EXPECT_THROW(embedding(Tensor::from<int32_t>({3, 2}, {0, 0, 0, 0, 0, 0}), w), Error);
    EXPECT_THROW(embedding(Tensor::zeros({2, 2}, DType::F32), w), Error);
}

}  // namespace
}  // namespace benchtop
