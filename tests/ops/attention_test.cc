// Tests of the multi-head attention op: float64 gradient checks (causal or not, Tq == Tk and
// Tq < Tk, one or several heads, K = 1 and 2, q = k = v), equality with the same computation
// composed from reshape/permute/matmul/softmax and an additive mask, the causal mask, member
// independence, query rows that do not depend on how many queries are asked for, float32
// against float64, and error messages.
#include "benchtop/ops/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "benchtop/ops/ops.h"
#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::random_tensor;

struct Cfg {
    int64_t K, B, Tq, Tk, D, H;
    bool causal;
};

std::string cfg_str(const Cfg& c) {
    return "K=" + std::to_string(c.K) + " B=" + std::to_string(c.B) + " Tq=" +
           std::to_string(c.Tq) + " Tk=" + std::to_string(c.Tk) + " D=" + std::to_string(c.D) +
           " H=" + std::to_string(c.H) + (c.causal ? " causal" : "");
}

// The same attention from existing ops: heads split by reshape + permute, scores by matmul,
// the causal mask as an additive -1e300 (exp underflows to exactly 0), softmax, matmul.
Var composed_attention(Var q, Var k, Var v, int64_t H, bool causal) {
    Graph& g = *q.g;
    const int64_t K = q.shape()[0], B = q.shape()[1], Tq = q.shape()[2], D = q.shape()[3];
    const int64_t Tk = k.shape()[2], dh = D / H;
    auto heads = [&](Var x, int64_t T) {  // [K, B, T, D] -> [K, B, H, T, dh]
        return permute(reshape(x, {K, B, T, H, dh}), {0, 1, 3, 2, 4});
    };
    Var s = matmul(heads(q, Tq), transpose(heads(k, Tk), -1, -2)) *
            (1.0 / std::sqrt(static_cast<double>(dh)));
    if (causal) {
        Tensor mask = Tensor::zeros({Tq, Tk}, q.dtype());
        for (int64_t i = 0; i < Tq; ++i)
            for (int64_t j = Tk - Tq + i + 1; j < Tk; ++j) mask.set(i * Tk + j, -1e300);
        s = s + g.input(mask);
    }
    Var o = matmul(softmax(s, -1), heads(v, Tk));  // [K, B, H, Tq, dh]
    return reshape(permute(o, {0, 1, 3, 2, 4}), {K, B, Tq, D});
}

const std::vector<Cfg>& configs() {
    static const std::vector<Cfg> cs = {
        {2, 2, 3, 3, 6, 1, false}, {2, 2, 3, 3, 6, 1, true},  {2, 2, 3, 3, 6, 3, false},
        {2, 2, 3, 3, 6, 3, true},  {2, 2, 2, 4, 6, 2, false}, {2, 2, 2, 4, 6, 2, true},
        {2, 1, 1, 4, 4, 2, true},  {1, 3, 3, 3, 4, 2, true},  {2, 1, 4, 4, 18, 2, true},
        {2, 2, 2, 5, 20, 2, false},
    };
    return cs;
}

TEST(Attention, GradCheck) {
    for (const Cfg& c : configs()) {
        SCOPED_TRACE(cfg_str(c));
        auto f = [&](Graph&, const std::vector<Var>& x) {
            return attention(x[0], x[1], x[2], c.H, c.causal);
        };
        check_gradients(f, {random_tensor({c.K, c.B, c.Tq, c.D}, 1, -1.5, 1.5),
                            random_tensor({c.K, c.B, c.Tk, c.D}, 2, -1.5, 1.5),
                            random_tensor({c.K, c.B, c.Tk, c.D}, 3)});
    }
}

TEST(Attention, GradCheckSelfAttentionAndAccumulation) {
    // q = k = v: one gradient written by three roles; then a gradient that already holds
    // another op's contribution (the add's backward runs first).
    auto self = [](Graph&, const std::vector<Var>& x) { return attention(x[0], x[0], x[0], 2, true); };
    check_gradients(self, {random_tensor({2, 2, 4, 6}, 4)});
    auto acc = [](Graph&, const std::vector<Var>& x) {
        return attention(x[0], x[1], x[1], 2, false) + x[0] * x[1];
    };
    check_gradients(acc, {random_tensor({2, 2, 3, 6}, 5), random_tensor({2, 2, 3, 6}, 6)});
}

