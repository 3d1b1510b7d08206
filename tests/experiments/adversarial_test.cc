// The scientific outcome of adversarial on a CI-sized run (the MLP and logistic regression,
// standard and PGD-trained, 2000 training steps, 200 attacked test signals, one seed): PGD is at
// least as strong as FGSM at every radius; the standard MLP's accuracy under L2 PGD falls below
// chance at a radius well under the median distance between signals of different classes; the
// minimal perturbations found by the battery are far smaller than that distance; PGD training
// raises the MLP's accuracy under L-inf PGD at its training radius.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "benchtop/attacks/attacks.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

const std::vector<double> kEps = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};

TEST(Adversarial, SmallPerturbationsFoolTrainedNetworks) {
    std::map<std::string, std::map<std::string, double>> by;  // "mlp/0" -> summaries
    {
        test::ExperimentRun run("adversarial", {"model=logistic,mlp", "adv_train=false,true", "steps=2000",
                                                "attack_examples=200", "pgd_steps=10", "bisections=8",
                                                "boundary_examples=50", "boundary_steps=200", "seed=0"});
        ASSERT_EQ(run.complete, 4);
        for (const RunRow& r : run.store().runs("adversarial")) {
            const Json c = Json::parse(r.config_json);
            by[c["model"].get<std::string>() + "/" + (c["adv_train"].get<bool>() ? "1" : "0")] = r.summaries;
        }
        if (gnuplot_available()) {
            const std::string dir = (std::filesystem::temp_directory_path() / "benchtop_adversarial_figs").string();
            std::vector<std::string> files = find_experiment("adversarial").draw(run.store(), dir);
            EXPECT_EQ(files.size(), 4u);
            for (const std::string& f : files) EXPECT_GT(std::filesystem::file_size(f), 1000u) << f;
            std::filesystem::remove_all(dir);
        }
    }
    for (const auto& [name, s] : by) {
        std::printf("%-12s clean %.3f  min-L2 pgd %.3f boundary %.3f battery %.3f (class gap %.3f, sigma %.3f)\n",
                    name.c_str(), s.at("clean_acc"), s.at("median_min_l2_pgd"), s.at("median_min_l2_boundary"),
                    s.at("median_min_l2_battery"), s.at("median_class_gap_l2") / (s.at("sigma") * std::sqrt(40.0)),
                    s.at("sigma"));
        for (double e : kEps)
            std::printf("   eps %-5g fgsm %.3f pgd-linf %.3f pgd-l2 %.3f battery-l2 %.3f\n", e, s.at(radius_key("fgsm_acc", e)),
                        s.at(radius_key("pgd_linf_acc", e)), s.at(radius_key("pgd_l2_acc", e)), s.at(radius_key("battery_l2_acc", e)));
    }
    const std::map<std::string, double>& mlp = by.at("mlp/0");
    EXPECT_GT(mlp.at("clean_acc"), 0.5);
    for (const auto& [name, s] : by)
        for (double e : kEps)  // PGD at least as strong as FGSM (one example of slack in 200)
            EXPECT_LE(s.at(radius_key("pgd_linf_acc", e)), s.at(radius_key("fgsm_acc", e)) + 0.005) << name << " eps " << e;
    // Below chance at a radius well under the distance between classes.
    const double l2_unit = mlp.at("sigma") * std::sqrt(40.0);
    const double gap = mlp.at("median_class_gap_l2") / l2_unit;
    double fooled_at = -1;
    for (double e : kEps)
        if (fooled_at < 0 && mlp.at(radius_key("pgd_l2_acc", e)) < 0.1) fooled_at = e;
    ASSERT_GT(fooled_at, 0) << "the MLP's accuracy under L2 PGD never fell below chance";
    EXPECT_LT(fooled_at, 0.5 * gap) << "class gap " << gap;
    EXPECT_LT(mlp.at("median_min_l2_battery"), 0.25 * gap);
    EXPECT_LE(mlp.at("median_min_l2_battery"), mlp.at("median_min_l2_pgd") + 1e-12);
    // Adversarial training helps at its own radius (0.1 sigma, L-inf).
    EXPECT_GT(by.at("mlp/1").at(radius_key("pgd_linf_acc", 0.1)), mlp.at(radius_key("pgd_linf_acc", 0.1)) + 0.05);
}

TEST(Adversarial, RejectsBadConfigurations) {
    const Experiment& e = find_experiment("adversarial");
    auto cfg = [&](std::vector<std::string> o) { return expand_grid(e.schema(), parse_overrides(e.schema(), o)).at(0); };
    EXPECT_THROW(e.check(cfg({"attack_examples=2000", "model=mlp", "adv_train=false", "seed=0"})), UsageError);
    EXPECT_THROW(e.check(cfg({"boundary_examples=300", "attack_examples=200", "model=mlp", "adv_train=false", "seed=0"})),
                 UsageError);
}

}  // namespace
}  // namespace benchtop
