#include "benchtop/ssl/probe.h"

#define EIGEN_DONT_PARALLELIZE  // one thread per probe (packs run in parallel; deterministic)
#include <lbfgs.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "benchtop/core/error.h"

namespace benchtop::ssl {

namespace {

struct Problem {
    int64_t n, dim, classes;
    const std::vector<double>* x;  // standardised, n x dim
    const std::vector<int32_t>* y;
    double l2;
};

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Weights W [classes, dim] then biases [classes]. Mean cross-entropy plus l2/2 |W|^2.
lbfgsfloatval_t objective(void* inst, const lbfgsfloatval_t* w, lbfgsfloatval_t* g, int, lbfgsfloatval_t) {
    const Problem& p = *static_cast<const Problem*>(inst);
    const Eigen::Map<const RowMatrix> X(p.x->data(), p.n, p.dim);
    const Eigen::Map<const RowMatrix> W(w, p.classes, p.dim);
    const Eigen::Map<const Eigen::VectorXd> b(w + p.classes * p.dim, p.classes);
    RowMatrix Z = X * W.transpose();  // n x classes
    Z.rowwise() += b.transpose();
    double loss = 0;
    for (int64_t i = 0; i < p.n; ++i) {
        const int32_t yi = (*p.y)[size_t(i)];
        const double mx = Z.row(i).maxCoeff(), zy = Z(i, yi) - mx;
        double se = 0;
        for (int64_t c = 0; c < p.classes; ++c) se += (Z(i, c) = std::exp(Z(i, c) - mx));
        loss += std::log(se) - zy;
        Z.row(i) /= se * double(p.n);  // softmax / n
        Z(i, yi) -= 1.0 / double(p.n);
    }
    Eigen::Map<RowMatrix> GW(g, p.classes, p.dim);
    Eigen::Map<Eigen::VectorXd> gb(g + p.classes * p.dim, p.classes);
    GW.noalias() = Z.transpose() * X + p.l2 * W;
    gb = Z.colwise().sum().transpose();
    return loss / double(p.n) + 0.5 * p.l2 * W.squaredNorm();
}

int64_t predict(const std::vector<double>& w, const double* xi, int64_t dim, int64_t classes) {
    int64_t best = 0;
    double best_s = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) {
        double s = w[size_t(classes * dim + c)];
        for (int64_t j = 0; j < dim; ++j) s += w[size_t(c * dim + j)] * xi[j];
        if (s > best_s) best_s = s, best = c;
    }
    return best;
}

}  // namespace

