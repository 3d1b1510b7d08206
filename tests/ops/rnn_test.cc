// gru_sequence: float64 gradient checks (K = 1 and K > 1, shared and per-member inputs, both
// directions), agreement with the composed gru_cell model, member independence (bit for
// bit in float32) and shape errors.
#include "benchtop/ops/rnn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "benchtop/nn/gru.h"
#include "benchtop/ops/ops.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

struct Case {
    int64_t K, Kx, B, L, I, H;
    bool reverse;
};

void check_case(const Case& c) {
    SCOPED_TRACE(::testing::Message()
                 << "K=" << c.K << " Kx=" << c.Kx << " B=" << c.B << " L=" << c.L << " I=" << c.I
                 << " H=" << c.H << " reverse=" << c.reverse);
    const int64_t G = 3 * c.H;
    std::vector<Tensor> in{
        random_tensor({c.Kx, c.B, c.L * c.I}, 1), random_tensor({c.K, G, c.I}, 2, -0.8, 0.8),
        random_tensor({c.K, G, c.H}, 3, -0.8, 0.8), random_tensor({c.K, G}, 4, -0.5, 0.5),
        random_tensor({c.K, G}, 5, -0.5, 0.5)};
    check_gradients(
        [&](Graph&, const std::vector<Var>& v) {
            return gru_sequence(v[0], v[1], v[2], v[3], v[4], c.L, c.reverse);
        },
        in);
}

TEST(GruSequence, GradientsSingleMember) {
    check_case({1, 1, 3, 4, 1, 2, false});
    check_case({1, 1, 3, 4, 1, 2, true});
    check_case({1, 1, 2, 3, 2, 3, false});
}

TEST(GruSequence, GradientsStackPerMemberAndSharedInput) {
    check_case({3, 3, 2, 4, 2, 3, false});
    check_case({3, 3, 2, 4, 2, 3, true});
    check_case({3, 1, 2, 3, 1, 2, false});  // shared input: its gradient sums over members
    check_case({2, 1, 2, 3, 2, 2, true});
}

TEST(GruSequence, SingleStep) {
    check_case({2, 2, 3, 1, 2, 2, false});
}

// The fused model equals the one composed from gru_cell: values and parameter gradients.
TEST(GruSequence, MatchesComposedCells) {
    GruSpec spec{.length = 5, .input = 2, .hidden = 3, .out = 4};
    for (int64_t kx : {1, 2}) {
        ParamSet ps(2, DType::F64);
        add_gru_params(ps, spec);
        uint64_t seed = 40;
        for (auto& e : ps.entries())
            e.value.copy_from(random_tensor(e.value.shape(), seed++, -0.7, 0.7));
        Tensor x = random_tensor({kx, 3, 10}, 77);
        Tensor w = random_tensor({2, 3, 4}, 78);
        std::vector<Tensor> grads[2];
        Tensor out[2];
        for (int fused = 0; fused < 2; ++fused) {
            ps.zero_grad();
            Graph g;
            Var xin = g.input(x);
            Var y = fused ? gru_forward(ps, spec, xin) : gru_forward_composed(ps, spec, xin);
            out[fused] = y.value().clone();
            g.backward(y, w);
            for (auto& e : ps.entries()) grads[fused].push_back(e.grad.clone());
        }
        for (int64_t i = 0; i < out[0].numel(); ++i) EXPECT_NEAR(out[0].at(i), out[1].at(i), 1e-13);
        for (size_t p = 0; p < grads[0].size(); ++p)
            for (int64_t i = 0; i < grads[0][p].numel(); ++i)
                EXPECT_NEAR(grads[0][p].at(i), grads[1][p].at(i), 1e-12)
                    << ps.entries()[p].name << "[" << i << "]";
    }
}

