// A stack of K models trained together equals, member by member, each model trained alone
// (same seed, same per-member hyper-parameters), and training is bit-identical whether
// stacks run one after another or concurrently on several threads.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/nn/cnn.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/optim/sgd.h"
#include "benchtop/train/metrics.h"
#include "support/isa.h"

namespace benchtop {
namespace {

struct Toy {
    Tensor x, y;
};

Toy toy_data(int64_t n, int64_t d) {
    Toy t{Tensor::empty({n, d}), Tensor::empty({n}, DType::I32)};
    Rng rng(stream_key(5, 0, Purpose::Data));
    for (int64_t i = 0; i < n * d; ++i) t.x.data<float>()[i] = static_cast<float>(rng.normal());
    for (int64_t i = 0; i < n; ++i) t.y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
    return t;
}

enum class Arch { Mlp, Cnn };

// Trains a stack with the given per-member seeds and learning rates; returns its ParamSet.
ParamSet train_stack(Arch arch, const Toy& data, std::vector<uint64_t> seeds, std::vector<double> lrs,
                     bool adam, int steps = 30) {
    const int64_t K = static_cast<int64_t>(seeds.size());
    MlpSpec mlp{.in = 40, .hidden = 32, .out = 10, .residual = true};
    CnnSpec cnn{.length = 40, .channels = 6, .out = 10};
    ParamSet ps(K);
    arch == Arch::Mlp ? add_mlp_params(ps, mlp) : add_cnn_params(ps, cnn);
    init_torch_default(ps, seeds);
    Adam a(ps, AdamOptions{.lr = lrs});
    Sgd s(ps, SgdOptions{.lr = lrs, .momentum = 0.9});
    Graph g;
    for (int step = 0; step < steps; ++step) {
        int64_t start = (20 * step) % data.x.size(0);
        Var x = g.input(batch_rows(data.x, start, 20));
        Var logits = arch == Arch::Mlp ? mlp_forward(ps, mlp, x) : cnn_forward(ps, cnn, x);
        Var loss = cross_entropy(logits, batch_rows(data.y, start, 20, false));
        ps.zero_grad();
        g.backward(loss);
        adam ? a.step() : s.step();
        g.reset();
    }
    return ps;
}

void expect_member_equal(const ParamSet& stack, int64_t k, const ParamSet& alone) {
    for (const auto& e : stack.entries()) {
        Tensor a = e.value.member(k), b = alone.value(e.name).member(0);
        ASSERT_EQ(a.numel(), b.numel());
        for (int64_t i = 0; i < a.numel(); ++i)
            ASSERT_EQ(a.at(i), b.at(i)) << e.name << "[" << i << "] of member " << k;
    }
}

class StackEquivalencePerIsa : public PerIsa {};

TEST_P(StackEquivalencePerIsa, MembersMatchModelsTrainedAlone) {
    Toy data = toy_data(200, 40);
    std::vector<uint64_t> seeds{3, 11, 7};
    std::vector<double> lrs{1e-2, 3e-3, 2e-2};
    for (Arch arch : {Arch::Mlp, Arch::Cnn}) {
        for (bool adam : {true, false}) {
            ParamSet stack = train_stack(arch, data, seeds, lrs, adam);
            for (int64_t k = 0; k < 3; ++k) {
                ParamSet alone = train_stack(arch, data, {seeds[size_t(k)]}, {lrs[size_t(k)]}, adam);
                expect_member_equal(stack, k, alone);
            }
        }
    }
}

BENCHTOP_PER_ISA(StackEquivalencePerIsa);

TEST(StackEquivalence, BitIdenticalWhateverTheThreadCount) {
    Toy data = toy_data(200, 40);
    std::vector<uint64_t> seeds{1, 2, 3, 4};
    std::vector<double> lrs{1e-2, 1e-2, 1e-2, 1e-2};
    ParamSet serial = train_stack(Arch::Mlp, data, seeds, lrs, true);
    // The same four members as two stacks of two, trained concurrently on two threads.
    std::vector<ParamSet> halves;
    halves.reserve(2);
    halves.emplace_back(1);
    halves.emplace_back(1);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&, t] {
            halves[size_t(t)] = train_stack(Arch::Mlp, data, {seeds[size_t(2 * t)], seeds[size_t(2 * t + 1)]},
                                            {1e-2, 1e-2}, true);
        });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 2; ++t)
        for (int64_t k = 0; k < 2; ++k) {
            ParamSet one(1);
            MlpSpec mlp{.in = 40, .hidden = 32, .out = 10, .residual = true};
            add_mlp_params(one, mlp);
            one.copy_member(halves[size_t(t)], k, 0);
            expect_member_equal(serial, 2 * t + k, one);
        }
}

}  // namespace
}  // namespace benchtop
