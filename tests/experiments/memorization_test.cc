// The scientific outcomes of memorization on CI-sized runs (1000 training examples).
// Fit protocol (MLP 40-300x4-10, SGD with momentum): every variant fits its training set
// exactly; the true labels' training loss falls fastest; permuted labels take the most epochs;
// the test error of permuted labels and of noise inputs is at chance, and it rises with the
// label-noise fraction. Depth protocol (random labels, full-batch gradient descent, about 8000
// parameters each): the 2-, 3- and 4-layer models fit in fewer epochs than the 1-layer one.
#include "benchtop/experiments/memorization.h"

#include <gtest/gtest.h>

#include <numeric>

#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

const MemorizationGroup& group(const std::vector<MemorizationGroup>& gs, const std::string& protocol,
                               const std::string& data, double noise = 0, int64_t layers = 4) {
    for (const MemorizationGroup& g : gs)
        if (g.protocol == protocol && g.data == data && g.label_noise == noise && g.hidden_layers == layers) return g;
    ADD_FAILURE() << "no group " << protocol << " " << data << " " << noise << " " << layers;
    static const MemorizationGroup none;
    return none;
}

// Mean training loss over the first n stored epochs.
double early_loss(const MemorizationGroup& g, size_t n) {
    EXPECT_GE(g.train_loss_curve.size(), n);
    return std::accumulate(g.train_loss_curve.begin(), g.train_loss_curve.begin() + long(n), 0.0) / double(n);
}

TEST(Memorization, EveryVariantFitsAndOnlyTrueLabelsGeneralise) {
    std::vector<MemorizationGroup> gs;
    {
        test::ExperimentRun run("memorization",
                                {"num_samples=2000", "train_examples=1000", "epochs=40", "seed=0,1,2"});
        ASSERT_EQ(run.complete, 9);
        gs = memorization_groups(run.store());
        run.expect_figures();
    }
    const MemorizationGroup &tru = group(gs, "fit", "true"), &noise = group(gs, "fit", "noise"),
                            &perm = group(gs, "fit", "permuted");
    for (const MemorizationGroup* g : {&tru, &noise, &perm}) {
        std::printf("%-8s fitted %ld/%ld epochs to fit %.1f (max %.0f) to 1%% %.1f early loss %.3f test error %.3f\n",
                    g->data.c_str(), long(g->fitted), long(g->runs), g->epochs_to_fit, g->epochs_to_fit_max,
                    g->epochs_to_1pct, early_loss(*g, 5), g->test_error);
        EXPECT_EQ(g->fitted, 3) << g->data << ": every seed reaches zero training error";
        EXPECT_EQ(g->train_error, 0.0) << g->data;
    }
    // True labels: the lowest training loss over the first five epochs.
    EXPECT_LT(early_loss(tru, 5), early_loss(noise, 5));
    EXPECT_LT(early_loss(tru, 5), early_loss(perm, 5));
    // Permuted labels: the most epochs to zero (and to 1%) training error.
    EXPECT_GT(perm.epochs_to_fit, tru.epochs_to_fit);
    EXPECT_GT(perm.epochs_to_fit, noise.epochs_to_fit);
    EXPECT_GT(perm.epochs_to_1pct, tru.epochs_to_1pct);
    // Memorised, not learned: chance-level test error (0.9) against clearly better for true labels.
    EXPECT_GT(perm.test_error, 0.83);
    EXPECT_GT(noise.test_error, 0.83);
    EXPECT_LT(tru.test_error, 0.7);
}

TEST(Memorization, TestErrorRisesWithLabelNoise) {
    test::ExperimentRun run("memorization", {"num_samples=2000", "train_examples=1000", "epochs=40", "data=true",
                                             "label_noise=0,0.5,1", "seed=0,1"});
    ASSERT_EQ(run.complete, 6);
    std::vector<MemorizationGroup> gs = memorization_groups(run.store());
    const MemorizationGroup &n0 = group(gs, "fit", "true", 0), &n5 = group(gs, "fit", "true", 0.5),
                            &n10 = group(gs, "fit", "true", 1);
    std::printf("label noise 0 / 0.5 / 1: test error %.3f / %.3f / %.3f, train error %.3f / %.3f / %.3f\n",
                n0.test_error, n5.test_error, n10.test_error, n0.train_error, n5.train_error, n10.train_error);
    EXPECT_LT(n0.test_error + 0.05, n5.test_error);
    EXPECT_LT(n5.test_error + 0.05, n10.test_error);
    EXPECT_GT(n10.test_error, 0.83);
    for (const MemorizationGroup* g : {&n0, &n5, &n10}) EXPECT_LT(g->train_error, 0.01);
}

TEST(Memorization, DeeperModelsFitRandomLabelsInFewerEpochs) {
    test::ExperimentRun run("memorization", {"protocol=depth", "data=permuted", "hidden_layers=1..4",
                                             "num_samples=2000", "train_examples=1000", "param_budget=8000",
                                             "gd_epochs=4000", "seed=0,1,2"});
    ASSERT_EQ(run.complete, 12);
    std::vector<MemorizationGroup> gs = memorization_groups(run.store());
    const MemorizationGroup& one = group(gs, "depth", "permuted", 0, 1);
    EXPECT_EQ(one.fitted, 3);
    for (int64_t layers = 1; layers <= 4; ++layers) {
        const MemorizationGroup& g = group(gs, "depth", "permuted", 0, layers);
        std::printf("%ld hidden layers (width %ld, %ld parameters): epochs to fit %.0f, to 1%% %.0f\n", long(layers),
                    long(g.width), long(g.params), g.epochs_to_fit, g.epochs_to_1pct);
        EXPECT_NEAR(double(g.params), 8000.0, 200.0);
        EXPECT_GT(g.test_error, 0.83);
        if (layers == 1) continue;
        EXPECT_EQ(g.fitted, 3);
        EXPECT_LT(g.epochs_to_fit, one.epochs_to_fit);
        EXPECT_LT(g.epochs_to_1pct, one.epochs_to_1pct);
    }
    run.expect_figures();
}

TEST(Memorization, WidthForBudgetMatchesTheBookWidths) {
    // Prince, Understanding Deep Learning, fig. 20.2: about 15,200 parameters each.
    EXPECT_EQ(width_for_budget(1, 15200), 298);
    EXPECT_EQ(width_for_budget(2, 15200), 100);
    EXPECT_EQ(width_for_budget(3, 15200), 75);
    EXPECT_EQ(width_for_budget(4, 15200), 63);
}

}  // namespace
}  // namespace benchtop
