// Rules, symmetries and exact solvers of the board games, against known counts and positions:
// tic-tac-toe has 5478 positions reachable from the empty board, 4520 of them unfinished, and is
// a draw with every first move; connect four has 1, 7, 49, 238, 1120, 4263, 16422 distinct
// positions after 0..6 plies (OEIS A212693). The connect-four solver is checked against plain
// minimax on positions near the end of random games.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"
#include "benchtop/games/game.h"
#include "benchtop/games/solver.h"

namespace benchtop {
namespace {

std::vector<int> legal(const Game& g, const State& s) {
    int m[kMaxCells];
    const int n = g.legal_moves(s, m);
    return std::vector<int>(m, m + n);
}

TEST(Games, TicTacToeRules) {
    const Game& g = tictactoe();
    State s = g.initial();
    for (int a : {0, 3, 1, 4}) g.play(s, a);
    EXPECT_EQ(g.outcome(s), Outcome::Ongoing);
    EXPECT_EQ(s.to_move, 0);
    EXPECT_EQ(legal(g, s), (std::vector<int>{2, 5, 6, 7, 8}));
    g.play(s, 2);  // X: top row
    EXPECT_EQ(g.outcome(s), Outcome::WonByLastMover);
    EXPECT_EQ(Game::terminal_value(g.outcome(s)), -1.0);
    EXPECT_EQ(g.render(s), "XXX\nOO.\n...\n");
    EXPECT_THROW(g.play(s, 0), Error);
    // A full board without a line is a draw.
    State d = g.initial();
    for (int a : {0, 1, 2, 4, 3, 5, 7, 6, 8}) g.play(d, a);
    EXPECT_EQ(g.outcome(d), Outcome::Draw);
    // The encoding is from the mover's view.
    State e = g.parse("X../.O./...");
    float x[18];
    g.encode(e, x);
    EXPECT_EQ(e.to_move, 0);
    EXPECT_EQ(x[0], 1.0f);
    EXPECT_EQ(x[9 + 4], 1.0f);
    g.play(e, 8);
    g.encode(e, x);
    EXPECT_EQ(x[4], 1.0f);  // O to move: its own stone first
    EXPECT_EQ(x[9 + 0], 1.0f);
    EXPECT_EQ(x[9 + 8], 1.0f);
    EXPECT_THROW(g.parse("XX./.../..."), Error);  // two X, no O
}

TEST(Games, TicTacToeCountsAndValues) {
    const Game& g = tictactoe();
    // Every position reachable from the empty board, finished ones included.
    std::set<std::array<int8_t, kMaxCells>> seen = {g.initial().cell};
    std::vector<State> frontier = {g.initial()};
    while (!frontier.empty()) {
        std::vector<State> next;
        for (const State& s : frontier) {
            if (g.outcome(s) != Outcome::Ongoing) continue;
            for (int a : legal(g, s)) {
                State t = s;
                g.play(t, a);
                if (seen.insert(t.cell).second) next.push_back(t);
            }
        }
        frontier = next;
    }
    EXPECT_EQ(seen.size(), 5478u);
    const TicTacToeSolver& solver = tictactoe_solver();
    EXPECT_EQ(solver.positions().size(), 4520u);
    EXPECT_EQ(solver.value(g.initial()), 0);
    EXPECT_EQ(solver.optimal_moves(g.initial()).size(), 9u);  // every first move draws
    EXPECT_EQ(solver.value(g.parse(".O./.X./...")), 1);       // X centre, O edge: X wins
    EXPECT_EQ(solver.value(g.parse(".X./.O./...")), 0);       // X edge, O centre: a draw
    EXPECT_EQ(solver.value(g.parse("O../.X./...")), 0);       // X centre, O corner: a draw
    EXPECT_EQ(solver.optimal_moves(g.parse("XX./OO./...")), (std::vector<int>{2}));
    EXPECT_EQ(solver.value(g.parse("XX./OO./...")), 1);
    EXPECT_EQ(solver.value(g.parse("XX./OO./X..")), 1);  // O to move: wins at 5
    EXPECT_EQ(solver.optimal_moves(g.parse("XX./OO./X..")), (std::vector<int>{5}));
}

TEST(Games, SymmetriesPreserveValuesAndMoves) {
    const Game& g = tictactoe();
    const TicTacToeSolver& solver = tictactoe_solver();
    ASSERT_EQ(g.symmetries().size(), 8u);
    std::set<std::vector<int>> distinct;
    for (const Symmetry& sym : g.symmetries()) distinct.insert(sym.cell);
    EXPECT_EQ(distinct.size(), 8u);
    for (const State& s : solver.positions())
        for (const Symmetry& sym : g.symmetries()) {
            const State t = g.transform(s, sym);
            ASSERT_EQ(solver.value(t), solver.value(s));
            std::vector<int> mapped;
            for (int a : solver.optimal_moves(s)) mapped.push_back(sym.action[size_t(a)]);
            std::sort(mapped.begin(), mapped.end());
            ASSERT_EQ(solver.optimal_moves(t), mapped);
        }
    const Game& c4 = connect_four();
    ASSERT_EQ(c4.symmetries().size(), 2u);
    State s = c4.initial();
    for (int a : {0, 1, 1, 6}) c4.play(s, a);
    const State m = c4.transform(s, c4.symmetries()[1]);
    State expect = c4.initial();
    for (int a : {6, 5, 5, 0}) c4.play(expect, a);
    EXPECT_EQ(m.cell, expect.cell);
}

TEST(Games, ConnectFourRulesAndPositionCounts) {
    const Game& g = connect_four();
    auto play = [&](std::initializer_list<int> moves) {
        State s = g.initial();
        for (int a : moves) g.play(s, a);
        return s;
    };
    EXPECT_EQ(g.outcome(play({0, 1, 0, 1, 0, 1})), Outcome::Ongoing);
    EXPECT_EQ(g.outcome(play({0, 1, 0, 1, 0, 1, 0})), Outcome::WonByLastMover);  // vertical
    EXPECT_EQ(g.outcome(play({0, 0, 1, 1, 2, 2, 3})), Outcome::WonByLastMover);  // horizontal
    EXPECT_EQ(g.outcome(play({0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3})), Outcome::WonByLastMover);  // diagonal /
    EXPECT_EQ(g.outcome(play({6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3})), Outcome::WonByLastMover);  // diagonal \ (mirrored)
    State full = play({0, 0, 0, 0, 0, 0});
    EXPECT_FALSE(g.legal(full, 0));
    EXPECT_EQ(legal(g, full), (std::vector<int>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(g.render(play({3})).substr(5 * 8), "...X...\n");
    // Distinct positions after n plies (no game can end before ply 7).
    const std::vector<size_t> known = {1, 7, 49, 238, 1120, 4263, 16422};
    std::set<std::array<int8_t, kMaxCells>> level = {g.initial().cell};
    std::vector<State> states = {g.initial()};
    for (size_t ply = 1; ply < known.size(); ++ply) {
        std::set<std::array<int8_t, kMaxCells>> next;
        std::vector<State> next_states;
        for (const State& s : states)
            for (int a : legal(g, s)) {
                State t = s;
                g.play(t, a);
                if (next.insert(t.cell).second) next_states.push_back(t);
            }
        EXPECT_EQ(next.size(), known[ply]) << "ply " << ply;
        states = next_states;
    }
}

// Plain minimax, no pruning, no table: the reference for the solver.
int minimax(const Game& g, const State& s) {
    int best = -1;
    for (int a = 0; a < g.actions(); ++a) {
        if (!g.legal(s, a)) continue;
        State t = s;
        g.play(t, a);
        const Outcome o = g.outcome(t);
        const int v = o == Outcome::WonByLastMover ? 1 : o == Outcome::Draw ? 0 : -minimax(g, t);
        best = std::max(best, v);
        if (best == 1) break;
    }
    return best;
}

TEST(Games, ConnectFourSolverAgreesWithMinimax) {
    const Game& g = connect_four();
    ConnectFourSolver solver;
    // A known position: an open three.
    State s = g.initial();
    for (int a : {3, 3, 4, 4, 5, 5}) g.play(s, a);  // X to move: an open three, won whatever X plays
    EXPECT_EQ(solver.value(s), 1);
    EXPECT_EQ(solver.best_moves(s), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
    g.play(s, 0);  // X elsewhere: O cannot block both ends
    EXPECT_EQ(solver.value(s), -1);
    Rng rng(stream_key(7, 0, Purpose::Other));
    int checked = 0, wins = 0, losses = 0, draws = 0;
    while (checked < 40) {
        State p = g.initial();
        bool over = false;
        while (p.plies < 32) {
            const std::vector<int> m = legal(g, p);
            g.play(p, m[rng.below(m.size())]);
            if (g.outcome(p) != Outcome::Ongoing) {
                over = true;
                break;
            }
        }
        if (over) continue;
        const int truth = minimax(g, p);
        const std::optional<int> v = solver.value(p);
        ASSERT_TRUE(v.has_value());
        ASSERT_EQ(*v, truth) << g.render(p);
        for (int a : solver.best_moves(p)) {  // every best move keeps the value
            State t = p;
            g.play(t, a);
            const Outcome o = g.outcome(t);
            ASSERT_EQ(o == Outcome::WonByLastMover ? 1 : o == Outcome::Draw ? 0 : -minimax(g, t), truth);
        }
        (truth > 0 ? wins : truth < 0 ? losses : draws) += 1;
        ++checked;
    }
    std::printf("connect-four positions with 10 empty cells: %d won, %d drawn, %d lost for the mover\n", wins, draws, losses);
    EXPECT_GT(wins, 0);
    EXPECT_GT(losses + draws, 0);
    // A tiny budget gives up instead of guessing.
    ConnectFourSolver tiny(10);
    EXPECT_FALSE(tiny.value(g.initial()).has_value());
}

}  // namespace
}  // namespace benchtop
