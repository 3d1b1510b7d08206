// Adam::step on the parameters of one stack of 8 MNIST-1D MLPs of width 64 (40-64-64-10,
// 59,472 float32 values, about the size the 64-member benchmark updates per stack), with
// fixed random gradients. Reports ns per parameter.
//   build/benchtop_bench --benchmark_filter=BM_AdamStep
#include <benchmark/benchmark.h>

#include <random>

#include "benchtop/nn/mlp.h"
#include "benchtop/optim/adam.h"

namespace {

void BM_AdamStep(benchmark::State& state) {
    using namespace benchtop;
    ParamSet ps(8);
    add_mlp_params(ps, MlpSpec{.in = 40, .hidden = 64, .out = 10, .residual = true});
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    int64_t n = 0;
    for (auto& e : ps.entries()) {
        for (int64_t i = 0; i < e.value.numel(); ++i) {
            e.value.data<float>()[i] = u(rng);
            e.grad.data<float>()[i] = 1e-2f * u(rng);
        }
        n += e.value.numel();
    }
    Adam opt(ps, AdamOptions{.lr = 1e-2});
    for (auto _ : state) opt.step();
    state.counters["ns_per_param"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * double(n),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_AdamStep);

}  // namespace
