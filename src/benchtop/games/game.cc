#include "benchtop/games/game.h"

#include "benchtop/core/error.h"

namespace benchtop {

int Game::legal_moves(const State& s, int* out) const {
    int n = 0;
    for (int a = 0; a < actions(); ++a)
        if (legal(s, a)) out[n++] = a;
    return n;
}

void Game::encode(const State& s, float* out) const {
    const int n = cells();
    const int8_t own = int8_t(s.to_move + 1);
    for (int c = 0; c < n; ++c) {
        const int8_t v = s.cell[size_t(c)];
        out[c] = v == own ? 1.0f : 0.0f;
        out[n + c] = v != 0 && v != own ? 1.0f : 0.0f;
    }
}

State Game::transform(const State& s, const Symmetry& sym) const {
    State t = s;
    for (int c = 0; c < cells(); ++c) t.cell[size_t(sym.cell[size_t(c)])] = s.cell[size_t(c)];
    t.last = s.last < 0 ? int8_t(-1) : int8_t(sym.cell[size_t(s.last)]);
    return t;
}

std::string Game::render(const State& s) const {
    std::string out;
    for (int r = 0; r < rows(); ++r) {
        for (int c = 0; c < cols(); ++c) {
            const int8_t v = s.cell[size_t(r * cols() + c)];
            out += v == 0 ? '.' : v == 1 ? 'X' : 'O';
        }
        out += '\n';
    }
    return out;
}

State Game::parse(const std::string& board) const {
    State s;
    int c = 0, x = 0, o = 0;
    for (char ch : board) {
        if (ch == '\n' || ch == ' ' || ch == '/') continue;
        BENCHTOP_CHECK(c < cells(), name(), ": board '", board, "' has more than ", cells(), " cells");
        BENCHTOP_CHECK(ch == '.' || ch == 'X' || ch == 'O', name(), ": board cell '", std::string(1, ch),
                       "' is none of . X O");
        s.cell[size_t(c)] = ch == '.' ? 0 : ch == 'X' ? 1 : 2;
        if (ch == 'X') ++x;
        if (ch == 'O') ++o;
        ++c;
    }
    BENCHTOP_CHECK(c == cells(), name(), ": board '", board, "' has ", c, " cells, not ", cells());
    BENCHTOP_CHECK(x == o || x == o + 1, name(), ": board '", board, "' has ", x, " X and ", o, " O");
    s.to_move = int8_t(x == o ? 0 : 1);
    s.plies = int8_t(x + o);
    return s;
}

// ---- tic-tac-toe ------------------------------------------------------------------------------

namespace {

constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

// The 8 symmetries of a square board of side n (rotations and reflections), identity first.
std::vector<std::vector<int>> square_maps(int n) {
    std::vector<std::vector<int>> maps;
    for (int flip = 0; flip < 2; ++flip)
        for (int rot = 0; rot < 4; ++rot) {
            std::vector<int> m(static_cast<size_t>(n * n));
            for (int r = 0; r < n; ++r)
                for (int c = 0; c < n; ++c) {
                    int rr = r, cc = flip ? n - 1 - c : c;
                    for (int k = 0; k < rot; ++k) {  // rotate 90 degrees clockwise
                        const int t = rr;
                        rr = cc;
                        cc = n - 1 - t;
                    }
                    m[size_t(r * n + c)] = rr * n + cc;
                }
            maps.push_back(m);
        }
    return maps;
}

}  // namespace

TicTacToe::TicTacToe() {
    for (const auto& m : square_maps(3)) syms_.push_back({m, m});
}

void TicTacToe::play(State& s, int a) const {
    BENCHTOP_CHECK(legal(s, a), "tictactoe: move ", a, " is not legal");
    s.cell[size_t(a)] = int8_t(s.to_move + 1);
    s.to_move = int8_t(1 - s.to_move);
    ++s.plies;
    s.last = int8_t(a);
}

Outcome TicTacToe::outcome(const State& s) const {
    if (s.last >= 0) {
        const int8_t p = s.cell[size_t(s.last)];
        for (const auto& l : kLines) {
            if (l[0] != s.last && l[1] != s.last && l[2] != s.last) continue;
            if (s.cell[size_t(l[0])] == p && s.cell[size_t(l[1])] == p && s.cell[size_t(l[2])] == p)
                return Outcome::WonByLastMover;
        }
    }
    return s.plies == 9 ? Outcome::Draw : Outcome::Ongoing;
}

// ---- connect four -----------------------------------------------------------------------------

ConnectFour::ConnectFour() {
    std::vector<int> id(42), mirror(42), a_id(7), a_mirror(7);
    for (int r = 0; r < 6; ++r)
        for (int c = 0; c < 7; ++c) id[size_t(r * 7 + c)] = r * 7 + c, mirror[size_t(r * 7 + c)] = r * 7 + (6 - c);
    for (int c = 0; c < 7; ++c) a_id[size_t(c)] = c, a_mirror[size_t(c)] = 6 - c;
    syms_ = {{id, a_id}, {mirror, a_mirror}};
}

void ConnectFour::play(State& s, int a) const {
    BENCHTOP_CHECK(legal(s, a), "connect4: column ", a, " is full or out of range");
    int r = 5;
    while (s.cell[size_t(r * 7 + a)] != 0) --r;
    s.cell[size_t(r * 7 + a)] = int8_t(s.to_move + 1);
    s.to_move = int8_t(1 - s.to_move);
    ++s.plies;
    s.last = int8_t(r * 7 + a);
}

Outcome ConnectFour::outcome(const State& s) const {
    if (s.last >= 0) {
        const int r0 = s.last / 7, c0 = s.last % 7;
        const int8_t p = s.cell[size_t(s.last)];
        constexpr int kDirs[4][2] = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
        for (const auto& d : kDirs) {
            int n = 1;
            for (int sgn = -1; sgn <= 1; sgn += 2)
                for (int k = 1; k < 4; ++k) {
                    const int r = r0 + sgn * k * d[0], c = c0 + sgn * k * d[1];
                    if (r < 0 || r >= 6 || c < 0 || c >= 7 || s.cell[size_t(r * 7 + c)] != p) break;
                    ++n;
                }
            if (n >= 4) return Outcome::WonByLastMover;
        }
    }
    return s.plies == 42 ? Outcome::Draw : Outcome::Ongoing;
}

const TicTacToe& tictactoe() {
    static const TicTacToe g;
    return g;
}

const ConnectFour& connect_four() {
    static const ConnectFour g;
    return g;
}

const Game& game_by_name(const std::string& name) {
    if (name == "tictactoe") return tictactoe();
    if (name == "connect4") return connect_four();
    throw Error("unknown game '" + name + "'; known games: tictactoe, connect4");
}

}  // namespace benchtop
