// Experiment alphazero.
// Claim: a learned network and explicit search together play better than either alone: the
// network makes search efficient (a small simulation budget guided by the network beats a much
// larger budget of random playouts), and search adds strength the raw network lacks (Silver et
// al., "Mastering the game of Go without human knowledge", Nature 2017; "A general reinforcement
// learning algorithm that masters chess, shogi and Go through self-play", Science 2018).
//
// One run trains a policy-value MLP by AlphaZero self-play (search/alphazero.h) on tic-tac-toe or
// connect four and evaluates it at checkpoints against exact ground truth: the perfect player
// (tic-tac-toe; minimax over every position) in both seats, pure MCTS with random playouts
// (10, 100 and 1000 simulations), a random player, the network alone (its top move, no search),
// and the value head against the minimax value of every non-terminal tic-tac-toe position. At the
// end, the simulation budget is swept for pure MCTS and for network-guided search against the
// perfect player (tic-tac-toe) or MCTS-1000 (connect four). The seeds of a pack train as one stack.
#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/core/rng.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/search/alphazero.h"

namespace benchtop {
namespace {

const std::vector<int> kOpponents = {10, 100, 1000};       // pure-MCTS opponents' simulations
const std::vector<int> kBudgets = {1, 2, 5, 10, 25, 50, 100, 200};  // the final budget sweep

bool is_ttt(const Json& c) { return c["game"].get<std::string>() == "tictactoe"; }

std::string sims_key(const std::string& what, int s) { return what + "_s" + std::to_string(s); }

class AlphaZero final : public Experiment {
public:
    AlphaZero() {
        schema_.choice("game", {"tictactoe", "connect4"}, "tictactoe", "the game")
            .integer("simulations", 25, 1, 1e6, "search simulations per move, in self-play and in the evaluation")
            .real("c_puct", 1.5, 0.0, 100.0, "exploration constant of PUCT")
            .real("dirichlet_alpha", 1.0, 0.0, 100.0, "concentration of the root's Dirichlet noise in self-play")
            .real("dirichlet_eps", 0.25, 0.0, 1.0, "weight of the root's Dirichlet noise in self-play (0: none)")
            .integer("temp_moves", 4, 0, 100, "self-play samples moves in proportion to visits for this many plies, then takes the most visited")
            .integer("games", 5000, 0, 1e8, "self-play games in all")
            .integer("games_per_round", 50, 1, 1e6, "self-play games between training phases")
            .integer("train_steps", 50, 0, 1e7, "Adam steps after each round")
            .integer("batch", 64, 1, 1e6, "positions per minibatch")
            .integer("hidden", 64, 1, 4096, "units per hidden layer")
            .integer("layers", 2, 1, 8, "hidden layers")
            .real("lr", 2e-3, 0.0, 10.0, "Adam learning rate")
            .real("weight_decay", 1e-4, 0.0, 10.0, "decoupled weight decay (AdamW)")
            .integer("buffer", 5000, 1, 1e8, "positions kept in the replay buffer")
            .integer("checkpoint_every", 250, 0, 1e8, "self-play games between evaluations (0: only before and after training)")
            .integer("eval_games", 200, 0, 1e7, "games per seat against the perfect player (tic-tac-toe) at each checkpoint")
            .integer("opponent_games", 20, 0, 1e7, "games per seat against pure MCTS and the random player at each checkpoint")
            .integer("budget_games", 100, 0, 1e7, "games per seat at each budget of the final sweep")
            .add({.name = "seed", .type = ParamType::Int, .default_value = 0, .min = 0, .max = 9e15,
                  .help = "seed of the initialisation, self-play and evaluation games"});
    }

    std::string name() const override { return "alphazero"; }
    std::string claim() const override {
        return "a learned network and search together beat either alone: network-guided search with a few simulations "
               "plays better than many random playouts, and search adds strength the raw network lacks";
    }
    std::string reference() const override {
        return "Silver et al., Mastering the game of Go without human knowledge, Nature 2017; Silver et al., A general "
               "reinforcement learning algorithm that masters chess, shogi and Go through self-play, Science 2018";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"game", "simulations", "games", "seed"}; }

