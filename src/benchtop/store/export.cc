#include "benchtop/store/export.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The run's configuration; `experiment` and run_key name it in the error.
OrderedJson parse_config(const RunRow& run) {
    try {
        OrderedJson cfg = OrderedJson::parse(run.config_json);
        if (cfg.is_object()) return cfg;
    } catch (const nlohmann::json::exception&) {
    }
    fail("stored config_json of run ", run.run_key, " (", run.experiment, ") is not a JSON object");
}

std::string nonfinite_text(double v) {
    if (std::isnan(v)) return "nan";
    return v > 0 ? "inf" : "-inf";
}

// Shortest text that reads back as the same double; nan/inf/-inf for non-finite values.
std::string shortest(double v) {
    if (!std::isfinite(v)) return nonfinite_text(v);
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return {buf, res.ptr};
}

std::string significant4(double v) {
    if (!std::isfinite(v)) return nonfinite_text(v);
    char buf[64];
    // Counts (parameters, regions, steps) print in full; other values to 4 significant digits.
    if (v == std::floor(v) && std::abs(v) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

// A config value as a cell: strings as they are, everything else as JSON.
std::string config_cell(const OrderedJson& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "";
    return v.dump();
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    q += '"';
    return q;
}

struct Loaded {
    std::vector<RunRow> runs;
    std::vector<OrderedJson> configs;  // parallel to runs
    std::set<std::string> config_keys, summary_keys;
};

Loaded load(const Store& store, const std::string& experiment) {
    Loaded l;
    l.runs = store.runs(experiment);
    for (const RunRow& r : l.runs) {
        l.configs.push_back(parse_config(r));
        for (const auto& [k, v] : l.configs.back().items()) l.config_keys.insert(k);
        for (const auto& [k, v] : r.summaries) l.summary_keys.insert(k);
    }
    return l;
}

bool is_number(const std::string& s) {
    if (s == "nan" || s == "inf" || s == "-inf") return true;
    double v;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

}  // namespace

void export_csv(const Store& store, const std::string& experiment, std::ostream& out) {
    Loaded l = load(store, experiment);
    // Column names stay unique: a config key named like a fixed column is that column, and a
    // summary named like a config key or fixed column is written "summary.<key>".
    const std::set<std::string> fixed = {"run_id", "experiment", "run_key", "seed",
                                         "state",  "wall_s",     "cpu",     "kernel_path"};
    for (const std::string& k : fixed) l.config_keys.erase(k);
    std::vector<std::string> header = {"run_id", "experiment", "run_key"};
    header.insert(header.end(), l.config_keys.begin(), l.config_keys.end());
    header.insert(header.end(), {"seed", "state", "wall_s", "cpu", "kernel_path"});
    for (const std::string& k : l.summary_keys)
        header.push_back(fixed.count(k) || l.config_keys.count(k) ? "summary." + k : k);
    auto write_line = [&out](const std::vector<std::string>& fields) {
        for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << csv_field(fields[i]);
        out << '\n';
    };
    write_line(header);
    for (size_t i = 0; i < l.runs.size(); ++i) {
        const RunRow& r = l.runs[i];
        std::vector<std::string> row = {std::to_string(r.run_id), r.experiment, r.run_key};
        for (const std::string& k : l.config_keys) {
            auto it = l.configs[i].find(k);
            row.push_back(it == l.configs[i].end() ? "" : config_cell(*it));
        }
        row.push_back(std::to_string(r.seed));
        row.push_back(to_string(r.state));
        row.push_back(r.finished_at != 0 ? shortest(r.wall_s) : "");
        row.push_back(r.cpu);
        row.push_back(r.kernel_path);
        for (const std::string& k : l.summary_keys) {
            auto it = r.summaries.find(k);
            row.push_back(it == r.summaries.end() ? "" : shortest(it->second));
        }
        write_line(row);
    }
}

void export_jsonl(const Store& store, const std::string& experiment, std::ostream& out) {
    Loaded l = load(store, experiment);
    auto time_or_null = [](int64_t t) { return t != 0 ? OrderedJson(t) : OrderedJson(nullptr); };
    for (size_t i = 0; i < l.runs.size(); ++i) {
        const RunRow& r = l.runs[i];
        OrderedJson o;
        o["run_id"] = r.run_id;
        o["experiment"] = r.experiment;
        o["run_key"] = r.run_key;
        o["config"] = l.configs[i];
        o["seed"] = r.seed;
        o["state"] = to_string(r.state);
        o["wall_s"] = r.finished_at != 0 ? OrderedJson(r.wall_s) : OrderedJson(nullptr);
        o["started_at"] = time_or_null(r.started_at);
        o["finished_at"] = time_or_null(r.finished_at);
        o["version"] = r.version;
        o["cpu"] = r.cpu;
        o["kernel_path"] = r.kernel_path;
        OrderedJson summaries = OrderedJson::object();
        for (const auto& [k, v] : r.summaries)
            summaries[k] = std::isfinite(v) ? OrderedJson(v) : OrderedJson(nullptr);
        o["summaries"] = std::move(summaries);
        out << o.dump() << '\n';
    }
}

std::string format_runs_table(const Store& store,
                              const std::string& experiment,
                              const std::vector<std::string>& config_keys) {
    Loaded l = load(store, experiment);
    if (l.runs.empty()) {
        return experiment.empty() ? "no runs stored\n"
                                  : "no runs stored for experiment " + experiment + "\n";
    }
    // Cells of each config key per run; nullopt where the run's config lacks the key.
    auto config_column = [&l](const std::string& key) {
        std::vector<std::optional<std::string>> cells;
        for (const OrderedJson& cfg : l.configs) {
            auto it = cfg.find(key);
            cells.push_back(it == cfg.end() ? std::nullopt
                                            : std::optional<std::string>(config_cell(*it)));
        }
        return cells;
    };
    std::vector<std::string> keys = config_keys;
    if (keys.empty()) {
        for (const std::string& k : l.config_keys) {
            auto cells = config_column(k);
            if (std::adjacent_find(cells.begin(), cells.end(), std::not_equal_to<>()) !=
                cells.end())
                keys.push_back(k);
        }
    }

    std::vector<std::vector<std::string>> columns;  // each: header, then one cell per run
    columns.reserve(3 + keys.size() + l.summary_keys.size());  // add_column's pointers stay valid
    auto add_column = [&columns](std::string header) {
        columns.push_back({std::move(header)});
        return &columns.back();
    };
    {
        auto* id = add_column("id");
        auto* state = add_column("state");
        for (const RunRow& r : l.runs) {
            id->push_back(std::to_string(r.run_id));
            state->push_back(to_string(r.state));
        }
    }
    for (const std::string& k : keys) {
        auto* col = add_column(k);
        for (const auto& cell : config_column(k)) col->push_back(cell ? *cell : "-");
    }
    for (const std::string& k : l.summary_keys) {
        auto* col = add_column(k);
        for (const RunRow& r : l.runs) {
            auto it = r.summaries.find(k);
            col->push_back(it == r.summaries.end() ? "-" : significant4(it->second));
        }
    }
    {
        auto* col = add_column("wall_s");
        for (const RunRow& r : l.runs) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.1f", r.wall_s);
            col->push_back(r.finished_at != 0 ? std::string(buf) : "-");
        }
    }

    std::vector<size_t> width(columns.size());
    std::vector<bool> right(columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
        bool numeric = true;
        for (size_t i = 0; i < columns[c].size(); ++i) {
            width[c] = std::max(width[c], columns[c][i].size());
            if (i > 0 && columns[c][i] != "-" && !is_number(columns[c][i])) numeric = false;
        }
        right[c] = numeric;
    }
    std::ostringstream os;
    auto write_line = [&](auto cell_of) {
        std::string line;
        for (size_t c = 0; c < columns.size(); ++c) {
            std::string cell = cell_of(c);
            std::string pad(width[c] - cell.size(), ' ');
            if (c > 0) line += "  ";
            line += right[c] ? pad + cell : cell + pad;
        }
        line.erase(line.find_last_not_of(' ') + 1);
        os << line << '\n';
    };
    write_line([&](size_t c) { return columns[c][0]; });
    write_line([&](size_t c) { return std::string(width[c], '-'); });
    for (size_t i = 0; i < l.runs.size(); ++i)
        write_line([&](size_t c) { return columns[c][i + 1]; });
    // Provenance: how many runs each CPU and kernel path computed.
    std::map<std::pair<std::string, std::string>, int64_t> where;
    for (const RunRow& r : l.runs) ++where[{r.cpu, r.kernel_path}];
    for (const auto& [key, count] : where)
        os << "ran on: " << (key.first.empty() ? "(not recorded)" : key.first) << ", kernel path "
           << (key.second.empty() ? "(not recorded)" : key.second) << ": " << count
           << (count == 1 ? " run" : " runs") << '\n';
    return os.str();
}

}  // namespace benchtop
