// After warm-up a training step of the MNIST-1D MLP with Adam (the workload of
// bench/e2e/mlp_step.cc) makes no C++ heap allocation: graph values and gradients live in
// the arena, shapes are fixed-size. Counted through a replacement of the global operator new
// in this test binary. Where the build has benchtop's FMA kernel (fma_gemm.h), which serves
// every GEMM of this step, every allocation counts, the GEMM's included. Otherwise the GEMM
// library's own scratch allocations, outside benchtop's control, are not counted: oneDNN's
// sgemm mallocs a packing buffer on every call, and its matmul primitive builds an argument map
// with operator new on every execution; calls made while in_gemm_library() is true are skipped.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/tensor/fma_gemm.h"
#include "benchtop/tensor/gemm.h"
#include "benchtop/train/metrics.h"

namespace {
std::atomic<long> g_news{0};
std::atomic<bool> g_count_library{false};  // count allocations inside the GEMM library too
}  // namespace

// AddressSanitizer brings its own operator new/delete (all variants) to check that they pair
// up; replacing only some of them here would mismatch them, so under ASan nothing is replaced
// and the test is skipped.
#ifndef __SANITIZE_ADDRESS__
void* operator new(std::size_t n) {
    if (g_count_library.load(std::memory_order_relaxed) || !benchtop::in_gemm_library())
        g_news.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}

// The replacement pairs malloc with free; GCC's -Wmismatched-new-delete, seeing a `new
// T` inlined next to this free, cannot tell that operator new is replaced too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept {
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // __SANITIZE_ADDRESS__

namespace benchtop {
namespace {

// Heap allocations in 20 steady-state steps of `members` MLPs of width `hidden` trained as one
// stack (the FMA kernel serves every GEMM, so allocations inside it count too).
long allocations_in_steady_steps(int64_t members, int64_t hidden) {
    g_count_library = true;
    const int64_t n = 400, d = 40, batch = 100;
    Tensor xs = Tensor::empty({n, d}), ys = Tensor::empty({n}, DType::I32);
    Rng rng(stream_key(3, 0, Purpose::Data));
    for (int64_t i = 0; i < n * d; ++i) xs.data<float>()[i] = static_cast<float>(rng.normal());
    for (int64_t i = 0; i < n; ++i) ys.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
    MlpSpec spec{.in = 40, .hidden = hidden, .out = 10, .residual = true};
    ParamSet ps(members);
    add_mlp_params(ps, spec);
    std::vector<uint64_t> seeds;
    for (int64_t k = 0; k < members; ++k) seeds.push_back(7 + static_cast<uint64_t>(k));
    init_torch_default(ps, seeds);
    Adam opt(ps, AdamOptions{.lr = 1e-2});
    Graph g;
    auto step = [&](int s) {
        int64_t start = (batch * s) % n;
        Var x = g.input(batch_rows(xs, start, batch));
        Var l = cross_entropy(mlp_forward(ps, spec, x), batch_rows(ys, start, batch, false));
        ps.zero_grad();
        g.backward(l);
        opt.step();
        g.reset();
    };
    for (int s = 0; s < 5; ++s) step(s);
    const long before = g_news.load();
    for (int s = 5; s < 25; ++s) step(s);
    return g_news.load() - before;
}

TEST(SteadyState, MlpAdamStepMakesNoHeapAllocation) {
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "operator new is not replaced under AddressSanitizer";
#endif
    EXPECT_EQ(allocations_in_steady_steps(1, 100), 0)
        << "heap allocations in 20 steady-state steps";
}

TEST(SteadyState, StackOfEightMakesNoHeapAllocation) {
#ifdef __SANITIZE_ADDRESS__
    GTEST_SKIP() << "operator new is not replaced under AddressSanitizer";
#endif
    EXPECT_EQ(allocations_in_steady_steps(8, 64), 0) << "heap allocations in 20 steady-state steps";
}

}  // namespace
}  // namespace benchtop