    void check(const Json& c) const override {
        if (c["games"].get<int64_t>() > 0 && c["buffer"].get<int64_t>() < 1)
            throw UsageError("alphazero: buffer must hold at least one position");
    }
    // Units: one self-play game; an evaluation game counts by its search work relative to one.
    int64_t work_units(const Json& c) const override { return c["games"].get<int64_t>() + eval_units(c); }
    static int64_t checkpoints(const Json& c) {
        const int64_t g = c["games"].get<int64_t>(), every = c["checkpoint_every"].get<int64_t>();
        return 2 + (every > 0 ? g / every : 0);
    }
    static double checkpoint_units(const Json& c) {
        const double sims = c["simulations"].get<double>();
        double mcts = 0;
        for (int s : kOpponents) mcts += s;
        // Per seat: the perfect player's games with the network's search, the network alone, and
        // pure MCTS (playouts cost about as much as a network evaluation).
        return 2 * (c["eval_games"].get<double>() * (is_ttt(c) ? 1.0 : 0.0) +
                    c["opponent_games"].get<double>() * (3 + mcts / sims)) / 2;
    }
    static int64_t eval_units(const Json& c) {
        double budget = 0;
        for (int s : kBudgets) budget += 2.0 * s;
        const double sims = c["simulations"].get<double>();
        const double final_sweep = 2 * c["budget_games"].get<double>() * (budget + (is_ttt(c) ? 0 : 2000.0 * double(kBudgets.size()))) / sims / 2;
        return int64_t(std::ceil(double(checkpoints(c)) * checkpoint_units(c) + final_sweep));
    }
    double seconds_per_unit(const Json& c) const override {
        const double sims = c["simulations"].get<double>(), h = c["hidden"].get<double>();
        return is_ttt(c) ? 2e-6 * sims * (1 + h / 64) : 1.5e-5 * sims * (1 + h / 64);
    }
    int64_t max_pack(const Json&) const override { return 8; }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<RunOutcome> AlphaZero::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    const Game& game = game_by_name(c["game"].get<std::string>());
    const bool ttt = is_ttt(c);
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const PolicyValueSpec spec = policy_value_spec(game, c["hidden"].get<int64_t>(), c["layers"].get<int64_t>());
    ParamSet ps(K);
    add_policy_value_params(ps, spec);
    init_torch_default(ps, seeds);

    const int sims = c["simulations"].get<int>();
    const MctsOptions eval_search{.simulations = sims, .c_puct = c["c_puct"].get<double>()};
    AlphaZeroOptions o;
    o.self_play.mcts = eval_search;
    o.self_play.mcts.dirichlet_alpha = c["dirichlet_alpha"].get<double>();
    o.self_play.mcts.dirichlet_eps = c["dirichlet_eps"].get<double>();
    o.self_play.temp_moves = c["temp_moves"].get<int>();
    o.games = c["games"].get<int64_t>();
    o.games_per_round = c["games_per_round"].get<int64_t>();
    o.train_steps = c["train_steps"].get<int64_t>();
    o.batch = c["batch"].get<int64_t>();
    o.lr = c["lr"].get<double>();
    o.weight_decay = c["weight_decay"].get<double>();
    o.buffer = c["buffer"].get<int64_t>();
    o.checkpoint_every = c["checkpoint_every"].get<int64_t>();
    o.threads = ctx.threads;
    o.seeds = seeds;

