// Store::merge_from: joining the databases of a sweep's shards (see store.h).
#include <filesystem>
#include <map>

#include "benchtop/core/error.h"
#include "benchtop/store/sqlite.h"
#include "benchtop/store/store.h"

namespace benchtop {

MergeReport Store::merge_from(const std::string& source) {
    require_writable("merge_from");
    namespace fs = std::filesystem;
    BENCHTOP_CHECK(fs::exists(source), "merge: no database at ", source);
    std::error_code ec;
    BENCHTOP_CHECK(!fs::equivalent(source, path_, ec), "merge: ", source, " is the output database itself");
    { Store check(source, Mode::ReadOnly); }  // a benchtop database of a schema this build reads

    MergeReport rep;
    {
        auto attach = db_.prepare("ATTACH DATABASE ?1 AS src");
        attach.bind(1, source).run();
    }
    struct Detach {
        const sql::Db& db;
        ~Detach() {
            try {
                db.exec("DETACH DATABASE src");
            } catch (...) {
            }
        }
    } detach{db_};

    sql::Transaction tx(db_);
    // Conflicts first: nothing is written unless the whole source fits.
    {
        auto q = db_.prepare(
            "SELECT s.run_key, s.experiment, s.config_json, d.config_json, s.version, d.version, d.state, "
            "d.experiment FROM src.runs s JOIN main.runs d ON d.run_key = s.run_key "
            "WHERE s.state IN ('complete', 'diverged')");
        while (q.step()) {
            const std::string key = q.text(0);
            if (q.text(1) != q.text(7))
                fail("merge: run ", key, " is a run of ", q.text(1), " in ", source, " but of ", q.text(7), " in ",
                     path_, "; nothing merged");
            if (q.text(2) != q.text(3))
                fail("merge: run ", key, " of ", q.text(1), " has another configuration in ", source, " than in ",
                     path_, ": ", q.text(2), " against ", q.text(3), "; nothing merged");
            const std::string state = q.text(6);
            if (state == "complete" || state == "diverged") {
                if (q.text(4) != q.text(5))
                    fail("merge: run ", key, " of ", q.text(1), " was made by benchtop ", q.text(4), " in ", source,
                         " and by ", q.text(5), " in ", path_, "; nothing merged");
                ++rep.already_present;
            } else {
                ++rep.replaced;
            }
        }
    }
    {
        std::map<std::string, std::string> here;  // experiment -> version of its finished runs
        auto q = db_.prepare(
            "SELECT DISTINCT experiment, version FROM main.runs WHERE state IN ('complete', 'diverged')");
        while (q.step()) here.emplace(q.text(0), q.text(1));
        auto s = db_.prepare(
            "SELECT DISTINCT experiment, version FROM src.runs WHERE state IN ('complete', 'diverged')");
        while (s.step()) {
            auto it = here.find(s.text(0));
            if (it != here.end() && it->second != s.text(1))
                fail("merge: runs of ", s.text(0), " were made by benchtop ", s.text(1), " in ", source, " and by ",
                     it->second, " in ", path_, "; results of different versions are not merged");
        }
    }
    // Unfinished rows that the source has finished make way (their children cascade).
    db_.exec(
        "DELETE FROM main.runs WHERE state NOT IN ('complete', 'diverged') AND run_key IN "
        "(SELECT run_key FROM src.runs WHERE state IN ('complete', 'diverged'))");
    int64_t old_max = 0;
    {
        auto q = db_.prepare("SELECT ifnull(max(run_id), 0) FROM main.runs");
        if (q.step()) old_max = q.int64(0);
    }
    db_.exec(
        "INSERT INTO main.runs(run_key, group_key, sweep_id, experiment, seed, config_json, state, batch_id, member, "
        "worker, version, created_at, started_at, finished_at, heartbeat_at, wall_s, error) "
        "SELECT run_key, group_key, NULL, experiment, seed, config_json, state, batch_id, member, worker, version, "
        "created_at, started_at, finished_at, heartbeat_at, wall_s, error FROM src.runs "
        "WHERE state IN ('complete', 'diverged') AND run_key NOT IN (SELECT run_key FROM main.runs) "
        "ORDER BY run_id");
    rep.added = db_.changes() - rep.replaced;
    const std::string join = " JOIN src.runs s ON s.run_id = c.run_id JOIN main.runs d ON d.run_key = s.run_key "
                             "WHERE d.run_id > ?1";
    const std::vector<std::string> copies = {
        "INSERT INTO main.params(run_id, key, value_real, value_text) "
        "SELECT d.run_id, c.key, c.value_real, c.value_text FROM src.params c" + join,
        "INSERT INTO main.metrics(run_id, key, step, value, kind) "
        "SELECT d.run_id, c.key, c.step, c.value, c.kind FROM src.metrics c" + join,
        "INSERT INTO main.summaries(run_id, key, value, kind, step) "
        "SELECT d.run_id, c.key, c.value, c.kind, c.step FROM src.summaries c" + join,
        "INSERT INTO main.tags(run_id, key, value) SELECT d.run_id, c.key, c.value FROM src.tags c" + join,
        "INSERT INTO main.artifacts(run_id, experiment, name, kind, path, sha256, created_at) "
        "SELECT d.run_id, c.experiment, c.name, c.kind, c.path, c.sha256, c.created_at FROM src.artifacts c" + join,
    };
    for (const std::string& sql : copies) db_.prepare(sql).bind(1, old_max).run();
    tx.commit();
    return rep;
}

}  // namespace benchtop
