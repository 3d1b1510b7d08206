// Tests of the decoder-only transformer: parameter names, shapes and count, errors, float64
// gradients of every parameter against central finite differences (with and without layer
// norm), n_last against the sliced full output (bit for bit in float32), a stack of 3 against
// 3 stacks of 1 (bit for bit), the initialiser's statistics, causality at the model level, and
// the logits, loss and gradients of PyTorch's golden cases (tests/golden/make_golden.py).
#include "benchtop/nn/transformer.h"

#include <gtest/gtest.h>

#include <limits>

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "benchtop/ops/ops.h"
#include "support/golden.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

TransformerSpec tiny_spec(bool ln) {
    return {.vocab = 5, .max_seq = 3, .d_model = 8, .n_heads = 2, .d_mlp = 16, .n_layers = 2,
            .layer_norm = ln};
}

Tensor make_tokens(const Shape& shape, int64_t vocab, int64_t salt = 0) {
    Tensor t = Tensor::empty(shape, DType::I32);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data<int32_t>()[i] = static_cast<int32_t>((i * 7 + 3 + salt * (i % 5)) % vocab);
    return t;
}

Tensor make_labels(const Shape& shape, int64_t classes) {
    Tensor y = Tensor::empty(shape, DType::I32);
    for (int64_t i = 0; i < y.numel(); ++i)
        y.data<int32_t>()[i] = static_cast<int32_t>((i * 5 + 1) % classes);
    return y;
}

std::vector<uint64_t> seeds_for(int64_t k, uint64_t first = 11) {
    std::vector<uint64_t> s;
    for (int64_t i = 0; i < k; ++i) s.push_back(first + static_cast<uint64_t>(i));
    return s;
}

void randomize(ParamSet& ps, uint64_t seed) {
    for (auto& e : ps.entries())
        e.value.copy_from(testing::random_tensor(e.value.shape(), seed++, -0.6, 0.6));
}

TEST(Transformer, ParamNamesShapesAndCount) {
    for (bool ln : {false, true}) {
        TransformerSpec s = tiny_spec(ln);
        ParamSet ps(3);
        add_transformer_params(ps, s);
        EXPECT_EQ(ps.value("embed.weight").shape(), Shape({3, 5, 8}));
        EXPECT_EQ(ps.value("pos_embed.weight").shape(), Shape({3, 3, 8}));
        EXPECT_EQ(ps.value("blocks.1.attn.q.weight").shape(), Shape({3, 8, 8}));
        EXPECT_EQ(ps.value("blocks.0.attn.out.bias").shape(), Shape({3, 8}));
        EXPECT_EQ(ps.value("blocks.1.mlp.fc1.weight").shape(), Shape({3, 16, 8}));
        EXPECT_EQ(ps.value("blocks.1.mlp.fc2.weight").shape(), Shape({3, 8, 16}));
        EXPECT_EQ(ps.value("unembed.weight").shape(), Shape({3, 5, 8}));
        EXPECT_EQ(ps.contains("ln_f.weight"), ln);
        EXPECT_EQ(ps.contains("blocks.0.ln2.bias"), ln);
        if (ln) {
            EXPECT_EQ(ps.value("blocks.1.ln1.weight").at(5), 1.0);
        }
        EXPECT_EQ(ps.numel_per_member(), transformer_param_count(s));
        EXPECT_EQ(ps.entries().size(), size_t(2 + 2 * 12 + 2 + (ln ? 2 * 4 + 2 : 0)));
    }
    // The timing spec: embeddings, one block, unembedding.
    TransformerSpec big{.vocab = 60, .max_seq = 3, .d_model = 128, .n_heads = 4, .d_mlp = 512};
    EXPECT_EQ(transformer_param_count(big),
              63 * 128 + 4 * (128 * 128 + 128) + 2 * 128 * 512 + 512 + 128 + 60 * 128 + 60);
    big.out = 10;
    big.layer_norm = true;
    big.n_layers = 3;
    EXPECT_EQ(transformer_param_count(big),
              63 * 128 + 3 * (4 * (128 * 128 + 128) + 2 * 128 * 512 + 512 + 128 + 4 * 128) +
                  2 * 128 + 10 * 128 + 10);
}