    std::vector<RunOutcome> out(static_cast<size_t>(K));
    const int64_t eval_games = c["eval_games"].get<int64_t>(), opp_games = c["opponent_games"].get<int64_t>();
    auto rate = [](int64_t n, int64_t games) { return games > 0 ? double(n) / double(games) : std::nan(""); };
    // Both seats of a match of player a against b: a's wins, draws and losses over 2 * games.
    auto both_seats = [&](const PlayerFactory& a, const PlayerFactory& b, int64_t games, uint64_t seed) {
        const MatchResult m1 = play_match(game, a, b, games, true, seed, ctx.threads);
        const MatchResult m2 = play_match(game, a, b, games, false, splitmix64(seed + 1), ctx.threads);
        ctx.check_stop();
        return std::pair{m1, m2};
    };
    const PlayerFactory perfect = [] { return std::make_unique<PerfectPlayer>(); };
    const PlayerFactory random = [&game] { return std::unique_ptr<Player>(new RandomPlayer(game)); };
    auto mcts_player = [&game](int s) {
        return PlayerFactory([&game, s] { return std::unique_ptr<Player>(new SearchPlayer(game, {.simulations = s}, nullptr)); });
    };
    const double units_per_checkpoint = checkpoint_units(c);
    o.on_round = [&, last = int64_t(0)](int64_t games) mutable {
        ctx.check_stop();
        if (ctx.advance) ctx.advance(K * (games - last));
        last = games;
    };
    o.on_checkpoint = [&](int64_t games) {
        for (int64_t k = 0; k < K; ++k) {
            NetEvaluator net(game, ps, spec, k);
            const uint64_t s0 = splitmix64(seeds[size_t(k)] ^ (0xe7a1000000000000ULL + uint64_t(games)));
            const PlayerFactory guided = [&] { return std::unique_ptr<Player>(new SearchPlayer(game, eval_search, &net)); };
            const PlayerFactory alone = [&] { return std::unique_ptr<Player>(new PolicyPlayer(game, net)); };
            auto& m = out[size_t(k)].metrics;
            auto put = [&](const std::string& key, double v) { m.push_back({key, games, v}); };
            if (ttt && eval_games > 0) {
                const auto [first, second] = both_seats(guided, perfect, eval_games, s0 + 1);
                put("perfect_loss_first", rate(first.losses, first.games()));
                put("perfect_loss_second", rate(second.losses, second.games()));
                put("perfect_win_first", rate(first.wins, first.games()));
                put("perfect_win_second", rate(second.wins, second.games()));
                put("perfect_draw_first", rate(first.draws, first.games()));
                put("perfect_draw_second", rate(second.draws, second.games()));
                put("perfect_loss", rate(first.losses + second.losses, first.games() + second.games()));
                put("perfect_draw", rate(first.draws + second.draws, first.games() + second.games()));
                const auto [a1, a2] = both_seats(alone, perfect, eval_games, s0 + 3);
                put("policy_perfect_loss", rate(a1.losses + a2.losses, a1.games() + a2.games()));
                const ValueAgreement va = tictactoe_agreement(net);
                put("value_agreement", va.value_agreement);
                put("policy_optimal", va.policy_optimal);
                put("value_mse", va.value_mse);
            }
            if (opp_games > 0) {
                for (int s : kOpponents) {
                    const auto [m1, m2] = both_seats(guided, mcts_player(s), opp_games, s0 + 5 + uint64_t(s) * 2);
                    put(sims_key("mcts_win", s), rate(m1.wins + m2.wins, m1.games() + m2.games()));
                    put(sims_key("mcts_loss", s), rate(m1.losses + m2.losses, m1.games() + m2.games()));
                }
                const auto [r1, r2] = both_seats(guided, random, opp_games, s0 + 7);
                put("random_win", rate(r1.wins + r2.wins, r1.games() + r2.games()));
                put("random_loss", rate(r1.losses + r2.losses, r1.games() + r2.games()));
                const auto [p1, p2] = both_seats(alone, random, opp_games, s0 + 9);
                put("policy_random_win", rate(p1.wins + p2.wins, p1.games() + p2.games()));
            }
        }
        if (ctx.advance) ctx.advance(K * int64_t(std::ceil(units_per_checkpoint)));
    };
    const AlphaZeroCurves curves = train_alphazero(game, ps, spec, o);

