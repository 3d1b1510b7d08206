#include "benchtop/store/store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "benchtop/core/error.h"
#include "benchtop/core/version.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/store/sha256.h"

namespace benchtop {
namespace {

constexpr std::array<const char*, 6> kStateNames = {"queued", "running",  "complete",
                                                    "failed", "diverged", "interrupted"};

constexpr int kBusyTimeoutMs = 5000;

// The whole schema of version 1; run inside one transaction together with the pragmas and the
// meta rows. Beyond the documented columns: NOT NULL on key columns, foreign keys from every
// per-run table to runs (and runs to sweeps), a CHECK on metric kinds, and unique/lookup
// indices for artifacts and tags.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT) STRICT;
CREATE TABLE sweeps(
    sweep_id INTEGER PRIMARY KEY, name TEXT UNIQUE, experiment TEXT, spec_json TEXT,
    command TEXT, created_at INTEGER, status TEXT) STRICT;
CREATE TABLE runs(
    run_id INTEGER PRIMARY KEY,
    run_key TEXT UNIQUE NOT NULL,
    group_key TEXT,
    sweep_id INTEGER REFERENCES sweeps(sweep_id),
    experiment TEXT NOT NULL,
    seed INTEGER,
    config_json TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK(state IN ('queued','running','complete','failed','diverged','interrupted')),
    batch_id INTEGER, member INTEGER, worker TEXT, version TEXT,
    created_at INTEGER, started_at INTEGER, finished_at INTEGER, heartbeat_at INTEGER,
    wall_s REAL, error TEXT) STRICT;
CREATE TABLE params(
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    key TEXT NOT NULL, value_real REAL, value_text TEXT,
    PRIMARY KEY(run_id, key)) STRICT;
CREATE TABLE metrics(
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    key TEXT NOT NULL, step INTEGER NOT NULL, value REAL,
    kind INTEGER NOT NULL CHECK(kind BETWEEN 0 AND 3),
    PRIMARY KEY(run_id, key, step)) STRICT, WITHOUT ROWID;
CREATE TABLE summaries(
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    key TEXT NOT NULL, value REAL, kind INTEGER NOT NULL CHECK(kind BETWEEN 0 AND 3),
    step INTEGER,
    PRIMARY KEY(run_id, key)) STRICT;
CREATE TABLE artifacts(
    artifact_id INTEGER PRIMARY KEY,
    run_id INTEGER NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    experiment TEXT, name TEXT, kind TEXT, path TEXT, sha256 TEXT, created_at INTEGER) STRICT;
CREATE TABLE tags(
    run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    key TEXT, value TEXT) STRICT;
CREATE INDEX runs_sweep_state ON runs(sweep_id, state);
CREATE INDEX runs_group ON runs(group_key);
CREATE INDEX runs_experiment ON runs(experiment);
CREATE INDEX summaries_key_value ON summaries(key, value);
CREATE UNIQUE INDEX artifacts_identity ON artifacts(experiment, name, ifnull(run_id, -1));
CREATE INDEX tags_run ON tags(run_id, key);
)sql";

int64_t now_s() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// Non-finite values are stored as NULL with a kind: 0 finite, 1 NaN, 2 +Inf, 3 -Inf.
struct Encoded {
    std::optional<double> value;
    int kind;
};

Encoded encode(double v) {
    if (std::isfinite(v)) return {v, 0};
    if (std::isnan(v)) return {std::nullopt, 1};
    return {std::nullopt, v > 0 ? 2 : 3};
}

double decode(const std::optional<double>& value, int64_t kind) {
    switch (kind) {
        case 1:
            return std::numeric_limits<double>::quiet_NaN();
        case 2:
            return std::numeric_limits<double>::infinity();
        case 3:
            return -std::numeric_limits<double>::infinity();
        default:
            return value.value_or(std::numeric_limits<double>::quiet_NaN());
    }
}

std::optional<std::string_view> nonempty(const std::string& s) {
    if (s.empty()) return std::nullopt;
    return std::string_view(s);
}

std::optional<int64_t> nonnegative(int64_t v) {
    if (v < 0) return std::nullopt;
    return v;
}

bool has_sqlite_header(const std::string& path) {
    static constexpr char kMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                        'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
    std::ifstream in(path, std::ios::binary);
    char head[16] = {};
    in.read(head, sizeof head);
    return in.gcount() == static_cast<std::streamsize>(sizeof head) &&
           std::equal(head, head + sizeof head, kMagic);
}

// What an open database holds, read without writing anything.
struct Inspection {
    int64_t application_id = 0;
    int64_t user_version = 0;
    int64_t n_schema_objects = 0;
    bool has_meta = false;
    std::optional<int64_t> meta_schema_version;
    bool fresh() const { return n_schema_objects == 0 && application_id == 0 && user_version == 0; }
};

int64_t query_int(const sql::Db& db, const char* sql) {
    auto st = db.prepare(sql);
    BENCHTOP_CHECK(st.step(), db.filename(), ": no result from ", sql);
    return st.int64(0);
}

Inspection inspect(const sql::Db& db) {
    Inspection in;
    in.application_id = query_int(db, "PRAGMA application_id");
    in.user_version = query_int(db, "PRAGMA user_version");
    in.n_schema_objects = query_int(db, "SELECT count(*) FROM sqlite_schema");
    in.has_meta =
        query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'") >
        0;
    if (in.application_id == Store::kApplicationId && in.has_meta) {
        auto st = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'");
        if (st.step()) {
            std::string v = st.text(0);
            try {
                size_t used = 0;
                in.meta_schema_version = std::stoll(v, &used);
                if (used != v.size()) in.meta_schema_version = -1;
            } catch (const std::exception&) {
                in.meta_schema_version = -1;
            }
        }
    }
    return in;
}

// Throws unless `in` describes a benchtop database of a schema this build reads.
void validate(const std::string& path, const Inspection& in) {
    if (in.application_id != Store::kApplicationId || !in.has_meta) {
        fail(path, " was not created by benchtop (application_id ", in.application_id,
             in.has_meta ? "" : ", no meta table", "); refusing to use it as a results database");
    }
    int64_t version = std::max(in.user_version, in.meta_schema_version.value_or(0));
    if (version > Store::kSchemaVersion) {
        fail(path, " was written by a newer benchtop (schema ", version,
             ", this build reads up to ", Store::kSchemaVersion, ")");
    }
    if (version < 1 || !in.meta_schema_version || *in.meta_schema_version != in.user_version) {
        fail(path, " is a damaged benchtop results database (user_version ", in.user_version,
             ", meta schema_version ",
             in.meta_schema_version ? std::to_string(*in.meta_schema_version) : "missing", ")");
    }
}

nlohmann::json parse_config(const std::string& text, const std::string& run_key) {
    nlohmann::json cfg;
    try {
        cfg = nlohmann::json::parse(text.empty() ? std::string("{}") : text);
    } catch (const nlohmann::json::exception& e) {
        fail("config_json of run ", run_key, " is not valid JSON: ", e.what());
    }
    BENCHTOP_CHECK(cfg.is_object(), "config_json of run ", run_key,
                   " is not a JSON object: ", text.substr(0, 80));
    return cfg;
}

void insert_params(const sql::Db& db, int64_t run_id, const nlohmann::json& cfg) {
    auto ins = db.prepare(
        "INSERT INTO params(run_id, key, value_real, value_text) VALUES(?1, ?2, ?3, ?4)");
    for (const auto& [key, value] : cfg.items()) {
        ins.bind(1, run_id).bind(2, key);
        if (value.is_number() || value.is_boolean()) {
            ins.bind(3, value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>());
            ins.bind(4, nullptr);
        } else if (value.is_string()) {
            ins.bind(3, nullptr).bind(4, value.get_ref<const std::string&>());
        } else if (value.is_null()) {
            ins.bind(3, nullptr).bind(4, nullptr);
        } else {
            ins.bind(3, nullptr).bind(4, value.dump());
        }
        ins.run();
    }
}

RunRow read_run_row(const sql::Stmt& st) {
    RunRow r;
    r.run_id = st.int64(0);
    r.run_key = st.text(1);
    r.group_key = st.text(2);
    r.experiment = st.text(3);
    r.seed = st.int64(4);
    r.config_json = st.text(5);
    r.state = run_state_from_string(st.text(6));
    r.version = st.text(7);
    r.error = st.text(8);
    r.worker = st.text(9);
    r.batch_id = st.opt_int64(10).value_or(-1);
    r.member = st.opt_int64(11).value_or(-1);
    r.created_at = st.int64(12);
    r.started_at = st.int64(13);
    r.finished_at = st.int64(14);
    r.wall_s = st.real(15);
    r.cpu = st.text(16);
    r.kernel_path = st.text(17);
    r.sweep_id = st.opt_int64(18).value_or(-1);
    r.heartbeat_at = st.int64(19);
    return r;
}

constexpr const char* kRunColumns =
    "run_id, run_key, group_key, experiment, seed, config_json, state, version, error, worker, "
    "batch_id, member, created_at, started_at, finished_at, wall_s, "
    "(SELECT value FROM tags t WHERE t.run_id = runs.run_id AND t.key = 'cpu'), "
    "(SELECT value FROM tags t WHERE t.run_id = runs.run_id AND t.key = 'kernel_path'), "
    "sweep_id, heartbeat_at";

}  // namespace