TEST(Attention, MatchesComposedOps) {
    std::vector<Cfg> cs = configs();
    cs.push_back({2, 2, 64, 64, 32, 4, true});  // a long sequence
    cs.push_back({2, 2, 16, 64, 32, 4, true});
    cs.push_back({1, 2, 64, 64, 32, 4, false});
    for (const Cfg& c : cs) {
        SCOPED_TRACE(cfg_str(c));
        Tensor tq = random_tensor({c.K, c.B, c.Tq, c.D}, 7, -2, 2);
        Tensor tk = random_tensor({c.K, c.B, c.Tk, c.D}, 8, -2, 2);
        Tensor tv = random_tensor({c.K, c.B, c.Tk, c.D}, 9);
        Tensor up = random_tensor({c.K, c.B, c.Tq, c.D}, 10);
        std::vector<Tensor> outs, grads;
        for (bool fused : {true, false}) {
            Graph g;
            Var q = g.variable(tq), k = g.variable(tk), v = g.variable(tv);
            Var y = fused ? attention(q, k, v, c.H, c.causal)
                          : composed_attention(q, k, v, c.H, c.causal);
            g.backward(y, up);
            outs.push_back(y.value().clone());
            for (Var x : {q, k, v}) grads.push_back(g.grad(x).clone());
        }
        ASSERT_EQ(outs[0].shape(), outs[1].shape());
        for (int64_t i = 0; i < outs[0].numel(); ++i)
            ASSERT_NEAR(outs[0].at(i), outs[1].at(i), 1e-12) << "output " << i;
        for (size_t j = 0; j < 3; ++j)
            for (int64_t i = 0; i < grads[j].numel(); ++i)
                ASSERT_NEAR(grads[j].at(i), grads[j + 3].at(i), 1e-12)
                    << "gradient of input " << j << " element " << i;
    }
}

TEST(Attention, CausalMaskBlocksTheFuture) {
    for (int64_t Tq : {5, 3}) {
        const int64_t K = 2, B = 2, Tk = 5, D = 4;
        Tensor tq = random_tensor({K, B, Tq, D}, 11), tk = random_tensor({K, B, Tk, D}, 12);
        Tensor tv = random_tensor({K, B, Tk, D}, 13);
        auto run = [&](const Tensor& k, const Tensor& v) {
            Graph g;
            return attention(g.input(tq), g.input(k), g.input(v), 2, true).value().clone();
        };
        Tensor base = run(tk, tv);
        for (int64_t pos = 1; pos < Tk; ++pos) {  // change key and value at absolute position pos
            Tensor k2 = tk.clone(), v2 = tv.clone();
            for (int64_t kb = 0; kb < K * B; ++kb)
                for (int64_t c = 0; c < D; ++c) {
                    k2.set((kb * Tk + pos) * D + c, 3.0 + double(c));
                    v2.set((kb * Tk + pos) * D + c, -7.0);
                }
            Tensor y = run(k2, v2);
            for (int64_t kb = 0; kb < K * B; ++kb)
                for (int64_t i = 0; i < Tq; ++i) {
                    const int64_t abs_pos = Tk - Tq + i;
                    bool changed = false;
                    for (int64_t c = 0; c < D; ++c) {
                        const int64_t at = (kb * Tq + i) * D + c;
                        changed |= y.at(at) != base.at(at);
                    }
                    EXPECT_EQ(changed, abs_pos >= pos)
                        << "Tq=" << Tq << " query " << i << " (position " << abs_pos
                        << ") after changing position " << pos;
                }
        }
    }
}

TEST(Attention, MembersAreIndependent) {
    const int64_t K = 2, B = 3, T = 4, D = 8;
    Tensor tq = random_tensor({K, B, T, D}, 14), tk = random_tensor({K, B, T, D}, 15);
    Tensor tv = random_tensor({K, B, T, D}, 16);
    for (DType dt : {DType::F64, DType::F32}) {
        auto run = [&](const Tensor& q, const Tensor& k, const Tensor& v) {
            Graph g;
            return attention(g.input(q.to(dt)), g.input(k.to(dt)), g.input(v.to(dt)), 2, true)
                .value()
                .clone();
        };
        Tensor base = run(tq, tk, tv);
        Tensor q2 = tq.clone(), k2 = tk.clone(), v2 = tv.clone();
        for (int64_t i = 0; i < B * T * D; ++i) {  // member 0 only
            q2.set(i, 0.5 * q2.at(i) + 0.1);
            k2.set(i, -k2.at(i));
            v2.set(i, 2.0 * v2.at(i));
        }
        Tensor y = run(q2, k2, v2);
        const int64_t m = B * T * D;
        for (int64_t i = 0; i < m; ++i) EXPECT_EQ(y.at(m + i), base.at(m + i)) << "member 1, " << i;
        bool member0_changed = false;
        for (int64_t i = 0; i < m; ++i) member0_changed |= y.at(i) != base.at(i);
        EXPECT_TRUE(member0_changed);
    }
}