TEST(Transformer, RejectsBadSpecsAndInputs) {
    ParamSet ps(2);
    EXPECT_THROW(add_transformer_params(ps, {.vocab = 5, .max_seq = 3, .d_model = 10, .n_heads = 4}),
                 Error);
    EXPECT_THROW(add_transformer_params(ps, {.vocab = 0, .max_seq = 3}), Error);
    EXPECT_THROW(transformer_param_count({.vocab = 5, .max_seq = 3, .d_mlp = 0}), Error);
    TransformerSpec s = tiny_spec(false);
    add_transformer_params(ps, s);
    Graph g;
    auto expect_error = [&](const Tensor& tokens, int64_t n_last, const std::string& part) {
        try {
            transformer_forward(g, ps, s, tokens, n_last);
            ADD_FAILURE() << "expected an error mentioning " << part;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        }
    };
    expect_error(make_tokens({1, 2, 4}, 5), 0, "max_seq = 3");
    expect_error(make_tokens({3, 2, 3}, 5), 0, "[3, 2, 3]");
    expect_error(make_tokens({2, 3}, 5), 0, "[1, B, T] or [K, B, T]");
    expect_error(Tensor::zeros({1, 2, 3}, DType::F32), 0, "int32");
    expect_error(make_tokens({1, 2, 3}, 5), 4, "n_last = 4");
    expect_error(make_tokens({1, 2, 3}, 9), 0, "outside [0, 5)");
}

// Every entry of these tiny models is checked.
void check_param_gradients(const testing::ParamLossFn& f, ParamSet& ps) {
    testing::check_param_gradients(f, ps, std::numeric_limits<int64_t>::max());
}

TEST(Transformer, GradientsMatchFiniteDifferences) {
    for (int variant = 0; variant < 3; ++variant) {  // no layer norm; layer norm; layer norm and GELU
        const bool ln = variant > 0;
        SCOPED_TRACE(variant == 0 ? "no layer norm" : variant == 1 ? "layer norm" : "layer norm, gelu");
        TransformerSpec s = tiny_spec(ln);
        s.gelu = variant == 2;
        ParamSet ps(2, DType::F64);
        add_transformer_params(ps, s);
        randomize(ps, ln ? 300 : 200);
        Tensor shared = make_tokens({1, 2, 3}, 5), member = make_tokens({2, 2, 3}, 5, 1);
        // All positions, shared tokens: cross-entropy per position.
        check_param_gradients(
            [&](Graph& g, ParamSet& p) {
                return cross_entropy(transformer_forward(g, p, s, shared), make_labels({2, 2, 3}, 5),
                                     Reduction::None);
            },
            ps);
        // Per-member tokens, the last position only.
        check_param_gradients(
            [&](Graph& g, ParamSet& p) {
                return transformer_forward(g, p, s, member, /*n_last=*/1);
            },
            ps);
    }
}

// B > vocab: the first block runs on the (token, position) table. Its gradients against finite
// differences, and its values and gradients against the direct computation (token_table off).
TEST(Transformer, TokenTableMatchesDirectAndFiniteDifferences) {
    for (bool ln : {false, true}) {
        SCOPED_TRACE(ln ? "layer norm" : "no layer norm");
        TransformerSpec s = tiny_spec(ln);
        ParamSet ps(2, DType::F64);
        add_transformer_params(ps, s);
        randomize(ps, ln ? 500 : 400);
        Tensor shared = make_tokens({1, 7, 3}, 5), member = make_tokens({2, 7, 3}, 5, 1);
        check_param_gradients(
            [&](Graph& g, ParamSet& p) {
                return cross_entropy(transformer_forward(g, p, s, shared), make_labels({2, 7, 3}, 5),
                                     Reduction::None);
            },
            ps);
        check_param_gradients(
            [&](Graph& g, ParamSet& p) { return transformer_forward(g, p, s, member, /*n_last=*/1); }, ps);
        TransformerSpec direct = s;
        direct.token_table = false;
        for (DType dt : {DType::F32, DType::F64}) {
            ParamSet a(2, dt), b(2, dt);
            add_transformer_params(a, s);
            add_transformer_params(b, s);
            init_transformer(a, s, seeds_for(2));
            init_transformer(b, s, seeds_for(2));
            for (int64_t n_last : {0, 1}) {
                Graph ga, gb;
                a.zero_grad();
                b.zero_grad();
                Var la = cross_entropy(reshape(transformer_forward(ga, a, s, member, n_last), {2, n_last ? 7 : 21, 5}),
                                       make_labels({2, n_last ? 7 : 21}, 5));
                Var lb = cross_entropy(reshape(transformer_forward(gb, b, direct, member, n_last), {2, n_last ? 7 : 21, 5}),
                                       make_labels({2, n_last ? 7 : 21}, 5));
                for (int64_t k = 0; k < 2; ++k) {
                    if (dt == DType::F32) {
                        ASSERT_EQ(la.value().at(k), lb.value().at(k)) << "float32 values are the same bits";
                    } else {
                        ASSERT_NEAR(la.value().at(k), lb.value().at(k), 1e-12);
                    }
                }
                ga.backward(la);
                gb.backward(lb);
                for (auto& e : a.entries()) {
                    const Tensor& gr = b.grad(e.name);
                    for (int64_t i = 0; i < e.grad.numel(); ++i)
                        ASSERT_NEAR(e.grad.at(i), gr.at(i), (dt == DType::F32 ? 1e-5 : 1e-12) * (1 + std::abs(gr.at(i))))
                            << e.name << "[" << i << "] " << dtype_name(dt);
                }
            }
        }
    }
}

