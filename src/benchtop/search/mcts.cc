#include "benchtop/search/mcts.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "benchtop/core/error.h"

namespace benchtop {

std::vector<int> Mcts::search(const State& root, Evaluator* net) {
    BENCHTOP_CHECK(game_.outcome(root) == Outcome::Ongoing, "mcts: the game is already over");
    BENCHTOP_CHECK(o_.simulations >= 1, "mcts: simulations must be at least 1");
    nodes_.clear();
    nodes_.reserve(size_t(o_.simulations) * (net ? size_t(game_.actions()) : 2) + 16);
    nodes_.push_back(Node{.state = root});
    nodes_[0].terminal = 0;
    std::vector<float> priors(size_t(std::max(kMaxActions, game_.actions())));  // room for kMaxActions (mcts.h)
    if (net) {
        float v = 0;
        net->evaluate(root, priors.data(), v);
        expand(0, priors.data());
        if (o_.dirichlet_eps > 0 && o_.dirichlet_alpha > 0) {
            const std::vector<double> noise = dirichlet(nodes_[0].n_children, o_.dirichlet_alpha, rng_);
            for (int i = 0; i < nodes_[0].n_children; ++i) {
                Node& c = nodes_[size_t(nodes_[0].first_child + i)];
                c.prior = float((1 - o_.dirichlet_eps) * c.prior + o_.dirichlet_eps * noise[size_t(i)]);
            }
        }
    } else {
        expand(0, nullptr);
    }
    for (int sim = 0; sim < o_.simulations; ++sim) {
        int n = 0;
        while (nodes_[size_t(n)].n_children > 0) n = select_child(n, net != nullptr);
        Node& leaf = nodes_[size_t(n)];
        if (leaf.terminal < 0) {
            const Outcome o = game_.outcome(leaf.state);
            leaf.terminal = o == Outcome::Ongoing ? 0 : 1;
            leaf.terminal_value = float(Game::terminal_value(o));
        }
        double v;  // for the player to move at the leaf
        if (nodes_[size_t(n)].terminal == 1) {
            v = nodes_[size_t(n)].terminal_value;
        } else if (net) {
            float fv = 0;
            net->evaluate(nodes_[size_t(n)].state, priors.data(), fv);
            expand(n, priors.data());
            v = fv;
        } else {
            expand(n, nullptr);
            v = playout(nodes_[size_t(n)].state);
        }
        for (int m = n; m >= 0; m = nodes_[size_t(m)].parent) {
            nodes_[size_t(m)].visits += 1;
            nodes_[size_t(m)].value_sum -= v;  // the view of the player who moved into m
            v = -v;
        }
    }
    std::vector<int> visits(size_t(game_.actions()), 0);
    const Node& r = nodes_[0];
    for (int i = 0; i < r.n_children; ++i) {
        const Node& c = nodes_[size_t(r.first_child + i)];
        visits[size_t(c.action)] = c.visits;
    }
    root_value_ = r.visits > 0 ? -r.value_sum / r.visits : 0.0;
    return visits;
}

int Mcts::select_child(int node, bool puct) const {
    const Node& p = nodes_[size_t(node)];
    const double n_parent = std::max(1, p.visits);
    const double sqrt_n = std::sqrt(n_parent), log_n = std::log(n_parent);
    int best = -1;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < p.n_children; ++i) {
        const int ci = p.first_child + i;
        const Node& c = nodes_[size_t(ci)];
        double score;
        const double q = c.visits > 0 ? c.value_sum / c.visits : 0.0;
        if (puct) {
            score = q + o_.c_puct * c.prior * sqrt_n / (1.0 + c.visits);
        } else {
            if (c.visits == 0) return ci;  // every child once, in action order
            score = q + o_.c_uct * std::sqrt(log_n / c.visits);
        }
        if (score > best_score) best_score = score, best = ci;
    }
    return best;
}

void Mcts::expand(int node, const float* priors) {
    int moves[kMaxCells];
    const int n = game_.legal_moves(nodes_[size_t(node)].state, moves);
    double total = 0;
    if (priors)
        for (int i = 0; i < n; ++i) total += std::max(0.0f, priors[moves[i]]);
    const int first = int(nodes_.size());
    for (int i = 0; i < n; ++i) {
        Node c{.state = nodes_[size_t(node)].state, .parent = node, .action = moves[i]};
        game_.play(c.state, moves[i]);
        c.prior = priors && total > 0 ? float(std::max(0.0f, priors[moves[i]]) / total) : float(1.0 / n);
        nodes_.push_back(c);
    }
    nodes_[size_t(node)].first_child = first;
    nodes_[size_t(node)].n_children = n;
}

double Mcts::playout(State s) {
    const int8_t mover = s.to_move;
    int moves[kMaxCells];
    Outcome o;
    while ((o = game_.outcome(s)) == Outcome::Ongoing) {
        const int n = game_.legal_moves(s, moves);
        game_.play(s, moves[rng_.below(uint64_t(n))]);
    }
    if (o == Outcome::Draw) return 0.0;
    return (1 - s.to_move) == mover ? 1.0 : -1.0;  // the last mover won
}

int choose_move(const std::vector<int>& visits, double temperature, Rng& rng) {
    BENCHTOP_CHECK(!visits.empty(), "choose_move: no actions");
    if (temperature <= 0) return int(std::max_element(visits.begin(), visits.end()) - visits.begin());
    std::vector<double> w(visits.size());
    double total = 0;
    for (size_t a = 0; a < visits.size(); ++a) total += w[a] = visits[a] > 0 ? std::pow(double(visits[a]), 1.0 / temperature) : 0.0;
    BENCHTOP_CHECK(total > 0, "choose_move: no action was visited");
    double u = rng.uniform() * total;
    for (size_t a = 0; a < w.size(); ++a) {
        if (w[a] <= 0) continue;
        if (u < w[a]) return int(a);
        u -= w[a];
    }
    for (size_t a = w.size(); a-- > 0;)
        if (w[a] > 0) return int(a);
    return 0;
}

double gamma_variate(double shape, Rng& rng) {
    BENCHTOP_CHECK(shape > 0, "gamma_variate: shape must be positive");
    if (shape < 1) return gamma_variate(shape + 1, rng) * std::pow(std::max(rng.uniform(), 1e-300), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = rng.normal();
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = rng.uniform();
        if (u < 1 - 0.0331 * x * x * x * x) return d * v;
        if (std::log(std::max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
}

std::vector<double> dirichlet(int n, double alpha, Rng& rng) {
    std::vector<double> g(static_cast<size_t>(n));
    double total = 0;
    for (double& x : g) total += x = gamma_variate(alpha, rng);
    if (total <= 0) {
        std::fill(g.begin(), g.end(), 1.0 / n);
        return g;
    }
    for (double& x : g) x /= total;
    return g;
}

}  // namespace benchtop
