// End-to-end training-step benchmark for the MNIST-1D reference CNN (nn/cnn.h, 25 channels),
// the model of `mnist1d-baselines model=cnn`: Adam lr 1e-3, batch 100 in fixed order.
// Prints ms per step (best of --repeats) and the final mean loss; --stack K trains K members
// as one stack (ms per step of the whole stack).
//   build/bench_cnn_step --steps 2000 --repeats 3
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"
#include "mnist1d_train_data.h"
#include "benchtop/nn/cnn.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/train/metrics.h"

using namespace benchtop;

namespace {

using e2e::Data;
using e2e::load_or_fake;

struct Result {
    double ms_per_step;
    double final_loss;
};

Result train(const Data& data, int64_t members, int steps) {
    CnnSpec spec{};
    ParamSet ps(members);
    add_cnn_params(ps, spec);
    std::vector<uint64_t> seeds;
    for (int64_t k = 0; k < members; ++k) seeds.push_back(42 + static_cast<uint64_t>(k));
    init_torch_default(ps, seeds);
    Adam opt(ps, AdamOptions{.lr = 1e-3});
    Graph g;
    const int64_t batch = 100, n = data.x.size(0);
    double loss = 0;
    auto run = [&](int n_steps) {
        for (int s = 0; s < n_steps; ++s) {
            int64_t start = (batch * s) % n;
            Var x = g.input(batch_rows(data.x, start, batch));
            Tensor y = batch_rows(data.y, start, batch, false);
            Var l = cross_entropy(cnn_forward(ps, spec, x), y);
            ps.zero_grad();
            g.backward(l);
            opt.step();
            if (s == n_steps - 1) {
                loss = 0;
                for (int64_t k = 0; k < members; ++k) loss += l.value().at(k) / double(members);
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
    int steps = 2000, repeats = 3, stack = 1;
    std::string dir = std::string(BENCHTOP_SOURCE_DIR) + "/../shared/data/mnist1d";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc) steps = std::stoi(argv[++i]);
        else if (a == "--repeats" && i + 1 < argc) repeats = std::stoi(argv[++i]);
        else if (a == "--stack" && i + 1 < argc) stack = std::stoi(argv[++i]);
        else if (a == "--data" && i + 1 < argc) dir = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--steps N] [--repeats N] [--stack K] [--data DIR]\n", argv[0]);
            return 2;
        }
    }
    Data data = load_or_fake(dir);
    Result best{1e30, 0};
    for (int r = 0; r < repeats; ++r) {
        Result res = train(data, stack, steps);
        if (res.ms_per_step < best.ms_per_step) best = res;
    }
    std::printf("cnn (25 channels), stack %d: %.4f ms/step, loss %.4f\n", stack, best.ms_per_step,
                best.final_loss);
    return 0;
}