ProbeResult linear_probe(const Features& train, const std::vector<int32_t>& ytr, const Features& test,
                         const std::vector<int32_t>& yte, int64_t classes, const ProbeOptions& o) {
    BENCHTOP_CHECK(train.dim == test.dim && train.n == int64_t(ytr.size()) && test.n == int64_t(yte.size()) && train.n >= 1 &&
                       int64_t(train.f.size()) == train.n * train.dim && int64_t(test.f.size()) == test.n * test.dim,
                   "linear_probe: features and labels do not match");
    BENCHTOP_CHECK(classes >= 2, "linear_probe: needs at least two classes");
    for (int32_t y : ytr) BENCHTOP_CHECK(y >= 0 && y < classes, "linear_probe: label ", y, " outside [0, ", classes, ")");
    const int64_t D = train.dim;
    const Features& st = o.standardize_with ? *o.standardize_with : train;
    BENCHTOP_CHECK(st.dim == D && st.n >= 1, "linear_probe: the standardising features must have ", D, " columns");
    std::vector<double> mean(size_t(D), 0.0), sd(size_t(D), 0.0);
    for (int64_t i = 0; i < st.n; ++i)
        for (int64_t j = 0; j < D; ++j) mean[size_t(j)] += st.f[size_t(i * D + j)];
    for (double& m : mean) m /= double(st.n);
    for (int64_t i = 0; i < st.n; ++i)
        for (int64_t j = 0; j < D; ++j) {
            const double d = st.f[size_t(i * D + j)] - mean[size_t(j)];
            sd[size_t(j)] += d * d;
        }
    for (double& s : sd) s = std::sqrt(s / double(st.n));
    auto standardise = [&](const Features& f) {
        std::vector<double> out(f.f.size());
        for (int64_t i = 0; i < f.n; ++i)
            for (int64_t j = 0; j < D; ++j)
                out[size_t(i * D + j)] = sd[size_t(j)] > 1e-12 ? (f.f[size_t(i * D + j)] - mean[size_t(j)]) / sd[size_t(j)] : 0.0;
        return out;
    };
    const std::vector<double> xtr = standardise(train), xte = standardise(test);
    Problem p{train.n, D, classes, &xtr, &ytr, o.l2};
    std::vector<double> w(size_t(classes * (D + 1)), 0.0);
    lbfgs_parameter_t param;
    lbfgs_parameter_init(&param);
    param.max_iterations = o.max_iterations;
    param.epsilon = 1e-6;
    param.linesearch = LBFGS_LINESEARCH_BACKTRACKING;
    double fx = 0;
    const int status = lbfgs(int(w.size()), w.data(), &fx, objective, nullptr, &p, &param);
    BENCHTOP_CHECK(status >= 0 || status == LBFGSERR_ROUNDING_ERROR || status == LBFGSERR_MAXIMUMLINESEARCH ||
                       status == LBFGSERR_MAXIMUMITERATION || status == LBFGSERR_MINIMUMSTEP,
                   "linear_probe: L-BFGS failed with status ", status);
    ProbeResult r{.train_loss = fx};
    int64_t right = 0;
    for (int64_t i = 0; i < train.n; ++i) right += predict(w, xtr.data() + i * D, D, classes) == ytr[size_t(i)];
    r.train_acc = double(right) / double(train.n);
    right = 0;
    for (int64_t i = 0; i < test.n; ++i) right += predict(w, xte.data() + i * D, D, classes) == yte[size_t(i)];
    r.test_acc = test.n > 0 ? double(right) / double(test.n) : 0.0;
    return r;
}

std::vector<double> singular_values(const Features& x) {
    BENCHTOP_CHECK(int64_t(x.f.size()) == x.n * x.dim, "singular_values: ", x.f.size(), " values for ", x.n, " x ", x.dim);
    Eigen::MatrixXd m(x.n, x.dim);
    for (int64_t i = 0; i < x.n; ++i)
        for (int64_t j = 0; j < x.dim; ++j) m(i, j) = x.f[size_t(i * x.dim + j)];
    const Eigen::VectorXd s = Eigen::BDCSVD<Eigen::MatrixXd>(m).singularValues();
    return {s.data(), s.data() + s.size()};
}

double effective_rank(const std::vector<double>& sv) {
    double total = 0;
    for (double s : sv) total += s;
    if (!(total > 0)) return 0;
    double h = 0;
    for (double s : sv) {
        const double p = s / total + 1e-7;
        h -= p * std::log(p);
    }
    return std::exp(h);
}

double normalized_std(const Features& x) {
    std::vector<double> mean(size_t(x.dim), 0.0), sq(size_t(x.dim), 0.0), row(size_t(x.dim));
    int64_t rows = 0;
    for (int64_t i = 0; i < x.n; ++i) {
        double nrm = 0;
        for (int64_t j = 0; j < x.dim; ++j) nrm += double(x.f[size_t(i * x.dim + j)]) * x.f[size_t(i * x.dim + j)];
        if (!(nrm > 0)) continue;
        nrm = std::sqrt(nrm);
        ++rows;
        for (int64_t j = 0; j < x.dim; ++j) {
            const double v = x.f[size_t(i * x.dim + j)] / nrm;
            mean[size_t(j)] += v, sq[size_t(j)] += v * v;
        }
    }
    if (rows < 2) return 0;
    double s = 0;
    for (int64_t j = 0; j < x.dim; ++j) {
        const double m = mean[size_t(j)] / double(rows);
        s += std::sqrt(std::max(0.0, sq[size_t(j)] / double(rows) - m * m));
    }
    return s / double(x.dim);
}

}  // namespace benchtop::ssl