const char* to_string(RunState state) {
    auto i = static_cast<size_t>(state);
    BENCHTOP_CHECK(i < kStateNames.size(), "invalid RunState ", i);
    return kStateNames[i];
}

RunState run_state_from_string(std::string_view s) {
    for (size_t i = 0; i < kStateNames.size(); ++i)
        if (s == kStateNames[i]) return static_cast<RunState>(i);
    fail("unknown run state '", s,
         "' (expected queued, running, complete, failed, diverged or interrupted)");
}

// ---- opening ----

Store::Store(const std::string& path, Mode mode) : path_(path), mode_(mode) {
    open_checked();
}

void Store::open_checked() {
    namespace fs = std::filesystem;
    const bool read_only = mode_ == Mode::ReadOnly;
    std::error_code ec;
    auto status = fs::status(path_, ec);
    bool exists = fs::exists(status);
    if (!exists && read_only) fail(path_, ": no such results database (opened read-only)");
    if (exists) {
        BENCHTOP_CHECK(fs::is_regular_file(status), path_,
                       " is not a benchtop results database: not a regular file");
        auto size = fs::file_size(path_, ec);
        BENCHTOP_CHECK(!ec, path_, ": cannot read its size: ", ec.message());
        if (size > 0 && !has_sqlite_header(path_))
            fail(path_, " is not a benchtop results database: file is not SQLite");
        // A 0-byte file is left to SQLite: it may be a WAL database whose pages are all still in
        // the -wal file of a live writer.
    }

    db_ = sql::Db(path_, read_only ? sql::Db::Open::ReadOnly : sql::Db::Open::ReadWriteCreate);
    db_.set_busy_timeout_ms(kBusyTimeoutMs);
    db_.exec("PRAGMA foreign_keys = ON");  // a connection setting; writes nothing

    Inspection in;
    try {
        in = inspect(db_);
    } catch (const Error& e) {
        db_ = sql::Db();
        fail(path_, " is not a benchtop results database (", e.what(), ")");
    }
    if (in.fresh()) {
        if (read_only) fail(path_, " is not a benchtop results database: it is empty");
        create_schema();
        return;
    }
    try {
        validate(path_, in);
    } catch (...) {
        db_ = sql::Db();  // close before the caller looks at the file
        throw;
    }
    if (!read_only) {
        db_.exec("PRAGMA journal_mode = WAL");
        db_.exec("PRAGMA synchronous = NORMAL");
    }
}

