// Shards and merging: shards partition the grid into whole packs whatever N; their databases,
// merged, hold exactly the runs of a single-process sweep with the same summaries and metrics bit
// for bit; merging again adds nothing; a source with a conflicting configuration or another
// benchtop version is refused and leaves the output untouched; unfinished runs are replaced.
#include "benchtop/sweep/shard.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <set>

#include "benchtop/sweep/grid.h"
#include "benchtop/sweep/runner.h"
#include "store/temp_dir.h"

namespace benchtop {
namespace {

const std::vector<std::string> kSweep = {"num_samples=600", "train_examples=200", "batch=50", "epochs=4",
                                         "eval_every=2",    "width=4,9,12",       "seed=0..2",
                                         "label_noise=0.1,0.2"};

std::vector<Json> grid_of(const Experiment& exp) {
    return expand_grid(exp.schema(), parse_overrides(exp.schema(), kSweep));
}

void run_into(const std::string& db, const std::vector<Json>& grid) {
    const Experiment& exp = find_experiment("double-descent");
    Store store(db);
    RunnerOptions opt;
    opt.jobs = 2;
    opt.progress = Progress::Mode::Quiet;
    std::atomic<bool> stop{false};
    run_grid(exp, grid, store, opt, stop);
}

// run_key -> (summaries, metrics as "key@step" -> value); compared bit for bit.
using Record = std::pair<std::map<std::string, double>, std::map<std::string, double>>;
std::map<std::string, Record> records(const std::string& db) {
    Store s(db, Store::Mode::ReadOnly);
    std::map<std::string, Record> out;
    for (const RunRow& r : s.runs()) {
        Record rec{r.summaries, {}};
        for (const Metric& m : s.metrics(r.run_id)) rec.second[m.key + "@" + std::to_string(m.step)] = m.value;
        out[r.run_key] = rec;
    }
    return out;
}

TEST(Shard, ParsesAndRejects) {
    EXPECT_EQ(parse_shard("2/5").index, 2);
    EXPECT_EQ(parse_shard("2/5").count, 5);
    for (const char* bad : {"5/5", "1", "a/2", "1/0", "-1/3", "1/2/3"}) {
        EXPECT_THROW(parse_shard(bad), UsageError) << bad;
    }
}

TEST(Shard, ShardsPartitionTheGridIntoWholePacks) {
    const Experiment& exp = find_experiment("double-descent");
    const std::vector<Json> grid = grid_of(exp);
    const std::vector<PlannedRun> all = plan_runs(exp, grid, nullptr, false);
    ASSERT_EQ(all.size(), 18u);
    for (int64_t n : {1, 2, 3, 7, 40}) {
        std::set<std::string> seen;
        for (int64_t i = 0; i < n; ++i) {
            std::vector<Json> part = shard_grid(exp, grid, {i, n}, 0);
            std::set<std::string> pack_keys;
            for (const Json& c : part) {
                EXPECT_TRUE(seen.insert(run_key(exp.name(), c)).second) << "a run in two shards";
                pack_keys.insert(exp.pack_key(c));
            }
            // Every pack key present in a shard has all its runs there (packs of up to 8 hold a
            // width's 6 runs), so shards train the stacks one process would.
            for (const std::string& pk : pack_keys) {
                int64_t here = 0, total = 0;
                for (const Json& c : part) here += exp.pack_key(c) == pk;
                for (const PlannedRun& r : all) total += exp.pack_key(r.config) == pk;
                EXPECT_EQ(here, total);
            }
            EXPECT_EQ(shard_grid(exp, grid, {i, n}, 0).size(), part.size()) << "deterministic";
        }
        EXPECT_EQ(seen.size(), all.size()) << n << " shards";
    }
}

TEST(Merge, ShardsMergeIntoTheSingleProcessResult) {
    test::TempDir t;
    const Experiment& exp = find_experiment("double-descent");
    const std::vector<Json> grid = grid_of(exp);
    run_into(t.file("single.db"), grid);
    for (int64_t i = 0; i < 3; ++i) run_into(t.file("shard" + std::to_string(i) + ".db"), shard_grid(exp, grid, {i, 3}, 0));
    Store out(t.file("merged.db"));
    int64_t added = 0;
    for (int64_t i = 0; i < 3; ++i) {
        MergeReport r = out.merge_from(t.file("shard" + std::to_string(i) + ".db"));
        EXPECT_EQ(r.already_present, 0);
        added += r.added;
    }
    EXPECT_EQ(added, 18);
    const auto single = records(t.file("single.db"));
    ASSERT_EQ(single.size(), 18u);
    EXPECT_EQ(records(t.file("merged.db")), single);
    // Idempotent.
    MergeReport again = out.merge_from(t.file("shard1.db"));
    EXPECT_EQ(again.added, 0);
    EXPECT_GT(again.already_present, 0);
    EXPECT_EQ(records(t.file("merged.db")), single);
    // Provenance tags travel with the runs.
    for (const RunRow& r : out.runs()) EXPECT_FALSE(r.kernel_path.empty()) << r.run_key;
}

// Runs `sql` on the database file directly (to forge conflicts the store's API never makes).
void exec_sql(const std::string& db, const std::string& sql) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(h);
}

TEST(Merge, RefusesConflictsAndReplacesUnfinishedRuns) {
    test::TempDir t;
    const Experiment& exp = find_experiment("double-descent");
    const std::vector<Json> grid = shard_grid(exp, grid_of(exp), {0, 3}, 0);
    run_into(t.file("a.db"), grid);
    std::filesystem::copy_file(t.file("a.db"), t.file("b.db"));
    std::filesystem::copy_file(t.file("a.db"), t.file("c.db"));
    std::filesystem::copy_file(t.file("a.db"), t.file("d.db"));
    exec_sql(t.file("b.db"), "UPDATE runs SET config_json = '{\"forged\": 1}' WHERE run_id = 1");
    exec_sql(t.file("c.db"), "UPDATE runs SET version = '0.0.1'");
    exec_sql(t.file("d.db"), "UPDATE runs SET state = 'interrupted' WHERE run_id = 2");
    const auto before = records(t.file("a.db"));
    {
        Store a(t.file("a.db"));
        try {
            a.merge_from(t.file("b.db"));
            ADD_FAILURE() << "a forged configuration was merged";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("another configuration"), std::string::npos) << e.what();
        }
        try {
            a.merge_from(t.file("c.db"));
            ADD_FAILURE() << "another version was merged";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("0.0.1"), std::string::npos) << e.what();
        }
        EXPECT_THROW(a.merge_from(t.file("missing.db")), Error);
        EXPECT_THROW(a.merge_from(t.file("a.db")), Error);
    }
    EXPECT_EQ(records(t.file("a.db")), before) << "a refused merge writes nothing";
    // d holds one run unfinished: merging a into d replaces it with the finished one.
    Store d(t.file("d.db"));
    MergeReport r = d.merge_from(t.file("a.db"));
    EXPECT_EQ(r.replaced, 1);
    EXPECT_EQ(r.added, 0);
    EXPECT_EQ(r.already_present, static_cast<int64_t>(before.size()) - 1);
    EXPECT_EQ(records(t.file("d.db")), before);
}

}  // namespace
}  // namespace benchtop
