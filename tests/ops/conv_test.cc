// Tests for conv1d, max_pool1d and avg_pool1d: forward against naive loops, float64
// gradient checks (per-member and shared inputs), float32 agreement and error messages.
#include "benchtop/ops/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/shape_ops.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

// Naive PyTorch-style conv1d: y[k,b,o,t] = bias + sum_c,j w[k,o,c,j] x[k|0,b,c,t*s-p+j].
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, int s, int p) {
    int64_t Kx = x.size(0), B = x.size(1), C = x.size(2), L = x.size(3);
    int64_t K = w.size(0), O = w.size(1), k = w.size(3);
    int64_t Lo = (L + 2 * p - k) / s + 1;
    Tensor y = Tensor::zeros({K, B, O, Lo}, DType::F64);
    for (int64_t m = 0; m < K; ++m)
        for (int64_t bi = 0; bi < B; ++bi)
            for (int64_t o = 0; o < O; ++o)
                for (int64_t t = 0; t < Lo; ++t) {
                    double acc = b ? b->at(m * O + o) : 0.0;
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t j = 0; j < k; ++j) {
                            int64_t i = t * s - p + j;
                            if (i < 0 || i >= L) continue;
                            int64_t mx = Kx == 1 ? 0 : m;
                            acc += w.at(((m * O + o) * C + c) * k + j) *
                                   x.at(((mx * B + bi) * C + c) * L + i);
                        }
                    y.set(((m * B + bi) * O + o) * Lo + t, acc);
                }
    return y;
}

void expect_close(const Tensor& a, const Tensor& b, double tol) {
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a.at(i), b.at(i), tol) << "element " << i;
}

struct ConvCase {
    Shape x, w;
    int s, p;
};

TEST(Conv1d, ForwardMatchesNaive) {
    const ConvCase cases[] = {{{2, 3, 2, 9}, {2, 4, 2, 3}, 1, 0},
                              {{1, 4, 1, 40}, {3, 25, 1, 5}, 2, 1},
                              {{3, 2, 5, 10}, {3, 5, 5, 3}, 2, 1},
                              {{2, 1, 3, 4}, {2, 2, 3, 4}, 3, 2}};
    uint64_t seed = 1;
    for (const ConvCase& c : cases) {
        Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++);
        Tensor b = random_tensor({c.w[0], c.w[1]}, seed++);
        Graph g;
        Var y = conv1d(g.input(x), g.input(w), g.input(b), c.s, c.p);
        expect_close(y.value(), naive_conv(x, w, &b, c.s, c.p), 1e-12);
        Var y2 = conv1d(g.input(x), g.input(w), {}, c.s, c.p);
        expect_close(y2.value(), naive_conv(x, w, nullptr, c.s, c.p), 1e-12);
        // float32 agrees with the float64 result.
        Var y3 = conv1d(g.input(x.to(DType::F32)), g.input(w.to(DType::F32)),
                        g.input(b.to(DType::F32)), c.s, c.p);
        ASSERT_EQ(y3.dtype(), DType::F32);
        expect_close(y3.value(), y.value(), 1e-4);
    }
}

TEST(Conv1d, GradCheckPerMemberSharedAndNoBias) {
    auto f = [](int s, int p) {
        return [s, p](Graph&, const std::vector<Var>& v) {
            return conv1d(v[0], v[1], v.size() > 2 ? v[2] : Var{}, s, p);
        };
    };
    check_gradients(f(1, 0), {random_tensor({2, 2, 3, 6}, 1), random_tensor({2, 3, 3, 3}, 2),
                              random_tensor({2, 3}, 3)});
    check_gradients(f(2, 1), {random_tensor({3, 2, 2, 7}, 4), random_tensor({3, 2, 2, 3}, 5),
                              random_tensor({3, 2}, 6)});
    check_gradients(f(2, 1), {random_tensor({1, 3, 1, 8}, 7), random_tensor({3, 4, 1, 5}, 8),
                              random_tensor({3, 4}, 9)});
    check_gradients(f(3, 2), {random_tensor({1, 2, 2, 5}, 10), random_tensor({2, 2, 2, 4}, 11)});
}

