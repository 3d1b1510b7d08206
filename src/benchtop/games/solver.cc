#include "benchtop/games/solver.h"

#include <algorithm>
#include <set>

#include "benchtop/core/error.h"

namespace benchtop {

// ---- tic-tac-toe ------------------------------------------------------------------------------

namespace {

constexpr int kTttLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

int ttt_code(const State& s) {
    int code = 0;
    for (int c = 8; c >= 0; --c) code = code * 3 + s.cell[size_t(c)];
    return code;
}

// A line on the board, whoever made it (the position is then over: the last mover won).
bool ttt_has_line(const State& s) {
    for (const auto& l : kTttLines) {
        const int8_t p = s.cell[size_t(l[0])];
        if (p != 0 && s.cell[size_t(l[1])] == p && s.cell[size_t(l[2])] == p) return true;
    }
    return false;
}

}  // namespace

TicTacToeSolver::TicTacToeSolver() : memo_(19683, 2) {
    solve(State{});
    // Reachable non-terminal positions, breadth first from the empty board.
    std::set<int> seen = {0};
    std::vector<State> frontier = {State{}};
    while (!frontier.empty()) {
        std::vector<State> next;
        for (const State& s : frontier) {
            if (ttt_has_line(s) || s.plies == 9) continue;
            positions_.push_back(s);
            for (int a = 0; a < 9; ++a) {
                if (s.cell[size_t(a)] != 0) continue;
                State t = s;
                tictactoe().play(t, a);
                if (seen.insert(ttt_code(t)).second) next.push_back(t);
            }
        }
        frontier = std::move(next);
    }
}

int TicTacToeSolver::solve(const State& s) {
    int8_t& m = memo_[size_t(ttt_code(s))];
    if (m != 2) return m;
    int v;
    if (ttt_has_line(s)) {
        v = -1;
    } else if (s.plies == 9) {
        v = 0;
    } else {
        v = -1;
        for (int a = 0; a < 9; ++a) {
            if (s.cell[size_t(a)] != 0) continue;
            State t = s;
            tictactoe().play(t, a);
            v = std::max(v, -solve(t));
        }
    }
    memo_[size_t(ttt_code(s))] = int8_t(v);
    return v;
}

int TicTacToeSolver::value(const State& s) const {
    const int8_t v = memo_[size_t(ttt_code(s))];
    BENCHTOP_CHECK(v != 2, "tictactoe solver: the position\n", tictactoe().render(s), "cannot be reached in a game");
    return v;
}

std::vector<int> TicTacToeSolver::optimal_moves(const State& s) const {
    std::vector<int> out;
    if (ttt_has_line(s) || s.plies == 9) return out;
    const int v = value(s);
    for (int a = 0; a < 9; ++a) {
        if (s.cell[size_t(a)] != 0) continue;
        State t = s;
        tictactoe().play(t, a);
        if (-value(t) == v) out.push_back(a);
    }
    return out;
}

const TicTacToeSolver& tictactoe_solver() {
    static const TicTacToeSolver s;
    return s;
}

// ---- connect four -----------------------------------------------------------------------------
// Bit c*7 + h is the cell of column c at height h (0 = bottom); bit c*7 + 6 stays empty.

namespace {

constexpr int kOrder[7] = {3, 2, 4, 1, 5, 0, 6};

constexpr uint64_t bottom_bit(int c) { return uint64_t(1) << (c * 7); }
constexpr uint64_t top_bit(int c) { return uint64_t(1) << (c * 7 + 5); }
constexpr uint64_t column_bits(int c) { return uint64_t(0x3f) << (c * 7); }

bool aligned(uint64_t p) {
    uint64_t m = p & (p >> 7);  // horizontal
    if (m & (m >> 14)) return true;
    m = p & (p >> 6);  // one diagonal
    if (m & (m >> 12)) return true;
    m = p & (p >> 8);  // the other
    if (m & (m >> 16)) return true;
    m = p & (p >> 1);  // vertical
    return (m & (m >> 2)) != 0;
}

bool can_play(uint64_t mask, int c) { return (mask & top_bit(c)) == 0; }
bool wins_by(uint64_t current, uint64_t mask, int c) {
    return aligned(current | ((mask + bottom_bit(c)) & column_bits(c)));
}

struct Bitboard {
    uint64_t current = 0, mask = 0;
    int moves = 0;
};

Bitboard to_bitboard(const State& s) {
    Bitboard b;
    const int8_t own = int8_t(s.to_move + 1);
    for (int c = 0; c < 7; ++c) {
        bool gap = false;
        for (int h = 0; h < 6; ++h) {
            const int8_t v = s.cell[size_t((5 - h) * 7 + c)];
            if (v == 0) {
                gap = true;
                continue;
            }
            BENCHTOP_CHECK(!gap, "connect4 solver: a stone floats above an empty cell in column ", c);
            b.mask |= uint64_t(1) << (c * 7 + h);
            if (v == own) b.current |= uint64_t(1) << (c * 7 + h);
            ++b.moves;
        }
    }
    return b;
}

struct AbortSearch {};

}  // namespace

int ConnectFourSolver::negamax(uint64_t current, uint64_t mask, int moves, int alpha, int beta) {
    if (++nodes_ > max_nodes_) throw AbortSearch{};
    if (moves == 42) return 0;
    for (int c = 0; c < 7; ++c)
        if (can_play(mask, c) && wins_by(current, mask, c)) return 1;
    if (moves == 41) return 0;  // the last stone cannot win (checked above): a draw
    const uint64_t key = current + mask;
    int lo = -1, hi = 1;
    if (auto it = table_.find(key); it != table_.end()) {
        lo = int(it->second & 3) - 1;
        hi = int(it->second >> 2) - 1;
        if (lo >= beta) return lo;
        if (hi <= alpha) return hi;
        alpha = std::max(alpha, lo);
        beta = std::min(beta, hi);
        if (lo == hi) return lo;
    }
    const int alpha0 = alpha;
    // Moves the opponent would win by next turn must be blocked: two of them lose.
    const uint64_t opp = current ^ mask;
    int forced = -1, threats = 0;
    for (int c = 0; c < 7; ++c)
        if (can_play(mask, c) && wins_by(opp, mask, c)) forced = c, ++threats;
    int best = -1;
    if (threats >= 2) {
        best = -1;
    } else {
        for (int c : kOrder) {
            if (!can_play(mask, c) || (forced >= 0 && c != forced)) continue;
            const uint64_t next_mask = mask | (mask + bottom_bit(c));
            const int v = -negamax(current ^ mask, next_mask, moves + 1, -beta, -alpha);
            best = std::max(best, v);
            alpha = std::max(alpha, v);
            if (alpha >= beta) break;
        }
    }
    if (best <= alpha0) hi = std::min(hi, best);
    else if (best >= beta) lo = std::max(lo, best);
    else lo = hi = best;
    table_[key] = uint8_t((lo + 1) | ((hi + 1) << 2));
    return best;
}

std::optional<int> ConnectFourSolver::value(const State& s) {
    const Bitboard b = to_bitboard(s);
    BENCHTOP_CHECK(connect_four().outcome(s) == Outcome::Ongoing && !aligned(b.current) && !aligned(b.current ^ b.mask),
                   "connect4 solver: the game is already over");
    try {
        return negamax(b.current, b.mask, b.moves, -1, 1);
    } catch (const AbortSearch&) {
        return std::nullopt;
    }
}

std::vector<int> ConnectFourSolver::best_moves(const State& s) {
    const std::optional<int> v = value(s);
    if (!v) return {};
    std::vector<int> out;
    for (int c = 0; c < 7; ++c) {
        if (!connect_four().legal(s, c)) continue;
        State t = s;
        connect_four().play(t, c);
        if (connect_four().outcome(t) == Outcome::WonByLastMover) {
            if (*v == 1) out.push_back(c);
            continue;
        }
        if (connect_four().outcome(t) == Outcome::Draw) {
            if (*v == 0) out.push_back(c);
            continue;
        }
        const std::optional<int> w = value(t);
        if (!w) return {};
        if (-*w == *v) out.push_back(c);
    }
    return out;
}

}  // namespace benchtop