void Store::create_schema() {
    // journal_mode cannot change inside a transaction; on a fresh database it only takes effect
    // with the first write, which is the schema transaction below.
    {
        auto st = db_.prepare("PRAGMA journal_mode = WAL");
        BENCHTOP_CHECK(st.step() && st.text(0) == "wal", path_,
                       ": cannot switch the database to WAL mode");
    }
    db_.exec("PRAGMA synchronous = NORMAL");
    sql::Transaction tx(db_);
    Inspection in = inspect(db_);
    if (!in.fresh()) {
        // Another process initialised the file between our look and our lock.
        tx.commit();
        validate(path_, in);
        return;
    }
    db_.exec(kSchemaSql);
    db_.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    auto ins = db_.prepare("INSERT INTO meta(key, value) VALUES(?1, ?2)");
    ins.bind_all("schema_version", std::to_string(kSchemaVersion)).run();
    ins.bind_all("created_with", kVersion).run();
    ins.bind_all("created_at", std::to_string(now_s())).run();
    tx.commit();
}

void Store::require_writable(const char* what) const {
    BENCHTOP_CHECK(mode_ == Mode::ReadWrite, path_, ": ", what, " needs a store opened read-write");
}

// ---- writing ----

int64_t Store::upsert_sweep(const std::string& name,
                            const std::string& experiment,
                            const std::string& spec_json,
                            const std::string& command) {
    require_writable("upsert_sweep");
    BENCHTOP_CHECK(!name.empty(), path_, ": a sweep needs a name");
    auto st = db_.prepare(
        "INSERT INTO sweeps(name, experiment, spec_json, command, created_at, status) "
        "VALUES(?1, ?2, ?3, ?4, ?5, 'active') "
        "ON CONFLICT(name) DO UPDATE SET experiment = excluded.experiment, "
        "spec_json = excluded.spec_json, command = excluded.command RETURNING sweep_id");
    st.bind_all(name, experiment, spec_json, command, now_s());
    BENCHTOP_CHECK(st.step(), path_, ": upsert of sweep ", name, " returned no id");
    int64_t id = st.int64(0);
    st.run();  // finish the statement so its write is committed
    return id;
}

