// Runs a grid of configurations of one experiment into the results store.
//
// Finished runs (complete or diverged) already in the store are skipped, so re-running the same
// command is the resume; runs left 'running' or 'interrupted' by a killed process are redone.
// Configurations that may share a stacked training pass (equal pack keys) are packed into one
// pass of up to max_pack members; packs execute on `jobs` worker threads while this thread owns
// the database (one writer) and stores every finished run in its own transaction. Each member's
// result is independent of its pack and of the thread that ran it, so summaries are
// bit-identical for any --jobs and any packing.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "benchtop/experiments/experiment.h"
#include "benchtop/report/progress.h"
#include "benchtop/store/store.h"
#include "benchtop/sweep/executor.h"

namespace benchtop {

struct RunnerOptions {
    int jobs = 1;
    int64_t max_pack = 0;              // 0: the experiment's own maximum; 1 disables packing
    Progress::Mode progress = Progress::Mode::Auto;
    bool retry_failed = false;
    std::string command_line;          // stored with the sweep
    std::string sweep_spec;            // the overrides as JSON, stored with the sweep
    std::string worker = "local";
};

struct RunnerReport {
    int64_t total = 0, skipped = 0, complete = 0, diverged = 0, failed = 0, interrupted = 0;
    int64_t packs = 0;
    double wall_s = 0;
    std::vector<std::string> errors;   // one line per failed run
};

struct PlannedRun {
    Json config;
    std::string run_key;
    bool todo = true;
};

// The runs of the grid with their keys (duplicates removed), marking those the store holds as
// finished (or failed, unless retry_failed) as not to do.
std::vector<PlannedRun> plan_runs(const Experiment& exp, const std::vector<Json>& grid, const Store* store,
                                  bool retry_failed);

// Groups the runs to do into packs (indices into `runs`) in grid order.
std::vector<std::vector<size_t>> make_packs(const Experiment& exp, const std::vector<PlannedRun>& runs,
                                            int64_t max_pack);

// Packs run on `executor`, or, when null, on options.jobs threads of this process.
RunnerReport run_grid(const Experiment& exp, const std::vector<Json>& grid, Store& store,
                      const RunnerOptions& options, const std::atomic<bool>& stop,
                      PackExecutor* executor = nullptr);

}  // namespace benchtop
