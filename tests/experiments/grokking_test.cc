// The scientific outcomes of grokking on CI-sized runs.
// Modular protocol (p = 23, 70% of the equations for training instead of p = 59 and 40%, the
// default transformer and optimiser, 2500 updates): with weight decay 1 the test accuracy reaches
// 99% more than five times as many updates after the training accuracy does, while the weight norm
// falls; without weight decay the test accuracy stays far below within the same budget.
// Omnigrok protocol (MLP on 1000 MNIST-1D examples, MSE, initial weights x8, 12000 updates): with
// weight decay the training set is fitted first and the test accuracy then rises by more than 10
// points while the weight norm falls; without weight decay neither the rise nor the fall happens.
#include "benchtop/experiments/grokking.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "benchtop/experiments/experiment.h"
#include "benchtop/sweep/grid.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

const GrokkingRun& find(const std::vector<GrokkingRun>& runs, double wd) {
    for (const GrokkingRun& r : runs)
        if (r.weight_decay == wd) return r;
    ADD_FAILURE() << "no run with weight decay " << wd;
    static const GrokkingRun none;
    return none;
}

// Value of `v` at the first evaluation at or after `step`.
double at_step(const GrokkingRun& r, const std::vector<double>& v, double step) {
    for (size_t i = 0; i < r.steps.size(); ++i)
        if (r.steps[i] >= step) return v[i];
    return v.back();
}

TEST(Grokking, WeightDecayGeneralisesLongAfterMemorising) {
    std::vector<GrokkingRun> runs;
    {
        test::ExperimentRun run("grokking", {"p=23", "train_fraction=0.7", "steps=2500"});
        ASSERT_EQ(run.complete, 2);
        runs = grokking_runs(run.store());
        run.expect_figures();
    }
    const GrokkingRun &on = find(runs, 1.0), &off = find(runs, 0.0);
    std::printf("wd 1: train 99%% at %ld, test 99%% at %ld, final test %.3f, norm %.1f -> %.1f\n",
                long(on.steps_to_train_99), long(on.steps_to_test_99), on.test_acc.back(),
                at_step(on, on.weight_norm, double(on.steps_to_train_99)), on.weight_norm.back());
    std::printf("wd 0: train 99%% at %ld, test 99%% at %ld, final test %.3f, norm %.1f -> %.1f\n",
                long(off.steps_to_train_99), long(off.steps_to_test_99), off.test_acc.back(),
                at_step(off, off.weight_norm, double(off.steps_to_train_99)), off.weight_norm.back());
    ASSERT_GT(on.steps_to_train_99, 0);
    ASSERT_GT(on.steps_to_test_99, 0) << "weight decay 1 generalises within 2500 updates";
    EXPECT_GT(on.steps_to_test_99, 5 * on.steps_to_train_99) << "long after memorising";
    // Memorised first: at the step the training set is fitted, the test accuracy is far from 99%
    // (at 70% training data most test equations have their mirror b + a in the training set, so it
    // is already above chance).
    EXPECT_LT(at_step(on, on.test_acc, double(on.steps_to_train_99)), 0.5);
    EXPECT_LT(at_step(on, on.weight_norm, double(on.steps_to_test_99)),
              at_step(on, on.weight_norm, double(on.steps_to_train_99)))
        << "the weight norm falls between memorising and generalising";
    ASSERT_GT(off.steps_to_train_99, 0) << "no weight decay still memorises";
    EXPECT_EQ(off.steps_to_test_99, -1);
    EXPECT_LT(off.test_acc.back(), 0.5);
    EXPECT_GT(off.weight_norm.back(), on.weight_norm.back());
}

TEST(Grokking, OmnigrokTestAccuracyRisesAsTheWeightNormFalls) {
    std::vector<GrokkingRun> runs;
    {
        test::ExperimentRun run("grokking", {"protocol=omnigrok", "mlp_steps=12000"});
        ASSERT_EQ(run.complete, 2);
        runs = grokking_runs(run.store());
        run.expect_figures();
    }
    const GrokkingRun &on = find(runs, 0.1), &off = find(runs, 0.0);
    for (const GrokkingRun* r : {&on, &off})
        std::printf("wd %.1f: train 99%% at %ld, test at fit %.3f final %.3f, norm at fit %.1f final %.1f\n",
                    r->weight_decay, long(r->steps_to_train_99),
                    at_step(*r, r->test_acc, double(std::max<int64_t>(r->steps_to_train_99, 0))), r->test_acc.back(),
                    at_step(*r, r->weight_norm, double(std::max<int64_t>(r->steps_to_train_99, 0))),
                    r->weight_norm.back());
    ASSERT_GT(on.steps_to_train_99, 0) << "the training set is fitted";
    const double fit = double(on.steps_to_train_99);
    EXPECT_GT(on.test_acc.back(), at_step(on, on.test_acc, fit) + 0.1) << "test accuracy rises after the fit";
    EXPECT_LT(on.weight_norm.back(), 0.8 * at_step(on, on.weight_norm, fit)) << "while the weight norm falls";
    EXPECT_LT(off.test_acc.back(), on.test_acc.back() - 0.1) << "no weight decay: no late generalisation";
    EXPECT_GT(off.weight_norm.back(), 0.95 * off.weight_norm.front());
}

TEST(Grokking, RejectsBadConfigurations) {
    const Experiment& e = find_experiment("grokking");
    auto config = [&](std::vector<std::string> o) {
        o.push_back("weight_decay=1");
        return expand_grid(e.schema(), parse_overrides(e.schema(), o)).at(0);
    };
    EXPECT_THROW(e.check(config({"d_model=100", "n_heads=3"})), UsageError);
    EXPECT_THROW(e.check(config({"op=divide", "p=57"})), UsageError);
    EXPECT_THROW(e.check(config({"init_scale=2"})), UsageError);
    EXPECT_NO_THROW(e.check(config({"protocol=omnigrok", "init_scale=2"})));
}

}  // namespace
}  // namespace benchtop
