#include "benchtop/icl/tasks.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "benchtop/core/error.h"

namespace benchtop::icl {

FunctionClass function_class_from_string(const std::string& s) {
    if (s == "linear") return FunctionClass::Linear;
    if (s == "sparse") return FunctionClass::Sparse;
    if (s == "relu") return FunctionClass::Relu;
    throw Error("unknown function class '" + s + "' (linear, sparse, relu)");
}

std::string to_string(FunctionClass f) {
    switch (f) {
        case FunctionClass::Linear: return "linear";
        case FunctionClass::Sparse: return "sparse";
        case FunctionClass::Relu: return "relu";
    }
    return "?";
}

Prompts sample_prompts(const TaskOptions& o, int64_t batch, Rng& rng) {
    BENCHTOP_CHECK(o.d >= 1 && o.n >= 0 && batch >= 1, "sample_prompts: needs d >= 1, n >= 0 and batch >= 1 (got d ", o.d,
                   ", n ", o.n, ", batch ", batch, ")");
    BENCHTOP_CHECK(o.function != FunctionClass::Sparse || (o.sparsity >= 1 && o.sparsity <= o.d),
                   "sample_prompts: sparsity ", o.sparsity, " must lie in [1, d = ", o.d, "]");
    BENCHTOP_CHECK(o.function != FunctionClass::Relu || o.relu_hidden >= 1, "sample_prompts: relu_hidden must be >= 1");
    Prompts p{.batch = batch, .n = o.n, .d = o.d};
    const int64_t P = o.n + 1, d = o.d;
    p.x.resize(size_t(batch * P * d));
    p.y.resize(size_t(batch * P));
    std::vector<double> w(static_cast<size_t>(d)), u, a;
    std::vector<int64_t> idx(static_cast<size_t>(d));
    for (int64_t b = 0; b < batch; ++b) {
        if (o.function == FunctionClass::Relu) {
            u.resize(size_t(o.relu_hidden * d));
            a.resize(size_t(o.relu_hidden));
            for (double& v : u) v = rng.normal();
            for (double& v : a) v = rng.normal() * std::sqrt(2.0 / double(o.relu_hidden));
        } else {
            for (double& v : w) v = rng.normal();
            if (o.function == FunctionClass::Sparse) {
                std::iota(idx.begin(), idx.end(), 0);
                for (int64_t i = 0; i < o.sparsity; ++i) std::swap(idx[size_t(i)], idx[size_t(i + int64_t(rng.below(uint64_t(d - i))))]);
                for (int64_t i = o.sparsity; i < d; ++i) w[size_t(idx[size_t(i)])] = 0;
            }
        }
        for (int64_t i = 0; i < P; ++i) {
            double* x = p.x.data() + (b * P + i) * d;
            for (int64_t j = 0; j < d; ++j) x[j] = rng.normal();
            double y = 0;
            if (o.function == FunctionClass::Relu) {
                for (int64_t h = 0; h < o.relu_hidden; ++h) {
                    double z = 0;
                    for (int64_t j = 0; j < d; ++j) z += u[size_t(h * d + j)] * x[j];
                    y += a[size_t(h)] * std::max(z, 0.0);
                }
            } else {
                for (int64_t j = 0; j < d; ++j) y += w[size_t(j)] * x[j];
            }
            p.y[size_t(b * P + i)] = y;
        }
    }
    return p;
}

namespace {

void check_k(const Prompts& p, int64_t k, const char* who) {
    BENCHTOP_CHECK(k >= 0 && k <= p.n, who, ": k = ", k, " must lie in [0, n = ", p.n, "]");
}

double dot(const double* a, const double* b, int64_t d) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += a[j] * b[j];
    return s;
}

}  // namespace

std::vector<double> gd_predict(const Prompts& p, int64_t k, int64_t steps, double eta) {
    check_k(p, k, "gd_predict");
    const int64_t d = p.d;
    std::vector<double> out(size_t(p.batch), 0.0), w(static_cast<size_t>(d)), g(static_cast<size_t>(d));
    if (k == 0 || steps == 0) return out;
    for (int64_t b = 0; b < p.batch; ++b) {
        std::fill(w.begin(), w.end(), 0.0);
        for (int64_t s = 0; s < steps; ++s) {
            std::fill(g.begin(), g.end(), 0.0);
            for (int64_t i = 0; i < k; ++i) {
                const double* x = p.xi(b, i);
                const double r = dot(w.data(), x, d) - p.yi(b, i);
                for (int64_t j = 0; j < d; ++j) g[size_t(j)] += r * x[j];
            }
            for (int64_t j = 0; j < d; ++j) w[size_t(j)] -= eta * g[size_t(j)] / double(k);
        }
        out[size_t(b)] = dot(w.data(), p.xi(b, k), d);
    }
    return out;
}

