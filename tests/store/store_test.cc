// Tests of the results store: schema creation and reopening, the run life cycle (start, finish
// with non-finite values, atomic failure, restart, interruption, staleness), refusal of files
// that are not benchtop databases with their bytes unchanged, read-only mode, a writer and a
// reader on one WAL file, artifacts and sweeps.
#include "benchtop/store/store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <vector>

#include "benchtop/core/error.h"
#include "benchtop/core/version.h"
#include "benchtop/store/sqlite.h"
#include "store/temp_dir.h"

namespace benchtop {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The message of the Error thrown by f(), or "" if none was thrown.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

RunSpec spec(const std::string& key,
             const std::string& config = R"({"lr":0.01})",
             const std::string& experiment = "exp") {
    RunSpec s;
    s.experiment = experiment;
    s.run_key = key;
    s.group_key = "g-" + key;
    s.seed = 7;
    s.config_json = config;
    return s;
}

int64_t query_int(const sql::Db& db, const std::string& q) {
    auto st = db.prepare(q);
    EXPECT_TRUE(st.step()) << q;
    return st.int64(0);
}

std::string query_text(const sql::Db& db, const std::string& q) {
    auto st = db.prepare(q);
    EXPECT_TRUE(st.step()) << q;
    return st.text(0);
}

TEST(StoreSchema, CreatedAndReopened) {
    test::TempDir dir;
    const std::string path = dir.file("results.db");
    {
        Store store(path);
        EXPECT_EQ(store.path(), path);
        EXPECT_TRUE(store.experiments().empty());
        EXPECT_TRUE(store.runs().empty());
    }
    ASSERT_TRUE(std::filesystem::exists(path));
    {
        sql::Db db(path, sql::Db::Open::ReadOnly);
        EXPECT_EQ(query_int(db, "PRAGMA application_id"), Store::kApplicationId);
        EXPECT_EQ(query_int(db, "PRAGMA user_version"), Store::kSchemaVersion);
        EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
        EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "1");
        EXPECT_EQ(query_text(db, "SELECT value FROM meta WHERE key = 'created_with'"), kVersion);
        for (const char* table :
             {"meta", "sweeps", "runs", "params", "metrics", "summaries", "artifacts", "tags"}) {
            auto st = db.prepare("SELECT strict FROM pragma_table_list WHERE name = ?1");
            st.bind(1, table);
            ASSERT_TRUE(st.step()) << table;
            EXPECT_EQ(st.int64(0), 1) << table << " is not STRICT";
        }
        EXPECT_EQ(query_int(db, "SELECT wr FROM pragma_table_list WHERE name = 'metrics'"), 1);
        for (const char* index :
             {"runs_sweep_state", "runs_group", "runs_experiment", "summaries_key_value"}) {
            auto st =
                db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1");
            st.bind(1, index);
            ASSERT_TRUE(st.step());
            EXPECT_EQ(st.int64(0), 1) << index;
        }
    }
    {
        Store store(path);  // reopen read-write: no re-creation, no error
        store.start_run(spec("a"));
    }
    Store reader(path, Store::Mode::ReadOnly);
    ASSERT_EQ(reader.runs().size(), 1u);
    EXPECT_EQ(reader.experiments(), std::vector<std::string>{"exp"});
}

TEST(StoreSchema, EmptyFileIsInitialised) {
    test::TempDir dir;
    const std::string path = dir.file("empty.db");
    test::write_bytes(path, "");
    {
        Store store(path);
        store.start_run(spec("a"));
    }
    EXPECT_EQ(Store(path).states("exp").size(), 1u);
}