TEST(Transformer, LastPositionsEqualTheSlicedFullOutput) {
    for (bool ln : {false, true}) {
        for (DType dt : {DType::F32, DType::F64}) {
            TransformerSpec s{.vocab = 11, .max_seq = 6, .d_model = 16, .n_heads = 4, .d_mlp = 32,
                              .n_layers = 2, .layer_norm = ln, .out = 7};
            ParamSet ps(2, dt);
            add_transformer_params(ps, s);
            init_transformer(ps, s, seeds_for(2));
            const int64_t B = 3, T = 5;
            Tensor tokens = make_tokens({2, B, T}, s.vocab);
            Graph g;
            Tensor full = transformer_forward(g, ps, s, tokens).value();
            ASSERT_EQ(full.shape(), Shape({2, B, T, 7}));
            for (int64_t n : {1, 2, 5}) {
                Tensor part = transformer_forward(g, ps, s, tokens, n).value();
                ASSERT_EQ(part.shape(), Shape({2, B, n, 7}));
                // float32: the same bits (benchtop's GEMM computes each element on its own);
                // float64 runs on OpenBLAS, whose blocking depends on the row count.
                const double tol = dt == DType::F32 ? 0.0 : 1e-12;
                for (int64_t kb = 0; kb < 2 * B; ++kb)
                    for (int64_t i = 0; i < n * 7; ++i)
                        ASSERT_NEAR(part.at(kb * n * 7 + i), full.at((kb * T + T - n) * 7 + i), tol)
                            << dtype_name(dt) << (ln ? " layer norm" : "") << " n_last=" << n;
            }
        }
    }
}

TEST(Transformer, StackOfThreeEqualsThreeStacksOfOne) {
    TransformerSpec s{.vocab = 9, .max_seq = 4, .d_model = 16, .n_heads = 2, .d_mlp = 24,
                      .n_layers = 2, .layer_norm = true};
    const std::vector<uint64_t> seeds{7, 8, 9};
    const std::vector<double> scale{1.0, 0.5, 2.0};
    Tensor tokens = make_tokens({1, 4, 4}, s.vocab);
    auto run = [&](ParamSet& ps) {
        ps.zero_grad();
        Graph g;
        Var logits = transformer_forward(g, ps, s, tokens, 2);
        g.backward(cross_entropy(logits, make_labels({4, 2}, s.vocab)));
        return logits.value().clone();
    };
    ParamSet stack(3);
    add_transformer_params(stack, s);
    init_transformer(stack, s, seeds, scale);
    Tensor all = run(stack);
    const int64_t per = all.numel() / 3;
    for (int64_t k = 0; k < 3; ++k) {
        ParamSet one(1);
        add_transformer_params(one, s);
        init_transformer(one, s, std::span(seeds).subspan(size_t(k), 1),
                         std::span(scale).subspan(size_t(k), 1));
        Tensor y = run(one);
        for (int64_t i = 0; i < per; ++i) ASSERT_EQ(y.at(i), all.at(k * per + i)) << "member " << k;
        for (auto& e : one.entries()) {
            Tensor v = stack.value(e.name).member(k), gr = stack.grad(e.name).member(k);
            for (int64_t i = 0; i < e.value.numel(); ++i) {
                ASSERT_EQ(e.value.at(i), v.at(i)) << e.name << " member " << k;
                ASSERT_EQ(e.grad.at(i), gr.at(i)) << "d " << e.name << " member " << k;
            }
        }
    }
}