    // The final budget sweep: pure MCTS and network-guided search with the same simulations,
    // against the perfect player (tic-tac-toe) or MCTS-1000 (connect four).
    const int64_t budget_games = c["budget_games"].get<int64_t>();
    for (int64_t k = 0; k < K; ++k) {
        NetEvaluator net(game, ps, spec, k);
        std::vector<Summary>& sums = out[size_t(k)].summaries;
        const int64_t step = o.games;
        for (const Metric& mt : out[size_t(k)].metrics)
            if (mt.step == step) sums.push_back({mt.key, mt.value, step});
        const PlayerFactory opponent = ttt ? perfect : mcts_player(1000);
        const uint64_t s0 = splitmix64(seeds[size_t(k)] ^ 0xb0d6e70000000000ULL);
        for (int s : kBudgets) {
            if (budget_games == 0) break;
            const PlayerFactory guided = [&, s] {
                return std::unique_ptr<Player>(new SearchPlayer(game, {.simulations = s, .c_puct = eval_search.c_puct}, &net));
            };
            const auto [g1, g2] = both_seats(guided, opponent, budget_games, s0 + uint64_t(s) * 4);
            const auto [m1, m2] = both_seats(mcts_player(s), opponent, budget_games, s0 + uint64_t(s) * 4 + 2);
            sums.push_back({sims_key("budget_net_loss", s), rate(g1.losses + g2.losses, g1.games() + g2.games()), step});
            sums.push_back({sims_key("budget_net_win", s), rate(g1.wins + g2.wins, g1.games() + g2.games()), step});
            sums.push_back({sims_key("budget_mcts_loss", s), rate(m1.losses + m2.losses, m1.games() + m2.games()), step});
            sums.push_back({sims_key("budget_mcts_win", s), rate(m1.wins + m2.wins, m1.games() + m2.games()), step});
        }
        for (size_t r = 0; r < curves.games.size(); ++r) {
            out[size_t(k)].metrics.push_back({"policy_loss", curves.games[r], curves.policy_loss[size_t(k)][r]});
            out[size_t(k)].metrics.push_back({"value_loss", curves.games[r], curves.value_loss[size_t(k)][r]});
        }
    }
    if (ctx.advance) ctx.advance(K * (eval_units(c) - checkpoints(c) * int64_t(std::ceil(units_per_checkpoint))));
    return out;
}

std::vector<std::string> AlphaZero::draw(const Store& store, const std::string& out_dir) const {
    // Per game: mean over runs of each metric at each checkpoint, and of each summary.
    struct Agg {
        std::map<std::string, std::map<int64_t, std::pair<double, int>>> curve;
        std::map<std::string, std::pair<double, int>> sums;
        int runs = 0;
    };
    std::map<std::string, Agg> by_game;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete) continue;
        Agg& a = by_game[Json::parse(r.config_json)["game"].get<std::string>()];
        ++a.runs;
        for (const auto& [k, v] : r.summaries)
            if (std::isfinite(v)) a.sums[k].first += v, a.sums[k].second += 1;
        for (const Metric& m : store.metrics(r.run_id, ""))
            if (std::isfinite(m.value)) {
                auto& p = a.curve[m.key][m.step];
                p.first += m.value, p.second += 1;
            }
    }
    std::vector<std::string> files;
    for (const auto& [game, a] : by_game) {
        const bool ttt = game == "tictactoe";
        auto curve = [&](const std::string& key, const std::string& label, int color, bool dashed = false) {
            Series s{.label = label, .style = Series::Style::LinePoints, .color = color, .dashed = dashed};
            if (auto it = a.curve.find(key); it != a.curve.end())
                for (const auto& [step, p] : it->second) s.x.push_back(double(step)), s.y.push_back(p.first / p.second);
            return s;
        };
        Panel strength{.title = "Strength during training", .xlabel = "self-play games", .ylabel = "rate (both seats)"};
        if (ttt) {
            strength.series.push_back(curve("perfect_loss", "loss vs perfect player (search)", 0));
            strength.series.push_back(curve("policy_perfect_loss", "loss vs perfect player (network alone)", 0, true));
        }
        strength.series.push_back(curve("mcts_win_s1000", "win vs MCTS-1000 (search)", 1));
        strength.series.push_back(curve("mcts_loss_s1000", "loss vs MCTS-1000 (search)", 2));
        strength.series.push_back(curve("random_win", "win vs random (search)", 3));
        strength.yrange = std::make_pair(0.0, 1.0);
        strength.key_position = "center right";

        const std::string metric = ttt ? "loss" : "win";
        Panel budget{.title = ttt ? "What the network buys: losses against the perfect player"
                                  : "What the network buys: wins against MCTS-1000",
                     .xlabel = "simulations per move", .ylabel = ttt ? "loss rate (both seats)" : "win rate (both seats)",
                     .logx = true};
        Series net{.label = "network-guided search (PUCT)", .style = Series::Style::LinePoints, .color = 0},
            pure{.label = "pure MCTS (random playouts)", .style = Series::Style::LinePoints, .color = 1};
        for (int s : kBudgets) {
            auto mean = [&](const std::string& k) {
                auto it = a.sums.find(k);
                return it == a.sums.end() ? std::nan("") : it->second.first / it->second.second;
            };
            net.x.push_back(s), net.y.push_back(mean(sims_key("budget_net_" + metric, s)));
            pure.x.push_back(s), pure.y.push_back(mean(sims_key("budget_mcts_" + metric, s)));
        }
        budget.series = {net, pure};
        budget.yrange = std::make_pair(0.0, 1.0);

        Figure fig{.title = "AlphaZero on " + std::string(ttt ? "tic-tac-toe" : "connect four") + " (" +
                            std::to_string(a.runs) + " runs)",
                   .panels = {strength, budget}, .columns = 3};
        if (ttt) {
            Panel value{.title = "The network against minimax over all 4520 positions", .xlabel = "self-play games",
                        .ylabel = "fraction of positions"};
            value.series = {curve("value_agreement", "value head gives the minimax outcome", 0),
                            curve("policy_optimal", "policy's top move is optimal", 1)};
            value.yrange = std::make_pair(0.0, 1.0);
            value.key_position = "bottom right";
            fig.panels.push_back(value);
        } else {
            Panel losses{.title = "Training losses", .xlabel = "self-play games", .ylabel = "loss"};
            losses.series = {curve("policy_loss", "policy (cross-entropy)", 0), curve("value_loss", "value (MSE)", 1)};
            fig.panels.push_back(losses);
        }
        const RenderedFigure rf = render_figure(fig, out_dir + "/alphazero-" + game);
        files.push_back(rf.svg);
        files.push_back(rf.png);
    }
    return files;
}

}  // namespace

const Experiment& alphazero_experiment() {
    static const AlphaZero e;
    return e;
}

}  // namespace benchtop