// A member's output and gradients do not depend on the other members (float32, bit for bit).
TEST(GruSequence, MemberIndependentOfStack) {
    const int64_t B = 5, L = 7, I = 1, H = 6, G = 3 * H;
    auto run = [&](const std::vector<int64_t>& members, std::vector<std::vector<float>>* res) {
        const int64_t K = static_cast<int64_t>(members.size());
        Tensor wi = Tensor::empty({K, G, I}), wh = Tensor::empty({K, G, H});
        Tensor bi = Tensor::empty({K, G}), bh = Tensor::empty({K, G});
        Tensor x = Tensor::empty({K, B, L * I}), w = Tensor::empty({K, B, L, H});
        for (int64_t k = 0; k < K; ++k) {
            uint64_t s = static_cast<uint64_t>(members[static_cast<size_t>(k)]) * 10;
            wi.member(k).copy_from(random_tensor({G, I}, s + 1));
            wh.member(k).copy_from(random_tensor({G, H}, s + 2));
            bi.member(k).copy_from(random_tensor({G}, s + 3));
            bh.member(k).copy_from(random_tensor({G}, s + 4));
            x.member(k).copy_from(random_tensor({B, L * I}, s + 5));
            w.member(k).copy_from(random_tensor({B, L, H}, s + 6));
        }
        Graph g;
        std::vector<Tensor> grads;
        std::vector<Var> p;
        for (const Tensor& t : {wi, wh, bi, bh}) {
            grads.push_back(Tensor::zeros(t.shape()));
            p.push_back(g.param(t, grads.back()));
        }
        Var y = gru_sequence(g.variable(x), p[0], p[1], p[2], p[3], L, true);
        g.backward(y, w);
        res->clear();
        for (int64_t k = 0; k < K; ++k) {
            std::vector<float> v;
            for (const Tensor& t : {y.value(), grads[0], grads[1], grads[2], grads[3]}) {
                Tensor m = t.member(k);
                v.insert(v.end(), m.data<float>(), m.data<float>() + m.numel());
            }
            res->push_back(v);
        }
    };
    std::vector<std::vector<float>> stack, alone;
    run({4, 9, 2}, &stack);
    run({9}, &alone);
    ASSERT_EQ(stack[1].size(), alone[0].size());
    EXPECT_EQ(std::memcmp(stack[1].data(), alone[0].data(), alone[0].size() * sizeof(float)), 0);
}

// float32 (vectorised sigmoid/tanh approximations) agrees with float64 (std:: functions),
// also with saturated gates; values and gradients.
TEST(GruSequence, Float32MatchesFloat64) {
    const int64_t K = 2, B = 37, L = 6, I = 2, H = 5, G = 3 * H;
    for (double scale : {1.0, 6.0}) {
        std::vector<Tensor> in{random_tensor({1, B, L * I}, 11, -scale, scale),
                               random_tensor({K, G, I}, 12), random_tensor({K, G, H}, 13),
                               random_tensor({K, G}, 14), random_tensor({K, G}, 15)};
        Tensor seed = random_tensor({K, B, L, H}, 16);
        std::vector<Tensor> res[2];
        for (int f32 = 0; f32 < 2; ++f32) {
            DType dt = f32 ? DType::F32 : DType::F64;
            Graph g;
            std::vector<Var> v;
            for (const Tensor& t : in) v.push_back(g.variable(t.to(dt)));
            Var y = gru_sequence(v[0], v[1], v[2], v[3], v[4], L, true);
            g.backward(y, seed.to(dt));
            res[f32].push_back(y.value().to(DType::F64));
            for (const Var& x : v) res[f32].push_back(g.grad(x).to(DType::F64));
        }
        for (size_t i = 0; i < res[0].size(); ++i)
            for (int64_t j = 0; j < res[0][i].numel(); ++j)
                EXPECT_NEAR(res[1][i].at(j), res[0][i].at(j),
                            2e-5 * (1 + std::abs(res[0][i].at(j))))
                    << "scale " << scale << " tensor " << i << " element " << j;
    }
}

TEST(GruSequence, NanPropagates) {
    const int64_t B = 3, L = 4, H = 2, G = 3 * H;
    Tensor x = Tensor::zeros({1, B, L});
    x.set(1 * L + 2, std::nan(""));  // row 1, step 2
    Graph g;
    Var y = gru_sequence(g.input(x), g.input(random_tensor({1, G, 1}, 1).to(DType::F32)),
                         g.input(random_tensor({1, G, H}, 2).to(DType::F32)),
                         g.input(random_tensor({1, G}, 3).to(DType::F32)),
                         g.input(random_tensor({1, G}, 4).to(DType::F32)), L);
    for (int64_t t = 0; t < L; ++t)
        for (int64_t j = 0; j < H; ++j) {
            EXPECT_EQ(std::isnan(y.value().at((1 * L + t) * H + j)), t >= 2) << t << " " << j;
            EXPECT_FALSE(std::isnan(y.value().at((0 * L + t) * H + j)));
        }
}

TEST(GruSequence, ShapeErrors) {
    Graph g;
    Var x = g.input(Tensor::zeros({1, 2, 8}));
    Var wi = g.input(Tensor::zeros({2, 9, 2})), wh = g.input(Tensor::zeros({2, 9, 3}));
    Var b = g.input(Tensor::zeros({2, 9}));
    EXPECT_NO_THROW(gru_sequence(x, wi, wh, b, b, 4));
    EXPECT_THROW(gru_sequence(x, wi, wh, b, b, 3), Error);  // 8 != 3 * 2
    EXPECT_THROW(gru_sequence(x, wi, g.input(Tensor::zeros({2, 9, 2})), b, b, 4), Error);
    EXPECT_THROW(gru_sequence(x, wi, wh, g.input(Tensor::zeros({2, 6})), b, 4), Error);
    EXPECT_THROW(gru_sequence(g.input(Tensor::zeros({3, 2, 8})), wi, wh, b, b, 4), Error);
}

}  // namespace
}  // namespace benchtop
