// The five architectures the engine must express (MLP, residual MLP, 1-D CNN,
// bidirectional GRU, a small transformer block), each built from the ops for a stack of
// K = 2 members and gradient-checked end to end against central finite differences in
// float64 with respect to every parameter.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "benchtop/nn/cnn.h"
#include "benchtop/nn/gru.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/ops/ops.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using LossFn = testing::ParamLossFn;
using testing::check_param_gradients;

void randomize(ParamSet& ps, uint64_t seed) {
    for (auto& e : ps.entries()) {
        Tensor r = testing::random_tensor(e.value.shape(), seed++, -0.6, 0.6);
        e.value.copy_from(r);
    }
}

Tensor labels_for(int64_t n, int64_t classes) {
    Tensor y = Tensor::empty({n}, DType::I32);
    for (int64_t i = 0; i < n; ++i) y.data<int32_t>()[i] = static_cast<int32_t>((i * 7 + 3) % classes);
    return y;
}

TEST(Architectures, MlpAndResidualMlp) {
    for (bool residual : {false, true}) {
        MlpSpec spec{.in = 5, .hidden = 6, .out = 3, .residual = residual};
        ParamSet ps(2, DType::F64);
        add_mlp_params(ps, spec);
        randomize(ps, 1);
        Tensor x = testing::random_tensor({1, 4, 5}, 7);
        Tensor y = labels_for(4, 3);
        check_param_gradients(
            [&](Graph& g, ParamSet& p) {
                return cross_entropy(mlp_forward(p, spec, g.input(x)), y);
            },
            ps);
    }
}

TEST(Architectures, Cnn) {
    CnnSpec spec{.length = 12, .channels = 3, .out = 3};
    ParamSet ps(2, DType::F64);
    add_cnn_params(ps, spec);
    randomize(ps, 11);
    Tensor x = testing::random_tensor({1, 3, 12}, 8);
    Tensor y = labels_for(3, 3);
    check_param_gradients(
        [&](Graph& g, ParamSet& p) { return cross_entropy(cnn_forward(p, spec, g.input(x)), y); },
        ps);
}

TEST(Architectures, BidirectionalGru) {
    GruSpec spec{.length = 4, .input = 1, .hidden = 3, .out = 3};
    ParamSet ps(2, DType::F64);
    add_gru_params(ps, spec);
    randomize(ps, 21);
    Tensor x = testing::random_tensor({2, 3, 4}, 9);  // per-member inputs
    Tensor y = labels_for(3, 3);
    check_param_gradients(
        [&](Graph& g, ParamSet& p) { return cross_entropy(gru_forward(p, spec, g.input(x)), y); },
        ps);
}

TEST(Architectures, TransformerBlock) {
    const int64_t V = 7, E = 4, T = 3, B = 2, C = 3, F = 8;
    ParamSet ps(2, DType::F64);
    ps.add("embed.weight", {V, E});
    ps.add("pos", {T, E});
    for (const char* n : {"q", "k", "v", "o"}) ps.add(std::string(n) + ".weight", {E, E});
    ps.add("ln1.weight", {E});
    ps.add("ln1.bias", {E});
    ps.add("ff1.weight", {F, E});
    ps.add("ff1.bias", {F});
    ps.add("ff2.weight", {E, F});
    ps.add("ff2.bias", {E});
    ps.add("head.weight", {C, E});
    ps.add("head.bias", {C});
    randomize(ps, 31);
    Tensor tokens = Tensor::empty({1, B, T}, DType::I32);
    for (int64_t i = 0; i < B * T; ++i) tokens.data<int32_t>()[i] = static_cast<int32_t>((i * 3) % V);
    Tensor y = labels_for(B, C);
    auto f = [&](Graph& g, ParamSet& p) {
        const int64_t K = p.n_members();
        Var x = embedding(tokens, p.var(g, "embed.weight"));           // [K, B, T, E]
        x = x + reshape(p.var(g, "pos"), {K, 1, T, E});
        Var q = linear(x, p.var(g, "q.weight")), k = linear(x, p.var(g, "k.weight"));
        Var v = linear(x, p.var(g, "v.weight"));
        Var scores = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(double(E)));
        Var att = matmul(softmax(scores, -1), v);                       // [K, B, T, E]
        x = layer_norm(x + linear(att, p.var(g, "o.weight")), p.var(g, "ln1.weight"),
                       p.var(g, "ln1.bias"));
        Var ff = linear(gelu(linear(x, p.var(g, "ff1.weight"), p.var(g, "ff1.bias"))),
                        p.var(g, "ff2.weight"), p.var(g, "ff2.bias"));
        x = x + ff;
        Var pooled = mean(x, 2);                                        // [K, B, E]
        return cross_entropy(linear(pooled, p.var(g, "head.weight"), p.var(g, "head.bias")), y);
    };
    check_param_gradients(f, ps);
}

}  // namespace
}  // namespace benchtop
