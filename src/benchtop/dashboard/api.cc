#include "benchtop/dashboard/api.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "benchtop/experiments/experiment.h"
#include "benchtop/store/sha256.h"
#include "benchtop/sweep/grid.h"

namespace benchtop {

namespace {

// An answer other than 200, carried out of the handlers as an exception.
struct HttpError {
    int status;
    std::string message;
};

[[noreturn]] void http_fail(int status, std::string message) { throw HttpError{status, std::move(message)}; }

Json number(double v) {
    if (std::isfinite(v)) return v;
    if (std::isnan(v)) return "nan";
    return v > 0 ? "inf" : "-inf";
}

Json optional_time(int64_t t) { return t > 0 ? Json(t) : Json(nullptr); }

int64_t parse_id(const std::string& text, const char* what) {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < 1)
        http_fail(400, std::string(what) + " id '" + text + "' is not a positive integer");
    return static_cast<int64_t>(v);
}

const Experiment* known_experiment(const std::string& name) {
    for (const Experiment* e : all_experiments())
        if (e->name() == name) return e;
    return nullptr;
}

Json state_counts(const std::vector<RunRow>& runs) {
    Json states = Json::object();
    for (const RunRow& r : runs) {
        Json& n = states[to_string(r.state)];
        n = n.is_null() ? 1 : n.get<int64_t>() + 1;
    }
    return states;
}

Json run_json(const RunRow& r) {
    Json summaries = Json::object();
    for (const auto& [k, v] : r.summaries) summaries[k] = number(v);
    return {{"run_id", r.run_id},
            {"run_key", r.run_key},
            {"group_key", r.group_key},
            {"state", to_string(r.state)},
            {"seed", r.seed},
            {"config", Json::parse(r.config_json.empty() ? "{}" : r.config_json)},
            {"summaries", std::move(summaries)},
            {"wall_s", r.finished_at > 0 ? Json(r.wall_s) : Json(nullptr)},
            {"finished_at", optional_time(r.finished_at)},
            {"worker", r.worker}};
}

std::vector<RunRow> experiment_runs(const Store& store, const std::string& name) {
    std::vector<RunRow> runs = store.runs(name);
    if (runs.empty() && !known_experiment(name))
        http_fail(404, "no experiment '" + name + "' in this database");
    return runs;
}

Json experiments(const Store& store) {
    Json list = Json::array();
    for (const std::string& name : store.experiments()) {
        const std::vector<RunRow> runs = store.runs(name);
        Json e = {{"name", name}, {"runs", runs.size()}, {"states", state_counts(runs)}};
        if (const Experiment* x = known_experiment(name)) {
            e["claim"] = x->claim();
            e["reference"] = x->reference();
        }
        list.push_back(std::move(e));
    }
    return {{"database", store.path()}, {"experiments", std::move(list)}};
}

Json runs_table(const Store& store, const std::string& name) {
    const std::vector<RunRow> runs = experiment_runs(store, name);
    std::set<std::string> config_keys, summary_keys;
    std::map<std::string, std::set<std::string>> values;  // config key -> distinct values (as JSON text)
    Json rows = Json::array();
    for (const RunRow& r : runs) {
        Json row = run_json(r);
        for (const auto& [k, v] : row["config"].items()) {
            config_keys.insert(k);
            values[k].insert(v.dump());
        }
        for (const auto& [k, v] : r.summaries) summary_keys.insert(k);
        rows.push_back(std::move(row));
    }
    // A key varies when runs differ in it, or when some runs lack it.
    Json varying = Json::array();
    for (const std::string& k : config_keys) {
        size_t have = 0;
        for (const Json& row : rows) have += row["config"].contains(k) ? 1 : 0;
        if (values[k].size() > 1 || have < rows.size()) varying.push_back(k);
    }
    Json out = {{"experiment", name},
                {"config_keys", Json(std::vector<std::string>(config_keys.begin(), config_keys.end()))},
                {"varying", std::move(varying)},
                {"summary_keys", Json(std::vector<std::string>(summary_keys.begin(), summary_keys.end()))},
                {"runs", std::move(rows)}};
    if (const Experiment* x = known_experiment(name)) out["claim"] = x->claim();
    return out;
}

// The number of distinct runs a sweep's grid holds, when its experiment is known here and its
// overrides still parse; null otherwise.
Json grid_size(const SweepRow& sweep) {
    const Experiment* exp = known_experiment(sweep.experiment);
    if (!exp) return nullptr;
    try {
        const Json spec = Json::parse(sweep.spec_json.empty() ? "{}" : sweep.spec_json);
        std::vector<Axis> axes;
        for (const auto& [k, v] : spec.items()) axes.push_back(Axis{k, v.get<std::vector<Json>>()});
        std::set<std::string> keys;
        for (const Json& c : expand_grid(exp->schema(), axes)) keys.insert(run_key(exp->name(), c));
        return keys.size();
    } catch (const std::exception&) {
        return nullptr;
    }
}

Json progress(const Store& store, const std::string& name) {
    const std::vector<RunRow> runs = experiment_runs(store, name);
    Json sweeps = Json::array();
    for (const SweepRow& s : store.sweeps(name)) {
        std::vector<RunRow> mine;
        int64_t last = 0;
        for (const RunRow& r : runs)
            if (r.sweep_id == s.sweep_id) {
                mine.push_back(r);
                last = std::max({last, r.finished_at, r.heartbeat_at, r.started_at});
            }
        sweeps.push_back({{"sweep_id", s.sweep_id},
                          {"name", s.name},
                          {"command", s.command},
                          {"created_at", optional_time(s.created_at)},
                          {"last_activity", optional_time(last)},
                          {"grid", grid_size(s)},
                          {"stored", mine.size()},
                          {"states", state_counts(mine)}});
    }
    return {{"experiment", name}, {"runs", runs.size()}, {"states", state_counts(runs)}, {"sweeps", std::move(sweeps)}};
}

bool is_figure(const ArtifactRow& a) { return a.kind == "svg" || a.kind == "png"; }

Json figures(const Store& store, const std::string& name) {
    experiment_runs(store, name);
    Json list = Json::array();
    for (const ArtifactRow& a : store.artifacts(name))
        if (!a.run_id && is_figure(a))
            list.push_back({{"artifact_id", a.artifact_id},
                            {"name", a.name},
                            {"kind", a.kind},
                            {"url", "/api/artifacts/" + std::to_string(a.artifact_id)}});
    return {{"experiment", name}, {"figures", std::move(list)}};
}

Json run_record(const Store& store, int64_t id) {
    const std::optional<RunRow> r = store.run(id);
    if (!r) http_fail(404, "no run with id " + std::to_string(id));
    Json run = run_json(*r);
    run["experiment"] = r->experiment;
    run["version"] = r->version;
    run["error"] = r->error;
    run["cpu"] = r->cpu;
    run["kernel_path"] = r->kernel_path;
    run["batch_id"] = r->batch_id >= 0 ? Json(r->batch_id) : Json(nullptr);
    run["member"] = r->member >= 0 ? Json(r->member) : Json(nullptr);
    run["created_at"] = optional_time(r->created_at);
    run["started_at"] = optional_time(r->started_at);
    run["heartbeat_at"] = optional_time(r->heartbeat_at);
    Json sweep = nullptr;
    for (const SweepRow& s : store.sweeps(r->experiment))
        if (s.sweep_id == r->sweep_id)
            sweep = {{"sweep_id", s.sweep_id}, {"name", s.name}, {"command", s.command},
                     {"spec", Json::parse(s.spec_json.empty() ? "{}" : s.spec_json)}};
    Json artifacts = Json::array();
    for (const ArtifactRow& a : store.artifacts(r->experiment))
        if (a.run_id == id)
            artifacts.push_back({{"artifact_id", a.artifact_id}, {"name", a.name}, {"kind", a.kind},
                                 {"sha256", a.sha256}});
    std::set<std::string> keys;
    for (const Metric& m : store.metrics(id)) keys.insert(m.key);
    return {{"run", std::move(run)},
            {"sweep", std::move(sweep)},
            {"artifacts", std::move(artifacts)},
            {"metric_keys", Json(std::vector<std::string>(keys.begin(), keys.end()))}};
}

Json run_metrics(const Store& store, int64_t id, const std::string& key) {
    if (!store.run(id)) http_fail(404, "no run with id " + std::to_string(id));
    const std::vector<Metric> ms = store.metrics(id, key);
    if (!key.empty() && ms.empty()) http_fail(404, "run " + std::to_string(id) + " has no metric '" + key + "'");
    Json out = Json::object();
    for (const Metric& m : ms) {
        Json& curve = out[m.key];
        if (curve.is_null()) curve = {{"steps", Json::array()}, {"values", Json::array()}};
        curve["steps"].push_back(m.step);
        curve["values"].push_back(number(m.value));
    }
    return {{"run_id", id}, {"metrics", std::move(out)}};
}

ApiResponse artifact_file(const Store& store, int64_t id) {
    for (const ArtifactRow& a : store.artifacts()) {
        if (a.artifact_id != id) continue;
        if (!is_figure(a)) http_fail(404, "artifact " + std::to_string(id) + " is a " + a.kind + " file, not a figure");
        std::ifstream in(a.path, std::ios::binary);
        if (!in) http_fail(410, "the figure file of artifact " + std::to_string(id) + " is gone (" + a.path + ")");
        std::ostringstream bytes;
        bytes << in.rdbuf();
        // Only the file the database recorded is served: not whatever is at that path now.
        if (sha256_hex(bytes.str()) != a.sha256)
            http_fail(410, "the figure file of artifact " + std::to_string(id) + " changed since it was stored (" +
                               a.path + "); redraw it with `benchtop report`");
        return ApiResponse{200, a.kind == "svg" ? "image/svg+xml" : "image/png", bytes.str()};
    }
    http_fail(404, "no artifact with id " + std::to_string(id));
}

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : path) {
        if (c == '/') {
            if (!cur.empty()) parts.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) parts.push_back(std::move(cur));
    return parts;
}