TEST(StoreRuns, StartFinishRoundTrip) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    RunSpec s =
        spec("run-a", R"({"lr":0.001,"model":"mlp","depth":3,"bn":true,"dims":[1,2],"x":null})");
    s.batch_id = 4;
    s.member = 2;
    s.worker = "w0";
    const int64_t id = store.start_run(s);
    EXPECT_EQ(store.state_of("run-a"), RunState::Running);
    EXPECT_EQ(store.state_of("nope"), std::nullopt);

    RunOutcome out;
    out.state = RunState::Complete;
    out.wall_s = 12.5;
    out.metrics = {{"loss", 0, 2.5},
                   {"loss", 1, kNaN},
                   {"loss", 2, kInf},
                   {"acc", 1, -kInf},
                   {"acc", 0, 0.125}};
    out.summaries = {{"final_loss", 0.75, 2}, {"best", kNaN, -1}, {"up", kInf}, {"down", -kInf}};
    store.finish_run(id, out);

    EXPECT_EQ(store.state_of("run-a"), RunState::Complete);
    auto runs = store.runs("exp");
    ASSERT_EQ(runs.size(), 1u);
    const RunRow& r = runs[0];
    EXPECT_EQ(r.run_id, id);
    EXPECT_EQ(r.run_key, "run-a");
    EXPECT_EQ(r.group_key, "g-run-a");
    EXPECT_EQ(r.experiment, "exp");
    EXPECT_EQ(r.seed, 7);
    EXPECT_EQ(r.config_json, s.config_json);
    EXPECT_EQ(r.state, RunState::Complete);
    EXPECT_EQ(r.version, kVersion);
    EXPECT_EQ(r.worker, "w0");
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.batch_id, 4);
    EXPECT_EQ(r.member, 2);
    EXPECT_GT(r.created_at, 0);
    EXPECT_GE(r.started_at, r.created_at);
    EXPECT_GE(r.finished_at, r.started_at);
    EXPECT_DOUBLE_EQ(r.wall_s, 12.5);
    ASSERT_EQ(r.summaries.size(), 4u);
    EXPECT_DOUBLE_EQ(r.summaries.at("final_loss"), 0.75);
    EXPECT_TRUE(std::isnan(r.summaries.at("best")));
    EXPECT_EQ(r.summaries.at("up"), kInf);
    EXPECT_EQ(r.summaries.at("down"), -kInf);

    auto m = store.metrics(id);
    ASSERT_EQ(m.size(), 5u);  // ordered by key, then step
    EXPECT_EQ(m[0].key, "acc");
    EXPECT_EQ(m[0].step, 0);
    EXPECT_DOUBLE_EQ(m[0].value, 0.125);
    EXPECT_EQ(m[1].value, -kInf);
    EXPECT_EQ(m[2].key, "loss");
    EXPECT_DOUBLE_EQ(m[2].value, 2.5);
    EXPECT_TRUE(std::isnan(m[3].value));
    EXPECT_EQ(m[4].value, kInf);
    auto loss = store.metrics(id, "loss");
    ASSERT_EQ(loss.size(), 3u);
    EXPECT_EQ(loss[2].step, 2);

    // Non-finite values are NULL with a kind code; params hold one row per top-level key.
    sql::Db db(store.path(), sql::Db::Open::ReadOnly);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM metrics WHERE value IS NULL"), 3);
    EXPECT_EQ(query_int(db, "SELECT kind FROM metrics WHERE key = 'loss' AND step = 1"), 1);
    EXPECT_EQ(query_int(db, "SELECT kind FROM metrics WHERE key = 'loss' AND step = 2"), 2);
    EXPECT_EQ(query_int(db, "SELECT kind FROM metrics WHERE key = 'acc' AND step = 1"), 3);
    EXPECT_EQ(query_int(db, "SELECT step FROM summaries WHERE key = 'final_loss'"), 2);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM params"), 6);
    auto p = db.prepare("SELECT key, value_real, value_text FROM params ORDER BY key");
    std::vector<std::string> rows;
    while (p.step()) {
        rows.push_back(p.text(0) + "=" + (p.is_null(1) ? "-" : std::to_string(p.real(1))) + "|" +
                       (p.is_null(2) ? "-" : p.text(2)));
    }
    EXPECT_EQ(rows, (std::vector<std::string>{"bn=1.000000|-", "depth=3.000000|-", "dims=-|[1,2]",
                                              "lr=0.001000|-", "model=-|mlp", "x=-|-"}));
}