int64_t Store::start_run(const RunSpec& spec) {
    require_writable("start_run");
    BENCHTOP_CHECK(!spec.run_key.empty(), path_, ": start_run needs a run_key");
    BENCHTOP_CHECK(!spec.experiment.empty(), path_, ": run ", spec.run_key, " has no experiment");
    nlohmann::json cfg = parse_config(spec.config_json, spec.run_key);
    const std::string config_text = spec.config_json.empty() ? std::string("{}") : spec.config_json;
    const int64_t now = now_s();

    sql::Transaction tx(db_);
    std::optional<int64_t> existing;
    {
        auto sel = db_.prepare("SELECT run_id, state, experiment FROM runs WHERE run_key = ?1");
        sel.bind(1, spec.run_key);
        if (sel.step()) {
            existing = sel.int64(0);
            RunState state = run_state_from_string(sel.text(1));
            std::string experiment = sel.text(2);
            if (state == RunState::Complete || state == RunState::Diverged) {
                fail(path_, ": run ", spec.run_key, " is already ", to_string(state),
                     "; it is not started again");
            }
            if (experiment != spec.experiment) {
                fail(path_, ": run key ", spec.run_key, " belongs to experiment ", experiment,
                     ", not ", spec.experiment);
            }
        }
    }
    int64_t run_id;
    if (existing) {
        run_id = *existing;
        for (const char* table : {"metrics", "summaries", "params"}) {
            auto del = db_.prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?1");
            del.bind(1, run_id).run();
        }
        auto up = db_.prepare(
            "UPDATE runs SET group_key = ?1, sweep_id = ?2, seed = ?3, config_json = ?4, "
            "state = 'running', batch_id = ?5, member = ?6, worker = ?7, version = ?8, "
            "started_at = ?9, finished_at = NULL, heartbeat_at = ?9, wall_s = NULL, error = NULL "
            "WHERE run_id = ?10");
        up.bind_all(nonempty(spec.group_key), spec.sweep_id, spec.seed, config_text,
                    nonnegative(spec.batch_id), nonnegative(spec.member), nonempty(spec.worker),
                    kVersion, now, run_id);
        up.run();
    } else {
        auto ins = db_.prepare(
            "INSERT INTO runs(run_key, group_key, sweep_id, experiment, seed, config_json, state, "
            "batch_id, member, worker, version, created_at, started_at, heartbeat_at) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9, ?10, ?11, ?11, ?11)");
        ins.bind_all(spec.run_key, nonempty(spec.group_key), spec.sweep_id, spec.experiment,
                     spec.seed, config_text, nonnegative(spec.batch_id), nonnegative(spec.member),
                     nonempty(spec.worker), kVersion, now);
        ins.run();
        run_id = db_.last_insert_rowid();
    }
    insert_params(db_, run_id, cfg);
    // Provenance, as tags: the CPU and the kernel path that compute this run (all paths give
    // the same bits; the record lets anyone check that claim on their own results).
    auto del_tags =
        db_.prepare("DELETE FROM tags WHERE run_id = ?1 AND key IN ('cpu', 'kernel_path')");
    del_tags.bind(1, run_id).run();
    auto tag = db_.prepare("INSERT INTO tags(run_id, key, value) VALUES(?1, ?2, ?3)");
    tag.bind_all(run_id, "cpu", cpu_info().model).run();
    tag.bind_all(run_id, "kernel_path", isa_name(kernels::active_isa())).run();
    tx.commit();
    return run_id;
}