// Gradients do not depend on which other inputs need one; float32 matches float64.
TEST(Conv1d, BackwardWithFrozenWeightAndFloat32) {
    Tensor x = random_tensor({2, 3, 2, 9}, 1), w = random_tensor({2, 4, 2, 3}, 2);
    Tensor b = random_tensor({2, 4}, 3), seed = random_tensor({2, 3, 4, 5}, 4);
    Graph g1;
    Var x1 = g1.variable(x), w1 = g1.variable(w), b1 = g1.variable(b);
    g1.backward(conv1d(x1, w1, b1, 2, 1), seed);
    Graph g2;
    Var x2 = g2.variable(x);
    g2.backward(conv1d(x2, g2.input(w), g2.input(b), 2, 1), seed);
    expect_close(g2.grad(x2), g1.grad(x1), 1e-14);
    Graph g3;
    Var w3 = g3.variable(w.to(DType::F32));
    Var b3 = g3.variable(b.to(DType::F32));
    g3.backward(conv1d(g3.input(x.to(DType::F32)), w3, b3, 2, 1), seed.to(DType::F32));
    expect_close(g3.grad(w3), g1.grad(w1), 1e-4);
    expect_close(g3.grad(b3), g1.grad(b1), 1e-4);
}

TEST(Conv1dRelu, GradCheckPerMemberSharedAndNoBias) {
    auto f = [](int s, int p) {
        return [s, p](Graph&, const std::vector<Var>& v) {
            return conv1d_relu(v[0], v[1], v.size() > 2 ? v[2] : Var{}, s, p);
        };
    };
    check_gradients(f(2, 1), {random_tensor({1, 3, 2, 9}, 31), random_tensor({1, 4, 2, 3}, 32),
                              random_tensor({1, 4}, 33)});
    check_gradients(f(1, 0), {random_tensor({2, 2, 3, 6}, 34), random_tensor({2, 3, 3, 3}, 35),
                              random_tensor({2, 3}, 36)});
    check_gradients(f(2, 1), {random_tensor({1, 3, 1, 8}, 37), random_tensor({3, 4, 1, 5}, 38),
                              random_tensor({3, 4}, 39)});
    check_gradients(f(3, 2), {random_tensor({1, 2, 2, 5}, 40), random_tensor({2, 2, 2, 4}, 41)});
}

// The fused op is bit-identical to relu(conv1d(...)) in float32, values and all gradients,
// per-member and shared input.
TEST(Conv1dRelu, BitIdenticalToUnfused) {
    for (int64_t kx : {int64_t(3), int64_t(1)}) {
        Tensor x = random_tensor({kx, 5, 4, 19}, 51).to(DType::F32);
        Tensor w = random_tensor({3, 6, 4, 3}, 52).to(DType::F32);
        Tensor b = random_tensor({3, 6}, 53).to(DType::F32);
        Tensor seed = random_tensor({3, 5, 6, 10}, 54).to(DType::F32);
        std::vector<Tensor> res[2];
        for (int fused = 0; fused < 2; ++fused) {
            Graph g;
            Var vx = g.variable(x), vw = g.variable(w), vb = g.variable(b);
            Var y = fused ? conv1d_relu(vx, vw, vb, 2, 1) : relu(conv1d(vx, vw, vb, 2, 1));
            g.backward(y, seed);
            res[fused] = {y.value().clone(), g.grad(vx).clone(), g.grad(vw).clone(),
                          g.grad(vb).clone()};
        }
        for (size_t i = 0; i < res[0].size(); ++i) {
            ASSERT_EQ(res[0][i].nbytes(), res[1][i].nbytes());
            EXPECT_EQ(std::memcmp(res[0][i].raw(), res[1][i].raw(), res[0][i].nbytes()), 0)
                << "tensor " << i << ", input members " << kx;
        }
    }
}

