// A stack of K members' GEMMs three ways, single-threaded (benchtop's GEMM wrappers pin the
// library to one thread), on the width-64 MLP shapes:
//   sgemm   K benchtop::gemm calls (dnnl_sgemm, one per member, what the ops did before the
//           linear ops switched to gemm_batched);
//   matmul  one benchtop::gemm_batched(..., GemmPath::Library) call: one execution of a
//           oneDNN matmul primitive with a batch dimension K (src [K, M, Kd], weights
//           [K, Kd, N] described by strides, dst [K, M, N]), created once per (shape, K)
//           and cached per thread; the timed part is
//           the cache lookup, three dnnl_memory_set_data_handle calls and the execution;
//   fma     one benchtop::fma_gemm_batched call: benchtop's own kernel (tensor/fma_gemm.h),
//           which benchtop::gemm_batched runs where the build has it (AVX-512).
// BM_Forward times the forward of the linear ops (the NT product, + bias, ReLU on the hidden
// layers) both ways: the matmul followed by a pass over the output, and the FMA kernel with the
// bias and ReLU in its stores.
// Before timing, every (shape, K) is checked bit for bit, member by member, against
// dnnl_sgemm and against the same member computed as a batch of one, and the FMA kernel's
// members against the matmul's; the findings are printed
// to stderr ("bm_batched_matmul: ...") and nothing aborts on a difference.
//
// Shapes are row-major C[M,N] = op(A) op(B) per member, as in bm_gemm.cc:
//   op:NT  forward        y  = x  W^T
//   op:NN  input grad     dx = dy W
//   op:TN  weight grad    dW = dy^T x
#ifdef BENCHTOP_BENCH_ONEDNN

// GCC 12 reports a vector freed in check() as a non-heap pointer once the FMA comparison is
// unconditional (a false positive of -Wfree-nonheap-object after inlining).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#endif
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "benchtop/tensor/fma_gemm.h"
#include "benchtop/tensor/gemm.h"

namespace {

enum class Op { NT, NN, TN };

const char* op_name(Op op) {
    switch (op) {
        case Op::NT:
            return "NT";
        case Op::NN:
            return "NN";
        case Op::TN:
            return "TN";
    }
    return "?";
}

struct Shape {
    Op op;
    int64_t m, n, k;
    bool ta() const { return op == Op::TN; }
    bool tb() const { return op == Op::NT; }
    int64_t lda() const { return ta() ? m : k; }
    int64_t ldb() const { return tb() ? k : n; }
};

// --- K dnnl_sgemm calls (benchtop::gemm) and one batched call (benchtop::gemm_batched) ------
void sgemm_members(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    for (int64_t i = 0; i < members; ++i)
        benchtop::gemm(s.ta(), s.tb(), s.m, s.n, s.k, 1.0f, a + i * s.m * s.k, s.lda(),
                       b + i * s.k * s.n, s.ldb(), 0.0f, c + i * s.m * s.n, s.n);
}

void matmul_members(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    benchtop::gemm_batched(s.ta(), s.tb(), members, s.m, s.n, s.k, a, s.lda(), s.m * s.k, b,
                           s.ldb(), s.k * s.n, c, s.n, s.m * s.n, false,
                           benchtop::GemmPath::Library);
}

// benchtop's own FMA kernel (tensor/fma_gemm.h), what gemm_batched runs where it is available.
void fma_members(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    benchtop::fma_gemm_batched(s.ta(), s.tb(), members, s.m, s.n, s.k, a, s.lda(), s.m * s.k, b,
                               s.ldb(), s.k * s.n, c, s.n, s.m * s.n, benchtop::FmaEpilogue{});
}

// --- operands ------------------------------------------------------------------------------
struct Operands {
    std::vector<float> a, b, c;
};

Operands make_operands(const Shape& s, int64_t members) {
    Operands o;
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    o.a.resize(size_t(members * s.m * s.k));
    o.b.resize(size_t(members * s.k * s.n));
    o.c.assign(size_t(members * s.m * s.n), 0.0f);
    for (auto& x : o.a) x = u(rng);
    for (auto& x : o.b) x = u(rng);
    return o;
}

// Member-by-member bit comparison; returns the number of members that differ.
int64_t differing_members(const std::vector<float>& x,
                          const std::vector<float>& y,
                          int64_t members,
                          int64_t per) {
    int64_t diff = 0;
    for (int64_t i = 0; i < members; ++i)
        if (std::memcmp(x.data() + i * per, y.data() + i * per, size_t(per) * sizeof(float)) != 0)
            ++diff;
    return diff;
}

void check(const Shape& s, int64_t members) {
    Operands o = make_operands(s, members);
    const int64_t per = s.m * s.n;
    std::vector<float> ref(o.c.size(), 1.0f), bat(o.c.size(), 2.0f), one(o.c.size(), 3.0f),
        fma(o.c.size(), 4.0f);
    sgemm_members(s, members, o.a.data(), o.b.data(), ref.data());
    fma_members(s, members, o.a.data(), o.b.data(), fma.data());
    matmul_members(s, members, o.a.data(), o.b.data(), bat.data());
    for (int64_t i = 0; i < members; ++i)
        matmul_members(s, 1, o.a.data() + i * s.m * s.k, o.b.data() + i * s.k * s.n,
                       one.data() + i * per);
    double max_rel = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double d = std::abs(double(bat[i]) - double(ref[i]));
        const double r = d / (std::abs(double(ref[i])) + 1e-6);
        if (r > max_rel) max_rel = r;
    }
    std::fprintf(stderr,
                 "bm_batched_matmul: op:%s M:%lld N:%lld K:%lld members:%lld | members "
                 "differing from sgemm: %lld (max rel diff %.2g), from batch of one: %lld | fma "
                 "kernel members differing from matmul: %lld\n",
                 op_name(s.op), (long long)s.m, (long long)s.n, (long long)s.k, (long long)members,
                 (long long)differing_members(bat, ref, members, per), max_rel,
                 (long long)differing_members(bat, one, members, per),
                 (long long)differing_members(fma, bat, members, per));
}

