// End-to-end training-step benchmark, the workload of bench/peers/mnist1d_mlp.py:
//  single:     the MNIST-1D reference MLP (40-100-100(residual)-10), Adam lr 1e-2, batch 100
//              in fixed order, one model;
//  ensemble64: 64 such MLPs of hidden width 64 as one stack (K = 64), same data.
// Prints one JSON object (--json) or a table: ms per step and the final mean loss.
//   build/bench_mlp_step --steps 2000 --threads 1 --json
// --stack K trains the 64 members as stacks of K (default: one stack per thread).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "benchtop/core/rng.h"
#include "mnist1d_train_data.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/tensor/fma_gemm.h"
#include "benchtop/train/metrics.h"

using namespace benchtop;

namespace {

using e2e::Data;
using e2e::load_or_fake;

struct Result {
    double ms_per_step;
    double final_loss;
};

// Trains `members` MLPs of width `hidden` for `steps` steps; returns time per step.
Result train(const Data& data, int64_t members, int64_t hidden, int steps, uint64_t seed0) {
    MlpSpec spec{.in = 40, .hidden = hidden, .out = 10, .residual = true};
    ParamSet ps(members);
    add_mlp_params(ps, spec);
    std::vector<uint64_t> seeds;
    for (int64_t k = 0; k < members; ++k) seeds.push_back(seed0 + static_cast<uint64_t>(k));
    init_torch_default(ps, seeds);
    Adam opt(ps, AdamOptions{.lr = 1e-2});
    Graph g;
    const int64_t batch = 100, n = data.x.size(0);
    double loss = 0;
    auto run = [&](int n_steps) {
        for (int s = 0; s < n_steps; ++s) {
            int64_t start = (batch * s) % n;
            Var x = g.input(batch_rows(data.x, start, batch));
            Tensor y = batch_rows(data.y, start, batch, false);
            Var l = cross_entropy(mlp_forward(ps, spec, x), y);
            ps.zero_grad();
            g.backward(l);
            opt.step();
            if (s == n_steps - 1) {
                loss = 0;
                for (int64_t k = 0; k < members; ++k) loss += l.value().at(k) / members;
            }
            g.reset();
        }
    };
    run(std::min(steps, 50));  // warm-up: arena and BLAS buffers reach their final size
    auto t0 = std::chrono::steady_clock::now();
    run(steps);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return {ms / steps, loss};
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 2000, threads = 1, repeats = 3, stack = 0;
    bool json = false, single_only = false;
    std::string dir = std::string(BENCHTOP_SOURCE_DIR) + "/../shared/data/mnist1d";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc) steps = std::stoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
        else if (a == "--repeats" && i + 1 < argc) repeats = std::stoi(argv[++i]);
        else if (a == "--data" && i + 1 < argc) dir = argv[++i];
        else if (a == "--stack" && i + 1 < argc) stack = std::stoi(argv[++i]);
        else if (a == "--json") json = true;
        else if (a == "--single-only") single_only = true;  // for profiling
        else {
            std::fprintf(stderr,
                         "usage: %s [--steps N] [--threads N] [--repeats N] [--stack K] [--data DIR] "
                         "[--json] [--single-only]\n",
                         argv[0]);
            return 2;
        }
    }
    Data data = load_or_fake(dir);
    Result single{1e30, 0}, ens{1e30, 0};
    for (int r = 0; r < repeats; ++r) {
        Result s = train(data, 1, 100, steps, 42);
        if (s.ms_per_step < single.ms_per_step) single = s;
        if (single_only) continue;
        // Ensemble: 64 members; with T threads, T independent stacks of 64/T (across runs).
        auto t0 = std::chrono::steady_clock::now();
        std::vector<Result> parts(static_cast<size_t>(threads));
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                // Each thread trains its 64/T members as stacks of `stack` members, one
                // after another; a step of all 64 costs the sum over its stacks.
                const int per_thread = 64 / threads, k = stack > 0 ? stack : per_thread;
                Result sum{0, 0};
                for (int first = 0; first < per_thread; first += k) {
                    Result r = train(data, k, 64, steps, 1000 + uint64_t(per_thread * t + first));
                    sum.ms_per_step += r.ms_per_step;
                    sum.final_loss += r.final_loss * k / per_thread;
                }
                parts[static_cast<size_t>(t)] = sum;
            });
        for (auto& th : pool) th.join();
        (void)t0;
        double ms = 0, loss = 0;
        for (auto& p : parts) {
            ms = std::max(ms, p.ms_per_step);
            loss += p.final_loss / threads;
        }
        if (ms < ens.ms_per_step) ens = {ms, loss};
    }
    double flops_single = 100.0 * 2 * (3 * (40 * 100 + 100 * 100 + 100 * 10) - 40 * 100);
    double flops_ens = 64 * 100.0 * 2 * (3 * (40 * 64 + 64 * 64 + 64 * 10) - 40 * 64);
    if (json) {
        std::printf("{\"single_ms_per_step\": %.5f, \"single_final_loss\": %.5f, "
                    "\"single_gflops\": %.2f, \"ensemble64_ms_per_step\": %.5f, "
                    "\"ensemble64_final_loss\": %.5f, \"ensemble64_gflops\": %.2f, \"steps\": %d, "
                    "\"threads\": %d, \"stack\": %d, \"kernel\": \"%s\"}\n",
                    single.ms_per_step, single.final_loss, flops_single / single.ms_per_step / 1e6,
                    ens.ms_per_step, ens.final_loss, flops_ens / ens.ms_per_step / 1e6, steps, threads,
                    stack, fma_gemm_kernel_name());
    } else {
        std::printf("FMA kernel: %s\n", fma_gemm_kernel_name());
        std::printf("single MLP 40-100-100-10: %.4f ms/step (%.1f GFLOP/s), loss %.4f\n",
                    single.ms_per_step, flops_single / single.ms_per_step / 1e6, single.final_loss);
        if (!single_only)
            std::printf("64 MLPs width 64:         %.4f ms/step (%.1f GFLOP/s), loss %.4f\n",
                        ens.ms_per_step, flops_ens / ens.ms_per_step / 1e6, ens.final_loss);
    }
    return 0;
}