// The fused ReLU's backward in float32: the bias gradient is the sum of the masked output
// gradient in the documented order (16 interleaved partial sums, then pairwise), and every
// gradient equals relu(conv1d_clb(...))'s, for rows of B * Lo = 10 .. 90 values. GCC 12.2
// miscompiled the one-pass mask-and-sum loop when its 16 lanes spanned two vectors
// (-march=sapphirerapids, or AVX2), giving wrong bias gradients and a CNN stuck near 79%.
TEST(Conv1dClb, FusedReluBackwardEqualsScalarReference) {
    for (int64_t B = 1; B <= 9; ++B) {
        Tensor x = random_tensor({2, 3, 19, B}, 70 + uint64_t(B)).to(DType::F32);
        Tensor w = random_tensor({2, 4, 3, 3}, 80 + uint64_t(B)).to(DType::F32);
        Tensor b = random_tensor({2, 4}, 90 + uint64_t(B)).to(DType::F32);
        Tensor seed = random_tensor({2, 4, 10, B}, 100 + uint64_t(B)).to(DType::F32);
        std::vector<Tensor> res[2];
        Tensor y_fused;
        for (int fused = 0; fused < 2; ++fused) {
            Graph g;
            Var vx = g.variable(x), vw = g.variable(w), vb = g.variable(b);
            Var y = fused ? conv1d_clb_relu(vx, vw, vb, 2, 1) : relu(conv1d_clb(vx, vw, vb, 2, 1));
            g.backward(y, seed);
            if (fused) y_fused = y.value().clone();
            res[fused] = {y.value().clone(), g.grad(vx).clone(), g.grad(vw).clone(),
                          g.grad(vb).clone()};
        }
        for (size_t i = 0; i < res[0].size(); ++i)
            EXPECT_EQ(std::memcmp(res[0][i].raw(), res[1][i].raw(), res[0][i].nbytes()), 0)
                << "tensor " << i << ", B = " << B;
        const int64_t n = 10 * B;  // one output channel's row: Lo * B values
        const float* y = y_fused.data<float>();
        const float* dy = seed.data<float>();
        const float* db = res[1][3].data<float>();
        for (int64_t r = 0; r < 2 * 4; ++r) {
            float acc[16] = {};
            for (int64_t i = 0; i < n; ++i) acc[i % 16] += y[r * n + i] > 0.0f ? dy[r * n + i] : 0.0f;
            for (int w2 = 8; w2 >= 1; w2 /= 2)
                for (int j = 0; j < w2; ++j) acc[j] += acc[j + w2];
            EXPECT_EQ(db[r], acc[0]) << "member " << r / 4 << " channel " << r % 4 << ", B = " << B;
        }
    }
}

// conv1d_clb on [K, C, L, B] equals conv1d on [K, B, C, L] up to the layout.
TEST(Conv1dClb, ForwardMatchesNaive) {
    const ConvCase cases[] = {{{2, 3, 2, 9}, {2, 4, 2, 3}, 1, 0},
                              {{1, 4, 1, 40}, {3, 25, 1, 5}, 2, 1},
                              {{3, 2, 5, 10}, {3, 5, 5, 3}, 2, 1},
                              {{2, 1, 3, 4}, {2, 2, 3, 4}, 3, 2}};
    uint64_t seed = 61;
    for (const ConvCase& c : cases) {
        Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++);
        Tensor b = random_tensor({c.w[0], c.w[1]}, seed++);
        for (int relu_out = 0; relu_out < 2; ++relu_out) {
            Graph g;
            Var xc = permute(g.input(x), {0, 2, 3, 1});
            Var y = relu_out ? conv1d_clb_relu(xc, g.input(w), g.input(b), c.s, c.p)
                             : conv1d_clb(xc, g.input(w), g.input(b), c.s, c.p);
            Tensor ref = naive_conv(x, w, &b, c.s, c.p);
            if (relu_out)
                for (int64_t i = 0; i < ref.numel(); ++i) ref.set(i, std::max(ref.at(i), 0.0));
            expect_close(permute(y, {0, 3, 1, 2}).value(), ref, 1e-12);
            Var y2 = conv1d_clb(xc, g.input(w), {}, c.s, c.p);
            expect_close(permute(y2, {0, 3, 1, 2}).value(), naive_conv(x, w, nullptr, c.s, c.p),
                         1e-12);
        }
    }
}