void Store::heartbeat(std::span<const int64_t> run_ids) {
    require_writable("heartbeat");
    if (run_ids.empty()) return;
    sql::Transaction tx(db_);
    auto up =
        db_.prepare("UPDATE runs SET heartbeat_at = ?1 WHERE run_id = ?2 AND state = 'running'");
    const int64_t now = now_s();
    for (int64_t id : run_ids) up.bind_all(now, id).run();
    tx.commit();
}

void Store::finish_run(int64_t run_id, const RunOutcome& outcome) {
    require_writable("finish_run");
    BENCHTOP_CHECK(outcome.state != RunState::Queued && outcome.state != RunState::Running, path_,
                   ": finish_run of run ", run_id, " with state ", to_string(outcome.state),
                   "; a finished run is complete, failed, diverged or interrupted");
    sql::Transaction tx(db_);
    {
        auto sel = db_.prepare("SELECT state, run_key FROM runs WHERE run_id = ?1");
        sel.bind(1, run_id);
        BENCHTOP_CHECK(sel.step(), path_, ": finish_run: no run with id ", run_id);
        RunState state = run_state_from_string(sel.text(0));
        BENCHTOP_CHECK(state == RunState::Running || state == RunState::Interrupted, path_,
                       ": finish_run: run ", sel.text(1), " is ", to_string(state),
                       ", not running");
    }
    {
        auto ins = db_.prepare(
            "INSERT INTO metrics(run_id, key, step, value, kind) VALUES(?1, ?2, ?3, ?4, ?5)");
        for (const Metric& m : outcome.metrics) {
            Encoded e = encode(m.value);
            ins.bind_all(run_id, m.key, m.step, e.value, e.kind);
            try {
                ins.run();
            } catch (const Error& err) {
                fail("run ", run_id, ": cannot store metric '", m.key, "' at step ", m.step, ": ",
                     err.what());
            }
        }
    }
    {
        auto ins = db_.prepare(
            "INSERT INTO summaries(run_id, key, value, kind, step) VALUES(?1, ?2, ?3, ?4, ?5)");
        for (const Summary& s : outcome.summaries) {
            Encoded e = encode(s.value);
            ins.bind_all(run_id, s.key, e.value, e.kind, s.step);
            try {
                ins.run();
            } catch (const Error& err) {
                fail("run ", run_id, ": cannot store summary '", s.key, "': ", err.what());
            }
        }
    }
    const int64_t now = now_s();
    auto up = db_.prepare(
        "UPDATE runs SET state = ?1, finished_at = ?2, heartbeat_at = ?2, wall_s = ?3, error = ?4 "
        "WHERE run_id = ?5");
    up.bind_all(to_string(outcome.state), now, outcome.wall_s, nonempty(outcome.error), run_id);
    up.run();
    auto retag = db_.prepare("UPDATE tags SET value = ?3 WHERE run_id = ?1 AND key = ?2");
    if (!outcome.cpu.empty()) retag.bind_all(run_id, "cpu", outcome.cpu).run();
    if (!outcome.kernel_path.empty()) retag.bind_all(run_id, "kernel_path", outcome.kernel_path).run();
    tx.commit();
}