TEST(StoreRuns, FinishRunIsAtomic) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t id = store.start_run(spec("a"));
    RunOutcome out;
    out.metrics = {{"loss", 0, 1.0}, {"loss", 1, 0.5}, {"loss", 1, 0.25}};  // duplicate step
    out.summaries = {{"loss", 0.25}};
    std::string err = error_of([&] { store.finish_run(id, out); });
    EXPECT_TRUE(contains(err, "loss")) << err;
    EXPECT_EQ(store.state_of("a"), RunState::Running);
    EXPECT_TRUE(store.metrics(id).empty());
    EXPECT_TRUE(store.runs()[0].summaries.empty());
    EXPECT_EQ(store.runs()[0].finished_at, 0);

    // A duplicate summary key also rolls everything back.
    out.metrics = {{"loss", 0, 1.0}};
    out.summaries = {{"acc", 1.0}, {"acc", 2.0}};
    EXPECT_THROW(store.finish_run(id, out), Error);
    EXPECT_TRUE(store.metrics(id).empty());
    EXPECT_EQ(store.state_of("a"), RunState::Running);

    // The store stays usable: the corrected outcome is stored.
    out.summaries = {{"acc", 1.0}};
    store.finish_run(id, out);
    EXPECT_EQ(store.metrics(id).size(), 1u);
    EXPECT_EQ(store.state_of("a"), RunState::Complete);
}

TEST(StoreRuns, ProvenanceOfAnotherProcessReplacesThisOne) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t a = store.start_run(spec("a"));
    const int64_t b = store.start_run(spec("b"));
    const std::string here = store.runs()[0].cpu;
    EXPECT_FALSE(here.empty());
    RunOutcome out;
    store.finish_run(a, out);  // computed here: the tags start_run wrote stay
    out.cpu = "Remote CPU";
    out.kernel_path = "generic";
    store.finish_run(b, out);  // computed by another rank: its CPU and path are recorded
    const std::vector<RunRow> rows = store.runs();
    EXPECT_EQ(rows[0].cpu, here);
    EXPECT_EQ(rows[1].cpu, "Remote CPU");
    EXPECT_EQ(rows[1].kernel_path, "generic");
}

TEST(StoreRuns, FinishRunChecksStateAndRun) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t id = store.start_run(spec("a"));
    RunOutcome running;
    running.state = RunState::Running;
    EXPECT_THROW(store.finish_run(id, running), Error);
    EXPECT_THROW(store.finish_run(id + 100, RunOutcome{}), Error);
    RunOutcome failed;
    failed.state = RunState::Failed;
    failed.error = "boom";
    store.finish_run(id, failed);
    EXPECT_EQ(store.runs()[0].error, "boom");
    EXPECT_THROW(store.finish_run(id, RunOutcome{}), Error);  // no longer running
}

TEST(StoreRuns, RestartOfInterruptedRunClearsPreviousResults) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t id = store.start_run(spec("a", R"({"lr":0.1,"old":1})"));
    RunOutcome out;
    out.state = RunState::Interrupted;
    out.metrics = {{"loss", 0, 1.0}, {"loss", 1, 0.9}};
    out.summaries = {{"loss", 0.9}};
    store.finish_run(id, out);
    EXPECT_EQ(store.state_of("a"), RunState::Interrupted);

    const int64_t again = store.start_run(spec("a", R"({"lr":0.2})"));
    EXPECT_EQ(again, id);
    EXPECT_EQ(store.state_of("a"), RunState::Running);
    EXPECT_TRUE(store.metrics(id).empty());
    auto runs = store.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_TRUE(runs[0].summaries.empty());
    EXPECT_EQ(runs[0].config_json, R"({"lr":0.2})");
    EXPECT_EQ(runs[0].finished_at, 0);
    EXPECT_EQ(runs[0].error, "");
    sql::Db db(store.path(), sql::Db::Open::ReadOnly);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM params"), 1);

    // Failed and still-running rows may be restarted too.
    RunOutcome failed;
    failed.state = RunState::Failed;
    store.finish_run(id, failed);
    EXPECT_EQ(store.start_run(spec("a")), id);
    EXPECT_EQ(store.start_run(spec("a")), id);
    EXPECT_EQ(store.runs().size(), 1u);
}

