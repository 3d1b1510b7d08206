// The scientific outcome of contrastive on a CI-sized run (20 epochs of pre-training on the
// default MNIST-1D, 2 draws of 10 labels per class): SimCLR's representation is read better by a
// linear probe than the randomly initialised encoder's, with all labels and with few; SimSiam
// with its stop-gradient does not collapse, and without it collapses completely: the loss goes to
// its minimum -1, the l2-normalised projections lose their spread (std near 0 instead of
// 1/sqrt(64)) and their effective rank falls near 1, the probe is no better than at
// initialisation, and the run is flagged `collapsed`.
#include <gtest/gtest.h>

#include <map>

#include "support/experiment_run.h"

namespace benchtop {
namespace {

std::map<std::string, std::map<std::string, double>> by_label(const test::ExperimentRun& run) {
    std::map<std::string, std::map<std::string, double>> out;
    for (const RunRow& r : run.store().runs("contrastive")) {
        const Json c = Json::parse(r.config_json);
        const std::string label = c["method"].get<std::string>() + (c["stop_gradient"].get<bool>() ? "" : "-nosg");
        out[label] = r.summaries;
        std::printf("%-12s probe %.3f few %.3f (random %.3f / %.3f, supervised few %.3f) loss %.4f std %.4f rank %.2f rep rank %.1f collapsed %g\n",
                    label.c_str(), r.summaries.at("probe_acc"), r.summaries.at("probe_few_acc"), r.summaries.at("random_probe_acc"),
                    r.summaries.at("random_probe_few_acc"), r.summaries.at("supervised_few_acc"), r.summaries.at("final_loss"),
                    r.summaries.at("proj_std"), r.summaries.at("proj_rank"), r.summaries.at("rep_rank"), r.summaries.at("collapsed"));
    }
    return out;
}

TEST(ContrastiveExperiment, SimClrLearnsAndSimSiamCollapsesWithoutItsStopGradient) {
    test::ExperimentRun run("contrastive", {"method=simclr,simsiam", "epochs=20", "probe_draws=2", "supervised_steps=200"});
    test::ExperimentRun nosg("contrastive", {"method=simsiam", "stop_gradient=false", "epochs=20", "probe_draws=2",
                                             "supervised_steps=0"});
    ASSERT_EQ(run.complete, 2);
    ASSERT_EQ(nosg.complete, 1);
    auto s = by_label(run);
    const auto c = by_label(nosg).at("simsiam-nosg");
    const auto& simclr = s.at("simclr");
    const auto& simsiam = s.at("simsiam");
    EXPECT_GT(simclr.at("probe_acc"), simclr.at("random_probe_acc") + 0.05);
    EXPECT_GT(simclr.at("probe_few_acc"), simclr.at("random_probe_few_acc") + 0.02);
    EXPECT_GT(simclr.at("supervised_few_acc"), simclr.at("random_probe_few_acc"));  // the reference learns too
    for (const auto* h : {&simclr, &simsiam}) {
        EXPECT_EQ(h->at("collapsed"), 0.0);
        EXPECT_GT(h->at("proj_std"), 0.5 * h->at("proj_std_healthy"));
        EXPECT_GT(h->at("proj_rank"), 10.0);
    }
    EXPECT_GT(simsiam.at("probe_acc"), simsiam.at("random_probe_acc"));
    // Without the stop-gradient: complete collapse.
    EXPECT_LT(c.at("final_loss"), -0.99);
    EXPECT_LT(c.at("proj_std"), 0.1 * c.at("proj_std_healthy"));
    EXPECT_LT(c.at("proj_rank"), 4.0);
    EXPECT_LE(c.at("probe_acc"), c.at("random_probe_acc"));
    EXPECT_EQ(c.at("collapsed"), 1.0);
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