TEST(Transformer, InitStatistics) {
    TransformerSpec s{.vocab = 200, .max_seq = 64, .d_model = 64, .n_heads = 4, .d_mlp = 128,
                      .n_layers = 2, .layer_norm = true};
    ParamSet ps(2);
    add_transformer_params(ps, s);
    init_transformer(ps, s, std::vector<uint64_t>{5, 6}, std::vector<double>{1.0, 3.0});
    auto moments = [](const Tensor& t) {
        double m = 0, m2 = 0, mx = 0;
        for (int64_t i = 0; i < t.numel(); ++i) {
            m += t.at(i);
            m2 += t.at(i) * t.at(i);
            mx = std::max(mx, std::abs(t.at(i)));
        }
        const double n = static_cast<double>(t.numel());
        return std::array<double, 3>{m / n, std::sqrt(m2 / n - (m / n) * (m / n)), mx};
    };
    for (const char* name : {"embed.weight", "pos_embed.weight"}) {  // N(0, 1), then N(0, 9)
        for (int64_t k = 0; k < 2; ++k) {
            auto [mean, sd, mx] = moments(ps.value(name).member(k));
            const double sc = k == 0 ? 1.0 : 3.0;
            EXPECT_NEAR(mean, 0.0, 0.05 * sc) << name;
            EXPECT_NEAR(sd, sc, 0.05 * sc) << name;
        }
    }
    // Linears: uniform(+-1/sqrt(fan_in)) for weight and bias: sd = bound / sqrt(3).
    for (const auto& [name, fan_in] : std::vector<std::pair<std::string, int64_t>>{
             {"blocks.0.attn.q", 64}, {"blocks.1.attn.out", 64}, {"blocks.1.mlp.fc1", 64},
             {"blocks.0.mlp.fc2", 128}, {"unembed", 64}}) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        auto [mean, sd, mx] = moments(ps.value(name + ".weight").member(0));
        EXPECT_LE(mx, bound) << name;
        EXPECT_GT(mx, 0.95 * bound) << name;
        EXPECT_NEAR(sd, bound / std::sqrt(3.0), 0.08 * bound) << name;
        EXPECT_NEAR(mean, 0.0, 0.1 * bound) << name;
        auto [bmean, bsd, bmx] = moments(ps.value(name + ".bias").member(0));
        EXPECT_LE(bmx, bound) << name << ".bias";
        EXPECT_GT(bmx, 0.5 * bound) << name << ".bias";
        auto [mean1, sd1, mx1] = moments(ps.value(name + ".weight").member(1));
        EXPECT_LE(mx1, 3.0 * bound) << name << " member 1 (scale 3)";
        EXPECT_GT(mx1, 0.95 * 3.0 * bound) << name << " member 1 (scale 3)";
    }
    for (const char* n : {"blocks.0.ln1", "blocks.1.ln2", "ln_f"})
        for (int64_t i = 0; i < ps.value(std::string(n) + ".weight").numel(); ++i) {
            ASSERT_EQ(ps.value(std::string(n) + ".weight").at(i), 1.0) << n;
            ASSERT_EQ(ps.value(std::string(n) + ".bias").at(i), 0.0) << n;
        }
    // Member values depend on the member's seed only, scaled by its scale.
    ParamSet one(1);
    add_transformer_params(one, s);
    init_transformer(one, s, std::vector<uint64_t>{6});
    for (const char* n : {"embed.weight", "blocks.1.mlp.fc2.bias"}) {
        Tensor a = ps.value(n).member(1), b = one.value(n);
        for (int64_t i = 0; i < a.numel(); ++i)
            ASSERT_FLOAT_EQ(float(a.at(i)), float(3.0 * b.at(i))) << n;
    }
}

TEST(Transformer, LaterTokensDoNotChangeEarlierLogits) {
    TransformerSpec s{.vocab = 6, .max_seq = 5, .d_model = 16, .n_heads = 4, .d_mlp = 16,
                      .n_layers = 2, .layer_norm = true};
    ParamSet ps(2);
    add_transformer_params(ps, s);
    init_transformer(ps, s, seeds_for(2));
    const int64_t B = 2, T = 5, C = 6;
    Tensor tokens = make_tokens({1, B, T}, s.vocab);
    Graph g;
    Tensor base = transformer_forward(g, ps, s, tokens).value();
    for (int64_t t = 0; t < T; ++t) {
        Tensor changed = tokens.clone();
        for (int64_t b = 0; b < B; ++b) {
            int32_t& tok = changed.data<int32_t>()[b * T + t];
            tok = (tok + 1) % 6;
        }
        Tensor y = transformer_forward(g, ps, s, changed).value();
        for (int64_t kb = 0; kb < 2 * B; ++kb)
            for (int64_t p = 0; p < T; ++p) {
                bool differs = false;
                for (int64_t c = 0; c < C; ++c)
                    differs |= y.at((kb * T + p) * C + c) != base.at((kb * T + p) * C + c);
                EXPECT_EQ(differs, p >= t) << "token " << t << " changed, position " << p;
            }
    }
}

