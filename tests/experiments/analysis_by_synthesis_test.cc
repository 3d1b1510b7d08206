// The outcomes of analysis-by-synthesis on a CI-sized run (one seed; the class VAEs and the
// discriminative models trained 1000 steps; no CNN): as measured with the defaults, with 10
// signals per class the best generative classifier is at least as accurate as the best
// discriminative one, while on the whole training set the MLP beats every Gaussian generative
// classifier; ABS-1D's accuracy grows with its search budget. The robustness protocol attacks ABS
// and the MLP with the whole battery, whose distance is never larger than any one attack's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(AnalysisBySynthesis, SampleEfficiencyAndSearch) {
    std::map<std::pair<std::string, int64_t>, std::map<std::string, double>> by;
    {
        test::ExperimentRun run("analysis-by-synthesis",
                                {"model=lda,naive_bayes,ppca,gmm,logistic,mlp,abs", "train_size=100,4000", "steps=1000",
                                 "vae_steps=1000", "seed=0"});
        ASSERT_EQ(run.complete, 14);
        for (const RunRow& r : run.store().runs("analysis-by-synthesis")) {
            const Json c = Json::parse(r.config_json);
            by[{c["model"].get<std::string>(), c["train_size"].get<int64_t>()}] = r.summaries;
        }
        if (gnuplot_available()) {
            const std::string dir = (std::filesystem::temp_directory_path() / "benchtop_abs_figs").string();
            const std::vector<std::string> files = find_experiment("analysis-by-synthesis").draw(run.store(), dir);
            EXPECT_EQ(files.size(), 2u);
            std::filesystem::remove_all(dir);
        }
    }
    for (const auto& [key, s] : by)
        std::printf("%-12s n=%-5ld test %.3f train %.3f noise-confidence %.3f\n", key.first.c_str(), long(key.second),
                    s.at("test_acc"), s.at("train_acc"), s.at("noise_confidence"));
    auto acc = [&](const std::string& m, int64_t n) { return by.at({m, n}).at("test_acc"); };
    double gen100 = 0, disc100 = 0, gen4000 = 0;
    for (const char* m : {"lda", "naive_bayes", "ppca", "gmm"}) gen100 = std::max(gen100, acc(m, 100)), gen4000 = std::max(gen4000, acc(m, 4000));
    for (const char* m : {"logistic", "mlp"}) disc100 = std::max(disc100, acc(m, 100));
    EXPECT_GE(gen100, disc100) << "10 signals per class";
    EXPECT_GT(acc("mlp", 4000), gen4000 + 0.03) << "the whole training set";
    // More search, better ABS (fixed draws per class x gradient steps on the latent).
    const std::map<std::string, double>& a = by.at({"abs", 4000});
    for (const auto& [k, v] : a)
        if (k.rfind("abs_acc", 0) == 0) std::printf("%s %.3f\n", k.c_str(), v);
    EXPECT_GT(a.at("abs_acc_n10_s0"), a.at("abs_acc_n1_s0") + 0.05);
    EXPECT_GT(a.at("abs_acc_n1000_s0"), a.at("abs_acc_n10_s0") + 0.05);
    EXPECT_GT(a.at("abs_acc_n10_s20"), a.at("abs_acc_n10_s0") + 0.05);
    EXPECT_GT(acc("abs", 4000), acc("abs", 100) + 0.1);
}

TEST(AnalysisBySynthesis, RobustnessBattery) {
    test::ExperimentRun run("analysis-by-synthesis", {"protocol=robustness", "model=abs,mlp", "train_size=4000",
                                                      "steps=1000", "vae_steps=1000", "attack_examples=20",
                                                      "boundary_steps=50", "seed=0"});
    ASSERT_EQ(run.complete, 2);
    for (const RunRow& r : run.store().runs("analysis-by-synthesis")) {
        const auto& s = r.summaries;
        const double battery = s.at("median_min_l2_battery");
        EXPECT_LE(battery, s.at("median_min_l2_pgd"));
        EXPECT_LE(battery, s.at("median_min_l2_deepfool"));
        EXPECT_LE(battery, s.at("median_min_l2_boundary"));
        EXPECT_GT(s.at("median_min_l2_battery_correct"), 0);
        EXPECT_TRUE(std::isfinite(s.at("median_min_l2_battery_correct")));
    }
}

TEST(AnalysisBySynthesis, RejectsBadConfigurations) {
    const Experiment& e = find_experiment("analysis-by-synthesis");
    auto cfg = [&](std::vector<std::string> o) { return expand_grid(e.schema(), parse_overrides(e.schema(), o)).at(0); };
    EXPECT_THROW(e.check(cfg({"train_size=105", "model=lda", "seed=0"})), UsageError);
    EXPECT_THROW(e.check(cfg({"protocol=robustness", "model=lda", "train_size=4000", "seed=0"})), UsageError);
}

}  // namespace
}  // namespace benchtop
