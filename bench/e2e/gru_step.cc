// Training-step benchmark of the MNIST-1D bidirectional GRU classifier (input 1, hidden 6,
// 40 steps, Linear 480 -> 10), cross-entropy, Adam lr 1e-2, batch 100 in fixed order.
// Times the fused model (gru_forward: one gru_sequence node per direction) against the
// composed one (gru_forward_composed: gru_cell per step), interleaved, one thread.
// Reports the best of --repeats runs, wall and thread-CPU ms per step, and the final loss.
//   build/bench_gru_step --steps 300 --repeats 3 [--stack K]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"
#include "mnist1d_train_data.h"
#include "benchtop/nn/gru.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/train/metrics.h"

using namespace benchtop;

namespace {

using e2e::Data;
using e2e::load_or_fake;

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

struct Result {
    double wall_ms = 1e30, cpu_ms = 1e30, loss = 0;
};

Result train(const Data& data, int64_t members, bool fused, int steps) {
    GruSpec spec{.length = 40, .input = 1, .hidden = 6, .out = 10};
    ParamSet ps(members);
    add_gru_params(ps, spec);
    std::vector<uint64_t> seeds;
    for (int64_t k = 0; k < members; ++k) seeds.push_back(7 + static_cast<uint64_t>(k));
    init_torch_default(ps, seeds);
    Adam opt(ps, AdamOptions{.lr = 1e-2});
    Graph g;
    const int64_t batch = 100, n = data.x.size(0);
    Result res;
    auto run = [&](int n_steps) {
        for (int s = 0; s < n_steps; ++s) {
            int64_t start = (batch * s) % n;
            Var x = g.input(batch_rows(data.x, start, batch));
            Tensor y = batch_rows(data.y, start, batch, false);
            Var logits = fused ? gru_forward(ps, spec, x) : gru_forward_composed(ps, spec, x);
            Var l = cross_entropy(logits, y);
            ps.zero_grad();
            g.backward(l);
            opt.step();
            res.loss = l.value().at(0);
            g.reset();
        }
    };
    run(std::min(steps, 20));  // warm-up
    auto t0 = std::chrono::steady_clock::now();
    double c0 = thread_cpu_ms();
    run(steps);
    res.cpu_ms = (thread_cpu_ms() - c0) / steps;
    auto wall = std::chrono::steady_clock::now() - t0;
    res.wall_ms = std::chrono::duration<double, std::milli>(wall).count() / steps;
    return res;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 300, repeats = 3;
    int64_t stack = 1;
    bool fused_only = false;
    std::string dir = std::string(BENCHTOP_SOURCE_DIR) + "/../shared/data/mnist1d";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc)
            steps = std::stoi(argv[++i]);
        else if (a == "--repeats" && i + 1 < argc)
            repeats = std::stoi(argv[++i]);
        else if (a == "--stack" && i + 1 < argc)
            stack = std::stoll(argv[++i]);
        else if (a == "--data" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--fused-only")
            fused_only = true;  // for profiling
        else {
            std::fprintf(
                stderr,
                "usage: %s [--steps N] [--repeats N] [--stack K] [--data DIR] [--fused-only]\n",
                argv[0]);
            return 2;
        }
    }
    Data data = load_or_fake(dir);
    Result best[2];
    for (int r = 0; r < repeats; ++r) {
        for (int fused = fused_only ? 1 : 0; fused < 2; ++fused) {
            Result x = train(data, stack, fused == 1, steps);
            Result& b = best[fused];
            b.wall_ms = std::min(b.wall_ms, x.wall_ms);
            b.cpu_ms = std::min(b.cpu_ms, x.cpu_ms);
            b.loss = x.loss;
        }
    }
    for (int fused = 1; fused >= (fused_only ? 1 : 0); --fused)
        std::printf("%-9s GRU, stack of %lld: %8.3f ms/step wall, %8.3f ms/step cpu, loss %.9f\n",
                    fused ? "fused" : "composed", static_cast<long long>(stack),
                    best[fused].wall_ms, best[fused].cpu_ms, best[fused].loss);
    return 0;
}
