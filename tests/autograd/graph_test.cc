#include "benchtop/autograd/graph.h"

#include <gtest/gtest.h>

#include "benchtop/nn/params.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/loss.h"

namespace benchtop {
namespace {

TEST(Graph, ParamGradientAccumulatesIntoExternalBuffer) {
    Tensor w = Tensor::from<double>({1, 1, 2}, {2.0, -1.0});
    Tensor gw = Tensor::zeros({1, 1, 2}, DType::F64);
    Tensor x = Tensor::from<double>({1, 3, 2}, {1, 2, 3, 4, 5, 6});
    for (int step = 0; step < 2; ++step) {
        Graph g;
        Var y = linear(g.input(x), g.param(w, gw));
        g.backward(y);
    }
    // dy/dw summed over 3 rows = (9, 12), accumulated twice.
    EXPECT_DOUBLE_EQ(gw.at(0), 18.0);
    EXPECT_DOUBLE_EQ(gw.at(1), 24.0);
}

TEST(Graph, NoGradRecordsNothingAndBackwardRejectsConstants) {
    Graph g;
    Tensor w = Tensor::zeros({1, 1, 2}, DType::F64), gw = Tensor::zeros({1, 1, 2}, DType::F64);
    Var x = g.input(Tensor::zeros({1, 3, 2}, DType::F64));
    {
        NoGradScope ng(g);
        Var y = linear(x, g.param(w, gw));
        EXPECT_FALSE(y.records());
        EXPECT_THROW(g.backward(y), Error);
    }
    EXPECT_TRUE(g.grad_enabled());
}

TEST(Graph, ArenaStopsGrowingAfterFirstStep) {
    Graph g(1024);
    Tensor w = Tensor::zeros({4, 64, 64}), gw = Tensor::zeros({4, 64, 64});
    Tensor x = Tensor::zeros({1, 100, 64});
    size_t cap = 0;
    for (int step = 0; step < 3; ++step) {
        Var h = linear(g.input(x), g.param(w, gw));
        h = linear(h, g.param(w, gw));
        g.backward(h);
        g.reset();
        if (step == 0) cap = g.arena().capacity();
        EXPECT_EQ(g.arena().capacity(), cap);
    }
    EXPECT_GE(cap, g.arena().high_water());
}

// ParamSet::zero_grad is lazy: the stale contents must never show. A backward after it gives
// exactly the gradients of a backward into zeroed buffers; a parameter the graph does not
// reach reads as zeros; a parameter used twice gets the sum; without zero_grad, gradients
// accumulate.
TEST(Graph, LazyZeroGradIsExactlyZeroGrad) {
    for (DType dt : {DType::F32, DType::F64}) {
        ParamSet ps(3, dt), ref(3, dt);
        for (ParamSet* p : {&ps, &ref}) {
            p->add("w1", {5, 4});
            p->add("b1", {5});
            p->add("w2", {5, 5});
            p->add("b2", {5});
            p->add("unused", {2});
            for (auto& e : p->entries())
                for (int64_t i = 0; i < e.value.numel(); ++i)
                    e.value.set(i, 0.37 * double((i * 7 + 3) % 11) - 1.6);
        }
        Tensor x = Tensor::zeros({1, 6, 4}, dt);
        for (int64_t i = 0; i < x.numel(); ++i) x.set(i, 0.25 * double(i % 9) - 1.0);
        Tensor y = Tensor::zeros({3, 6}, DType::I32);
        for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = int32_t(i % 5);
        // One backward of a net that uses w2 twice; `accumulate` skips zeroing first.
        auto run = [&](ParamSet& p, bool zero, bool eager) {
            if (zero) p.zero_grad();
            if (eager) (void)p.entries();  // settles: the gradients are zeroed now
            Graph g;
            Var h = linear_relu(g.input(x), p.var(g, "w1"), p.var(g, "b1"));
            h = linear_relu(h, p.var(g, "w2"), p.var(g, "b2"));
            h = linear(h, p.var(g, "w2"), Var{});
            g.backward(cross_entropy(h, y));
        };
        for (int step = 0; step < 3; ++step) {
            // Stale garbage in every gradient before zero_grad.
            for (auto& e : ps.entries())
                for (int64_t i = 0; i < e.grad.numel(); ++i) e.grad.set(i, 1e3 + double(i));
            run(ps, true, false);
            run(ref, true, true);
            const auto& a = ps.entries();
            const auto& b = ref.entries();
            for (size_t i = 0; i < a.size(); ++i)
                for (int64_t j = 0; j < a[i].grad.numel(); ++j)
                    ASSERT_EQ(a[i].grad.at(j), b[i].grad.at(j)) << a[i].name << " " << j;
            EXPECT_EQ(ps.grad("unused").at(0), 0.0);
            EXPECT_NE(ps.grad("w2").at(0), 0.0);
        }
        // Without zero_grad the next backward adds to the gradients.
        const double before = ps.grad("b1").at(1);
        ASSERT_NE(before, 0.0);
        run(ps, false, false);
        EXPECT_DOUBLE_EQ(ps.grad("b1").at(1), 2 * before);
    }
}

}  // namespace
}  // namespace benchtop
