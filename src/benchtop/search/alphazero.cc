#include "benchtop/search/alphazero.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "benchtop/core/error.h"
#include "benchtop/core/parallel.h"
#include "benchtop/games/solver.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/reduce.h"
#include "benchtop/optim/adam.h"

namespace benchtop {

namespace {

std::string layer_name(int64_t l, const char* what) { return "hidden" + std::to_string(l) + "." + what; }

// Round r, game i of member seed: its own stream.
uint64_t game_stream(uint64_t seed, int64_t round, int64_t game) {
    return stream_key(splitmix64(seed ^ (0xa1f4000000000000ULL + uint64_t(round))), uint64_t(game), Purpose::Other);
}

}  // namespace

PolicyValueSpec policy_value_spec(const Game& game, int64_t hidden, int64_t layers) {
    return {.in = game.encoded_size(), .actions = game.actions(), .hidden = hidden, .layers = layers};
}

void add_policy_value_params(ParamSet& ps, const PolicyValueSpec& s) {
    BENCHTOP_CHECK(s.layers >= 1 && s.hidden >= 1, "policy-value network: needs at least one hidden layer and unit");
    for (int64_t l = 0; l < s.layers; ++l) {
        ps.add(layer_name(l, "weight"), {s.hidden, l == 0 ? s.in : s.hidden});
        ps.add(layer_name(l, "bias"), {s.hidden});
    }
    ps.add("policy.weight", {s.actions, s.hidden});
    ps.add("policy.bias", {s.actions});
    ps.add("value.weight", {1, s.hidden});
    ps.add("value.bias", {1});
}

PolicyValueVars policy_value_forward(ParamSet& ps, const PolicyValueSpec& s, Var x) {
    Graph& g = *x.g;
    Var h = x;
    for (int64_t l = 0; l < s.layers; ++l) h = linear_relu(h, ps.var(g, layer_name(l, "weight")), ps.var(g, layer_name(l, "bias")));
    return {linear(h, ps.var(g, "policy.weight"), ps.var(g, "policy.bias")),
            tanh(linear(h, ps.var(g, "value.weight"), ps.var(g, "value.bias")))};
}

// ---- NetEvaluator -----------------------------------------------------------------------------

NetEvaluator::NetEvaluator(const Game& game, const ParamSet& ps, const PolicyValueSpec& spec, int64_t k)
    : game_(game), spec_(spec) {
    BENCHTOP_CHECK(spec.in == game.encoded_size() && spec.actions == game.actions(), "NetEvaluator: the network's shape does not fit ",
                   game.name());
    BENCHTOP_CHECK(spec.hidden <= kMaxEvalHidden, "NetEvaluator: at most ", kMaxEvalHidden, " hidden units, not ", spec.hidden);
    auto member = [&](const std::string& name) {
        const Tensor& t = ps.value(name);
        const int64_t per = t.numel() / ps.n_members();
        const float* p = t.data<float>() + k * per;
        return std::vector<float>(p, p + per);
    };
    for (int64_t l = 0; l < spec.layers; ++l) {
        std::vector<float> w = member(layer_name(l, "weight"));
        if (l == 0) {  // [hidden, in] -> [in, hidden]: sparse inputs add whole rows
            std::vector<float> t(w.size());
            for (int64_t j = 0; j < spec.hidden; ++j)
                for (int64_t i = 0; i < spec.in; ++i) t[size_t(i * spec.hidden + j)] = w[size_t(j * spec.in + i)];
            w = std::move(t);
        }
        w_.push_back(std::move(w));
        b_.push_back(member(layer_name(l, "bias")));
    }
    wp_ = member("policy.weight");
    bp_ = member("policy.bias");
    wv_ = member("value.weight");
    bv_ = member("value.bias")[0];
}

float NetEvaluator::value_of(const State& s, float* logits) const {
    const int64_t H = spec_.hidden, D = spec_.in;
    float x[2 * kMaxCells];
    game_.encode(s, x);
    // Evaluated once per search leaf: scratch on the stack, not the heap.
    float h[kMaxEvalHidden], h2[kMaxEvalHidden];
    std::copy(b_[0].begin(), b_[0].end(), h);
    for (int64_t i = 0; i < D; ++i) {
        if (x[i] == 0.0f) continue;
        const float* row = w_[0].data() + i * H;
        for (int64_t j = 0; j < H; ++j) h[j] += x[i] * row[j];
    }
    for (int64_t j = 0; j < H; ++j) h[j] = std::max(h[j], 0.0f);
    for (size_t l = 1; l < w_.size(); ++l) {
        for (int64_t j = 0; j < H; ++j) {
            const float* row = w_[l].data() + j * H;
            float acc = 0;
            for (int64_t i = 0; i < H; ++i) acc += row[i] * h[i];
            h2[j] = std::max(acc + b_[l][size_t(j)], 0.0f);
        }
        std::copy(h2, h2 + H, h);
    }
    if (logits)
        for (int64_t a = 0; a < spec_.actions; ++a) {
            float acc = 0;
            for (int64_t i = 0; i < H; ++i) acc += wp_[size_t(a * H + i)] * h[i];
            logits[a] = acc + bp_[size_t(a)];
        }
    float acc = 0;
    for (int64_t i = 0; i < H; ++i) acc += wv_[size_t(i)] * h[i];
    return std::tanh(acc + bv_);
}

void NetEvaluator::evaluate(const State& s, float* priors, float& value) {
    float logits[kMaxActions];
    value = value_of(s, logits);
    float top = -INFINITY;
    for (int a = 0; a < game_.actions(); ++a)
        if (game_.legal(s, a)) top = std::max(top, logits[a]);
    double total = 0;
    for (int a = 0; a < game_.actions(); ++a) {
        priors[a] = game_.legal(s, a) ? std::exp(logits[a] - top) : 0.0f;
        total += priors[a];
    }
    for (int a = 0; a < game_.actions(); ++a) priors[a] = float(priors[a] / total);
}

// ---- self-play and training -------------------------------------------------------------------

std::vector<Sample> self_play_game(const Game& game, Evaluator& net, const SelfPlayOptions& o, Rng& rng) {
    std::vector<Sample> out;
    std::vector<int8_t> mover;
    State s = game.initial();
    Mcts mcts(game, o.mcts, rng);
    Outcome result;
    while ((result = game.outcome(s)) == Outcome::Ongoing) {
        const std::vector<int> visits = mcts.search(s, &net);
        Sample smp{.state = s};
        double total = 0;
        for (int v : visits) total += v;
        for (size_t a = 0; a < visits.size(); ++a) smp.pi[a] = float(visits[a] / total);
        out.push_back(smp);
        mover.push_back(s.to_move);
        game.play(s, choose_move(visits, s.plies < o.temp_moves ? 1.0 : 0.0, rng));
    }
    const int winner = result == Outcome::Draw ? -1 : 1 - s.to_move;
    for (size_t i = 0; i < out.size(); ++i) out[i].z = winner < 0 ? 0.0f : winner == mover[i] ? 1.0f : -1.0f;
    return out;
}

AlphaZeroCurves train_alphazero(const Game& game, ParamSet& ps, const PolicyValueSpec& spec, const AlphaZeroOptions& o) {
    const int64_t K = ps.n_members(), A = spec.actions, D = spec.in, B = o.batch;
    BENCHTOP_CHECK(int64_t(o.seeds.size()) == K, "train_alphazero: ", o.seeds.size(), " seeds for ", K, " members");
    BENCHTOP_CHECK(o.games_per_round >= 1 && o.buffer >= 1 && B >= 1, "train_alphazero: games_per_round, buffer and batch must be positive");
    AdamOptions ao{.lr = o.lr, .weight_decay = o.weight_decay, .decoupled = true};
    Adam adam(ps, ao);
    std::vector<std::vector<Sample>> buffer(static_cast<size_t>(K));
    std::vector<size_t> next(static_cast<size_t>(K), 0);  // ring position once full
    AlphaZeroCurves curves;
    curves.policy_loss.resize(size_t(K));
    curves.value_loss.resize(size_t(K));
    Tensor x = Tensor::empty({K, B, D}, DType::F32), pi = Tensor::empty({K, B, A}, DType::F32),
           mask = Tensor::empty({K, B, A}, DType::F32), z = Tensor::empty({K, B, 1}, DType::F32);
    const auto& syms = game.symmetries();
    if (o.on_checkpoint) o.on_checkpoint(0);
    Graph g;
    int64_t played = 0;
    for (int64_t round = 0; played < o.games; ++round) {
        const int64_t n = std::min(o.games_per_round, o.games - played);
        // Self-play: member k's game i is task k * n + i.
        std::vector<std::unique_ptr<NetEvaluator>> nets;
        for (int64_t k = 0; k < K; ++k) nets.push_back(std::make_unique<NetEvaluator>(game, ps, spec, k));
        std::vector<std::vector<Sample>> games(static_cast<size_t>(K * n));
        parallel_for(K * n, o.threads, [&](int64_t t) {
            const int64_t k = t / n, i = t % n;
            Rng rng(game_stream(o.seeds[size_t(k)], round, i));
            games[size_t(t)] = self_play_game(game, *nets[size_t(k)], o.self_play, rng);
        });
        for (int64_t t = 0; t < K * n; ++t) {
            auto& buf = buffer[size_t(t / n)];
            size_t& pos = next[size_t(t / n)];
            for (const Sample& smp : games[size_t(t)]) {
                if (int64_t(buf.size()) < o.buffer) {
                    buf.push_back(smp);
                } else {
                    buf[pos] = smp;
                    pos = (pos + 1) % buf.size();
                }
            }
        }
        played += n;
        // Training on minibatches from each member's buffer.
        std::vector<Rng> rngs;
        for (int64_t k = 0; k < K; ++k) rngs.emplace_back(stream_key(splitmix64(o.seeds[size_t(k)] ^ uint64_t(round)), 0, Purpose::Shuffle));
        std::vector<double> pl(static_cast<size_t>(K), 0.0), vl(static_cast<size_t>(K), 0.0);
        for (int64_t step = 0; step < o.train_steps; ++step) {
            for (int64_t k = 0; k < K; ++k) {
                const auto& buf = buffer[size_t(k)];
                for (int64_t b = 0; b < B; ++b) {
                    const Sample& smp = buf[rngs[size_t(k)].below(buf.size())];
                    const Symmetry& sym = syms[rngs[size_t(k)].below(syms.size())];
                    const State s = game.transform(smp.state, sym);
                    const int64_t r = k * B + b;
                    game.encode(s, x.data<float>() + r * D);
                    float* pr = pi.data<float>() + r * A;
                    float* mr = mask.data<float>() + r * A;
                    for (int64_t a = 0; a < A; ++a) pr[sym.action[size_t(a)]] = smp.pi[size_t(a)];
                    for (int64_t a = 0; a < A; ++a) mr[a] = game.legal(s, int(a)) ? 0.0f : -1e9f;
                    z.data<float>()[r] = smp.z;
                }
            }
            PolicyValueVars out = policy_value_forward(ps, spec, g.input(x));
            Var ploss = neg(sum(mul(g.input(pi), log_softmax(add(out.logits, g.input(mask)), -1)), 2));  // [K, B]
            Var vloss = sum(pow(sub(out.value, g.input(z)), 2.0), 2);                                     // [K, B]
            Var pm = mean(ploss, 1), vm = mean(vloss, 1);
            Var loss = add(pm, vm);
            for (int64_t k = 0; k < K; ++k) {
                pl[size_t(k)] += pm.value().at(k) / double(o.train_steps);
                vl[size_t(k)] += vm.value().at(k) / double(o.train_steps);
            }
            ps.zero_grad();
            g.backward(loss);
            adam.step();
            g.reset();
        }
        curves.games.push_back(played);
        for (int64_t k = 0; k < K; ++k) {
            curves.policy_loss[size_t(k)].push_back(pl[size_t(k)]);
            curves.value_loss[size_t(k)].push_back(vl[size_t(k)]);
        }
        if (o.on_round) o.on_round(played);
        const bool last = played >= o.games;
        const bool due = o.checkpoint_every > 0 && played / o.checkpoint_every != (played - n) / o.checkpoint_every;
        if (o.on_checkpoint && (last || due)) o.on_checkpoint(played);
    }
    return curves;
}

// ---- players ----------------------------------------------------------------------------------

int RandomPlayer::move(const State& s, Rng& rng) {
    int moves[kMaxCells];
    const int n = game_.legal_moves(s, moves);
    return moves[rng.below(uint64_t(n))];
}

int PerfectPlayer::move(const State& s, Rng& rng) {
    const std::vector<int> best = tictactoe_solver().optimal_moves(s);
    BENCHTOP_CHECK(!best.empty(), "perfect player: the game is over");
    return best[rng.below(best.size())];
}

int SearchPlayer::move(const State& s, Rng& rng) {
    Mcts mcts(game_, o_, rng);
    return choose_move(mcts.search(s, net_), 0.0, rng);
}

int PolicyPlayer::move(const State& s, Rng&) {
    float priors[kMaxActions], v = 0;
    net_.evaluate(s, priors, v);
    int best = -1;
    for (int a = 0; a < game_.actions(); ++a)
        if (game_.legal(s, a) && (best < 0 || priors[a] > priors[best])) best = a;
    return best;
}

MatchResult play_match(const Game& game, const PlayerFactory& a, const PlayerFactory& b, int64_t games, bool a_first,
                       uint64_t seed, int threads) {
    std::vector<int> result(static_cast<size_t>(games), 0);  // +1 a won, -1 a lost
    parallel_for(games, threads, [&](int64_t i) {
        Rng rng(stream_key(seed, uint64_t(i), Purpose::Other));
        std::unique_ptr<Player> pa = a(), pb = b();
        State s = game.initial();
        const int8_t a_seat = a_first ? 0 : 1;
        Outcome o;
        while ((o = game.outcome(s)) == Outcome::Ongoing) game.play(s, (s.to_move == a_seat ? pa : pb)->move(s, rng));
        result[size_t(i)] = o == Outcome::Draw ? 0 : (1 - s.to_move) == a_seat ? 1 : -1;
    });
    MatchResult m;
    for (int r : result) (r > 0 ? m.wins : r < 0 ? m.losses : m.draws) += 1;
    return m;
}

ValueAgreement tictactoe_agreement(const NetEvaluator& net) {
    const TicTacToeSolver& solver = tictactoe_solver();
    ValueAgreement r;
    const auto& positions = solver.positions();
    for (const State& s : positions) {
        float logits[kMaxActions];
        const double v = net.value_of(s, logits);
        const int truth = solver.value(s);
        const int said = v > 1.0 / 3 ? 1 : v < -1.0 / 3 ? -1 : 0;
        r.value_agreement += said == truth;
        r.value_mse += (v - truth) * (v - truth);
        int top = -1;
        for (int a = 0; a < 9; ++a)
            if (s.cell[size_t(a)] == 0 && (top < 0 || logits[a] > logits[top])) top = a;
        const std::vector<int> best = solver.optimal_moves(s);
        r.policy_optimal += std::find(best.begin(), best.end(), top) != best.end();
    }
    const double n = double(positions.size());
    r.value_agreement /= n;
    r.policy_optimal /= n;
    r.value_mse /= n;
    return r;
}

}  // namespace benchtop
