// The scientific outcome of trainability on a CI-sized map (depths 1, 4 and 16; no norm and
// layer norm; with and without residual connections; SGD and Adam; the default nine init
// scales): without residuals or normalisation the band of trainable init scales narrows as
// depth grows; residual connections widen it at depth 16, and so do residual connections with
// layer norm under Adam.
#include "benchtop/experiments/trainability.h"

#include <gtest/gtest.h>

#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {


TEST(Trainability, BandNarrowsWithDepthAndResidualsWidenIt) {
    test::ExperimentRun run("trainability", {"depth=1,4,16", "norm=none,layer"});
    ASSERT_EQ(run.grid_size, 9u * 3 * 2 * 2 * 2);
    TrainabilityMap map = trainability_map(run.store());
    auto band = [&](const std::string& opt, const std::string& norm, bool residual, int64_t depth) {
        return band_decades(map.at({opt, norm, residual}).at(depth), kTrainableLoss);
    };
    for (const auto& [variant, by_depth] : map) {
        const auto& [opt, norm, residual] = variant;
        std::printf("%-4s norm %-5s residual %d: band (decades) at depth 1 / 4 / 16 = %.1f / %.1f / %.1f\n",
                    opt.c_str(), norm.c_str(), int(residual), band(opt, norm, residual, 1),
                    band(opt, norm, residual, 4), band(opt, norm, residual, 16));
    }
    for (const std::string opt : {"sgd", "adam"}) {
        // Plain networks: the band narrows with depth, to about He's scale alone.
        EXPECT_GT(band(opt, "none", false, 1), band(opt, "none", false, 4)) << opt;
        EXPECT_GE(band(opt, "none", false, 4), band(opt, "none", false, 16)) << opt;
        EXPECT_LE(band(opt, "none", false, 16), 0.5) << opt;
        // Residual connections widen it at depth 16.
        EXPECT_GT(band(opt, "none", true, 16), band(opt, "none", false, 16) + 0.5) << opt;
    }
    EXPECT_GT(band("adam", "layer", true, 16), band("adam", "none", false, 16) + 0.5);
    // Large scales without normalisation blow up: some runs diverge (stored, not a crash).
    int64_t diverged = 0;
    for (const RunRow& r : run.store().runs("trainability")) diverged += r.state == RunState::Diverged;
    EXPECT_GT(diverged, 0);
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
