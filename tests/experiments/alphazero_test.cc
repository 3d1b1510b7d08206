// The scientific outcome of alphazero on a CI-sized run (tic-tac-toe, 1000 self-play games with 25
// simulations, one seed): against the perfect player, network-guided search with 10 simulations
// loses far fewer games than pure MCTS with the same 10; both get stronger with more simulations;
// and the value head agrees with minimax on more positions after training than before.
#include <gtest/gtest.h>

#include <map>

#include "support/experiment_run.h"

namespace benchtop {
namespace {

const std::vector<int> kBudgets = {1, 2, 5, 10, 25, 50, 100, 200};

TEST(AlphaZeroExperiment, NetworkMakesSearchEfficient) {
    test::ExperimentRun run("alphazero", {"games=1000", "checkpoint_every=500", "eval_games=100", "opponent_games=10",
                                          "budget_games=100", "seed=0"});
    ASSERT_EQ(run.complete, 1);
    const RunRow r = run.store().runs("alphazero").at(0);
    const auto& s = r.summaries;
    auto at = [&](const std::string& k) {
        EXPECT_TRUE(s.count(k)) << k;
        return s.count(k) ? s.at(k) : std::nan("");
    };
    for (int b : kBudgets)
        std::printf("budget %4d: network-guided loss %.3f, pure MCTS loss %.3f\n", b,
                    at("budget_net_loss_s" + std::to_string(b)), at("budget_mcts_loss_s" + std::to_string(b)));
    // What the network buys at a small budget.
    EXPECT_GE(at("budget_mcts_loss_s10"), 0.3);
    EXPECT_LE(at("budget_net_loss_s10"), 0.5 * at("budget_mcts_loss_s10"));
    // Strength grows with simulations for both: the largest budget loses less than the smallest,
    // and the upper half of the budgets less than the lower half on average.
    for (const std::string who : {"net", "mcts"}) {
        const std::string k = "budget_" + who + "_loss_s";
        EXPECT_LT(at(k + "200"), at(k + "1")) << who;
        double lo = 0, hi = 0;
        for (size_t i = 0; i < kBudgets.size(); ++i) (i < kBudgets.size() / 2 ? lo : hi) += at(k + std::to_string(kBudgets[i]));
        EXPECT_LT(hi, lo) << who;
    }
    // Training taught the value head: agreement with minimax rose from the untrained network's.
    const std::vector<Metric> agree = run.store().metrics(r.run_id, "value_agreement");
    ASSERT_EQ(agree.size(), 3u);  // 0, 500, 1000 games
    std::printf("value agreement: %.3f -> %.3f -> %.3f\n", agree[0].value, agree[1].value, agree[2].value);
    EXPECT_GT(agree.back().value, agree.front().value + 0.1);
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