TEST(Attention, QueryRowsDoNotDependOnTheNumberOfQueries) {
    // The last n queries of a causal sequence, asked for alone, give the same bits as those
    // rows of the full call (what the transformer's n_last relies on).
    const int64_t K = 2, B = 3, T = 7, D = 24;
    for (DType dt : {DType::F32, DType::F64}) {
        Tensor tq = random_tensor({K, B, T, D}, 17).to(dt), tk = random_tensor({K, B, T, D}, 18).to(dt);
        Tensor tv = random_tensor({K, B, T, D}, 19).to(dt);
        Graph g;
        Var q = g.input(tq), k = g.input(tk), v = g.input(tv);
        Tensor full = attention(q, k, v, 3, true).value();
        for (int64_t n : {1, 3}) {
            Tensor part = attention(slice(q, 2, T - n, T), k, v, 3, true).value();
            for (int64_t kb = 0; kb < K * B; ++kb)
                for (int64_t i = 0; i < n * D; ++i)
                    ASSERT_EQ(part.at(kb * n * D + i), full.at((kb * T + T - n) * D + i))
                        << dtype_name(dt) << " n=" << n;
        }
    }
}

TEST(Attention, Float32MatchesFloat64) {
    const int64_t K = 2, B = 4, Tq = 3, Tk = 5, D = 32;
    Tensor tq = random_tensor({K, B, Tq, D}, 20), tk = random_tensor({K, B, Tk, D}, 21);
    Tensor tv = random_tensor({K, B, Tk, D}, 22), up = random_tensor({K, B, Tq, D}, 23);
    std::vector<Tensor> res;
    for (DType dt : {DType::F64, DType::F32}) {
        Graph g;
        Var q = g.variable(tq.to(dt)), k = g.variable(tk.to(dt)), v = g.variable(tv.to(dt));
        Var y = attention(q, k, v, 4, true);
        g.backward(y, up.to(dt));
        res.push_back(y.value().clone());
        for (Var x : {q, k, v}) res.push_back(g.grad(x).clone());
    }
    for (size_t j = 0; j < 4; ++j)
        for (int64_t i = 0; i < res[j].numel(); ++i)
            ASSERT_NEAR(res[j + 4].at(i), res[j].at(i), 2e-6) << "tensor " << j << " element " << i;
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        const std::string m = e.what();
        for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << m;
    }
}

TEST(Attention, RejectsBadShapes) {
    Graph g;
    auto in = [&](const Shape& s) { return g.input(Tensor::zeros(s, DType::F64)); };
    Var q = in({2, 3, 4, 6}), kv = in({2, 3, 5, 6});
    expect_error([&] { attention(in({2, 4, 6}), kv, kv, 2, false); },
                 {"attention", "[2, 4, 6]", "[K, B, T, D]"});
    expect_error([&] { attention(q, kv, in({2, 3, 4, 6}), 2, false); },
                 {"k and v", "[2, 3, 5, 6]", "[2, 3, 4, 6]"});
    expect_error([&] { attention(q, in({1, 3, 5, 6}), in({1, 3, 5, 6}), 2, false); },
                 {"[2, 3, 4, 6]", "[1, 3, 5, 6]", "share K, B and D"});
    expect_error([&] { attention(q, in({2, 3, 5, 8}), in({2, 3, 5, 8}), 2, false); },
                 {"share K, B and D"});
    expect_error([&] { attention(q, kv, kv, 4, false); }, {"n_heads = 4", "D = 6"});
    expect_error([&] { attention(q, kv, kv, 0, false); }, {"n_heads = 0"});
    expect_error([&] { attention(in({2, 3, 6, 6}), kv, kv, 2, true); },
                 {"Tq <= Tk", "[2, 3, 6, 6]", "[2, 3, 5, 6]"});
    expect_error([&] { attention(q, in({2, 3, 0, 6}), in({2, 3, 0, 6}), 2, false); },
                 {"at least one key"});
    Var q32 = g.input(Tensor::zeros({2, 3, 4, 6}, DType::F32));
    expect_error([&] { attention(q32, kv, kv, 2, false); }, {"dtypes differ", "float32"});
    // Non-causal attention takes more queries than keys.
    EXPECT_EQ(attention(in({2, 3, 7, 6}), kv, kv, 3, false).shape(), Shape({2, 3, 7, 6}));
}

}  // namespace
}  // namespace benchtop
