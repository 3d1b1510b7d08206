// The scientific outcome of causal-discovery on a CI-sized run (10 variables, ER-1 and ER-3,
// 1000 linear-Gaussian samples, 3 seeds, every method on raw and standardized data): NOTEARS
// recovers the sparse graphs nearly exactly and beats PC (both scored on CPDAGs) on the dense
// ones; standardizing the columns multiplies NOTEARS' SHD several times and leaves PC's as it is;
// sortnregress does well on the raw data, whose varsortability is high, and badly once it is
// standardized (the margin measured on the dense graphs was smaller than the factor 2 first
// asserted for all of them; docs/experiments/causal-discovery.md).
#include <gtest/gtest.h>

#include <map>

#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(CausalDiscoveryExperiment, VarsortabilityDecidesWhoWins) {
    test::ExperimentRun run("causal-discovery", {"d=10", "k=1,3", "seed=0,1,2"});
    ASSERT_EQ(run.complete, 36);
    // (method, k, standardize) -> means over seeds
    std::map<std::tuple<std::string, double, bool>, std::map<std::string, double>> mean;
    std::map<std::tuple<double, int64_t>, double> pc_raw, pc_std;  // (k, seed) -> shd_cpdag
    for (const RunRow& r : run.store().runs("causal-discovery")) {
        const Json c = Json::parse(r.config_json);
        const std::string m = c["method"].get<std::string>();
        const bool st = c["standardize"].get<bool>();
        const double k = c["k"].get<double>();
        for (const char* key : {"shd", "shd_cpdag", "shd_per_edge", "varsortability"})
            mean[{m, k, st}][key] += r.summaries.at(key) / 3;
        if (m == "pc") (st ? pc_std : pc_raw)[{k, r.seed}] = r.summaries.at("shd_cpdag");
    }
    for (const auto& [key, s] : mean)
        std::printf("%-12s k=%g %-12s shd %5.1f  shd_cpdag %5.1f  varsortability %.2f\n", std::get<0>(key).c_str(), std::get<1>(key),
                    std::get<2>(key) ? "standardized" : "raw", s.at("shd"), s.at("shd_cpdag"), s.at("varsortability"));
    auto at = [&](const std::string& m, double k, bool st, const std::string& key) { return mean.at({m, k, st}).at(key); };
    // Sparse, raw: nearly exact (under 0.15 errors per true edge).
    EXPECT_LT(at("notears", 1, false, "shd_per_edge"), 0.15);
    // Dense, raw: NOTEARS beats PC on the equivalence classes.
    EXPECT_LT(at("notears", 3, false, "shd_cpdag"), at("pc", 3, false, "shd_cpdag"));
    // Standardized: NOTEARS several times worse; PC unchanged.
    for (double k : {1.0, 3.0}) {
        EXPECT_GT(at("notears", k, true, "shd"), 3 * at("notears", k, false, "shd") + 1) << k;
        EXPECT_GT(at("notears", k, false, "varsortability"), 0.9) << k;  // the raw data sorts by variance
    }
    for (const auto& [key, v] : pc_raw) EXPECT_EQ(pc_std.at(key), v) << "k " << std::get<0>(key) << " seed " << std::get<1>(key);
    // sortnregress: good exactly when varsortability is high.
    // On the sparse graphs it halves its error rate and more with high varsortability; on the dense
    // ones (plain least squares with a threshold, not the paper's Lasso) it is merely better.
    EXPECT_LT(at("sortnregress", 1, false, "shd_per_edge"), 0.5 * at("sortnregress", 1, true, "shd_per_edge"));
    EXPECT_LT(at("sortnregress", 3, false, "shd_per_edge"), at("sortnregress", 3, true, "shd_per_edge"));
    for (double k : {1.0, 3.0})
        EXPECT_LT(at("sortnregress", k, true, "varsortability"), at("sortnregress", k, false, "varsortability") - 0.2) << k;
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
