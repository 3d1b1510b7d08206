#include "benchtop/causal/graph.h"

#include <algorithm>
#include <cmath>

#include "benchtop/core/error.h"

namespace benchtop::causal {

GraphKind graph_kind_from_string(const std::string& s) {
    if (s == "er") return GraphKind::ErdosRenyi;
    if (s == "sf") return GraphKind::ScaleFree;
    throw Error("unknown graph kind '" + s + "'; known kinds: er (Erdos-Renyi), sf (scale-free)");
}

Noise noise_from_string(const std::string& s) {
    if (s == "gaussian") return Noise::Gaussian;
    if (s == "exponential") return Noise::Exponential;
    if (s == "gumbel") return Noise::Gumbel;
    if (s == "uniform") return Noise::Uniform;
    throw Error("unknown noise '" + s + "'; known: gaussian, exponential, gumbel, uniform");
}

namespace {

std::vector<int64_t> permutation(int64_t d, Rng& rng) {
    std::vector<int64_t> p(static_cast<size_t>(d));
    for (int64_t i = 0; i < d; ++i) p[size_t(i)] = i;
    for (int64_t i = d - 1; i > 0; --i) std::swap(p[size_t(i)], p[rng.below(uint64_t(i + 1))]);
    return p;
}

double signed_weight(Rng& rng) {
    const double w = rng.uniform(0.5, 2.0);
    return rng.uniform() < 0.5 ? -w : w;
}

double noise_draw(Noise n, double scale, Rng& rng) {
    switch (n) {
        case Noise::Gaussian: return scale * rng.normal();
        case Noise::Exponential: return -scale * std::log(1.0 - rng.uniform());
        case Noise::Gumbel: return -scale * std::log(-std::log(std::max(rng.uniform(), 1e-300)));
        case Noise::Uniform: return rng.uniform(-scale, scale);
    }
    return 0;
}

enum class Mark { None, Forward, Backward, Undirected };  // of the pair (i < j)

Mark mark(const Matrix& g, int64_t i, int64_t j) {
    const bool a = g(i, j) != 0, b = g(j, i) != 0;
    return a && b ? Mark::Undirected : a ? Mark::Forward : b ? Mark::Backward : Mark::None;
}

}  // namespace

Matrix random_dag(GraphKind kind, int64_t d, double k, Rng& rng) {
    BENCHTOP_CHECK(d >= 2 && k > 0, "random_dag: needs d >= 2 and k > 0");
    Matrix g(d, d);
    const std::vector<int64_t> p = permutation(d, rng);
    if (kind == GraphKind::ErdosRenyi) {
        const double prob = std::min(1.0, 2.0 * k / double(d - 1));
        for (int64_t a = 0; a < d; ++a)
            for (int64_t b = a + 1; b < d; ++b)
                if (rng.uniform() < prob) g(p[size_t(a)], p[size_t(b)]) = 1;
    } else {
        const int64_t m = std::max<int64_t>(1, std::llround(k));
        std::vector<double> degree(static_cast<size_t>(d), 0.0);
        for (int64_t t = 1; t < d; ++t) {
            std::vector<int64_t> chosen;
            while (int64_t(chosen.size()) < std::min(m, t)) {
                double total = 0;
                for (int64_t u = 0; u < t; ++u)
                    if (std::find(chosen.begin(), chosen.end(), u) == chosen.end()) total += degree[size_t(u)] + 1;
                double r = rng.uniform() * total;
                int64_t pick = -1;
                for (int64_t u = 0; u < t; ++u) {
                    if (std::find(chosen.begin(), chosen.end(), u) != chosen.end()) continue;
                    pick = u;
                    r -= degree[size_t(u)] + 1;
                    if (r < 0) break;
                }
                chosen.push_back(pick);
            }
            for (int64_t u : chosen) {  // the new node points to the old (hubs collect parents)
                g(p[size_t(t)], p[size_t(u)]) = 1;
                degree[size_t(u)] += 1, degree[size_t(t)] += 1;
            }
        }
    }
    return g;
}

Matrix random_weights(const Matrix& g, Rng& rng) {
    Matrix w(g.rows, g.cols);
    for (size_t i = 0; i < g.v.size(); ++i)
        if (g.v[i] != 0) w.v[i] = signed_weight(rng);
    return w;
}

std::vector<int64_t> topological_order(const Matrix& g) {
    const int64_t d = g.rows;
    std::vector<int64_t> indeg(static_cast<size_t>(d), 0), order;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j)
            if (g(i, j) != 0) ++indeg[size_t(j)];
    std::vector<int64_t> ready;
    for (int64_t j = d - 1; j >= 0; --j)
        if (indeg[size_t(j)] == 0) ready.push_back(j);
    while (!ready.empty()) {
        const int64_t i = ready.back();
        ready.pop_back();
        order.push_back(i);
        for (int64_t j = d - 1; j >= 0; --j)
            if (g(i, j) != 0 && --indeg[size_t(j)] == 0) ready.push_back(j);
    }
    BENCHTOP_CHECK(int64_t(order.size()) == d, "topological_order: the graph has a cycle");
    return order;
}

