#include "benchtop/sweep/runner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>

namespace benchtop {

std::vector<PlannedRun> plan_runs(const Experiment& exp, const std::vector<Json>& grid, const Store* store,
                                  bool retry_failed) {
    std::map<std::string, RunState> states;
    if (store) states = store->states(exp.name());
    std::vector<PlannedRun> runs;
    std::set<std::string> seen;
    for (const Json& c : grid) {
        exp.check(c);
        std::string key = run_key(exp.name(), c);
        if (!seen.insert(key).second) continue;
        PlannedRun r{c, key, true};
        auto it = states.find(key);
        if (it != states.end()) {
            RunState s = it->second;
            if (s == RunState::Complete || s == RunState::Diverged) r.todo = false;
            if (s == RunState::Failed && !retry_failed) r.todo = false;
        }
        runs.push_back(std::move(r));
    }
    return runs;
}

std::vector<std::vector<size_t>> make_packs(const Experiment& exp, const std::vector<PlannedRun>& runs,
                                            int64_t max_pack) {
    std::vector<std::vector<size_t>> packs;
    std::map<std::string, size_t> open;  // pack key -> index of its open (not full) pack
    for (size_t i = 0; i < runs.size(); ++i) {
        if (!runs[i].todo) continue;
        std::string key = exp.pack_key(runs[i].config);
        auto it = open.find(key);
        const int64_t limit = max_pack > 0 ? max_pack : exp.max_pack(runs[i].config);
        if (it == open.end() || static_cast<int64_t>(packs[it->second].size()) >= limit) {
            packs.emplace_back();
            open[key] = packs.size() - 1;
            it = open.find(key);
        }
        packs[it->second].push_back(i);
    }
    return packs;
}

RunnerReport run_grid(const Experiment& exp, const std::vector<Json>& grid, Store& store,
                      const RunnerOptions& opt, const std::atomic<bool>& stop, PackExecutor* executor) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    RunnerReport rep;
    // Rows a dead process left 'running' are interrupted (the caller holds the writer lock).
    store.interrupt_stale(0.0);
    std::vector<PlannedRun> runs = plan_runs(exp, grid, &store, opt.retry_failed);
    std::vector<std::vector<size_t>> packs = make_packs(exp, runs, opt.max_pack);
    rep.total = static_cast<int64_t>(runs.size());
    for (const PlannedRun& r : runs) rep.skipped += r.todo ? 0 : 1;
    rep.packs = static_cast<int64_t>(packs.size());
    // The sweep (this grid of this experiment) is recorded with the literal command that ran it;
    // its name is stable, so a resumed sweep is the same row.
    std::string grid_keys;
    for (const PlannedRun& r : runs) grid_keys += r.run_key;
    const int64_t sweep_id = store.upsert_sweep(exp.name() + "/" + run_key(exp.name(), Json(grid_keys)).substr(0, 12),
                                                exp.name(), opt.sweep_spec.empty() ? "{}" : opt.sweep_spec,
                                                opt.command_line);

