// The scientific outcome of linear-regions on a CI-sized run: the density of regions along lines
// through MNIST-1D grows with width, is set by the number of neurons rather than growing
// exponentially with depth, and the regions on a plane stay below what one layer of as many
// neurons could make (Hanin & Rolnick 2019).
#include <gtest/gtest.h>

#include <map>

#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(LinearRegionsExperiment, DensityFollowsNeuronsNotDepth) {
    test::ExperimentRun run("linear-regions", {"width=8,11,32", "depth=1,3", "steps=300", "lines=12",
                                              "resolution=32", "seed=0,1"});
    ASSERT_EQ(run.grid_size, 24u);
    EXPECT_EQ(run.complete, 24);
    const Store& store = run.store();
    // (width, depth, trained) -> mean density over seeds.
    std::map<std::tuple<int64_t, int64_t, bool>, double> dens;
    auto d = [&](int64_t w, int64_t depth, bool trained) { return dens[std::make_tuple(w, depth, trained)]; };
    for (const RunRow& r : store.runs("linear-regions")) {
        Json c = Json::parse(r.config_json);
        dens[std::make_tuple(c["width"].get<int64_t>(), c["depth"].get<int64_t>(), c["trained"].get<bool>())] += r.summaries.at("regions_per_length") / 2;
        EXPECT_LT(r.summaries.at("plane_regions"), r.summaries.at("plane_shallow_max")) << r.config_json;
        EXPECT_GE(r.summaries.at("plane_regions"), 1);
    }
    for (bool trained : {false, true}) {
        for (int64_t depth : {1, 3}) {
            // Four times the width: clearly more regions per unit length.
            EXPECT_GT(d(32, depth, trained), 2.0 * d(8, depth, trained)) << depth << trained;
        }
        // 32 neurons in one layer vs 33 in three layers of 11: the same order of density, not the
        // 2^3-fold (or more) that depth allows in the worst case.
        double shallow = d(32, 1, trained), deep = d(11, 3, trained);
        EXPECT_LT(deep, 2.5 * shallow) << "trained=" << trained;
        EXPECT_GT(deep, shallow / 2.5) << "trained=" << trained;
    }
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
