// Two-player, zero-sum, perfect-information board games for search and self-play:
// tic-tac-toe (3x3, three in a row) and connect four (6 rows x 7 columns, stones drop to the
// lowest free cell, four in a row).
//
// A State is a small value (copy it freely); a Game knows the rules. Values are always from the
// point of view of the player to move: +1 a win for them, -1 a loss, 0 a draw.
//
//   const Game& g = game_by_name("tictactoe");
//   State s = g.initial();
//   g.play(s, 4);                        // the centre
//   if (g.outcome(s) == Outcome::Ongoing) ...
//   float x[2 * 9]; g.encode(s, x);      // own stones, then the opponent's, from the mover's view
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace benchtop {

constexpr int kMaxCells = 42;
constexpr int kMaxActions = 9;  // the most legal moves any game here has (tic-tac-toe)

struct State {
    std::array<int8_t, kMaxCells> cell{};  // 0 empty, 1 the first player's stone, 2 the second's
    int8_t to_move = 0;                    // 0: the first player; 1: the second
    int8_t plies = 0;                      // stones on the board
    int8_t last = -1;                      // the cell of the last stone, -1 at the start
    bool operator==(const State&) const = default;
};

// Ongoing, a draw, or won by the player who just moved (the game ends on their move).
enum class Outcome : int8_t { Ongoing, Draw, WonByLastMover };

// A symmetry of the board: maps cell c to cell[c] and action a to action[a].
struct Symmetry {
    std::vector<int> cell, action;
};

class Game {
public:
    virtual ~Game() = default;
    virtual std::string name() const = 0;
    virtual int rows() const = 0;
    virtual int cols() const = 0;
    int cells() const { return rows() * cols(); }
    virtual int actions() const = 0;
    // Inputs of encode(): own stones, then the opponent's (one plane each).
    int encoded_size() const { return 2 * cells(); }

    State initial() const { return State{}; }
    virtual bool legal(const State& s, int action) const = 0;
    // Writes the legal actions in increasing order into out[0..n); returns n.
    int legal_moves(const State& s, int* out) const;
    // Plays `action` (must be legal) for the player to move.
    virtual void play(State& s, int action) const = 0;
    virtual Outcome outcome(const State& s) const = 0;
    // The value of a finished game for the player to move (-1: the opponent won; 0: draw).
    static double terminal_value(Outcome o) { return o == Outcome::WonByLastMover ? -1.0 : 0.0; }
    // Planes of own and opponent stones, from the view of the player to move: out[0..cells) is 1
    // where the mover has a stone, out[cells..2 cells) where the opponent has one.
    void encode(const State& s, float* out) const;
    // The board's symmetries (the identity first): the rules and the values commute with them.
    virtual const std::vector<Symmetry>& symmetries() const = 0;
    // The position after applying a symmetry.
    State transform(const State& s, const Symmetry& sym) const;
    // Rows top to bottom, 'X' the first player, 'O' the second, '.' empty.
    std::string render(const State& s) const;
    // The inverse of render (for tests and examples): whose move it is follows from the counts.
    // The last stone is unknown (last = -1), so outcome() does not see a line already on the
    // board: parse positions whose game is still on.
    State parse(const std::string& board) const;
};

class TicTacToe final : public Game {
public:
    TicTacToe();
    std::string name() const override { return "tictactoe"; }
    int rows() const override { return 3; }
    int cols() const override { return 3; }
    int actions() const override { return 9; }
    bool legal(const State& s, int a) const override { return a >= 0 && a < 9 && s.cell[size_t(a)] == 0; }
    void play(State& s, int a) const override;
    Outcome outcome(const State& s) const override;
    const std::vector<Symmetry>& symmetries() const override { return syms_; }

private:
    std::vector<Symmetry> syms_;
};

// Cells row-major with row 0 at the top; action c drops a stone into column c.
class ConnectFour final : public Game {
public:
    ConnectFour();
    std::string name() const override { return "connect4"; }
    int rows() const override { return 6; }
    int cols() const override { return 7; }
    int actions() const override { return 7; }
    bool legal(const State& s, int a) const override { return a >= 0 && a < 7 && s.cell[size_t(a)] == 0; }
    void play(State& s, int a) const override;
    Outcome outcome(const State& s) const override;
    const std::vector<Symmetry>& symmetries() const override { return syms_; }

private:
    std::vector<Symmetry> syms_;
};

const TicTacToe& tictactoe();
const ConnectFour& connect_four();
// "tictactoe" or "connect4"; throws Error naming them otherwise.
const Game& game_by_name(const std::string& name);

}  // namespace benchtop
