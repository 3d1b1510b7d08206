// Where a sweep's packs are computed. The runner (runner.h) owns the store and the schedule; an
// executor only trains packs and hands back their outcomes: ThreadExecutor on this process's
// worker threads, MpiExecutor (cluster/mpi.h) on the other ranks of an MPI job.
//
//   ThreadExecutor ex(jobs, stop);
//   ex.submit(p, configs, advance);            // at most ex.slots() packs in flight
//   for (PackResult& r : ex.wait(250ms)) ...   // the packs that finished meanwhile
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "benchtop/experiments/experiment.h"

namespace benchtop {

struct PackResult {
    size_t pack = 0;
    std::vector<RunOutcome> outcomes;   // one per configuration, unless error or interrupted
    std::optional<std::string> error;   // the pack failed as a whole
    bool interrupted = false;           // stopped (Ctrl-C) before it finished
    double wall_s = 0;
};

// Trains one pack here, in this thread, catching what it throws into the result.
PackResult run_pack_here(const Experiment& exp, size_t pack, const std::vector<Json>& configs,
                         const std::function<void(int64_t)>& advance, const std::atomic<bool>& stop,
                         int threads = 1);

class PackExecutor {
public:
    virtual ~PackExecutor() = default;
    // How many packs may be in flight at once.
    virtual int slots() const = 0;
    // The worker the next submitted pack goes to, as stored with its runs.
    virtual std::string next_worker() const = 0;
    // Starts pack `pack`; `advance(n)` reports n more units of its work done (it may be called
    // from another thread).
    virtual void submit(size_t pack, std::vector<Json> configs, std::function<void(int64_t)> advance) = 0;
    // The packs finished since the last call; waits up to `timeout` for at least one.
    virtual std::vector<PackResult> wait(std::chrono::milliseconds timeout) = 0;
};

class ThreadExecutor final : public PackExecutor {
public:
    // pack_threads: RunContext::threads of every pack (see experiment.h).
    ThreadExecutor(const Experiment& exp, int jobs, const std::atomic<bool>& stop, std::string worker,
                   int pack_threads = 1);
    ~ThreadExecutor() override;  // drops queued packs and joins the threads
    ThreadExecutor(const ThreadExecutor&) = delete;
    ThreadExecutor& operator=(const ThreadExecutor&) = delete;

    int slots() const override { return jobs_; }
    std::string next_worker() const override { return worker_; }
    void submit(size_t pack, std::vector<Json> configs, std::function<void(int64_t)> advance) override;
    std::vector<PackResult> wait(std::chrono::milliseconds timeout) override;

private:
    struct Task {
        size_t pack;
        std::vector<Json> configs;
        std::function<void(int64_t)> advance;
    };
    void work();

    const Experiment& exp_;
    const int jobs_;
    const int pack_threads_;
    const std::atomic<bool>& stop_;
    const std::string worker_;
    std::mutex mu_;
    std::condition_variable cv_tasks_, cv_done_;
    std::deque<Task> tasks_;
    std::deque<PackResult> done_;
    bool closing_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace benchtop