int Store::mark_interrupted(std::span<const int64_t> run_ids) {
    require_writable("mark_interrupted");
    if (run_ids.empty()) return 0;
    sql::Transaction tx(db_);
    auto up = db_.prepare(
        "UPDATE runs SET state = 'interrupted', "
        "error = 'interrupted: the worker stopped before the run finished' "
        "WHERE run_id = ?1 AND state = 'running'");
    int n = 0;
    for (int64_t id : run_ids) {
        up.bind(1, id).run();
        n += db_.changes();
    }
    tx.commit();
    return n;
}

int Store::interrupt_stale(double older_than_s) {
    require_writable("interrupt_stale");
    BENCHTOP_CHECK(std::isfinite(older_than_s), path_, ": interrupt_stale needs a finite age");
    sql::Transaction tx(db_);
    auto up = db_.prepare(
        "UPDATE runs SET state = 'interrupted', "
        "error = 'interrupted: no heartbeat for more than ' || ?2 || ' s' "
        "WHERE state = 'running' AND coalesce(heartbeat_at, started_at, created_at, 0) < ?1");
    up.bind_all(static_cast<double>(now_s()) - older_than_s, older_than_s);
    up.run();
    int n = db_.changes();
    tx.commit();
    return n;
}

void Store::add_artifact(std::optional<int64_t> run_id,
                         const std::string& experiment,
                         const std::string& name,
                         const std::string& kind,
                         const std::string& path) {
    require_writable("add_artifact");
    BENCHTOP_CHECK(!name.empty(), path_, ": an artifact needs a name");
    const std::string digest = sha256_file(path);
    const int64_t now = now_s();
    sql::Transaction tx(db_);
    std::optional<int64_t> existing;
    {
        auto sel = db_.prepare(
            "SELECT artifact_id FROM artifacts "
            "WHERE experiment = ?1 AND name = ?2 AND ifnull(run_id, -1) = ifnull(?3, -1)");
        sel.bind_all(experiment, name, run_id);
        if (sel.step()) existing = sel.int64(0);
    }
    if (existing) {
        auto up = db_.prepare(
            "UPDATE artifacts SET kind = ?1, path = ?2, sha256 = ?3, created_at = ?4 "
            "WHERE artifact_id = ?5");
        up.bind_all(kind, path, digest, now, *existing).run();
    } else {
        auto ins = db_.prepare(
            "INSERT INTO artifacts(run_id, experiment, name, kind, path, sha256, created_at) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        ins.bind_all(run_id, experiment, name, kind, path, digest, now).run();
    }
    tx.commit();
}

// ---- reading ----

std::optional<RunState> Store::state_of(const std::string& run_key) const {
    auto st = db_.prepare("SELECT state FROM runs WHERE run_key = ?1");
    st.bind(1, run_key);
    if (!st.step()) return std::nullopt;
    return run_state_from_string(st.text(0));
}

std::map<std::string, RunState> Store::states(const std::string& experiment) const {
    auto st = db_.prepare("SELECT run_key, state FROM runs WHERE ?1 = '' OR experiment = ?1");
    st.bind(1, experiment);
    std::map<std::string, RunState> out;
    while (st.step()) out.emplace(st.text(0), run_state_from_string(st.text(1)));
    return out;
}

std::vector<std::string> Store::experiments() const {
    auto st = db_.prepare("SELECT DISTINCT experiment FROM runs ORDER BY experiment");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<RunRow> Store::runs(const std::string& experiment) const {
    sql::Transaction snapshot(db_, sql::Transaction::Kind::Deferred);  // both queries, one view
    std::vector<RunRow> out;
    {
        auto st = db_.prepare(std::string("SELECT ") + kRunColumns +
                              " FROM runs WHERE ?1 = '' OR experiment = ?1 ORDER BY run_id");
        st.bind(1, experiment);
        while (st.step()) out.push_back(read_run_row(st));
    }
    {
        auto st = db_.prepare(
            "SELECT s.run_id, s.key, s.value, s.kind FROM summaries s JOIN runs r USING(run_id) "
            "WHERE ?1 = '' OR r.experiment = ?1 ORDER BY s.run_id, s.key");
        st.bind(1, experiment);
        auto it = out.begin();
        while (st.step()) {
            int64_t id = st.int64(0);
            it = std::lower_bound(it, out.end(), id,
                                  [](const RunRow& r, int64_t v) { return r.run_id < v; });
            if (it == out.end() || it->run_id != id) continue;
            it->summaries[st.text(1)] = decode(st.opt_real(2), st.int64(3));
        }
    }
    snapshot.commit();
    return out;
}

std::optional<RunRow> Store::run(int64_t run_id) const {
    sql::Transaction snapshot(db_, sql::Transaction::Kind::Deferred);
    std::optional<RunRow> out;
    {
        auto st = db_.prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?1");
        st.bind(1, run_id);
        if (st.step()) out = read_run_row(st);
    }
    if (out) {
        auto st = db_.prepare("SELECT key, value, kind FROM summaries WHERE run_id = ?1 ORDER BY key");
        st.bind(1, run_id);
        while (st.step()) out->summaries[st.text(0)] = decode(st.opt_real(1), st.int64(2));
    }
    snapshot.commit();
    return out;
}

std::vector<SweepRow> Store::sweeps(const std::string& experiment) const {
    auto st = db_.prepare(
        "SELECT sweep_id, name, experiment, spec_json, command, created_at FROM sweeps "
        "WHERE ?1 = '' OR experiment = ?1 ORDER BY sweep_id");
    st.bind(1, experiment);
    std::vector<SweepRow> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4), st.int64(5)});
    return out;
}

std::vector<Metric> Store::metrics(int64_t run_id, const std::string& key) const {
    auto st = db_.prepare(
        "SELECT key, step, value, kind FROM metrics WHERE run_id = ?1 AND (?2 = '' OR key = ?2) "
        "ORDER BY key, step");
    st.bind_all(run_id, key);
    std::vector<Metric> out;
    while (st.step()) out.push_back({st.text(0), st.int64(1), decode(st.opt_real(2), st.int64(3))});
    return out;
}

std::vector<ArtifactRow> Store::artifacts(const std::string& experiment) const {
    auto st = db_.prepare(
        "SELECT artifact_id, run_id, experiment, name, kind, path, sha256 FROM artifacts "
        "WHERE ?1 = '' OR experiment = ?1 ORDER BY artifact_id");
    st.bind(1, experiment);
    std::vector<ArtifactRow> out;
    while (st.step()) {
        out.push_back({st.int64(0), st.opt_int64(1), st.text(2), st.text(3), st.text(4), st.text(5),
                       st.text(6)});
    }
    return out;
}

}  // namespace benchtop