std::vector<double> least_squares_predict(const Prompts& p, int64_t k) {
    check_k(p, k, "least_squares_predict");
    std::vector<double> out(size_t(p.batch), 0.0);
    if (k == 0) return out;
    Eigen::MatrixXd X(k, p.d);
    Eigen::VectorXd y(k);
    for (int64_t b = 0; b < p.batch; ++b) {
        for (int64_t i = 0; i < k; ++i) {
            for (int64_t j = 0; j < p.d; ++j) X(i, j) = p.xi(b, i)[j];
            y(i) = p.yi(b, i);
        }
        const Eigen::VectorXd w = X.completeOrthogonalDecomposition().solve(y);
        out[size_t(b)] = dot(w.data(), p.xi(b, k), p.d);
    }
    return out;
}

std::vector<double> knn_predict(const Prompts& p, int64_t k, int64_t neighbours) {
    check_k(p, k, "knn_predict");
    BENCHTOP_CHECK(neighbours >= 1, "knn_predict: neighbours must be >= 1");
    std::vector<double> out(size_t(p.batch), 0.0);
    if (k == 0) return out;
    std::vector<std::pair<double, int64_t>> dist(static_cast<size_t>(k));
    const int64_t m = std::min(k, neighbours);
    for (int64_t b = 0; b < p.batch; ++b) {
        const double* q = p.xi(b, k);
        for (int64_t i = 0; i < k; ++i) {
            const double* x = p.xi(b, i);
            double s = 0;
            for (int64_t j = 0; j < p.d; ++j) s += (x[j] - q[j]) * (x[j] - q[j]);
            dist[size_t(i)] = {s, i};
        }
        std::partial_sort(dist.begin(), dist.begin() + m, dist.end());
        double s = 0;
        for (int64_t i = 0; i < m; ++i) s += p.yi(b, dist[size_t(i)].second);
        out[size_t(b)] = s / double(m);
    }
    return out;
}

double mse_at(const Prompts& p, int64_t k, const std::vector<double>& pred) {
    check_k(p, k, "mse_at");
    BENCHTOP_CHECK(int64_t(pred.size()) == p.batch, "mse_at: ", pred.size(), " predictions for ", p.batch, " prompts");
    double s = 0;
    for (int64_t b = 0; b < p.batch; ++b) {
        const double e = pred[size_t(b)] - p.yi(b, k);
        s += e * e;
    }
    return s / double(p.batch);
}

double best_gd_step_size(const Prompts& p, int64_t k, int64_t steps) {
    check_k(p, k, "best_gd_step_size");
    BENCHTOP_CHECK(steps >= 1, "best_gd_step_size: steps must be >= 1");
    if (k == 0) return 0;
    if (steps == 1) {  // prediction = eta * s_b: minimise sum (eta s_b - y_b)^2
        const std::vector<double> s = gd_predict(p, k, 1, 1.0);
        double sy = 0, ss = 0;
        for (int64_t b = 0; b < p.batch; ++b) sy += s[size_t(b)] * p.yi(b, k), ss += s[size_t(b)] * s[size_t(b)];
        return ss > 0 ? sy / ss : 0;
    }
    auto loss = [&](double log_eta) {
        const double l = mse_at(p, k, gd_predict(p, k, steps, std::exp(log_eta)));
        return std::isfinite(l) ? l : INFINITY;
    };
    const int G = 60;
    const double lo = std::log(1e-3), hi = std::log(4.0), h = (hi - lo) / G;
    int best = 0;
    double best_loss = INFINITY;
    for (int i = 0; i <= G; ++i) {
        const double l = loss(lo + h * i);
        if (l < best_loss) best_loss = l, best = i;
    }
    double a = lo + h * std::max(best - 1, 0), b = lo + h * std::min(best + 1, G);
    const double r = (std::sqrt(5.0) - 1) / 2;
    double c = b - r * (b - a), e = a + r * (b - a), fc = loss(c), fe = loss(e);
    for (int it = 0; it < 40; ++it) {
        if (fc < fe) {
            b = e, e = c, fe = fc, c = b - r * (b - a), fc = loss(c);
        } else {
            a = c, c = e, fc = fe, e = a + r * (b - a), fe = loss(e);
        }
    }
    const double mid = (a + b) / 2;
    return loss(mid) <= best_loss ? std::exp(mid) : std::exp(lo + h * best);
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    BENCHTOP_CHECK(a.size() == b.size() && !a.empty(), "correlation: needs two equal, non-empty vectors");
    const double n = double(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

}  // namespace benchtop::icl