TEST(Conv1dClb, GradCheckPerMemberSharedAndNoBias) {
    auto f = [](int s, int p, bool r) {
        return [s, p, r](Graph&, const std::vector<Var>& v) {
            Var b = v.size() > 2 ? v[2] : Var{};
            return r ? conv1d_clb_relu(v[0], v[1], b, s, p) : conv1d_clb(v[0], v[1], b, s, p);
        };
    };
    for (bool r : {false, true}) {
        check_gradients(f(2, 1, r), {random_tensor({1, 2, 9, 3}, 71), random_tensor({1, 4, 2, 3}, 72),
                                     random_tensor({1, 4}, 73)});
        check_gradients(f(1, 0, r), {random_tensor({2, 3, 6, 2}, 74), random_tensor({2, 3, 3, 3}, 75),
                                     random_tensor({2, 3}, 76)});
        check_gradients(f(2, 1, r), {random_tensor({1, 1, 8, 3}, 77), random_tensor({3, 4, 1, 5}, 78),
                                     random_tensor({3, 4}, 79)});
        check_gradients(f(3, 2, r), {random_tensor({1, 2, 5, 2}, 80), random_tensor({2, 2, 2, 4}, 81)});
    }
}

// Without a backward pass the columns are built a few positions at a time; the values are
// the same (float32, large batch so that several chunks are used).
TEST(Conv1dClb, NoGradForwardMatchesRecordedForward) {
    Tensor x = random_tensor({2, 25, 19, 1000}, 95).to(DType::F32);
    Tensor w = random_tensor({2, 25, 25, 3}, 96).to(DType::F32);
    Tensor b = random_tensor({2, 25}, 97).to(DType::F32);
    Graph g1;
    Tensor y1 = conv1d_clb_relu(g1.input(x), g1.variable(w), g1.variable(b), 2, 1).value();
    Graph g2;
    NoGradScope ng(g2);
    Tensor y2 = conv1d_clb_relu(g2.input(x), g2.variable(w), g2.variable(b), 2, 1).value();
    ASSERT_EQ(y1.nbytes(), y2.nbytes());
    for (int64_t i = 0; i < y1.numel(); ++i) ASSERT_NEAR(y1.at(i), y2.at(i), 1e-5) << i;
}

// A member's values and gradients do not depend on the other members of the stack.
TEST(Conv1dClb, MemberOfStackBitIdenticalToAlone) {
    Tensor x = random_tensor({3, 4, 19, 6}, 91).to(DType::F32);
    Tensor w = random_tensor({3, 5, 4, 3}, 92).to(DType::F32);
    Tensor b = random_tensor({3, 5}, 93).to(DType::F32);
    Tensor seed = random_tensor({3, 5, 10, 6}, 94).to(DType::F32);
    auto run = [&](const Tensor& xs, const Tensor& ws, const Tensor& bs, const Tensor& ss) {
        Graph g;
        Var vx = g.variable(xs), vw = g.variable(ws), vb = g.variable(bs);
        Var y = conv1d_clb_relu(vx, vw, vb, 2, 1);
        g.backward(y, ss);
        return std::vector<Tensor>{y.value().clone(), g.grad(vx).clone(), g.grad(vw).clone(),
                                   g.grad(vb).clone()};
    };
    std::vector<Tensor> stack = run(x, w, b, seed);
    auto member = [](const Tensor& t, int64_t k) {
        Shape s = t.shape();
        int64_t n = t.numel() / s[0];
        s[0] = 1;
        Tensor o = Tensor::empty(s, t.dtype());
        std::memcpy(o.raw(), static_cast<const char*>(t.raw()) + k * n * 4, size_t(n) * 4);
        return o;
    };
    std::vector<Tensor> alone = run(member(x, 1), member(w, 1), member(b, 1), member(seed, 1));
    for (size_t i = 0; i < alone.size(); ++i) {
        Tensor m = member(stack[i], 1);
        ASSERT_EQ(m.nbytes(), alone[i].nbytes());
        EXPECT_EQ(std::memcmp(m.raw(), alone[i].raw(), m.nbytes()), 0) << "tensor " << i;
    }
}

TEST(Conv1d, RejectsMismatchedShapesAndDtypes) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3, 4, 10}, DType::F64));
    Var w = g.input(Tensor::zeros({2, 5, 3, 3}, DType::F64));
    try {
        conv1d(x, w);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("conv1d"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3, 4, 10]"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 5, 3, 3]"), std::string::npos) << m;
    }
    Var w32 = g.input(Tensor::zeros({2, 5, 4, 3}, DType::F32));
    EXPECT_THROW(conv1d(x, w32), Error);
    Var w3 = g.input(Tensor::zeros({3, 5, 4, 3}, DType::F64));
    EXPECT_THROW(conv1d(x, w3), Error);
    Var w4 = g.input(Tensor::zeros({2, 5, 4, 3}, DType::F64));
    EXPECT_THROW(conv1d(x, w4, g.input(Tensor::zeros({2, 4}, DType::F64))), Error);
    EXPECT_THROW(conv1d(x, w4, {}, 0, 0), Error);
    Var wlong = g.input(Tensor::zeros({2, 5, 4, 13}, DType::F64));
    EXPECT_THROW(conv1d(x, wlong), Error);
}

