// Monte Carlo tree search for the games of games/game.h.
//
// Two flavours share one tree: UCT (Kocsis & Szepesvari 2006) scores a new leaf by a uniformly
// random playout to the end of the game and selects children by Q + c sqrt(ln N / n); PUCT
// (Silver et al. 2017, AlphaZero) scores a leaf by a policy/value network, selects by
// Q + c_puct P sqrt(N) / (1 + n) and expands every child at once with the network's priors,
// optionally mixing Dirichlet noise into the root's priors for exploration.
//
//   Rng rng(stream_key(seed, 0, Purpose::Other));
//   Mcts mcts(tictactoe(), {.simulations = 25}, rng);
//   std::vector<int> visits = mcts.search(state, &evaluator);   // or nullptr: UCT with playouts
//   int move = choose_move(visits, /*temperature=*/0, rng);
//
// Values are from the view of the player to move. A search is deterministic given the Rng's
// state: ties break toward the lower action.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/games/game.h"

namespace benchtop {

// A network's view of a position: priors over all actions (any non-negative weights; those of
// illegal actions are ignored and the rest renormalised) and a value in [-1, 1] for the mover.
// `priors` has room for kMaxActions entries whatever the game.
class Evaluator {
public:
    virtual ~Evaluator() = default;
    virtual void evaluate(const State& s, float* priors, float& value) = 0;
};

struct MctsOptions {
    int simulations = 100;
    double c_uct = 1.41421356;   // UCT exploration constant (playouts)
    double c_puct = 1.5;         // PUCT exploration constant (network)
    double dirichlet_alpha = 0;  // root noise of PUCT; 0 = none
    double dirichlet_eps = 0;    // weight of the noise in the root priors
};

class Mcts {
public:
    Mcts(const Game& game, MctsOptions options, Rng& rng) : game_(game), o_(options), rng_(rng) {}
    // Runs options.simulations simulations from `root` (not finished) and returns the visit count
    // of every action (0 for illegal ones). net == nullptr: UCT with random playouts.
    std::vector<int> search(const State& root, Evaluator* net);
    // The root's mean value for the mover after the last search.
    double root_value() const { return root_value_; }

private:
    struct Node {
        State state;
        int parent = -1, action = -1;
        int first_child = -1, n_children = 0;
        int visits = 0;
        double value_sum = 0;  // from the view of the player who moved into this node
        float prior = 0;
        int8_t terminal = -1;  // -1 unknown, else 1: finished
        float terminal_value = 0;  // for the player to move at this node
    };
    int select_child(int node, bool puct) const;
    void expand(int node, const float* priors);
    double playout(State s);
    const Game& game_;
    MctsOptions o_;
    Rng& rng_;
    std::vector<Node> nodes_;
    double root_value_ = 0;
};

// A move from visit counts: temperature 0 takes the most visited (lowest action on ties); else
// samples with probability proportional to visits^(1/temperature).
int choose_move(const std::vector<int>& visits, double temperature, Rng& rng);

// A Dirichlet(alpha, ..., alpha) draw of n components (Marsaglia-Tsang gamma variates).
std::vector<double> dirichlet(int n, double alpha, Rng& rng);
double gamma_variate(double shape, Rng& rng);

}  // namespace benchtop
