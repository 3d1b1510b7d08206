#include "benchtop/autograd/graph.h"

#include <gtest/gtest.h>

#include "benchtop/ops/linalg.h"

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

}  // namespace
}  // namespace benchtop
