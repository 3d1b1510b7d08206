// A small training demo: the MNIST-1D reference MLP, and a stack of 8 seeds of it trained
// in one pass, Adam lr 1e-2, batch 100 in fixed order, on the frozen data when present
// (../shared/data/mnist1d) or on the generated set (seed 42, identical up to 1e-15).
//   build/train_demo [--steps N]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "benchtop/data/mnist1d.h"
#include "benchtop/data/mnist1d_files.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/train/metrics.h"

using namespace benchtop;

int main(int argc, char** argv) {
    int steps = 6000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--steps" && i + 1 < argc) {
            steps = std::stoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--steps N]\n", argv[0]);
            return 2;
        }
    }
    try {
        std::string dir = std::string(BENCHTOP_SOURCE_DIR) + "/../shared/data/mnist1d";
        bool frozen = std::filesystem::exists(dir + "/x_train.f64");
        Mnist1dData data = to_float32(frozen ? load_mnist1d(dir) : make_mnist1d(Mnist1dArgs{}));
        std::printf("MNIST-1D (%s): %ld train, %ld test examples\n",
                    frozen ? "frozen files" : "generated, seed 42", (long)data.x_train.size(0),
                    (long)data.x_test.size(0));
        const int64_t K = 8, batch = 100, n = data.x_train.size(0);
        MlpSpec spec;  // 40-100-100(residual)-10
        ParamSet ps(K);
        add_mlp_params(ps, spec);
        std::vector<uint64_t> seeds;
        for (int64_t k = 0; k < K; ++k) seeds.push_back(static_cast<uint64_t>(k));
        init_torch_default(ps, seeds);
        Adam opt(ps, AdamOptions{.lr = 1e-2});
        Graph g;
        auto evaluate = [&](const Tensor& x, const Tensor& y) {
            NoGradScope ng(g);
            Var logits = mlp_forward(ps, spec, g.input(x.reshape({1, x.size(0), x.size(1)})));
            std::vector<double> acc = accuracy(logits.value(), y);
            g.reset();
            return acc;
        };
        auto t0 = std::chrono::steady_clock::now();
        for (int s = 0; s <= steps; ++s) {
            int64_t start = (batch * s) % n;
            Var loss = cross_entropy(mlp_forward(ps, spec, g.input(batch_rows(data.x_train, start, batch))),
                                     batch_rows(data.y_train, start, batch, false));
            ps.zero_grad();
            g.backward(loss);
            opt.step();
            g.reset();
            if (s % 1000 == 0) {
                std::vector<double> acc = evaluate(data.x_test, data.y_test);
                double mean = 0;
                for (double a : acc) mean += a / K;
                std::printf("step %5d  test accuracy (mean of %ld seeds) %.1f%%\n", s, (long)K, 100 * mean);
            }
        }
        double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::vector<double> train_acc = evaluate(data.x_train, data.y_train);
        std::vector<double> test_acc = evaluate(data.x_test, data.y_test);
        std::printf("\nseed  train acc  test acc\n");
        for (int64_t k = 0; k < K; ++k)
            std::printf("%4ld  %8.1f%%  %7.1f%%\n", (long)k, 100 * train_acc[size_t(k)], 100 * test_acc[size_t(k)]);
        std::printf("%ld models x %d steps in %.2f s (%.3f ms per step of the stack)\n", (long)K,
                    steps + 1, sec, 1e3 * sec / (steps + 1));
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
