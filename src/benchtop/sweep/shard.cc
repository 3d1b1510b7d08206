#include "benchtop/sweep/shard.h"

#include <algorithm>
#include <cstdlib>

#include "benchtop/sweep/runner.h"

namespace benchtop {

Shard parse_shard(const std::string& text) {
    const size_t slash = text.find('/');
    auto number = [&](const std::string& s, const char* what) -> int64_t {
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0' || v < 0)
            throw UsageError("--shard " + text + ": " + what + " '" + s + "' is not a non-negative integer");
        return static_cast<int64_t>(v);
    };
    if (slash == std::string::npos) throw UsageError("--shard " + text + ": expected I/N, e.g. 0/4");
    Shard s{number(text.substr(0, slash), "index"), number(text.substr(slash + 1), "count")};
    if (s.count < 1) throw UsageError("--shard " + text + ": the count N must be at least 1");
    if (s.index >= s.count)
        throw UsageError("--shard " + text + ": the index I must be below N (shards are 0.." +
                         std::to_string(s.count - 1) + ")");
    return s;
}

std::vector<Json> shard_grid(const Experiment& exp, const std::vector<Json>& grid, Shard shard, int64_t max_pack) {
    const std::vector<PlannedRun> runs = plan_runs(exp, grid, nullptr, false);
    const std::vector<std::vector<size_t>> packs = make_packs(exp, runs, max_pack);
    std::vector<size_t> mine;
    for (size_t j = 0; j < packs.size(); ++j)
        if (static_cast<int64_t>(j % static_cast<size_t>(shard.count)) == shard.index)
            mine.insert(mine.end(), packs[j].begin(), packs[j].end());
    std::sort(mine.begin(), mine.end());
    std::vector<Json> out;
    out.reserve(mine.size());
    for (size_t i : mine) out.push_back(runs[i].config);
    return out;
}

}  // namespace benchtop