TEST(StoreRuns, CompleteOrDivergedRunCannotBeStarted) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    store.finish_run(store.start_run(spec("done")), RunOutcome{});
    RunOutcome diverged;
    diverged.state = RunState::Diverged;
    store.finish_run(store.start_run(spec("nan")), diverged);
    std::string err = error_of([&] { store.start_run(spec("done")); });
    EXPECT_TRUE(contains(err, "done") && contains(err, "complete")) << err;
    EXPECT_THROW(store.start_run(spec("nan")), Error);
    EXPECT_EQ(store.state_of("done"), RunState::Complete);
    // The same run key under another experiment is refused as well.
    store.start_run(spec("x"));
    EXPECT_THROW(store.start_run(spec("x", "{}", "other")), Error);
}

TEST(StoreRuns, InvalidConfigIsRefused) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    EXPECT_THROW(store.start_run(spec("a", "[1,2]")), Error);
    EXPECT_THROW(store.start_run(spec("a", "{lr:")), Error);
    EXPECT_EQ(store.state_of("a"), std::nullopt);
    RunSpec empty = spec("b", "");
    store.start_run(empty);
    EXPECT_EQ(store.runs()[0].config_json, "{}");
}

TEST(StoreRuns, MarkInterrupted) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t a = store.start_run(spec("a"));
    const int64_t b = store.start_run(spec("b"));
    const int64_t c = store.start_run(spec("c"));
    store.finish_run(b, RunOutcome{});
    const std::vector<int64_t> ids = {a, b, 999};
    EXPECT_EQ(store.mark_interrupted(ids), 1);
    EXPECT_EQ(store.state_of("a"), RunState::Interrupted);
    EXPECT_EQ(store.state_of("b"), RunState::Complete);
    EXPECT_EQ(store.state_of("c"), RunState::Running);
    EXPECT_EQ(store.mark_interrupted(ids), 0);
    EXPECT_EQ(store.mark_interrupted({}), 0);
    auto states = store.states("exp");
    EXPECT_EQ(states.size(), 3u);
    EXPECT_EQ(states.at("c"), RunState::Running);
    (void)c;
}

TEST(StoreRuns, InterruptStale) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t a = store.start_run(spec("a"));
    const int64_t b = store.start_run(spec("b"));
    const int64_t c = store.start_run(spec("c"));
    store.finish_run(c, RunOutcome{});
    {
        // Age a's heartbeat and c's (finished) times by an hour through a second connection.
        sql::Db db(store.path(), sql::Db::Open::ReadWriteCreate);
        db.exec(
            "UPDATE runs SET heartbeat_at = heartbeat_at - 3600, started_at = started_at - 3600");
    }
    const std::vector<int64_t> ids = {b};
    store.heartbeat(ids);  // b's heartbeat is fresh again
    EXPECT_EQ(store.interrupt_stale(600), 1);
    EXPECT_EQ(store.state_of("a"), RunState::Interrupted);
    EXPECT_EQ(store.state_of("b"), RunState::Running);
    EXPECT_EQ(store.state_of("c"), RunState::Complete);
    EXPECT_TRUE(contains(store.runs()[0].error, "heartbeat")) << store.runs()[0].error;
    EXPECT_EQ(store.interrupt_stale(600), 0);
    EXPECT_EQ(store.interrupt_stale(-10), 1);  // everything running counts as stale
    EXPECT_EQ(store.state_of("b"), RunState::Interrupted);
    // A worker that was only slow may still deliver its result.
    store.finish_run(a, RunOutcome{});
    EXPECT_EQ(store.state_of("a"), RunState::Complete);
}

