// The scientific outcome of in-context on CI-sized runs of linear functions: one trained layer of
// linear self-attention (d = 5, n = 10) reaches the error of one gradient-descent step with the
// best step size within a few percent, and its predictions correlate with that step's above
// 0.99; a small GPT (2 blocks, width 32; d = 3, n = 6, 2000 steps) learns to use its context: its
// error falls with the number of in-context examples, from the zero predictor's toward least
// squares' (0 from k = d), below one step of gradient descent.
#include <gtest/gtest.h>

#include <map>

#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(InContextExperiment, LinearAttentionIsOneGradientStepAndGptUsesItsContext) {
    test::ExperimentRun run("in-context", {"model=gpt", "layers=2", "d=3", "n=6", "steps=2000", "batch=64"});
    test::ExperimentRun lsa("in-context", {"model=lsa", "layers=1", "steps=3000", "batch=128"});
    ASSERT_EQ(run.complete, 1);
    ASSERT_EQ(lsa.complete, 1);
    const RunRow one = lsa.store().runs("in-context").at(0);
    std::printf("lsa 1 layer: mse %.4f, 1 GD step %.4f (ratio %.4f), correlation %.5f\n", one.summaries.at("mse_model"),
                one.summaries.at("mse_gd1"), one.summaries.at("ratio_gd1"), one.summaries.at("corr_gd1"));
    EXPECT_NEAR(one.summaries.at("ratio_gd1"), 1.0, 0.03);
    EXPECT_GT(one.summaries.at("corr_gd1"), 0.99);
    for (const RunRow& r : run.store().runs("in-context")) {
        const Json c = Json::parse(r.config_json);
        if (c["model"] != "gpt") continue;
        std::map<int64_t, double> by_k, ls, zero, gd1;
        for (const Metric& m : run.store().metrics(r.run_id, "mse_model")) by_k[m.step] = m.value;
        for (const Metric& m : run.store().metrics(r.run_id, "mse_ls")) ls[m.step] = m.value;
        for (const Metric& m : run.store().metrics(r.run_id, "mse_zero")) zero[m.step] = m.value;
        for (const Metric& m : run.store().metrics(r.run_id, "mse_gd1")) gd1[m.step] = m.value;
        for (const auto& [k, v] : by_k) std::printf("gpt k = %2lld: %.3f (least squares %.3f, zero %.3f)\n", (long long)k, v, ls[k], zero[k]);
        ASSERT_EQ(by_k.size(), 7u);
        EXPECT_NEAR(by_k[0], zero[0], 0.15 * zero[0]);  // nothing to go on: about the zero predictor
        EXPECT_LT(by_k[3], 0.8 * by_k[1]);              // falls with examples...
        EXPECT_LT(by_k[6], 0.8 * by_k[3]);
        EXPECT_LT(by_k[6], 0.5 * zero[6]);              // ...well below the zero predictor
        EXPECT_LT(by_k[6], gd1[6]);                     // and below one step of gradient descent,
        EXPECT_LT(ls[6], 1e-6 * zero[6]);               // toward least squares, exact from k = d
        EXPECT_GT(by_k[6], ls[6]);
    }
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
