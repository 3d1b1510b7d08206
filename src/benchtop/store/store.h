// The results store: one SQLite file (WAL mode) holding sweeps, runs with their configuration,
// per-step metrics, final summaries and artifacts, so that experiments can be resumed after a
// crash (a run's state says what is left to do), queried, exported and shown.
//
// Opening checks, before anything is written, that the file is a benchtop database of a schema
// this build can read; a file that is not (not SQLite, another program's SQLite file, a newer
// schema) is reported with its path and left byte-for-byte as it was. Non-finite metric and
// summary values are stored as NULL with a kind code (0 finite, 1 NaN, 2 +Inf, 3 -Inf) and come
// back as NaN/±Inf. A Store is not thread-safe: one writer thread owns it; other processes or
// threads may read the same file through their own (read-only) Store while it is written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "benchtop/store/sqlite.h"

namespace benchtop {

enum class RunState { Queued, Running, Complete, Failed, Diverged, Interrupted };
const char* to_string(RunState state);
RunState run_state_from_string(std::string_view s);  // throws Error on an unknown name

struct RunSpec {
    std::string experiment, run_key, group_key;
    int64_t seed = 0;
    std::string config_json;  // a JSON object; "" is taken as {}
    std::optional<int64_t> sweep_id;
    int64_t batch_id = -1, member = -1;  // -1: not part of a batch (stored as NULL)
    std::string worker;
};

struct Metric {
    std::string key;
    int64_t step = 0;
    double value = 0;  // may be NaN/±Inf
};

struct Summary {
    std::string key;
    double value = 0;
    int64_t step = -1;
};

struct RunOutcome {
    RunState state = RunState::Complete;
    std::vector<Summary> summaries;
    std::vector<Metric> metrics;
    std::string error;
    double wall_s = 0;
    // Provenance of a run computed in another process (an MPI rank): its CPU's model and kernel
    // path replace the ones start_run recorded for this process. Empty: keep them.
    std::string cpu, kernel_path;
};

// One row of `runs`. Times are unix seconds, 0 where not (yet) set; wall_s is 0 until finished;
// batch_id/member are -1 outside a batch. Non-finite summaries come back as NaN/±Inf.
struct RunRow {
    int64_t run_id = 0;
    std::string run_key, group_key, experiment;
    int64_t seed = 0;
    std::string config_json;
    RunState state = RunState::Queued;
    std::string version, error, worker;
    int64_t batch_id = -1, member = -1;
    int64_t created_at = 0, started_at = 0, finished_at = 0;
    double wall_s = 0;
    std::map<std::string, double> summaries;
    // Provenance (the tags table): the CPU's model and the kernel path (kernels/dispatch.h)
    // of the process that ran it; empty for runs stored before they were recorded.
    std::string cpu, kernel_path;
    int64_t sweep_id = -1;      // -1: not run by a sweep
    int64_t heartbeat_at = 0;   // last sign of life of a running run (unix seconds)
};

// One row of `sweeps`: a grid of one experiment, with the overrides (spec_json: key -> values)
// and the command line that ran it.
struct SweepRow {
    int64_t sweep_id = 0;
    std::string name, experiment, spec_json, command;
    int64_t created_at = 0;
};

struct ArtifactRow {
    int64_t artifact_id = 0;
    std::optional<int64_t> run_id;  // nullopt: an experiment-level artifact (e.g. a figure)
    std::string experiment, name, kind, path, sha256;
};

// What Store::merge_from did with the source's finished runs.
struct MergeReport {
    int64_t added = 0;            // new run keys
    int64_t already_present = 0;  // finished here already, with the same configuration: skipped
    int64_t replaced = 0;         // here but unfinished (running, interrupted, failed): replaced
};

class Store {
public:
    static constexpr int kSchemaVersion = 1;
    // PRAGMA application_id of every benchtop results database: "BTOP" in ASCII.
    static constexpr int32_t kApplicationId = 0x42544F50;
    enum class Mode { ReadWrite, ReadOnly };

    // ReadWrite creates the file (and its schema) when missing or empty; ReadOnly requires an
    // existing benchtop database and never writes to it.
    explicit Store(const std::string& path, Mode mode = Mode::ReadWrite);
    Store(Store&&) noexcept = default;
    Store& operator=(Store&&) noexcept = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    Mode mode() const { return mode_; }

    // Inserts the sweep or updates experiment/spec/command of the one with that name; its id.
    int64_t upsert_sweep(const std::string& name,
                         const std::string& experiment,
                         const std::string& spec_json,
                         const std::string& command);

    std::optional<RunState> state_of(const std::string& run_key) const;
    // run_key -> state of every run of `experiment` ("" = all experiments).
    std::map<std::string, RunState> states(const std::string& experiment) const;

    // Inserts the run as 'running', or resets an existing queued/interrupted/failed/running row
    // with that run_key to 'running' (its old metrics, summaries and params are deleted) and
    // returns its id. A complete or diverged run, or a run_key stored under another experiment,
    // is an Error. Writes one params row per top-level key of config_json.
    int64_t start_run(const RunSpec& spec);
    void heartbeat(std::span<const int64_t> run_ids);
    // In one transaction: the metrics, the summaries, state, finished_at, wall_s and error. The
    // run must be 'running' (or 'interrupted' by interrupt_stale while its worker was alive);
    // outcome.state must not be Queued or Running. On any error nothing is written.
    void finish_run(int64_t run_id, const RunOutcome& outcome);
    // Runs among `run_ids` still 'running' become 'interrupted'; the number changed.
    int mark_interrupted(std::span<const int64_t> run_ids);
    // 'running' runs whose last heartbeat (or start) is more than older_than_s seconds ago
    // become 'interrupted'; the number changed.
    int interrupt_stale(double older_than_s);

    // Records the file at `path` with its SHA-256; the same (experiment, name, run_id) replaces
    // the earlier row (keeping its id).
    void add_artifact(std::optional<int64_t> run_id,
                      const std::string& experiment,
                      const std::string& name,
                      const std::string& kind,
                      const std::string& path);

    // Copies the finished (complete or diverged) runs of the benchtop database at `source`, with
    // their params, metrics, summaries, tags and per-run artifacts, into this one, in one
    // transaction; the shards of a sweep (sweep/shard.h) become one database. Merging the same
    // source twice adds nothing. Refused, with nothing written, when a run key of the source is
    // stored here with another configuration, or when a source run and this database's finished
    // runs of the same experiment were made by different benchtop versions. Sweeps and
    // experiment-level artifacts (figure files of the source's machine) are not copied.
    MergeReport merge_from(const std::string& source);

    std::vector<std::string> experiments() const;  // distinct experiments of runs, sorted
    // Runs of `experiment` ("" = all) ordered by run_id, summaries filled.
    std::vector<RunRow> runs(const std::string& experiment = "") const;
    // The run with that id, summaries filled; nullopt when there is none.
    std::optional<RunRow> run(int64_t run_id) const;
    // Sweeps of `experiment` ("" = all) ordered by sweep_id.
    std::vector<SweepRow> sweeps(const std::string& experiment = "") const;
    // Metrics of the run (only `key` unless "") ordered by key, step.
    std::vector<Metric> metrics(int64_t run_id, const std::string& key = "") const;
    // Artifacts of `experiment` ("" = all) ordered by artifact_id.
    std::vector<ArtifactRow> artifacts(const std::string& experiment = "") const;

private:
    void open_checked();
    void create_schema();
    void require_writable(const char* what) const;

    std::string path_;
    Mode mode_ = Mode::ReadWrite;
    sql::Db db_;
};

}  // namespace benchtop