// Opening `path` (in `mode`) throws an Error naming it and containing `part`; the file's
// bytes are unchanged.
void expect_refused(const std::string& path, Store::Mode mode, const std::string& part) {
    const std::string before = test::read_bytes(path);
    std::string err = error_of([&] { Store store(path, mode); });
    EXPECT_TRUE(contains(err, path)) << err;
    EXPECT_TRUE(contains(err, part)) << err;
    EXPECT_EQ(test::read_bytes(path), before);
}

TEST(StoreOpen, NotSqliteFileIsRefusedUnchanged) {
    test::TempDir dir;
    const std::string path = dir.file("notes.txt");
    test::write_bytes(path, "these are my notes, not a database\n" + std::string(5000, 'x'));
    expect_refused(path, Store::Mode::ReadWrite,
                   "is not a benchtop results database: file is not SQLite");
    expect_refused(path, Store::Mode::ReadOnly, "file is not SQLite");
    const std::string tiny = dir.file("tiny");
    test::write_bytes(tiny, "SQLite");
    expect_refused(tiny, Store::Mode::ReadWrite, "file is not SQLite");
    // A file with SQLite's magic but garbage after it.
    const std::string fake = dir.file("fake.db");
    test::write_bytes(fake, std::string("SQLite format 3\0", 16) + std::string(4096, '\x7f'));
    expect_refused(fake, Store::Mode::ReadWrite, "is not a benchtop results database");
}

TEST(StoreOpen, ForeignSqliteDatabaseIsRefusedUnchanged) {
    test::TempDir dir;
    const std::string path = dir.file("other.sqlite");
    {
        sql::Db db(path, sql::Db::Open::ReadWriteCreate);
        db.exec("CREATE TABLE people(name TEXT); INSERT INTO people VALUES('ada')");
    }
    expect_refused(path, Store::Mode::ReadWrite, "was not created by benchtop");
    expect_refused(path, Store::Mode::ReadOnly, "was not created by benchtop");
    EXPECT_FALSE(std::filesystem::exists(path + "-wal"));

    // Right application_id but no meta table: still not ours.
    const std::string path2 = dir.file("other2.sqlite");
    {
        sql::Db db(path2, sql::Db::Open::ReadWriteCreate);
        db.exec("CREATE TABLE runs(x); PRAGMA application_id = " +
                std::to_string(Store::kApplicationId));
    }
    expect_refused(path2, Store::Mode::ReadWrite, "was not created by benchtop");
}

TEST(StoreOpen, NewerSchemaIsRefusedUnchanged) {
    test::TempDir dir;
    const std::string path = dir.file("future.db");
    { Store store(path); }
    {
        sql::Db db(path, sql::Db::Open::ReadWriteCreate);
        db.exec(
            "UPDATE meta SET value = '2' WHERE key = 'schema_version'; PRAGMA user_version = 2");
    }
    expect_refused(path, Store::Mode::ReadWrite,
                   "was written by a newer benchtop (schema 2, this build reads up to 1)");
    expect_refused(path, Store::Mode::ReadOnly, "newer benchtop");
}

TEST(StoreOpen, ReadOnlyMissingFile) {
    test::TempDir dir;
    const std::string path = dir.file("missing.db");
    std::string err = error_of([&] { Store store(path, Store::Mode::ReadOnly); });
    EXPECT_TRUE(contains(err, path)) << err;
    EXPECT_FALSE(std::filesystem::exists(path));
    test::write_bytes(path, "");
    expect_refused(path, Store::Mode::ReadOnly, "empty");
}

