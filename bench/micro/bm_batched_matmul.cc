// A stack of K members' GEMMs two ways, single-threaded, on the width-64 MLP shapes:
//   sgemm   K dnnl_sgemm calls (what tensor/gemm.cc does today, one per member);
//   matmul  one execution of a oneDNN matmul primitive with a batch dimension K: src
//           [K, M, Kd] and weights [K, Kd, N] described by strides (the transposed forms need
//           no copy), dst [K, M, N]. The primitive, its memory objects and a user scratchpad
//           are created once per (shape, K) in a small per-thread cache; the timed part is the
//           cache lookup, three dnnl_memory_set_data_handle calls and the execution.
// Before timing, every (shape, K) is checked bit for bit, member by member, against
// dnnl_sgemm and against the same member computed as a batch of one; the findings are printed
// to stderr ("bm_batched_matmul: ...") and nothing aborts on a difference.
//
// Shapes are row-major C[M,N] = op(A) op(B) per member, as in bm_gemm.cc:
//   op:NT  forward        y  = x  W^T
//   op:NN  input grad     dx = dy W
//   op:TN  weight grad    dW = dy^T x
#ifdef BENCHTOP_BENCH_ONEDNN

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

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

void pin_one_thread() {
    thread_local bool pinned = [] {
        omp_set_num_threads(1);
        return true;
    }();
    (void)pinned;
}

// --- K dnnl_sgemm calls -------------------------------------------------------------------
void sgemm_members(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    for (int64_t i = 0; i < members; ++i) {
        const dnnl_status_t st = dnnl_sgemm(s.ta() ? 'T' : 'N', s.tb() ? 'T' : 'N', s.m, s.n, s.k,
                                            1.0f, a + i * s.m * s.k, s.lda(), b + i * s.k * s.n,
                                            s.ldb(), 0.0f, c + i * s.m * s.n, s.n);
        if (st != dnnl_success) {
            std::fprintf(stderr, "dnnl_sgemm failed (%d)\n", int(st));
            std::abort();
        }
    }
}

// --- one batched matmul primitive ---------------------------------------------------------
struct ThreadEngine {
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
};

ThreadEngine& thread_engine() {
    thread_local ThreadEngine te;
    return te;
}

struct MatmulEntry {
    Op op;
    int64_t m, n, k, members;
    dnnl::matmul prim;
    dnnl::memory src, wei, dst, scratch;
    std::vector<float> scratch_buf;
    std::string impl;
};

std::unique_ptr<MatmulEntry> make_entry(const Shape& s, int64_t members) {
    using dt = dnnl::memory::data_type;
    using dims = dnnl::memory::dims;
    ThreadEngine& te = thread_engine();
    auto e = std::make_unique<MatmulEntry>();
    e->op = s.op;
    e->m = s.m;
    e->n = s.n;
    e->k = s.k;
    e->members = members;
    // op(A) [K, m, k]: A is [m, k] per member, or [k, m] when transposed.
    const dnnl::memory::desc src_md(dims{members, s.m, s.k}, dt::f32,
                                    s.ta() ? dims{s.m * s.k, 1, s.m} : dims{s.m * s.k, s.k, 1});
    // op(B) [K, k, n]: B is [k, n] per member, or [n, k] when transposed.
    const dnnl::memory::desc wei_md(dims{members, s.k, s.n}, dt::f32,
                                    s.tb() ? dims{s.k * s.n, 1, s.k} : dims{s.k * s.n, s.n, 1});
    const dnnl::memory::desc dst_md(dims{members, s.m, s.n}, dt::f32, dims{s.m * s.n, s.n, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::desc desc(src_md, wei_md, dst_md);
    const dnnl::matmul::primitive_desc pd(desc, attr, te.eng);
    e->impl = pd.impl_info_str();
    e->prim = dnnl::matmul(pd);
    e->src = dnnl::memory(src_md, te.eng, nullptr);
    e->wei = dnnl::memory(wei_md, te.eng, nullptr);
    e->dst = dnnl::memory(dst_md, te.eng, nullptr);
    const size_t scratch_bytes = pd.scratchpad_desc().get_size();
    e->scratch_buf.resize(scratch_bytes / sizeof(float) + 16);
    e->scratch = dnnl::memory(pd.scratchpad_desc(), te.eng, e->scratch_buf.data());
    return e;
}

// Small per-thread cache, linear search (a training step uses a handful of shapes).
MatmulEntry& lookup(const Shape& s, int64_t members) {
    thread_local std::vector<std::unique_ptr<MatmulEntry>> cache;
    for (auto& e : cache)
        if (e->op == s.op && e->m == s.m && e->n == s.n && e->k == s.k && e->members == members)
            return *e;
    cache.push_back(make_entry(s, members));
    return *cache.back();
}

void matmul_members(const Shape& s, int64_t members, const float* a, const float* b, float* c) {
    MatmulEntry& e = lookup(s, members);
    dnnl_memory_set_data_handle(e.src.get(), const_cast<float*>(a));
    dnnl_memory_set_data_handle(e.wei.get(), const_cast<float*>(b));
    dnnl_memory_set_data_handle(e.dst.get(), c);
    const dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, e.src.get()},
                                     {DNNL_ARG_WEIGHTS, e.wei.get()},
                                     {DNNL_ARG_DST, e.dst.get()},
                                     {DNNL_ARG_SCRATCHPAD, e.scratch.get()}};
    const dnnl_status_t st =
        dnnl_primitive_execute(e.prim.get(), thread_engine().strm.get(), 4, args);
    if (st != dnnl_success) {
        std::fprintf(stderr, "matmul execute failed (%d)\n", int(st));
        std::abort();
    }
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
int64_t differing_members(const std::vector<float>& x, const std::vector<float>& y, int64_t members,
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
    std::vector<float> ref(o.c.size(), 1.0f), bat(o.c.size(), 2.0f), one(o.c.size(), 3.0f);
    sgemm_members(s, members, o.a.data(), o.b.data(), ref.data());
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
                 "bm_batched_matmul: op:%s M:%lld N:%lld K:%lld members:%lld impl:%s | members "
                 "differing from sgemm: %lld (max rel diff %.2g), from batch of one: %lld\n",
                 op_name(s.op), (long long)s.m, (long long)s.n, (long long)s.k, (long long)members,
                 lookup(s, members).impl.c_str(),
                 (long long)differing_members(bat, ref, members, per), max_rel,
                 (long long)differing_members(bat, one, members, per));
}

using Fn = void (*)(const Shape&, int64_t, const float*, const float*, float*);

void bm_stack(benchmark::State& state, Fn fn, Shape s, int64_t members) {
    pin_one_thread();
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
    pin_one_thread();
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
        }
    }
    return true;
}();

}  // namespace

#endif  // BENCHTOP_BENCH_ONEDNN
