// The AlphaZero pieces: the search-time evaluator computes what the engine computes, self-play
// labels positions consistently, training is the same for any thread count and for a member
// alone or in a stack, and matches against the perfect player come out as they must.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "benchtop/games/solver.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/search/alphazero.h"

namespace benchtop {
namespace {

TEST(AlphaZero, EvaluatorMatchesTheEngine) {
    for (const Game* g : {static_cast<const Game*>(&tictactoe()), static_cast<const Game*>(&connect_four())}) {
        const PolicyValueSpec spec = policy_value_spec(*g, 24, 3);
        ParamSet ps(2);
        add_policy_value_params(ps, spec);
        const std::vector<uint64_t> seeds = {1, 2};
        init_torch_default(ps, seeds);
        // Random positions.
        Rng rng(stream_key(11, 0, Purpose::Other));
        std::vector<State> states;
        while (states.size() < 20) {
            State s = g->initial();
            const int64_t n = int64_t(rng.below(uint64_t(g->cells() / 2)));
            for (int64_t i = 0; i < n && g->outcome(s) == Outcome::Ongoing; ++i) {
                int m[kMaxCells];
                g->play(s, m[rng.below(uint64_t(g->legal_moves(s, m)))]);
            }
            if (g->outcome(s) == Outcome::Ongoing) states.push_back(s);
        }
        const int64_t B = int64_t(states.size());
        Tensor x = Tensor::zeros({2, B, spec.in}, DType::F32);
        for (int64_t k = 0; k < 2; ++k)
            for (int64_t b = 0; b < B; ++b) g->encode(states[size_t(b)], x.data<float>() + (k * B + b) * spec.in);
        Graph graph;
        NoGradScope ng(graph);
        const PolicyValueVars out = policy_value_forward(ps, spec, graph.input(x));
        for (int64_t k = 0; k < 2; ++k) {
            NetEvaluator net(*g, ps, spec, k);
            for (int64_t b = 0; b < B; ++b) {
                float logits[kMaxActions];
                const float v = net.value_of(states[size_t(b)], logits);
                EXPECT_NEAR(v, out.value.value().data<float>()[k * B + b], 1e-5);
                for (int64_t a = 0; a < spec.actions; ++a)
                    EXPECT_NEAR(logits[a], out.logits.value().data<float>()[(k * B + b) * spec.actions + a], 1e-5);
                float priors[kMaxActions], pv = 0;
                net.evaluate(states[size_t(b)], priors, pv);
                double total = 0;
                for (int64_t a = 0; a < spec.actions; ++a) {
                    if (!g->legal(states[size_t(b)], int(a))) {
                        EXPECT_EQ(priors[a], 0.0f);
                    }
                    total += priors[a];
                }
                EXPECT_NEAR(total, 1.0, 1e-5);
            }
        }
    }
}

TEST(AlphaZero, SelfPlayLabelsPositions) {
    const Game& g = tictactoe();
    const PolicyValueSpec spec = policy_value_spec(g, 16, 1);
    ParamSet ps(1);
    add_policy_value_params(ps, spec);
    init_torch_default(ps, std::vector<uint64_t>{3});
    NetEvaluator net(g, ps, spec, 0);
    for (uint64_t seed = 0; seed < 20; ++seed) {
        Rng rng(stream_key(seed, 0, Purpose::Other));
        const std::vector<Sample> game = self_play_game(g, net, {.mcts = {.simulations = 10}, .temp_moves = 9}, rng);
        ASSERT_GE(game.size(), 5u);
        // Replay the moves: each position follows from the last, and the outcome labels agree.
        for (size_t i = 0; i < game.size(); ++i) {
            EXPECT_EQ(game[i].state.plies, int8_t(i));
            double total = 0;
            for (int a = 0; a < 9; ++a) {
                total += game[i].pi[size_t(a)];
                if (!g.legal(game[i].state, a)) {
                    EXPECT_EQ(game[i].pi[size_t(a)], 0.0f);
                }
            }
            EXPECT_NEAR(total, 1.0, 1e-6);
            if (i > 0) {
                EXPECT_EQ(game[i].z, -game[i - 1].z);  // zero-sum, alternating movers
            }
        }
        if (game.back().z != 0) {
            EXPECT_EQ(game.back().z, 1.0f);  // the last mover made the line
        }
    }
}

std::vector<float> params_of(const ParamSet& ps, int64_t k) {
    std::vector<float> out;
    for (const auto& e : ps.entries()) {
        const int64_t per = e.value.numel() / ps.n_members();
        out.insert(out.end(), e.value.data<float>() + k * per, e.value.data<float>() + (k + 1) * per);
    }
    return out;
}

std::vector<float> trained(const std::vector<uint64_t>& seeds, int threads, int64_t member) {
    const Game& g = tictactoe();
    const PolicyValueSpec spec = policy_value_spec(g, 16, 2);
    ParamSet ps(int64_t(seeds.size()));
    add_policy_value_params(ps, spec);
    init_torch_default(ps, seeds);
    AlphaZeroOptions o;
    o.self_play = {.mcts = {.simulations = 8, .dirichlet_alpha = 1.0, .dirichlet_eps = 0.25}, .temp_moves = 3};
    o.games = 24;
    o.games_per_round = 8;
    o.train_steps = 5;
    o.batch = 16;
    o.threads = threads;
    o.seeds = seeds;
    int checkpoints = 0;
    o.checkpoint_every = 16;
    o.on_checkpoint = [&](int64_t) { ++checkpoints; };
    const AlphaZeroCurves c = train_alphazero(g, ps, spec, o);
    EXPECT_EQ(c.games, (std::vector<int64_t>{8, 16, 24}));
    EXPECT_EQ(checkpoints, 3);  // before training, at 16 games, at the end
    return params_of(ps, member);
}

TEST(AlphaZero, TrainingIsTheSameForAnyThreadsAndStack) {
    const std::vector<float> one = trained({5, 9}, 1, 1), two = trained({5, 9}, 2, 1), alone = trained({9}, 1, 0);
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
    ASSERT_EQ(one.size(), alone.size());
    EXPECT_EQ(std::memcmp(one.data(), alone.data(), one.size() * sizeof(float)), 0);
    EXPECT_NE(std::memcmp(trained({5, 9}, 1, 0).data(), one.data(), one.size() * sizeof(float)), 0);
}

TEST(AlphaZero, MatchesAgainstThePerfectPlayer) {
    const Game& g = tictactoe();
    const PlayerFactory perfect = [] { return std::make_unique<PerfectPlayer>(); };
    const PlayerFactory random = [&g] { return std::unique_ptr<Player>(new RandomPlayer(g)); };
    const MatchResult pp = play_match(g, perfect, perfect, 50, true, 1, 2);
    EXPECT_EQ(pp.draws, 50);
    for (bool first : {true, false}) {
        const MatchResult pr = play_match(g, perfect, random, 200, first, 2, 2);
        EXPECT_EQ(pr.losses, 0);
        EXPECT_GT(pr.wins, 100);  // most games against a random mover are won
        // The same games on one thread.
        const MatchResult again = play_match(g, perfect, random, 200, first, 2, 1);
        EXPECT_EQ(again.wins, pr.wins);
        EXPECT_EQ(again.draws, pr.draws);
    }
}

}  // namespace
}  // namespace benchtop