TEST(StoreOpen, ReadOnlyNeverWrites) {
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    {
        Store store(path);
        store.finish_run(store.start_run(spec("a")), RunOutcome{});
    }
    const std::string before = test::read_bytes(path);
    {
        Store ro(path, Store::Mode::ReadOnly);
        EXPECT_EQ(ro.mode(), Store::Mode::ReadOnly);
        EXPECT_EQ(ro.runs().size(), 1u);
        EXPECT_EQ(ro.state_of("a"), RunState::Complete);
        std::string err = error_of([&] { ro.start_run(spec("b")); });
        EXPECT_TRUE(contains(err, "read-write")) << err;
        EXPECT_THROW(ro.upsert_sweep("s", "exp", "{}", "cmd"), Error);
        EXPECT_THROW(ro.mark_interrupted(std::vector<int64_t>{1}), Error);
    }
    EXPECT_EQ(test::read_bytes(path), before);
}

TEST(StoreOpen, WriterAndReaderCoexist) {
    test::TempDir dir;
    const std::string path = dir.file("r.db");
    Store writer(path);
    const int64_t a = writer.start_run(spec("a"));
    Store reader(path, Store::Mode::ReadOnly);
    EXPECT_EQ(reader.state_of("a"), RunState::Running);
    RunOutcome out;
    out.metrics = {{"loss", 0, 1.0}};
    out.summaries = {{"loss", 1.0}};
    writer.finish_run(a, out);
    writer.start_run(spec("b"));
    EXPECT_EQ(reader.state_of("a"), RunState::Complete);
    EXPECT_EQ(reader.states("exp").size(), 2u);
    EXPECT_EQ(reader.metrics(a).size(), 1u);
    // A second read-write store on the same file (another process, in practice) also works.
    Store writer2(path);
    writer2.start_run(spec("c"));
    EXPECT_EQ(writer.states("").size(), 3u);
    EXPECT_EQ(reader.runs().size(), 3u);
}

TEST(StoreArtifacts, AddReplaceAndList) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t a = store.start_run(spec("a"));
    const std::string fig = dir.file("fig.svg");
    test::write_bytes(fig, "abc");
    store.add_artifact(std::nullopt, "exp", "loss_curve", "figure", fig);
    store.add_artifact(a, "exp", "loss_curve", "figure", fig);
    store.add_artifact(a, "exp", "weights", "checkpoint", fig);
    auto arts = store.artifacts("exp");
    ASSERT_EQ(arts.size(), 3u);
    EXPECT_EQ(arts[0].run_id, std::nullopt);
    EXPECT_EQ(arts[0].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(arts[0].path, fig);
    EXPECT_EQ(arts[1].run_id, a);
    EXPECT_EQ(arts[2].kind, "checkpoint");

    test::write_bytes(fig, "");  // re-adding replaces the row (same id), both with and without run
    store.add_artifact(std::nullopt, "exp", "loss_curve", "figure", fig);
    store.add_artifact(a, "exp", "loss_curve", "figure", fig);
    auto again = store.artifacts();
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(again[0].artifact_id, arts[0].artifact_id);
    EXPECT_EQ(again[0].sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(again[1].sha256, again[0].sha256);
    EXPECT_EQ(again[2].sha256, arts[2].sha256);
    EXPECT_TRUE(store.artifacts("other").empty());
    EXPECT_THROW(store.add_artifact(a, "exp", "x", "figure", dir.file("missing.svg")), Error);
}

TEST(StoreSweeps, UpsertAndRunsOfSweep) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    const int64_t s =
        store.upsert_sweep("lr-sweep", "exp", R"({"lr":[0.1,0.01]})", "benchtop sweep");
    EXPECT_EQ(store.upsert_sweep("lr-sweep", "exp", R"({"lr":[0.1]})", "benchtop sweep --x"), s);
    EXPECT_NE(store.upsert_sweep("other", "exp", "{}", ""), s);
    RunSpec r = spec("a");
    r.sweep_id = s;
    store.start_run(r);
    r = spec("b");
    r.sweep_id = 12345;  // no such sweep: the foreign key refuses it
    EXPECT_THROW(store.start_run(r), Error);
    sql::Db db(store.path(), sql::Db::Open::ReadOnly);
    EXPECT_EQ(query_text(db, "SELECT spec_json FROM sweeps WHERE name = 'lr-sweep'"),
              R"({"lr":[0.1]})");
    EXPECT_EQ(query_int(db, "SELECT sweep_id FROM runs WHERE run_key = 'a'"), s);
}