bool is_dag(const Matrix& g) {
    try {
        topological_order(g);
        return true;
    } catch (const Error&) {
        return false;
    }
}

Matrix sample_linear(const Matrix& w, const SampleOptions& o, Rng& rng) {
    const int64_t d = w.rows;
    const std::vector<int64_t> order = topological_order(w);
    Matrix x(o.n, d);
    for (int64_t s = 0; s < o.n; ++s)
        for (int64_t j : order) {
            double v = noise_draw(o.noise, o.noise_scale, rng);
            for (int64_t i = 0; i < d; ++i)
                if (w(i, j) != 0) v += x(s, i) * w(i, j);
            for (const Intervention& iv : o.interventions)
                if (iv.node == j) v = iv.soft ? v + iv.value : iv.value;
            x(s, j) = v;
        }
    return x;
}

Matrix sample_mlp(const Matrix& g, const SampleOptions& o, Rng& rng, int64_t hidden) {
    const int64_t d = g.rows;
    const std::vector<int64_t> order = topological_order(g);
    struct Mech {
        std::vector<int64_t> parents;
        std::vector<double> w1, w2;  // [parents, hidden], [hidden]
    };
    std::vector<Mech> mech(static_cast<size_t>(d));
    for (int64_t j : order) {
        Mech& m = mech[size_t(j)];
        for (int64_t i = 0; i < d; ++i)
            if (g(i, j) != 0) m.parents.push_back(i);
        if (m.parents.empty()) continue;
        for (size_t t = 0; t < m.parents.size() * size_t(hidden); ++t) m.w1.push_back(signed_weight(rng));
        for (int64_t t = 0; t < hidden; ++t) m.w2.push_back(signed_weight(rng));
    }
    Matrix x(o.n, d);
    for (int64_t s = 0; s < o.n; ++s)
        for (int64_t j : order) {
            const Mech& m = mech[size_t(j)];
            double v = noise_draw(o.noise, o.noise_scale, rng);
            for (int64_t h = 0; h < int64_t(m.w2.size()); ++h) {
                double a = 0;
                for (size_t p = 0; p < m.parents.size(); ++p) a += x(s, m.parents[p]) * m.w1[p * size_t(hidden) + size_t(h)];
                v += m.w2[size_t(h)] / (1.0 + std::exp(-a));
            }
            for (const Intervention& iv : o.interventions)
                if (iv.node == j) v = iv.soft ? v + iv.value : iv.value;
            x(s, j) = v;
        }
    return x;
}

std::vector<double> column_variances(const Matrix& x) {
    std::vector<double> out;
    for (int64_t j = 0; j < x.cols; ++j) {
        double m = 0, s = 0;
        for (int64_t i = 0; i < x.rows; ++i) m += x(i, j);
        m /= double(x.rows);
        for (int64_t i = 0; i < x.rows; ++i) s += (x(i, j) - m) * (x(i, j) - m);
        out.push_back(s / double(x.rows));
    }
    return out;
}

Matrix standardize(const Matrix& x) {
    Matrix y = x;
    const std::vector<double> var = column_variances(x);
    for (int64_t j = 0; j < x.cols; ++j) {
        double m = 0;
        for (int64_t i = 0; i < x.rows; ++i) m += x(i, j);
        m /= double(x.rows);
        const double sd = var[size_t(j)] > 0 ? std::sqrt(var[size_t(j)]) : 1.0;
        for (int64_t i = 0; i < x.rows; ++i) y(i, j) = (x(i, j) - m) / sd;
    }
    return y;
}

