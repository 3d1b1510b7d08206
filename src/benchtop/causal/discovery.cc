#include "benchtop/causal/discovery.h"

#include <lbfgs.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unsupported/Eigen/MatrixFunctions>

#include "benchtop/core/error.h"

namespace benchtop::causal {

namespace {

using Mat = Eigen::MatrixXd;

Mat to_eigen(const Matrix& m) {
    Mat e(m.rows, m.cols);
    for (int64_t i = 0; i < m.rows; ++i)
        for (int64_t j = 0; j < m.cols; ++j) e(i, j) = m(i, j);
    return e;
}

Matrix from_eigen(const Mat& e) {
    Matrix m(e.rows(), e.cols());
    for (int64_t i = 0; i < m.rows; ++i)
        for (int64_t j = 0; j < m.cols; ++j) m(i, j) = e(i, j);
    return m;
}

// The inner problem of NOTEARS over the off-diagonal entries of W.
struct Inner {
    const Mat* x;   // centred [n, d]
    Mat xtx;        // X^T X / n
    int64_t d = 0;
    double rho = 1, alpha = 0;
    int64_t evaluations = 0;
    std::vector<std::pair<int64_t, int64_t>> index;  // variable -> (i, j)

    Mat unpack(const double* v) const {
        Mat w = Mat::Zero(d, d);
        for (size_t k = 0; k < index.size(); ++k) w(index[k].first, index[k].second) = v[k];
        return w;
    }
    // Smooth part: 1/(2n) |X - XW|^2 + rho/2 h^2 + alpha h (the L1 term is OWL-QN's).
    double eval(const double* v, double* g) {
        ++evaluations;
        const Mat w = unpack(v);
        // 1/(2n) tr((I - W)^T X^T X (I - W)) and its gradient -X^T X (I - W) / n.
        const Mat r = Mat::Identity(d, d) - w;
        const Mat xtxr = xtx * r;
        const double loss = 0.5 * (r.transpose() * xtxr).trace();
        const Mat e = w.cwiseProduct(w).exp();
        const double h = e.trace() - double(d);
        const Mat grad = -xtxr + (rho * h + alpha) * e.transpose().cwiseProduct(2 * w);
        for (size_t k = 0; k < index.size(); ++k) g[k] = grad(index[k].first, index[k].second);
        return loss + 0.5 * rho * h * h + alpha * h;
    }
};

lbfgsfloatval_t inner_eval(void* inst, const lbfgsfloatval_t* x, lbfgsfloatval_t* g, int, lbfgsfloatval_t) {
    return static_cast<Inner*>(inst)->eval(x, g);
}

double normal_sf2(double z) { return std::erfc(std::abs(z) / std::sqrt(2.0)); }  // 2 (1 - Phi(|z|))

}  // namespace

double notears_h(const Matrix& w, Matrix* grad) {
    const Mat we = to_eigen(w);
    const Mat e = we.cwiseProduct(we).exp();
    if (grad) *grad = from_eigen(e.transpose().cwiseProduct(2 * we));
    return e.trace() - double(w.rows);
}

NotearsResult notears_linear(const Matrix& x_in, const NotearsOptions& o) {
    const int64_t n = x_in.rows, d = x_in.cols;
    BENCHTOP_CHECK(n >= 2 && d >= 2, "notears: needs at least 2 samples and 2 variables");
    Mat x = to_eigen(x_in);
    x.rowwise() -= x.colwise().mean();
    Inner in;
    in.x = &x;
    in.xtx = x.transpose() * x / double(n);
    in.d = d;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j)
            if (i != j) in.index.push_back({i, j});
    const int nv = int(in.index.size());
    std::vector<double> v(static_cast<size_t>(nv), 0.0), trial;
    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.orthantwise_c = o.lambda1;
    param.linesearch = LBFGS_LINESEARCH_BACKTRACKING;
    param.max_iterations = o.max_inner;
    param.epsilon = 1e-6;
    param.past = 3;       // stop when the objective improves by less than delta over 3 iterations
    param.delta = 1e-10;
    NotearsResult r;
    double h = INFINITY;
    for (r.outer = 0; r.outer < o.max_outer && in.rho < o.rho_max; ++r.outer) {
        double h_new = 0;
        while (in.rho < o.rho_max) {
            trial = v;
            double fx = 0;
            const int status = lbfgs(nv, trial.data(), &fx, inner_eval, nullptr, &in, &param);
            BENCHTOP_CHECK(status >= 0 || status == LBFGSERR_ROUNDING_ERROR || status == LBFGSERR_MAXIMUMLINESEARCH ||
                               status == LBFGSERR_MAXIMUMITERATION || status == LBFGSERR_MINIMUMSTEP ||
                               status == LBFGSERR_MAXIMUMSTEP,
                           "notears: L-BFGS failed with status ", status);
            h_new = notears_h(from_eigen(in.unpack(trial.data())));
            if (h_new > 0.25 * h) in.rho *= 10;
            else break;
        }
        v = trial;
        h = h_new;
        in.alpha += in.rho * h;
        if (h <= o.h_tol) break;
    }
    r.h = h;
    r.evaluations = in.evaluations;
    Mat w = in.unpack(v.data());
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j)
            if (std::abs(w(i, j)) < o.threshold) w(i, j) = 0;
    r.w = from_eigen(w);
    return r;
}

