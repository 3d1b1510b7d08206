// The scientific outcome of lottery-ticket on a CI-sized run (hidden 100 instead of 500, four
// seeds, eight rounds of 40% per-layer pruning, the default training): tickets at 40% and 64%
// sparsity match the dense network (within one point), and at every sparsity between 90% and 97.5%
// tickets beat both the re-initialised mask and the random mask by clear margins. Masks only ever
// lose weights, and the controls keep the tickets' sparsity.
#include "benchtop/experiments/lottery_ticket.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/experiments/experiment.h"
#include "benchtop/sweep/grid.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(LotteryTicket, TicketsMatchDenseAndBeatControlsAtHighSparsity) {
    std::vector<LotteryCurve> curves;
    {
        test::ExperimentRun run("lottery-ticket", {"hidden=100", "seed=0,1,2,3"});
        ASSERT_EQ(run.complete, 4);
        curves = lottery_curves(run.store());
        run.expect_figures();
    }
    ASSERT_EQ(curves.size(), 1u);
    const LotteryCurve& c = curves[0];
    ASSERT_EQ(c.rounds.size(), 8u);
    std::printf("dense %.3f\n", c.dense.mean);
    double previous = 0;
    int high = 0;
    for (const LotteryRound& r : c.rounds) {
        std::printf("round %ld sparsity %.4f ticket %.3f +- %.3f reinit %.3f random %.3f\n", long(r.round), r.sparsity,
                    r.ticket.mean, r.ticket.sd, r.reinit.mean, r.random_mask.mean);
        EXPECT_GT(r.sparsity, previous) << "every round prunes more";
        previous = r.sparsity;
        EXPECT_EQ(r.ticket.n, 4);
        EXPECT_EQ(r.reinit.n, 4);
        EXPECT_EQ(r.random_mask.n, 4);
        if (r.sparsity < 0.7) {
            EXPECT_GE(r.ticket.mean, c.dense.mean - 0.01) << "round " << r.round;
        }
        if (r.sparsity >= 0.9 && r.sparsity <= 0.975) {
            ++high;
            EXPECT_GT(r.ticket.mean, r.reinit.mean + 0.02) << "round " << r.round;
            EXPECT_GT(r.ticket.mean, r.random_mask.mean + 0.05) << "round " << r.round;
        }
    }
    EXPECT_EQ(high, 3) << "sparsities 92.2%, 95.3% and 97.2%";
    EXPECT_NEAR(c.rounds.back().sparsity, 1 - std::pow(0.6, 8), 1e-3);
}

TEST(LotteryTicket, RejectsRewindAfterTraining) {
    const Experiment& e = find_experiment("lottery-ticket");
    Json c = expand_grid(e.schema(), parse_overrides(e.schema(), {"steps=100", "rewind_step=100", "seed=0"})).at(0);
    EXPECT_THROW(e.check(c), UsageError);
}

}  // namespace
}  // namespace benchtop
