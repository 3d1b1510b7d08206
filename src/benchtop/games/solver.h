// Exact game values, the ground truth that search and self-play are measured against.
//
// TicTacToeSolver: minimax over every position (3^9 codes, memoized), so value() and
// optimal_moves() are exact and instant; positions() lists the 4520 non-terminal positions
// reachable from the empty board.
//
// ConnectFourSolver: negamax with alpha-beta pruning and a transposition table on bitboards
// (one bit per cell, 7 per column with a sentinel), centre columns first. It proves win, draw or
// loss; a position it cannot settle within its node budget comes back as nullopt, so use it to
// label positions near the end of the game (about 20 empty cells or fewer settle in a second).
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "benchtop/games/game.h"

namespace benchtop {

class TicTacToeSolver {
public:
    TicTacToeSolver();
    // -1, 0 or +1 for the player to move, with perfect play on both sides.
    int value(const State& s) const;
    // The moves that keep value(s) (every move, at a finished position: none).
    std::vector<int> optimal_moves(const State& s) const;
    // Every non-terminal position reachable from the empty board, in a fixed order.
    const std::vector<State>& positions() const { return positions_; }

private:
    int solve(const State& s);
    std::vector<int8_t> memo_;  // by base-3 code; 2 = not yet known
    std::vector<State> positions_;
};

// A process-wide solver (built once, ~1 ms).
const TicTacToeSolver& tictactoe_solver();

class ConnectFourSolver {
public:
    explicit ConnectFourSolver(int64_t max_nodes = 20'000'000) : max_nodes_(max_nodes) {}
    // -1, 0 or +1 for the player to move; nullopt when the node budget ran out. The position
    // must be one play() can reach (stones stacked from the bottom) and not finished.
    std::optional<int> value(const State& s);
    // The moves whose value is proven equal to the position's; empty when it is not settled.
    std::vector<int> best_moves(const State& s);
    int64_t nodes() const { return nodes_; }

private:
    int negamax(uint64_t current, uint64_t mask, int moves, int alpha, int beta);
    int64_t max_nodes_, nodes_ = 0;
    bool aborted_ = false;
    std::unordered_map<uint64_t, uint8_t> table_;  // key -> packed (lower, upper) bounds
};

}  // namespace benchtop
