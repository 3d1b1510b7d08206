// Tests of ParamSet masks (pruning): set_mask zeroes the pruned entries and checks its input;
// the forward sees value * mask and the gradient of a pruned entry is zero; pruned weights stay
// exactly zero through SGD (momentum, weight decay) and Adam/AdamW steps while survivors train;
// a masked member trains exactly as a dense model whose pruned weights are frozen at zero would,
// and members with different masks do not affect one another.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "benchtop/autograd/graph.h"
#include "benchtop/core/rng.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/nn/params.h"
#include "benchtop/ops/loss.h"
#include "benchtop/optim/adam.h"
#include "benchtop/optim/sgd.h"

namespace benchtop {
namespace {

const MlpSpec kSpec{.in = 6, .hidden = 8, .out = 3, .residual = true};

ParamSet make_mlp(int64_t k_n, std::vector<uint64_t> seeds, DType dtype = DType::F64) {
    ParamSet ps(k_n, dtype);
    add_mlp_params(ps, kSpec);
    init_torch_default(ps, seeds);
    return ps;
}

// A mask keeping each entry with probability `keep`, drawn from `seed`.
Tensor random_mask(const Shape& shape, double keep, uint64_t seed, DType dtype = DType::F64) {
    Tensor m = Tensor::empty(shape, dtype);
    Rng rng(stream_key(seed, 7, Purpose::Other));
    for (int64_t i = 0; i < m.numel(); ++i) m.set(i, rng.uniform(0.0, 1.0) < keep ? 1.0 : 0.0);
    return m;
}

Tensor batch_x(int64_t b, uint64_t seed) {
    Tensor x = Tensor::empty({1, b, kSpec.in}, DType::F64);
    Rng rng(stream_key(seed, 1, Purpose::Other));
    for (int64_t i = 0; i < x.numel(); ++i) x.set(i, rng.uniform(-1.0, 1.0));
    return x;
}

Tensor batch_y(int64_t b) {
    std::vector<int32_t> y(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) y[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7) % 3);
    return Tensor::from<int32_t>({b}, y);
}

void train_step(ParamSet& ps, auto& opt, int s) {
    Graph g;
    ps.zero_grad();
    Var loss = cross_entropy(mlp_forward(ps, kSpec, g.input(batch_x(16, 100 + s))), batch_y(16));
    g.backward(loss);
    opt.step();
}

TEST(ParamMask, SetMaskZeroesPrunedEntriesAndCounts) {
    ParamSet ps = make_mlp(2, {1, 2});
    const Shape shape = ps.value("linear2.weight").shape();
    Tensor m = random_mask(shape, 0.3, 5);
    ps.set_mask("linear2.weight", m);
    const Tensor& v = ps.value("linear2.weight");
    int64_t kept0 = 0;
    for (int64_t i = 0; i < v.numel(); ++i) {
        if (m.at(i) == 0.0) {
            EXPECT_EQ(v.at(i), 0.0) << i;
        }
        if (i < v.numel() / 2) kept0 += m.at(i) != 0.0;
    }
    ASSERT_NE(ps.mask("linear2.weight"), nullptr);
    EXPECT_EQ(ps.mask("linear1.weight"), nullptr);
    EXPECT_TRUE(ps.has_masks());
    const int64_t dense = ps.numel_per_member();
    EXPECT_EQ(ps.surviving_per_member(0), dense - 64 + kept0);
    ps.clear_mask("linear2.weight");
    EXPECT_FALSE(ps.has_masks());
    EXPECT_EQ(ps.surviving_per_member(0), dense);
}

TEST(ParamMask, RejectsBadMasks) {
    ParamSet ps = make_mlp(2, {1, 2});
    EXPECT_THROW(ps.set_mask("linear2.weight", Tensor::full({2, 8, 6}, 1.0, DType::F64)), Error);
    EXPECT_THROW(ps.set_mask("nope", Tensor::full({2, 8, 8}, 1.0, DType::F64)), Error);
    Tensor half = Tensor::full({2, 8, 8}, 0.5, DType::F64);
    try {
        ps.set_mask("linear2.weight", half);
        FAIL() << "a mask holding 0.5 was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("0 or 1"), std::string::npos) << e.what();
    }
}

TEST(ParamMask, ForwardUsesMaskedValuesAndPrunedGradientsAreZero) {
    ParamSet ps = make_mlp(2, {3, 4});
    Tensor m = random_mask(ps.value("linear1.weight").shape(), 0.5, 9);
    ps.set_mask("linear1.weight", m);
    // Write non-zero values at pruned entries directly: the forward must still ignore them.
    ParamSet ref = make_mlp(2, {3, 4});
    ref.value("linear1.weight").copy_from(ps.value("linear1.weight"));
    Tensor& w = ps.value("linear1.weight");
    for (int64_t i = 0; i < w.numel(); ++i)
        if (m.at(i) == 0.0) w.set(i, 5.0);
    Graph g1, g2;
    ps.zero_grad();
    ref.zero_grad();
    const Tensor x = batch_x(5, 1);
    Var l1 = cross_entropy(mlp_forward(ps, kSpec, g1.input(x)), batch_y(5));
    Var l2 = cross_entropy(mlp_forward(ref, kSpec, g2.input(x)), batch_y(5));
    for (int64_t k = 0; k < 2; ++k) EXPECT_EQ(l1.value().at(k), l2.value().at(k));
    g1.backward(l1);
    g2.backward(l2);
    const Tensor& gm = ps.grad("linear1.weight");
    const Tensor& gr = ref.grad("linear1.weight");
    for (int64_t i = 0; i < gm.numel(); ++i)
        EXPECT_EQ(gm.at(i), m.at(i) != 0.0 ? gr.at(i) : 0.0) << i;
}

TEST(ParamMask, PrunedWeightsStayZeroUnderSgdAndAdam) {
    for (int variant = 0; variant < 3; ++variant) {
        ParamSet ps = make_mlp(2, {5, 6});
        std::vector<Tensor> masks;
        for (auto& e : ps.entries()) {
            if (e.value.rank() != 3) continue;  // weights only
            masks.push_back(random_mask(e.value.shape(), 0.4, 11 + masks.size()));
            ps.set_mask(e.name, masks.back());
        }
        const ParamSet start = [&] {
            ParamSet c = make_mlp(2, {5, 6});
            for (auto& e : c.entries()) e.value.copy_from(ps.value(e.name));
            return c;
        }();
        auto run = [&](auto& opt) {
            for (int s = 0; s < 6; ++s) train_step(ps, opt, s);
        };
        if (variant == 0) {
            Sgd opt(ps, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2});
            run(opt);
        } else {
            Adam opt(ps, {.lr = 1e-2, .weight_decay = variant == 2 ? 0.5 : 0.0,
                          .decoupled = variant == 2});
            run(opt);
        }
        size_t mi = 0;
        for (auto& e : ps.entries()) {
            if (e.value.rank() != 3) continue;
            const Tensor& m = masks[mi++];
            int64_t moved = 0;
            for (int64_t i = 0; i < e.value.numel(); ++i) {
                if (m.at(i) == 0.0)
                    ASSERT_EQ(e.value.at(i), 0.0) << e.name << " " << i << " variant " << variant;
                else
                    moved += e.value.at(i) != start.value(e.name).at(i);
            }
            EXPECT_GT(moved, 0) << e.name << ": survivors did not train";
        }
    }
}