Scores score_dag(const Matrix& est, const Matrix& truth) {
    const int64_t d = truth.rows;
    BENCHTOP_CHECK(est.rows == d && est.cols == d, "score_dag: estimate and truth differ in size");
    int64_t right = 0, reversed = 0, extra = 0, missing = 0, true_edges = 0;
    Scores s;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = i + 1; j < d; ++j) {
            const Mark t = mark(truth, i, j), e = mark(est, i, j);
            if (t != Mark::None) ++true_edges;
            if (e != Mark::None) ++s.predicted;
            if (e == Mark::None) {
                missing += t != Mark::None;
            } else if (t == Mark::None) {
                ++extra;
            } else if (e == Mark::Undirected || e == t) {
                ++right;
            } else {
                ++reversed;
            }
        }
    s.shd = double(missing + extra + reversed);
    s.tpr = true_edges > 0 ? double(right) / double(true_edges) : 1.0;
    s.fdr = s.predicted > 0 ? double(reversed + extra) / double(s.predicted) : 0.0;
    return s;
}

void apply_meek_rules(Matrix& g) {
    const int64_t d = g.rows;
    auto directed = [&](int64_t a, int64_t b) { return g(a, b) != 0 && g(b, a) == 0; };
    auto undirected = [&](int64_t a, int64_t b) { return g(a, b) != 0 && g(b, a) != 0; };
    auto adjacent = [&](int64_t a, int64_t b) { return g(a, b) != 0 || g(b, a) != 0; };
    for (bool changed = true; changed;) {
        changed = false;
        for (int64_t a = 0; a < d; ++a)
            for (int64_t b = 0; b < d; ++b) {
                if (a == b || !undirected(a, b)) continue;
                bool orient = false;
                for (int64_t c = 0; c < d && !orient; ++c) {
                    if (c == a || c == b) continue;
                    // R1: c -> a - b, c and b not adjacent: a -> b.
                    if (directed(c, a) && !adjacent(c, b)) orient = true;
                    // R2: a -> c -> b and a - b: a -> b.
                    if (directed(a, c) && directed(c, b)) orient = true;
                }
                // R3: a - c -> b, a - e -> b, c and e not adjacent: a -> b.
                for (int64_t c = 0; c < d && !orient; ++c) {
                    if (c == a || c == b || !undirected(a, c) || !directed(c, b)) continue;
                    for (int64_t e = c + 1; e < d && !orient; ++e)
                        if (e != a && e != b && undirected(a, e) && directed(e, b) && !adjacent(c, e)) orient = true;
                }
                if (orient) {
                    g(b, a) = 0;
                    changed = true;
                }
            }
    }
}

Matrix cpdag_of(const Matrix& dag) {
    const int64_t d = dag.rows;
    Matrix g(d, d);
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j)
            if (dag(i, j) != 0) g(i, j) = g(j, i) = 1;
    for (int64_t k = 0; k < d; ++k)
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = i + 1; j < d; ++j)
                if (dag(i, k) != 0 && dag(j, k) != 0 && dag(i, j) == 0 && dag(j, i) == 0) {
                    g(k, i) = 0;  // i -> k <- j
                    g(k, j) = 0;
                }
    apply_meek_rules(g);
    return g;
}

double shd_cpdag(const Matrix& a, const Matrix& b) {
    double s = 0;
    for (int64_t i = 0; i < a.rows; ++i)
        for (int64_t j = i + 1; j < a.rows; ++j) s += mark(a, i, j) != mark(b, i, j);
    return s;
}

double varsortability(const Matrix& x, const Matrix& truth) {
    const int64_t d = truth.rows;
    const std::vector<double> var = column_variances(x);
    Matrix e(d, d), p;
    for (size_t i = 0; i < e.v.size(); ++i) e.v[i] = truth.v[i] != 0 ? 1.0 : 0.0;
    p = e;
    double num = 0, den = 0;
    for (int64_t len = 1; len < d; ++len) {
        double total = 0;
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = 0; j < d; ++j) {
                const double n = p(i, j);
                if (n == 0) continue;
                total += n;
                num += n * (var[size_t(i)] < var[size_t(j)] ? 1.0 : var[size_t(i)] == var[size_t(j)] ? 0.5 : 0.0);
            }
        if (total == 0) break;
        den += total;
        Matrix q(d, d);
        for (int64_t i = 0; i < d; ++i)
            for (int64_t k = 0; k < d; ++k) {
                if (p(i, k) == 0) continue;
                for (int64_t j = 0; j < d; ++j) q(i, j) += p(i, k) * e(k, j);
            }
        p = std::move(q);
    }
    return den > 0 ? num / den : std::nan("");
}

}  // namespace benchtop::causal
