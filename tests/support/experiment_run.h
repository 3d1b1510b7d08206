// Runs an experiment's grid through the sweep runner into a temporary results database, as
// `benchtop run EXP key=value ...` would (two jobs, quiet), for the experiment outcome tests.
//
//   test::ExperimentRun run("double-descent", {"width=8,16", "seed=0,1"});
//   EXPECT_EQ(run.complete, 4);
//   for (const RunRow& r : run.store().runs("double-descent")) ...
//   run.expect_figures();
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"
#include "benchtop/sweep/grid.h"
#include "benchtop/sweep/runner.h"

namespace benchtop::test {

class ExperimentRun {
public:
    ExperimentRun(const std::string& name, const std::vector<std::string>& overrides)
        : exp_(find_experiment(name)),
          dir_(std::filesystem::temp_directory_path() /
               ("benchtop_" + name + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        std::vector<Json> grid = expand_grid(exp_.schema(), parse_overrides(exp_.schema(), overrides));
        grid_size = grid.size();
        {
            Store writer((dir_ / "r.db").string());
            RunnerOptions opt;
            opt.jobs = 2;
            opt.progress = Progress::Mode::Quiet;
            std::atomic<bool> stop{false};
            complete = run_grid(exp_, grid, writer, opt, stop).complete;
        }
        store_ = std::make_unique<Store>((dir_ / "r.db").string(), Store::Mode::ReadOnly);
    }
    ~ExperimentRun() {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    ExperimentRun(const ExperimentRun&) = delete;
    ExperimentRun& operator=(const ExperimentRun&) = delete;

    const Store& store() const { return *store_; }

    // The experiment draws its two figures (SVG and PNG) from the store (when gnuplot exists).
    void expect_figures() const {
        if (!gnuplot_available()) return;
        std::vector<std::string> files = exp_.draw(*store_, (dir_ / "figs").string());
        ASSERT_EQ(files.size(), 2u);
        for (const std::string& f : files) EXPECT_GT(std::filesystem::file_size(f), 1000u) << f;
    }

    size_t grid_size = 0;
    int64_t complete = 0;

private:
    const Experiment& exp_;
    std::filesystem::path dir_;
    std::unique_ptr<Store> store_;
};

}  // namespace benchtop::test
