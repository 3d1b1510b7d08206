// An experiment: a claim about deep learning, the parameter schema of the runs that test it,
// how to run a pack of configurations (members of one stacked training pass), and the
// figures that show the outcome, drawn from the results store (never from memory), so any
// figure can be redrawn later from a results file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchtop/experiments/schema.h"
#include "benchtop/store/store.h"

namespace benchtop {

// Thrown from inside a run when the user asked to stop (Ctrl-C); the run is stored as interrupted.
class Interrupted : public Error {
public:
    Interrupted() : Error("interrupted") {}
};

struct RunContext {
    // Reports `n` more units of work done (see Experiment::work_units); thread-safe.
    std::function<void(int64_t)> advance;
    const std::atomic<bool>* stop = nullptr;
    // Threads this pack may use for work of its own (e.g. self-play games): more than one only
    // when the sweep has fewer packs than --jobs. Results must not depend on it.
    int threads = 1;
    void check_stop() const {
        if (stop && stop->load(std::memory_order_relaxed)) throw Interrupted();
    }
};

// Pieces every stacked run_pack needs: one value of `key` per configuration (seeds, learning
// rates, label-noise fractions), and the training loop's per-step callback that honours Ctrl-C
// and reports `members` units of progress.
template <class T>
std::vector<T> pack_values(const std::vector<Json>& configs, const std::string& key) {
    std::vector<T> out;
    out.reserve(configs.size());
    for (const Json& c : configs) out.push_back(c.at(key).get<T>());
    return out;
}

inline std::function<void(int64_t)> step_reporter(const RunContext& ctx, int64_t members) {
    return [&ctx, members](int64_t) {
        ctx.check_stop();
        if (ctx.advance) ctx.advance(members);
    };
}

class Experiment {
public:
    virtual ~Experiment() = default;
    virtual std::string name() const = 0;
    // One line: the claim the experiment tests.
    virtual std::string claim() const = 0;
    // The paper(s) it reproduces.
    virtual std::string reference() const = 0;
    virtual const Schema& schema() const = 0;

    // Cross-parameter checks on a resolved configuration; throws UsageError.
    virtual void check(const Json& config) const { (void)config; }
    // Units of work of one run (e.g. training steps), for the progress bar and time estimates.
    virtual int64_t work_units(const Json& config) const = 0;
    // Seconds per work unit on one core, measured, for `--dry-run` estimates.
    virtual double seconds_per_unit(const Json& config) const = 0;
    // Configurations with equal pack keys may run as members of one stacked pass.
    virtual std::string pack_key(const Json& config) const;
    // Most configurations (like `config`) worth stacking: a stack is faster only while its
    // activations stay in cache, so wide models pack fewer members.
    virtual int64_t max_pack(const Json& config) const {
        (void)config;
        return 8;
    }
    // Runs the configurations (all with one pack key) and returns one outcome per configuration,
    // each exactly what it would be if it ran alone.
    virtual std::vector<RunOutcome> run_pack(const std::vector<Json>& configs, RunContext& ctx) const = 0;
    // Draws the experiment's figures from the store into out_dir; returns the files written.
    virtual std::vector<std::string> draw(const Store& store, const std::string& out_dir) const = 0;
    // Config keys worth a column in `benchtop show` (besides those that vary).
    virtual std::vector<std::string> show_keys() const { return {}; }
};

// Draws the experiment's figures into out_dir (created when missing) and records each file in
// the store as an experiment-level artifact; the files written.
std::vector<std::string> draw_and_record(const Experiment& exp, Store& store, const std::string& out_dir);

const std::vector<const Experiment*>& all_experiments();
// Throws UsageError naming the known experiments.
const Experiment& find_experiment(const std::string& name);

// run_key: hash of the experiment and the whole resolved config (seed included);
// group_key: the same without the seed ("all but seed").
std::string run_key(const std::string& experiment, const Json& config);
std::string group_key(const std::string& experiment, const Json& config);

}  // namespace benchtop