// ---------------------------------------------------------------- PyTorch golden cases

TransformerSpec spec_of(const golden::json& j) {
    return {.vocab = j.at("vocab").get<int64_t>(), .max_seq = j.at("max_seq").get<int64_t>(),
            .d_model = j.at("d_model").get<int64_t>(), .n_heads = j.at("n_heads").get<int64_t>(),
            .d_mlp = j.at("d_mlp").get<int64_t>(), .n_layers = j.at("n_layers").get<int64_t>(),
            .layer_norm = j.at("layer_norm").get<bool>(), .out = j.at("out").get<int64_t>()};
}

// Checks one golden case in `dtype` with relative tolerance `tol`, for n_last = 0 and 1;
// returns the largest relative error seen.
double check_golden_case(const golden::json& c, DType dtype, double tol) {
    double worst = 0;
    const TransformerSpec s = spec_of(c.at("spec"));
    const int64_t K = c.at("members").get<int64_t>();
    ParamSet ps(K, dtype);
    add_transformer_params(ps, s);
    std::set<std::string> names;
    for (auto& [name, t] : c.at("params").items()) {
        EXPECT_TRUE(ps.contains(name)) << "benchtop has no parameter " << name;
        if (!ps.contains(name)) return INFINITY;
        EXPECT_EQ(ps.value(name).shape(), golden::shape_of(t)) << name;
        if (ps.value(name).shape() != golden::shape_of(t)) return INFINITY;
        ps.value(name).copy_from(golden::tensor(t));
        names.insert(name);
    }
    EXPECT_EQ(names.size(), ps.entries().size()) << "parameters missing from the golden case";
    Tensor tokens = golden::tensor(c.at("tokens"), DType::I32);
    Tensor labels = golden::tensor(c.at("labels"), DType::I32);
    const int64_t B = tokens.shape()[1], T = tokens.shape()[2], O = transformer_out_size(s);
    for (int64_t n_last : {0, 1}) {
        SCOPED_TRACE("n_last " + std::to_string(n_last));
        ps.zero_grad();
        Graph g;
        Var logits = transformer_forward(g, ps, s, tokens, n_last);
        if (n_last == 0)
            worst = std::max(worst, golden::expect_close(logits.value(), c.at("logits"), "logits", tol));
        Var last = n_last == 0 ? slice(logits, 2, T - 1, T) : logits;
        Var loss = cross_entropy(reshape(last, {K, B, O}), labels);
        worst = std::max(worst, golden::expect_close(loss.value(), c.at("loss"), "loss", tol));
        g.backward(loss);
        // The key bias shifts every score of a softmax row by the same amount: its gradient is
        // zero up to rounding, so it is compared against the scale of all the gradients.
        double scale = 0;
        for (auto& [name, ref] : c.at("grads").items())
            for (const auto& v : ref.at("data")) scale = std::max(scale, std::abs(v.get<double>()));
        for (auto& [name, ref] : c.at("grads").items()) {
            if (name.ends_with("attn.k.bias")) {
                const Tensor& gk = ps.grad(name);
                for (int64_t i = 0; i < gk.numel(); ++i)
                    EXPECT_LE(std::abs(gk.at(i)), tol * scale) << "d " << name << "[" << i << "]";
            } else {
                worst = std::max(worst, golden::expect_close(ps.grad(name), ref, "d " + name, tol));
            }
        }
    }
    return worst;
}

TEST(TransformerGolden, MatchesPyTorch) {
    golden::json doc = golden::load("model_transformer.json");
    int n = 0;
    double worst32 = 0, worst64 = 0;
    for (const golden::json& c : doc.at("cases")) {
        SCOPED_TRACE(c.at("name").get<std::string>());
        worst32 = std::max(worst32, check_golden_case(c, DType::F32, golden::kRelTol));
        // float64 against references rounded to float32.
        worst64 = std::max(worst64, check_golden_case(c, DType::F64, 1e-6));
        ++n;
    }
    EXPECT_GE(n, 2);
    std::printf("[ golden   ] model_transformer.json %d cases, max relative error %.3g (float32), "
                "%.3g (float64)\n", n, worst32, worst64);
}

}  // namespace
}  // namespace benchtop
