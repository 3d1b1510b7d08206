#include <algorithm>
#include <filesystem>

#include "benchtop/experiments/experiment.h"
#include "benchtop/store/sha256.h"

namespace benchtop {

const Experiment& mnist1d_baselines_experiment();
const Experiment& double_descent_experiment();
const Experiment& linear_regions_experiment();
const Experiment& memorization_experiment();
const Experiment& init_scale_experiment();
const Experiment& trainability_experiment();
const Experiment& implicit_regularization_experiment();
const Experiment& lottery_ticket_experiment();
const Experiment& grokking_experiment();
const Experiment& adversarial_experiment();
const Experiment& analysis_by_synthesis_experiment();
const Experiment& alphazero_experiment();
const Experiment& causal_discovery_experiment();
const Experiment& invariance_experiment();
const Experiment& in_context_experiment();
const Experiment& contrastive_experiment();
const Experiment& arithmetic_experiment();

const std::vector<const Experiment*>& all_experiments() {
    static const std::vector<const Experiment*> list = {&mnist1d_baselines_experiment(),
                                                          &double_descent_experiment(),
                                                          &linear_regions_experiment(),
                                                          &memorization_experiment(),
                                                          &init_scale_experiment(),
                                                          &trainability_experiment(),
                                                          &implicit_regularization_experiment(),
                                                          &lottery_ticket_experiment(),
                                                          &grokking_experiment(),
                                                          &adversarial_experiment(),
                                                          &analysis_by_synthesis_experiment(),
                                                          &alphazero_experiment(),
                                                          &causal_discovery_experiment(),
                                                          &invariance_experiment(),
                                                          &in_context_experiment(),
                                                          &contrastive_experiment(),
                                                          &arithmetic_experiment()};
    return list;
}

const Experiment& find_experiment(const std::string& name) {
    std::string names;
    for (const Experiment* e : all_experiments()) {
        if (e->name() == name) return *e;
        names += (names.empty() ? "" : ", ") + e->name();
    }
    // Accept underscores for dashes (double_descent == double-descent).
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    for (const Experiment* e : all_experiments())
        if (e->name() == dashed) return *e;
    throw UsageError("unknown experiment '" + name + "'; known experiments: " + names);
}

std::vector<std::string> draw_and_record(const Experiment& exp, Store& store, const std::string& out_dir) {
    std::filesystem::create_directories(out_dir);
    std::vector<std::string> files = exp.draw(store, out_dir);
    for (const std::string& f : files)
        store.add_artifact(std::nullopt, exp.name(), std::filesystem::path(f).filename().string(),
                           std::filesystem::path(f).extension().string().substr(1), f);
    return files;
}

std::string Experiment::pack_key(const Json& config) const {
    Json c = config;
    c.erase("seed");
    return c.dump();
}

std::string run_key(const std::string& experiment, const Json& config) {
    return sha256_hex(experiment + "\n" + config.dump()).substr(0, 32);
}

std::string group_key(const std::string& experiment, const Json& config) {
    Json c = config;
    c.erase("seed");
    return sha256_hex(experiment + "\n" + c.dump()).substr(0, 32);
}

}  // namespace benchtop
