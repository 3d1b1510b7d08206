// The sweep runner: stored summaries are bit-identical whatever the number of jobs and however
// runs are packed into stacks; a re-run skips finished runs; a stop request interrupts cleanly.
#include "benchtop/sweep/runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "benchtop/sweep/grid.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("benchtop_runner_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

const std::vector<std::string> kTinySweep = {"num_samples=600", "train_examples=200", "batch=50", "epochs=6",
                                             "eval_every=3",   "width=4,9",          "seed=0..2",
                                             "label_noise=0.1,0.2"};

// run_key -> (summary key -> value), bit patterns compared exactly.
std::map<std::string, std::map<std::string, double>> sweep(const fs::path& db, int jobs, int64_t max_pack,
                                                            RunnerReport* report = nullptr) {
    const Experiment& exp = find_experiment("double-descent");
    std::vector<Json> grid = expand_grid(exp.schema(), parse_overrides(exp.schema(), kTinySweep));
    Store store(db.string());
    RunnerOptions opt;
    opt.jobs = jobs;
    opt.max_pack = max_pack;
    opt.progress = Progress::Mode::Quiet;
    std::atomic<bool> stop{false};
    RunnerReport rep = run_grid(exp, grid, store, opt, stop);
    if (report) *report = rep;
    std::map<std::string, std::map<std::string, double>> out;
    for (const RunRow& r : store.runs("double-descent")) out[r.run_key] = r.summaries;
    return out;
}

TEST(Runner, SummariesAreBitIdenticalForAnyJobsAndPacking) {
    TempDir t;
    RunnerReport rep;
    auto a = sweep(t.path / "a.db", 1, 1, &rep);
    EXPECT_EQ(rep.total, 12);
    EXPECT_EQ(rep.packs, 12);
    auto b = sweep(t.path / "b.db", 2, 0, &rep);
    EXPECT_EQ(rep.packs, 2);  // seeds and label noise of one width share a stack
    auto c = sweep(t.path / "c.db", 2, 4, &rep);
    ASSERT_EQ(a.size(), 12u);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
    // Different seeds and noise levels did give different results (the comparison is not vacuous).
    std::set<double> errors;
    for (const auto& [key, s] : a) errors.insert(s.at("train_error") + s.at("test_error"));
    EXPECT_GT(errors.size(), 6u);
}

TEST(Runner, ReRunSkipsFinishedRuns) {
    TempDir t;
    RunnerReport rep;
    auto first = sweep(t.path / "r.db", 2, 0, &rep);
    EXPECT_EQ(rep.complete, 12);
    auto second = sweep(t.path / "r.db", 2, 0, &rep);
    EXPECT_EQ(rep.skipped, 12);
    EXPECT_EQ(rep.complete, 0);
    EXPECT_EQ(first, second);
}

TEST(Runner, StopRequestMarksNothingCompleteThatDidNotFinish) {
    TempDir t;
    const Experiment& exp = find_experiment("double-descent");
    std::vector<Json> grid = expand_grid(exp.schema(), parse_overrides(exp.schema(), kTinySweep));
    Store store((t.path / "s.db").string());
    RunnerOptions opt;
    opt.jobs = 1;
    opt.progress = Progress::Mode::Quiet;
    std::atomic<bool> stop{true};  // stopped before anything starts
    RunnerReport rep = run_grid(exp, grid, store, opt, stop);
    EXPECT_EQ(rep.complete, 0);
    for (const RunRow& r : store.runs()) EXPECT_NE(r.state, RunState::Complete);
}

TEST(Runner, PlanDropsDuplicateConfigurations) {
    const Experiment& exp = find_experiment("double-descent");
    std::vector<Json> grid = expand_grid(exp.schema(), parse_overrides(exp.schema(), {"width=4,4,5", "seed=1"}));
    EXPECT_EQ(grid.size(), 3u);
    EXPECT_EQ(plan_runs(exp, grid, nullptr, false).size(), 2u);
}

}  // namespace
}  // namespace benchtop

namespace benchtop {
namespace {

TEST(Runner, DoubleDescentCnnVariantRunsAndCountsItsParameters) {
    TempDir t;
    const Experiment& exp = find_experiment("double-descent");
    std::vector<Json> grid = expand_grid(
        exp.schema(), parse_overrides(exp.schema(), {"model=cnn", "num_samples=400", "train_examples=200",
                                                     "batch=50", "epochs=2", "eval_every=1", "width=3,6",
                                                     "seed=0"}));
    Store store((t.path / "c.db").string());
    RunnerOptions opt;
    opt.jobs = 2;
    opt.progress = Progress::Mode::Quiet;
    std::atomic<bool> stop{false};
    EXPECT_EQ(run_grid(exp, grid, store, opt, stop).complete, 2);
    for (const RunRow& r : store.runs("double-descent")) {
        int64_t c = Json::parse(r.config_json)["width"].get<int64_t>();
        // conv1 1->c k5, conv2/3 c->c k3, linear 5c->10 (with biases).
        double expected = (5 * c + c) + 2 * (3 * c * c + c) + (50 * c + 10);
        EXPECT_EQ(r.summaries.at("params"), expected) << "width " << c;
        EXPECT_EQ(store.metrics(r.run_id, "test_error").size(), 2u);
    }
}

}  // namespace
}  // namespace benchtop
