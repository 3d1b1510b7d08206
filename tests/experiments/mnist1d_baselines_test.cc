// The scientific outcome of mnist1d-baselines on a CI-sized run (500 steps instead of 6000):
// logistic < MLP < GRU, CNN in test accuracy; shuffling the features drops the CNN and the GRU
// far below their original accuracy while the MLP and logistic regression are unaffected.
#include <gtest/gtest.h>

#include <map>

#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(Mnist1dBaselines, InductiveBiasOrderingAndTheShuffleDrop) {
    test::ExperimentRun run("mnist1d-baselines", {"steps=500", "eval_every=500", "seed=42"});
    ASSERT_EQ(run.grid_size, 8u);
    EXPECT_EQ(run.complete, 8);
    const Store& store = run.store();
    std::map<std::pair<std::string, bool>, double> acc;
    for (const RunRow& r : store.runs("mnist1d-baselines")) {
        Json c = Json::parse(r.config_json);
        acc[{c["model"], c["shuffle_features"]}] = r.summaries.at("test_acc");
    }
    auto a = [&](const char* m, bool shuffled) { return acc.at({m, shuffled}); };
    for (bool sh : {false, true}) std::printf("shuffled=%d: logistic %.3f mlp %.3f cnn %.3f gru %.3f\n", int(sh),
                                              a("logistic", sh), a("mlp", sh), a("cnn", sh), a("gru", sh));
    EXPECT_LT(a("logistic", false), a("mlp", false) - 0.1);
    EXPECT_LT(a("mlp", false), a("cnn", false) - 0.15);
    EXPECT_LT(a("mlp", false), a("gru", false) - 0.15);
    EXPECT_GT(a("cnn", false), 0.8);
    // The shuffle destroys the spatial order only convolution and recurrence exploit.
    EXPECT_LT(a("cnn", true), a("cnn", false) - 0.2);
    EXPECT_LT(a("gru", true), a("gru", false) - 0.2);
    EXPECT_NEAR(a("mlp", true), a("mlp", false), 0.05);
    EXPECT_NEAR(a("logistic", true), a("logistic", false), 0.02);

    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
