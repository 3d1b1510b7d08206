// The scientific outcome of mnist1d-baselines on a CI-sized run (500 steps instead of 6000):
// logistic < MLP < GRU, CNN in test accuracy; shuffling the features drops the CNN and the GRU
// far below their original accuracy while the MLP and logistic regression are unaffected.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>

#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"
#include "benchtop/sweep/grid.h"
#include "benchtop/sweep/runner.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;

TEST(Mnist1dBaselines, InductiveBiasOrderingAndTheShuffleDrop) {
    fs::path dir = fs::temp_directory_path() / ("benchtop_baselines_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const Experiment& exp = find_experiment("mnist1d-baselines");
    std::vector<Json> grid = expand_grid(exp.schema(), parse_overrides(exp.schema(), {"steps=500", "eval_every=500", "seed=42"}));
    ASSERT_EQ(grid.size(), 8u);  // four models x {original, shuffled}
    {
        Store store((dir / "r.db").string());
        RunnerOptions opt;
        opt.jobs = 2;
        opt.progress = Progress::Mode::Quiet;
        std::atomic<bool> stop{false};
        RunnerReport rep = run_grid(exp, grid, store, opt, stop);
        EXPECT_EQ(rep.complete, 8);
    }
    Store store((dir / "r.db").string(), Store::Mode::ReadOnly);
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

    if (gnuplot_available()) {
        std::vector<std::string> files = exp.draw(store, (dir / "figs").string());
        ASSERT_EQ(files.size(), 2u);
        for (const std::string& f : files) EXPECT_GT(fs::file_size(f), 1000u) << f;
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace benchtop
