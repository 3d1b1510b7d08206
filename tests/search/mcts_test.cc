// Monte Carlo tree search on positions with a known best move (from the exact solvers), its
// determinism, and the Dirichlet and gamma draws of the root noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "benchtop/games/solver.h"
#include "benchtop/search/mcts.h"

namespace benchtop {
namespace {

// Uniform priors; the exact minimax value (tic-tac-toe) or 0.
class FixedEvaluator final : public Evaluator {
public:
    explicit FixedEvaluator(bool exact) : exact_(exact) {}
    void evaluate(const State& s, float* priors, float& value) override {
        for (int a = 0; a < kMaxActions; ++a) priors[a] = 1.0f;
        value = exact_ ? float(tictactoe_solver().value(s)) : 0.0f;
    }

private:
    bool exact_;
};

int best_move(const Game& g, const State& s, int sims, Evaluator* net, uint64_t seed = 1) {
    Rng rng(stream_key(seed, 0, Purpose::Other));
    Mcts mcts(g, {.simulations = sims}, rng);
    return choose_move(mcts.search(s, net), 0.0, rng);
}

TEST(Mcts, FindsWinsAndBlocksInTicTacToe) {
    const Game& g = tictactoe();
    FixedEvaluator flat(false);
    const TicTacToeSolver& solver = tictactoe_solver();
    for (Evaluator* net : {static_cast<Evaluator*>(nullptr), static_cast<Evaluator*>(&flat)}) {
        EXPECT_EQ(best_move(g, g.parse("XX./OO./..."), 500, net), 2);  // X wins now
        EXPECT_EQ(best_move(g, g.parse("XX./OO./X.."), 500, net), 5);  // O wins now
        EXPECT_EQ(best_move(g, g.parse("X../OO./X.."), 500, net), 5);  // X must block at 5
        const State s = g.parse(".O./.X./...");                        // X to move wins with care
        const std::vector<int> best = solver.optimal_moves(s);
        EXPECT_NE(std::find(best.begin(), best.end(), best_move(g, s, 2000, net)), best.end());
    }
}

TEST(Mcts, ExactValuesGiveOptimalMovesEverywhere) {
    // PUCT whose leaf values are exact picks an optimal move in (almost) every position.
    const Game& g = tictactoe();
    const TicTacToeSolver& solver = tictactoe_solver();
    FixedEvaluator exact(true);
    int optimal = 0;
    for (const State& s : solver.positions()) {
        const std::vector<int> best = solver.optimal_moves(s);
        optimal += std::find(best.begin(), best.end(), best_move(g, s, 50, &exact)) != best.end();
    }
    const double frac = double(optimal) / double(solver.positions().size());
    std::printf("PUCT-50 with exact values: optimal in %.4f of %zu positions\n", frac, solver.positions().size());
    EXPECT_GE(frac, 0.99);
}

TEST(Mcts, PureMctsGetsStrongerWithSimulations) {
    // The fraction of positions where UCT's move is optimal grows with its budget.
    const Game& g = tictactoe();
    const TicTacToeSolver& solver = tictactoe_solver();
    std::vector<double> frac;
    for (int sims : {10, 100, 1000}) {
        int optimal = 0, n = 0;
        for (size_t i = 0; i < solver.positions().size(); i += 9, ++n) {
            const State& s = solver.positions()[i];
            const std::vector<int> best = solver.optimal_moves(s);
            optimal += std::find(best.begin(), best.end(), best_move(g, s, sims, nullptr, i)) != best.end();
        }
        frac.push_back(double(optimal) / n);
    }
    std::printf("UCT optimal-move rate at 10/100/1000 simulations: %.3f %.3f %.3f\n", frac[0], frac[1], frac[2]);
    EXPECT_LT(frac[0], frac[1]);
    EXPECT_LT(frac[1], frac[2]);
    EXPECT_GT(frac[2], 0.9);
}

TEST(Mcts, ConnectFourWinsAndBlocks) {
    const Game& g = connect_four();
    State s = g.initial();
    for (int a : {3, 3, 4, 4, 5}) g.play(s, a);  // O to move must block X at 2 or 6: X wins anyway
    State w = s;
    g.play(w, 0);  // O elsewhere; X to move wins at 2 or 6
    const int m = best_move(g, w, 1000, nullptr);
    EXPECT_TRUE(m == 2 || m == 6) << m;
    State b = g.initial();
    for (int a : {0, 3, 0, 3, 1, 3}) g.play(b, a);  // X must block column 3
    EXPECT_EQ(best_move(g, b, 1000, nullptr), 3);
}

TEST(Mcts, DeterministicAndRespectsTheBudget) {
    const Game& g = connect_four();
    State s = g.initial();
    Rng r1(stream_key(3, 0, Purpose::Other)), r2(stream_key(3, 0, Purpose::Other));
    Mcts m1(g, {.simulations = 300}, r1), m2(g, {.simulations = 300}, r2);
    const std::vector<int> v1 = m1.search(s, nullptr), v2 = m2.search(s, nullptr);
    EXPECT_EQ(v1, v2);
    int total = 0;
    for (int v : v1) total += v;
    EXPECT_EQ(total, 300);
    FixedEvaluator flat(false);
    Rng r3(stream_key(4, 0, Purpose::Other));
    Mcts noisy(g, {.simulations = 40, .dirichlet_alpha = 0.3, .dirichlet_eps = 0.25}, r3);
    const std::vector<int> v3 = noisy.search(s, &flat);
    total = 0;
    for (int v : v3) total += v;
    EXPECT_EQ(total, 40);
    // Temperature: 0 takes the most visited; 1 samples in proportion.
    Rng rng(stream_key(5, 0, Purpose::Other));
    EXPECT_EQ(choose_move({1, 5, 5, 2}, 0.0, rng), 1);
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 4000; ++i) counts[size_t(choose_move({1, 0, 3}, 1.0, rng))]++;
    EXPECT_EQ(counts[1], 0);
    EXPECT_NEAR(counts[2] / 4000.0, 0.75, 0.03);
}

TEST(Mcts, DirichletAndGammaDraws) {
    Rng rng(stream_key(9, 0, Purpose::Other));
    for (double shape : {0.3, 1.0, 5.0}) {
        double sum = 0, sq = 0;
        const int n = 20000;
        for (int i = 0; i < n; ++i) {
            const double x = gamma_variate(shape, rng);
            ASSERT_GT(x, 0.0);
            sum += x, sq += x * x;
        }
        const double mean = sum / n, var = sq / n - mean * mean;
        EXPECT_NEAR(mean, shape, 0.05 * shape + 0.01) << shape;  // gamma(k, 1): mean k, variance k
        EXPECT_NEAR(var, shape, 0.1 * shape + 0.02) << shape;
    }
    std::vector<double> mean(4, 0.0);
    for (int i = 0; i < 5000; ++i) {
        const std::vector<double> d = dirichlet(4, 0.5, rng);
        double s = 0;
        for (size_t j = 0; j < 4; ++j) s += d[j], mean[j] += d[j] / 5000;
        ASSERT_NEAR(s, 1.0, 1e-12);
    }
    for (double m : mean) EXPECT_NEAR(m, 0.25, 0.015);
}

}  // namespace
}  // namespace benchtop