Matrix correlation(const Matrix& x) {
    Mat e = to_eigen(x);
    e.rowwise() -= e.colwise().mean();
    Mat c = e.transpose() * e;
    const Eigen::VectorXd s = c.diagonal().cwiseSqrt();
    for (int64_t i = 0; i < c.rows(); ++i)
        for (int64_t j = 0; j < c.cols(); ++j) c(i, j) /= s(i) * s(j);
    return from_eigen(c);
}

double fisher_z_pvalue(const Matrix& corr, int64_t n, int64_t i, int64_t j, const std::vector<int64_t>& s) {
    std::vector<int64_t> vars = {i, j};
    vars.insert(vars.end(), s.begin(), s.end());
    const int64_t m = int64_t(vars.size());
    Mat sub(m, m);
    for (int64_t a = 0; a < m; ++a)
        for (int64_t b = 0; b < m; ++b) sub(a, b) = corr(vars[size_t(a)], vars[size_t(b)]);
    const Mat p = sub.completeOrthogonalDecomposition().pseudoInverse();
    double r = -p(0, 1) / std::sqrt(p(0, 0) * p(1, 1));
    r = std::clamp(r, -1 + 1e-12, 1 - 1e-12);
    const double dof = double(n) - double(s.size()) - 3.0;
    if (dof <= 0) return 1.0;
    return normal_sf2(0.5 * std::log((1 + r) / (1 - r)) * std::sqrt(dof));
}

PcResult pc(const Matrix& x, const PcOptions& o) {
    const int64_t n = x.rows, d = x.cols;
    const Matrix c = correlation(x);
    std::vector<std::vector<char>> adj(static_cast<size_t>(d), std::vector<char>(static_cast<size_t>(d), 1));
    for (int64_t i = 0; i < d; ++i) adj[size_t(i)][size_t(i)] = 0;
    std::vector<std::vector<std::vector<int64_t>>> sepset(static_cast<size_t>(d), std::vector<std::vector<int64_t>>(static_cast<size_t>(d)));
    PcResult r;
    for (int64_t level = 0; o.max_condition < 0 || level <= o.max_condition; ++level) {
        // PC-stable: the neighbourhoods of this level are fixed before any edge goes.
        std::vector<std::vector<int64_t>> nb(static_cast<size_t>(d));
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = 0; j < d; ++j)
                if (adj[size_t(i)][size_t(j)]) nb[size_t(i)].push_back(j);
        bool any = false;
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j : nb[size_t(i)]) {
                if (!adj[size_t(i)][size_t(j)]) continue;
                std::vector<int64_t> cand;
                for (int64_t k : nb[size_t(i)])
                    if (k != j) cand.push_back(k);
                if (int64_t(cand.size()) < level) continue;
                any = true;
                // Every subset of `level` candidates, in lexicographic order.
                std::vector<int64_t> pick(static_cast<size_t>(level));
                std::iota(pick.begin(), pick.end(), 0);
                for (;;) {
                    std::vector<int64_t> s;
                    for (int64_t p : pick) s.push_back(cand[size_t(p)]);
                    ++r.tests;
                    if (fisher_z_pvalue(c, n, i, j, s) > o.alpha) {
                        adj[size_t(i)][size_t(j)] = adj[size_t(j)][size_t(i)] = 0;
                        sepset[size_t(i)][size_t(j)] = sepset[size_t(j)][size_t(i)] = s;
                        break;
                    }
                    int64_t t = level - 1;
                    while (t >= 0 && pick[size_t(t)] == int64_t(cand.size()) - level + t) --t;
                    if (t < 0) break;
                    ++pick[size_t(t)];
                    for (int64_t u = t + 1; u < level; ++u) pick[size_t(u)] = pick[size_t(u - 1)] + 1;
                }
            }
        if (!any) break;
    }
    Matrix g(d, d);
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j) g(i, j) = adj[size_t(i)][size_t(j)];
    // V-structures i -> k <- j: i and j not adjacent, k a common neighbour outside their sepset.
    for (int64_t k = 0; k < d; ++k)
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = i + 1; j < d; ++j) {
                if (!adj[size_t(i)][size_t(k)] || !adj[size_t(j)][size_t(k)] || adj[size_t(i)][size_t(j)]) continue;
                const auto& s = sepset[size_t(i)][size_t(j)];
                if (std::find(s.begin(), s.end(), k) != s.end()) continue;
                // An edge already directed the other way by an earlier v-structure keeps that
                // orientation (conflicts are resolved first come, first served; edges never go).
                if (g(i, k) != 0) g(k, i) = 0;
                if (g(j, k) != 0) g(k, j) = 0;
            }
    apply_meek_rules(g);
    r.cpdag = g;
    return r;
}

Matrix sortnregress(const Matrix& x_in, double threshold) {
    const int64_t n = x_in.rows, d = x_in.cols;
    Mat x = to_eigen(x_in);
    x.rowwise() -= x.colwise().mean();
    const std::vector<double> var = column_variances(x_in);
    std::vector<int64_t> order(static_cast<size_t>(d));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return var[size_t(a)] < var[size_t(b)]; });
    Matrix w(d, d);
    for (int64_t t = 1; t < d; ++t) {
        Mat a(n, t);
        for (int64_t p = 0; p < t; ++p) a.col(p) = x.col(order[size_t(p)]);
        const Eigen::VectorXd coef = a.colPivHouseholderQr().solve(x.col(order[size_t(t)]));
        for (int64_t p = 0; p < t; ++p)
            if (std::abs(coef(p)) >= threshold) w(order[size_t(p)], order[size_t(t)]) = coef(p);
    }
    return w;
}

}  // namespace benchtop::causal