Tensor naive_pool(const Tensor& x, int k, int s, int p, bool is_max) {
    int64_t L = x.shape().back(), rows = x.numel() / L, Lo = (L + 2 * p - k) / s + 1;
    Shape os = x.shape();
    os[os.rank() - 1] = Lo;
    Tensor y = Tensor::zeros(os, DType::F64);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < Lo; ++o) {
            double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
            for (int j = 0; j < k; ++j) {
                int64_t i = o * s - p + j;
                if (i < 0 || i >= L) continue;
                double v = x.at(r * L + i);
                acc = is_max ? std::max(acc, v) : acc + v;
            }
            y.set(r * Lo + o, is_max ? acc : acc / k);
        }
    return y;
}

TEST(Pool1d, ForwardMatchesNaive) {
    struct C {
        int k, s, p;
    };
    const C cases[] = {{2, -1, 0}, {3, 2, 1}, {3, 1, 1}, {4, 3, 2}, {5, 5, 0}};
    Tensor x = random_tensor({2, 3, 2, 11}, 3);
    for (const C& c : cases) {
        Graph g;
        int s = c.s < 0 ? c.k : c.s;
        expect_close(max_pool1d(g.input(x), c.k, c.s, c.p).value(),
                     naive_pool(x, c.k, s, c.p, true), 1e-15);
        expect_close(avg_pool1d(g.input(x), c.k, c.s, c.p).value(),
                     naive_pool(x, c.k, s, c.p, false), 1e-15);
        Var y32 = avg_pool1d(g.input(x.to(DType::F32)), c.k, c.s, c.p);
        expect_close(y32.value(), naive_pool(x, c.k, s, c.p, false), 1e-6);
    }
    // Padding zeros count in the average (count_include_pad=True).
    Graph g;
    Tensor ones = Tensor::full({1, 1, 1, 4}, 1.0, DType::F64);
    Var a = avg_pool1d(g.input(ones), 2, 2, 1);
    EXPECT_EQ(a.value().to_vector(), (std::vector<double>{0.5, 1.0, 0.5}));
}

TEST(Pool1d, GradCheck) {
    for (int pad : {0, 1}) {
        auto fmax = [pad](Graph&, const std::vector<Var>& v) {
            return max_pool1d(v[0], 3, 2, pad);
        };
        auto favg = [pad](Graph&, const std::vector<Var>& v) {
            return avg_pool1d(v[0], 3, 2, pad);
        };
        check_gradients(fmax, {random_tensor({2, 3, 2, 9}, 20 + uint64_t(pad))});
        check_gradients(favg, {random_tensor({2, 3, 2, 9}, 30 + uint64_t(pad))});
        check_gradients(fmax, {random_tensor({1, 2, 3, 8}, 40 + uint64_t(pad))});
        check_gradients(favg, {random_tensor({1, 2, 3, 8}, 50 + uint64_t(pad))});
    }
    auto fdef = [](Graph&, const std::vector<Var>& v) { return max_pool1d(v[0], 2); };
    check_gradients(fdef, {random_tensor({3, 2, 4}, 60)});
}

TEST(Pool1d, RejectsBadArguments) {
    Graph g;
    Var x = g.input(Tensor::zeros({2, 3, 4, 5}, DType::F64));
    try {
        max_pool1d(x, 2, 2, 2);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("max_pool1d"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3, 4, 5]"), std::string::npos) << m;
    }
    EXPECT_THROW(avg_pool1d(x, 0), Error);
    EXPECT_THROW(avg_pool1d(x, 7), Error);
    EXPECT_THROW(max_pool1d(g.input(Tensor::zeros({2, 5}, DType::I32)), 2), Error);
}

}  // namespace
}  // namespace benchtop