TEST(ParamMask, MembersWithDifferentMasksMatchStacksOfOne) {
    ParamSet both = make_mlp(2, {7, 8}, DType::F32);
    std::vector<ParamSet> single;
    single.push_back(make_mlp(1, {7}, DType::F32));
    single.push_back(make_mlp(1, {8}, DType::F32));
    Tensor m = random_mask(both.value("linear2.weight").shape(), 0.25, 21, DType::F32);
    both.set_mask("linear2.weight", m);
    for (int64_t k = 0; k < 2; ++k)
        single[static_cast<size_t>(k)].set_mask(
            "linear2.weight", m.member(k).clone().reshape({1, 8, 8}));
    Adam opt_both(both, {.lr = 1e-2});
    Adam opt0(single[0], {.lr = 1e-2}), opt1(single[1], {.lr = 1e-2});
    for (int s = 0; s < 4; ++s) {
        // float32 model, float64 batch: cast the batch.
        auto step = [&](ParamSet& ps, Adam& opt) {
            Graph g;
            ps.zero_grad();
            Var loss = cross_entropy(mlp_forward(ps, kSpec, g.input(batch_x(16, s).to(DType::F32))),
                                     batch_y(16));
            g.backward(loss);
            opt.step();
        };
        step(both, opt_both);
        step(single[0], opt0);
        step(single[1], opt1);
    }
    for (auto& e : both.entries())
        for (int64_t k = 0; k < 2; ++k) {
            const Tensor a = e.value.member(k);
            const Tensor b = single[static_cast<size_t>(k)].value(e.name).member(0);
            for (int64_t i = 0; i < a.numel(); ++i)
                ASSERT_EQ(a.at(i), b.at(i)) << e.name << " member " << k << " entry " << i;
        }
}

}  // namespace
}  // namespace benchtop