    // Progress and scheduling in estimated microseconds of work, so the ETA is right when runs
    // differ in cost; the longest packs start first (shortest makespan on a pool).
    std::vector<int64_t> pack_cost(packs.size(), 0), pack_weight(packs.size(), 1);
    int64_t work = 0;
    for (size_t p = 0; p < packs.size(); ++p) {
        const Json& c = runs[packs[p][0]].config;
        pack_weight[p] = std::max<int64_t>(1, static_cast<int64_t>(1e6 * exp.seconds_per_unit(c)));
        for (size_t i : packs[p]) pack_cost[p] += exp.work_units(runs[i].config) * pack_weight[p];
        work += pack_cost[p];
    }
    std::vector<size_t> order(packs.size());
    for (size_t p = 0; p < order.size(); ++p) order[p] = p;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pack_cost[a] > pack_cost[b]; });
    Progress progress(work, exp.name(), opt.progress);
    progress.set_show_counts(false);  // units are estimated microseconds; runs done go in the note
    const int64_t n_todo = rep.total - rep.skipped;
    int64_t n_finished = 0;
    auto note_runs = [&]() {
        progress.set_note(std::to_string(n_finished) + "/" + std::to_string(n_todo) + " runs");
    };
    note_runs();

    std::optional<ThreadExecutor> local;
    if (!executor) {
        const int jobs = std::max(1, std::min<int>(opt.jobs, static_cast<int>(std::max<size_t>(1, packs.size()))));
        const int pack_threads = std::max(1, opt.jobs / static_cast<int>(std::max<size_t>(1, packs.size())));
        executor = &local.emplace(exp, jobs, stop, opt.worker, pack_threads);
    }
    const size_t slots = static_cast<size_t>(std::max(1, executor->slots()));

    std::map<size_t, std::vector<int64_t>> run_ids;  // pack -> store run ids
    size_t next = 0, in_flight = 0;
    auto dispatch = [&]() {
        while (next < packs.size() && in_flight < slots && !stop.load()) {
            const size_t pk = order[next];
            std::vector<int64_t> ids;
            std::vector<Json> cfgs;
            const std::string worker = executor->next_worker();
            for (size_t m = 0; m < packs[pk].size(); ++m) {
                const PlannedRun& r = runs[packs[pk][m]];
                RunSpec spec;
                spec.experiment = exp.name();
                spec.run_key = r.run_key;
                spec.group_key = group_key(exp.name(), r.config);
                spec.seed = r.config.contains("seed") ? r.config["seed"].get<int64_t>() : 0;
                spec.config_json = r.config.dump();
                spec.batch_id = static_cast<int64_t>(pk);
                spec.member = static_cast<int64_t>(m);
                spec.worker = worker;
                spec.sweep_id = sweep_id;
                ids.push_back(store.start_run(spec));
                cfgs.push_back(r.config);
            }
            run_ids[pk] = std::move(ids);
            const int64_t weight = pack_weight[pk];
            executor->submit(pk, std::move(cfgs), [&progress, weight](int64_t n) { progress.advance(n * weight); });
            ++next;
            ++in_flight;
        }
    };

    auto store_result = [&](PackResult& res) {
        const std::vector<int64_t>& ids = run_ids[res.pack];
        if (res.interrupted) {
            rep.interrupted += store.mark_interrupted(ids);
            return;
        }
        for (size_t m = 0; m < ids.size(); ++m) {
            RunOutcome out;
            if (res.error) {
                out.state = RunState::Failed;
                out.error = *res.error;
                rep.errors.push_back(runs[packs[res.pack][m]].config.dump() + ": " + *res.error);
            } else {
                out = std::move(res.outcomes[m]);
            }
            // A pack's members share its wall time; each run is charged an equal share.
            out.wall_s = res.wall_s / static_cast<double>(ids.size());
            store.finish_run(ids[m], out);
            if (out.state == RunState::Complete) ++rep.complete;
            else if (out.state == RunState::Diverged) ++rep.diverged;
            else ++rep.failed;
        }
    };

    dispatch();
    auto last_beat = Clock::now();
    while (in_flight > 0) {
        std::vector<PackResult> ready = executor->wait(std::chrono::milliseconds(250));
        for (PackResult& r : ready) {
            store_result(r);
            --in_flight;
            n_finished += static_cast<int64_t>(packs[r.pack].size());
            note_runs();
        }
        if (Clock::now() - last_beat > std::chrono::seconds(5)) {
            std::vector<int64_t> live;
            for (const auto& [p, ids] : run_ids) live.insert(live.end(), ids.begin(), ids.end());
            store.heartbeat(live);
            last_beat = Clock::now();
        }
        for (const PackResult& r : ready) run_ids.erase(r.pack);
        dispatch();
    }
    progress.finish();
    rep.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return rep;
}

}  // namespace benchtop