TEST(StoreRuns, ExperimentsStatesAndFilters) {
    test::TempDir dir;
    Store store(dir.file("r.db"));
    store.start_run(spec("b1", "{}", "beta"));
    store.start_run(spec("a1", "{}", "alpha"));
    store.start_run(spec("a2", "{}", "alpha"));
    EXPECT_EQ(store.experiments(), (std::vector<std::string>{"alpha", "beta"}));
    EXPECT_EQ(store.states("alpha").size(), 2u);
    EXPECT_EQ(store.states("").size(), 3u);
    auto alpha = store.runs("alpha");
    ASSERT_EQ(alpha.size(), 2u);
    EXPECT_LT(alpha[0].run_id, alpha[1].run_id);
    EXPECT_EQ(alpha[0].run_key, "a1");
    EXPECT_EQ(alpha[0].batch_id, -1);
    EXPECT_EQ(store.runs().size(), 3u);
}

TEST(StoreRuns, StoreIsMovable) {
    test::TempDir dir;
    Store a(dir.file("r.db"));
    a.start_run(spec("x"));
    Store b = std::move(a);
    EXPECT_EQ(b.state_of("x"), RunState::Running);
    Store c(dir.file("other.db"));
    c = std::move(b);
    EXPECT_EQ(c.path(), dir.file("r.db"));
    EXPECT_EQ(c.runs().size(), 1u);
}

TEST(StoreRunState, Strings) {
    for (RunState s : {RunState::Queued, RunState::Running, RunState::Complete, RunState::Failed,
                       RunState::Diverged, RunState::Interrupted}) {
        EXPECT_EQ(run_state_from_string(to_string(s)), s);
    }
    EXPECT_STREQ(to_string(RunState::Diverged), "diverged");
    EXPECT_THROW(run_state_from_string("done"), Error);
    EXPECT_THROW(run_state_from_string(""), Error);
}

TEST(StoreSqlite, TransactionRollsBackOnException) {
    test::TempDir dir;
    sql::Db db(dir.file("t.db"), sql::Db::Open::ReadWriteCreate);
    db.exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
    try {
        sql::Transaction tx(db);
        db.prepare("INSERT INTO t VALUES(?1)").bind(1, 1).run();
        db.prepare("INSERT INTO t VALUES(?1)").bind(1, 1).run();  // constraint error
        tx.commit();
    } catch (const Error&) {
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 0);
    EXPECT_THROW(db.prepare("SELECT 1; SELECT 2"), Error);
    EXPECT_THROW(db.prepare("SELECT * FROM missing"), Error);
    EXPECT_EQ(sql::file_uri("/a b/c?.db", "mode=ro"), "file:///a%20b/c%3F.db?mode=ro");
}

TEST(StoreOpen, PathWithUriCharacters) {
    test::TempDir dir;
    const std::string path = dir.file("odd name #1 ?%.db");
    { Store(path).start_run(spec("a")); }
    Store ro(path, Store::Mode::ReadOnly);
    EXPECT_EQ(ro.runs().size(), 1u);
}

}  // namespace
}  // namespace benchtop
