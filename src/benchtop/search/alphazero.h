// AlphaZero (Silver et al., "Mastering the game of Go without human knowledge", Nature 2017;
// "A general reinforcement learning algorithm that masters chess, shogi and Go through
// self-play", Science 2018) for the games of games/game.h, with benchtop's engine.
//
// The network: an MLP on the encoded position (own and opponent stones) with `layers` ReLU
// layers of `hidden` units, a policy head (logits over actions) and a value head (tanh). A stack
// of K networks (one per seed) trains in one engine pass; each plays its own self-play games.
//
// One round: every member plays games_per_round games against itself with PUCT search
// (root Dirichlet noise; moves sampled in proportion to visits for the first temp_moves plies,
// then the most visited), the positions go into the member's replay buffer with the visit
// distribution and the game's outcome; then train_steps Adam steps on minibatches drawn from the
// buffer, each position under a random symmetry of the board, on
//   loss = -sum_a pi_a log softmax(logits)_a  +  (v - z)^2      (illegal actions masked).
// Everything is drawn from streams of (seed, round, game), so the result is the same for any
// number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "benchtop/games/game.h"
#include "benchtop/nn/params.h"
#include "benchtop/search/mcts.h"

namespace benchtop {

struct PolicyValueSpec {
    int64_t in = 18;
    int64_t actions = 9;
    int64_t hidden = 64;
    int64_t layers = 2;
};
PolicyValueSpec policy_value_spec(const Game& game, int64_t hidden, int64_t layers);

void add_policy_value_params(ParamSet& ps, const PolicyValueSpec& spec);
// x [K, B, in] -> logits [K, B, actions] and value [K, B, 1] (tanh).
struct PolicyValueVars {
    Var logits, value;
};
PolicyValueVars policy_value_forward(ParamSet& ps, const PolicyValueSpec& spec, Var x);

constexpr int64_t kMaxEvalHidden = 4096;  // widest hidden layer NetEvaluator takes

// Member k of the stack as an Evaluator for search: its weights are copied out, and a position
// is evaluated by plain loops (no graph), softmax over the legal actions. Thread-safe.
class NetEvaluator final : public Evaluator {
public:
    NetEvaluator(const Game& game, const ParamSet& ps, const PolicyValueSpec& spec, int64_t member);
    void evaluate(const State& s, float* priors, float& value) override;
    // The raw value head and logits (for tests and the value-agreement metric).
    float value_of(const State& s, float* logits = nullptr) const;

private:
    const Game& game_;
    PolicyValueSpec spec_;
    std::vector<std::vector<float>> w_, b_;  // hidden layers; the first transposed to [in, hidden]
    std::vector<float> wp_, bp_, wv_;
    float bv_ = 0;
};

// One position of a self-play game: the visit distribution of its search and the final outcome
// for the player to move there.
struct Sample {
    State state;
    std::array<float, kMaxActions> pi{};
    float z = 0;
};

struct SelfPlayOptions {
    MctsOptions mcts;  // simulations, c_puct, Dirichlet noise
    int temp_moves = 2;
};
std::vector<Sample> self_play_game(const Game& game, Evaluator& net, const SelfPlayOptions& options, Rng& rng);

struct AlphaZeroOptions {
    SelfPlayOptions self_play;
    int64_t games = 1000;          // self-play games per member in all
    int64_t games_per_round = 50;
    int64_t train_steps = 50;      // Adam steps after each round
    int64_t batch = 64;
    double lr = 2e-3;
    double weight_decay = 1e-4;    // decoupled (AdamW)
    int64_t buffer = 10000;        // positions kept per member
    int threads = 1;
    std::vector<uint64_t> seeds;   // one per member
    // Called before the first round (games = 0) and after every round whose game count is a
    // multiple of checkpoint_every (and the last); throws to stop.
    int64_t checkpoint_every = 0;  // 0: only before and after
    std::function<void(int64_t games)> on_checkpoint;
    // Called after each round with the games played so far.
    std::function<void(int64_t games)> on_round;
};

struct AlphaZeroCurves {
    std::vector<int64_t> games;                 // after each round
    std::vector<std::vector<double>> policy_loss, value_loss;  // [member][round]: mean over the round's steps
};
AlphaZeroCurves train_alphazero(const Game& game, ParamSet& ps, const PolicyValueSpec& spec, const AlphaZeroOptions& options);

// ---- players, for evaluation ------------------------------------------------------------------

class Player {
public:
    virtual ~Player() = default;
    virtual int move(const State& s, Rng& rng) = 0;
};

class RandomPlayer final : public Player {
public:
    explicit RandomPlayer(const Game& game) : game_(game) {}
    int move(const State& s, Rng& rng) override;

private:
    const Game& game_;
};

// Tic-tac-toe only: a move chosen uniformly among the optimal ones.
class PerfectPlayer final : public Player {
public:
    int move(const State& s, Rng& rng) override;
};

// Search with `simulations`: PUCT with `net`, or UCT with random playouts when net is null; the
// most visited move.
class SearchPlayer final : public Player {
public:
    SearchPlayer(const Game& game, MctsOptions options, Evaluator* net) : game_(game), o_(options), net_(net) {}
    int move(const State& s, Rng& rng) override;

private:
    const Game& game_;
    MctsOptions o_;
    Evaluator* net_;
};

// The network alone: the legal action with the highest prior.
class PolicyPlayer final : public Player {
public:
    PolicyPlayer(const Game& game, Evaluator& net) : game_(game), net_(net) {}
    int move(const State& s, Rng& rng) override;

private:
    const Game& game_;
    Evaluator& net_;
};

struct MatchResult {
    int64_t wins = 0, draws = 0, losses = 0;  // of player a
    int64_t games() const { return wins + draws + losses; }
};
// `games` games of a against b, a moving first when a_first; game i draws from
// stream_key(seed, i); players are made per game by the factories (so they may hold state) and
// games run on `threads` threads.
using PlayerFactory = std::function<std::unique_ptr<Player>()>;
MatchResult play_match(const Game& game, const PlayerFactory& a, const PlayerFactory& b, int64_t games, bool a_first,
                       uint64_t seed, int threads);

// Tic-tac-toe: over every non-terminal reachable position, the fraction where the value head
// gives the minimax outcome (win above 1/3, loss below -1/3, draw between), the fraction where
// the policy's top legal action is optimal, and the mean squared error of the value.
struct ValueAgreement {
    double value_agreement = 0, policy_optimal = 0, value_mse = 0;
};
ValueAgreement tictactoe_agreement(const NetEvaluator& net);

}  // namespace benchtop