// --- the forward of linear / linear_relu as the op needs it: the NT product, then + bias and
// ReLU. With oneDNN's matmul that is a second pass over the output (linalg.cc's add_bias_rows;
// oneDNN's own bias and ReLU post-ops were rejected, docs/engine.md); benchtop's kernel does it
// in its stores. The bias is a fixed vector (its values do not matter for the timing).
const float* bias_for(const Shape& s, int64_t members) {
    static std::vector<float> bias;
    if (bias.size() < size_t(members * s.n)) bias.assign(size_t(members * s.n), 0.25f);
    return bias.data();
}

template <bool Relu>
void matmul_then_pass(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    matmul_members(s, members, a, b, c);
    const float* bias = bias_for(s, members);
    for (int64_t i = 0; i < members; ++i)
        for (int64_t r = 0; r < s.m; ++r) {
            float* y = c + i * s.m * s.n + r * s.n;
            const float* bi = bias + i * s.n;
            for (int64_t o = 0; o < s.n; ++o) {
                const float v = y[o] + bi[o];
                y[o] = Relu && v < 0.0f ? 0.0f : v;
            }
        }
}

template <bool Relu>
void fma_fused(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    benchtop::FmaEpilogue ep;
    ep.bias = bias_for(s, members);
    ep.stride_bias = s.n;
    ep.relu = Relu;
    benchtop::fma_gemm_batched(s.ta(), s.tb(), members, s.m, s.n, s.k, a, s.lda(), s.m * s.k, b,
                               s.ldb(), s.k * s.n, c, s.n, s.m * s.n, ep);
}

using Fn = void (*)(const Shape&, int64_t, const float*, const float*, float*);

void bm_stack(benchmark::State& state, Fn fn, Shape s, int64_t members) {
    Operands o = make_operands(s, members);
    fn(s, members, o.a.data(), o.b.data(), o.c.data());  // creates the primitive, if any
    for (auto _ : state) {
        fn(s, members, o.a.data(), o.b.data(), o.c.data());
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k) * double(members);
    state.counters["GFLOPS"] =
        benchmark::Counter(flops * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
}

const std::vector<Shape>& member_shapes() {
    // Ensemble member of hidden width 64, batch 100 (40 -> 64 -> 64 -> 10).
    static const std::vector<Shape> shapes = {
        {Op::NT, 100, 64, 40}, {Op::NT, 100, 64, 64}, {Op::NT, 100, 10, 64},
        {Op::NN, 100, 40, 64}, {Op::NN, 100, 64, 64}, {Op::NN, 100, 64, 10},
        {Op::TN, 64, 40, 100}, {Op::TN, 64, 64, 100}, {Op::TN, 10, 64, 100},
    };
    return shapes;
}

const bool kRegistered = [] {
    setenv("DNNL_VERBOSE", "0", 1);
    for (const int64_t members : {1, 8, 16, 64}) {
        for (const Shape& s : member_shapes()) {
            check(s, members);
            const std::string suffix = "/op:" + std::string(op_name(s.op)) +
                                       "/M:" + std::to_string(s.m) + "/N:" + std::to_string(s.n) +
                                       "/K:" + std::to_string(s.k) +
                                       "/members:" + std::to_string(members);
            benchmark::RegisterBenchmark(("BM_Stack/sgemm" + suffix).c_str(), bm_stack,
                                         sgemm_members, s, members);
            benchmark::RegisterBenchmark(("BM_Stack/matmul" + suffix).c_str(), bm_stack,
                                         matmul_members, s, members);
            benchmark::RegisterBenchmark(("BM_Stack/fma" + suffix).c_str(), bm_stack, fma_members,
                                         s, members);
        }
    }
    // Forward of the linear ops with bias (ReLU on the hidden layers, not on the output layer).
    {
        for (const int64_t members : {1, 8, 16, 64}) {
            for (const Shape& s : member_shapes()) {
                if (s.op != Op::NT) continue;
                const bool relu = s.n != 10;
                const std::string suffix =
                    std::string(relu ? "/bias_relu" : "/bias") + "/M:" + std::to_string(s.m) +
                    "/N:" + std::to_string(s.n) + "/K:" + std::to_string(s.k) +
                    "/members:" + std::to_string(members);
                benchmark::RegisterBenchmark(
                    ("BM_Forward/matmul+pass" + suffix).c_str(), bm_stack,
                    relu ? matmul_then_pass<true> : matmul_then_pass<false>, s, members);
                benchmark::RegisterBenchmark(("BM_Forward/fma" + suffix).c_str(), bm_stack,
                                             relu ? fma_fused<true> : fma_fused<false>, s, members);
            }
        }
    }
    return true;
}();

}  // namespace

#endif  // BENCHTOP_BENCH_ONEDNN