ApiResponse json_response(int status, const Json& body) {
    return ApiResponse{status, "application/json", body.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

}  // namespace

ApiResponse dashboard_api(const std::string& db_path, const std::string& path,
                          const std::map<std::string, std::string>& query) {
    try {
        const std::vector<std::string> p = split_path(path);
        if (p.size() < 2 || p[0] != "api") http_fail(404, "no such page: " + path);
        for (const auto& [k, v] : query)
            if (k != "key") http_fail(400, "unknown query parameter '" + k + "' (only 'key', on /api/runs/ID/metrics)");
        if (query.count("key") && !(p.size() == 4 && p[1] == "runs" && p[3] == "metrics"))
            http_fail(400, "the query parameter 'key' belongs to /api/runs/ID/metrics");
        const Store store(db_path, Store::Mode::ReadOnly);
        if (p.size() == 2 && p[1] == "experiments") return json_response(200, experiments(store));
        if (p.size() == 4 && p[1] == "experiments") {
            if (p[3] == "runs") return json_response(200, runs_table(store, p[2]));
            if (p[3] == "progress") return json_response(200, progress(store, p[2]));
            if (p[3] == "figures") return json_response(200, figures(store, p[2]));
        }
        if (p.size() == 3 && p[1] == "runs") return json_response(200, run_record(store, parse_id(p[2], "run")));
        if (p.size() == 4 && p[1] == "runs" && p[3] == "metrics") {
            auto key = query.find("key");
            return json_response(200, run_metrics(store, parse_id(p[2], "run"), key == query.end() ? "" : key->second));
        }
        if (p.size() == 3 && p[1] == "artifacts") return artifact_file(store, parse_id(p[2], "artifact"));
        http_fail(404, "no such API route: " + path);
    } catch (const HttpError& e) {
        return json_response(e.status, Json{{"error", e.message}});
    } catch (const std::exception& e) {
        return json_response(500, Json{{"error", e.what()}});
    }
}

}  // namespace benchtop
