#include "benchtop/generative/gaussian.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)
// Added to every covariance's diagonal (inputs are of unit scale): keeps classes with fewer
// examples than dimensions well defined.
constexpr double kRegularisation = 1e-3;

using Rows = std::vector<std::vector<double>>;

// The rows of x (float32 [N, D]) of class c, as doubles.
Rows class_rows(const Tensor& x, const Tensor& y, int32_t c) {
    BENCHTOP_CHECK(x.rank() == 2 && x.dtype() == DType::F32, "generative: inputs must be float32 [N, D]");
    BENCHTOP_CHECK(y.rank() == 1 && y.size(0) == x.size(0), "generative: labels must be [N]");
    const int64_t N = x.size(0), D = x.size(1);
    Rows out;
    for (int64_t i = 0; i < N; ++i)
        if (y.data<int32_t>()[i] == c) out.emplace_back(x.data<float>() + i * D, x.data<float>() + (i + 1) * D);
    return out;
}

std::vector<double> mean_of(const Rows& rows, int64_t D) {
    std::vector<double> m(size_t(D), 0.0);
    for (const auto& r : rows)
        for (int64_t d = 0; d < D; ++d) m[size_t(d)] += r[size_t(d)];
    for (double& v : m) v /= double(rows.size());
    return m;
}

// Maximum-likelihood covariance (divided by N) of rows around mean.
std::vector<double> covariance_of(const Rows& rows, const std::vector<double>& mean, int64_t D) {
    std::vector<double> c(size_t(D * D), 0.0);
    for (const auto& r : rows)
        for (int64_t i = 0; i < D; ++i) {
            const double di = r[size_t(i)] - mean[size_t(i)];
            for (int64_t j = 0; j <= i; ++j) c[size_t(i * D + j)] += di * (r[size_t(j)] - mean[size_t(j)]);
        }
    for (int64_t i = 0; i < D; ++i)
        for (int64_t j = 0; j <= i; ++j) {
            c[size_t(i * D + j)] /= double(rows.size());
            c[size_t(j * D + i)] = c[size_t(i * D + j)];
        }
    return c;
}

void add_diagonal(std::vector<double>& c, int64_t D, double v) {
    for (int64_t i = 0; i < D; ++i) c[size_t(i * D + i)] += v;
}

double logsumexp(const double* v, int64_t n) {
    double m = -INFINITY;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, v[i]);
    if (!std::isfinite(m)) return m;
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::exp(v[i] - m);
    return m + std::log(s);
}

std::vector<double> class_log_priors(const Tensor& y, int64_t classes) {
    std::vector<double> counts(size_t(classes), 0.0);
    for (int64_t i = 0; i < y.size(0); ++i) {
        const int32_t c = y.data<int32_t>()[i];
        BENCHTOP_CHECK(c >= 0 && c < classes, "generative: label ", c, " outside [0, ", classes, ")");
        counts[size_t(c)] += 1;
    }
    for (int64_t c = 0; c < classes; ++c)
        BENCHTOP_CHECK(counts[size_t(c)] > 0, "generative: class ", c, " has no training examples");
    for (double& v : counts) v = std::log(v / double(y.size(0)));
    return counts;
}

// Classifiers made of one density per class: log p(x | c) + log p(c).
class PerClass : public GenerativeClassifier {
public:
    std::vector<double> log_joint(const Tensor& x) const override {
        const int64_t M = x.size(0), D = x.size(1);
        std::vector<double> out(size_t(M * classes_));
        std::vector<double> row(static_cast<size_t>(D));
        for (int64_t i = 0; i < M; ++i) {
            for (int64_t d = 0; d < D; ++d) row[size_t(d)] = double(x.data<float>()[i * D + d]);
            for (int64_t c = 0; c < classes_; ++c)
                out[size_t(i * classes_ + c)] = class_log_density(c, row.data()) + log_prior_[size_t(c)];
        }
        return out;
    }

protected:
    virtual double class_log_density(int64_t c, const double* x) const = 0;
    std::vector<double> log_prior_;
};

class Lda final : public PerClass {
public:
    std::string name() const override { return "lda"; }
    void fit(const Tensor& x, const Tensor& y, int64_t classes, uint64_t) override {
        classes_ = classes;
        log_prior_ = class_log_priors(y, classes);
        const int64_t D = x.size(1);
        std::vector<double> shared(size_t(D * D), 0.0);
        means_.clear();
        for (int64_t c = 0; c < classes; ++c) {
            const Rows rows = class_rows(x, y, int32_t(c));
            means_.push_back(mean_of(rows, D));
            const std::vector<double> s = ledoit_wolf(rows, means_.back(), D);
            const double w = std::exp(log_prior_[size_t(c)]);
            for (size_t i = 0; i < shared.size(); ++i) shared[i] += w * s[i];
        }
        add_diagonal(shared, D, 1e-9);
        for (int64_t c = 0; c < classes; ++c) gauss_.push_back(Gaussian::from(means_[size_t(c)], shared, D));
    }

private:
    // The Ledoit-Wolf shrunk covariance of standardised features, scaled back.
    static std::vector<double> ledoit_wolf(const Rows& rows, const std::vector<double>& mean, int64_t D) {
        const double n = double(rows.size());
        std::vector<double> sd(size_t(D), 0.0);
        for (const auto& r : rows)
            for (int64_t d = 0; d < D; ++d) sd[size_t(d)] += std::pow(r[size_t(d)] - mean[size_t(d)], 2);
        for (double& v : sd) v = v > 0 ? std::sqrt(v / n) : 1.0;
        Rows z;
        for (const auto& r : rows) {
            std::vector<double> v(static_cast<size_t>(D));
            for (int64_t d = 0; d < D; ++d) v[size_t(d)] = (r[size_t(d)] - mean[size_t(d)]) / sd[size_t(d)];
            z.push_back(std::move(v));
        }
        const std::vector<double> zero(size_t(D), 0.0);
        std::vector<double> emp = covariance_of(z, zero, D);
        double mu = 0;
        for (int64_t d = 0; d < D; ++d) mu += emp[size_t(d * D + d)];
        mu /= double(D);
        // delta: squared distance of the covariance to mu I; beta: the variance of its estimate.
        double delta = 0;
        for (int64_t i = 0; i < D; ++i)
            for (int64_t j = 0; j < D; ++j) delta += std::pow(emp[size_t(i * D + j)] - (i == j ? mu : 0.0), 2);
        delta /= double(D);
        double beta = 0;
        for (const auto& r : z)
            for (int64_t i = 0; i < D; ++i)
                for (int64_t j = 0; j < D; ++j)
                    beta += std::pow(r[size_t(i)] * r[size_t(j)] - emp[size_t(i * D + j)], 2);
        beta /= double(D) * n * n;
        beta = std::min(beta, delta);
        const double shrink = delta > 0 ? beta / delta : 0.0;
        for (int64_t i = 0; i < D; ++i)
            for (int64_t j = 0; j < D; ++j) {
                double v = (1 - shrink) * emp[size_t(i * D + j)] + (i == j ? shrink * mu : 0.0);
                emp[size_t(i * D + j)] = v * sd[size_t(i)] * sd[size_t(j)];
            }
        return emp;
    }
    double class_log_density(int64_t c, const double* x) const override { return gauss_[size_t(c)].log_density(x); }

    std::vector<std::vector<double>> means_;
    std::vector<Gaussian> gauss_;
};

class NaiveBayes final : public PerClass {
public:
    std::string name() const override { return "naive_bayes"; }
    void fit(const Tensor& x, const Tensor& y, int64_t classes, uint64_t) override {
        classes_ = classes;
        log_prior_ = class_log_priors(y, classes);
        const int64_t D = x.size(1);
        D_ = D;
        // Floor: 1e-9 of the largest variance of a feature over all the data.
        Rows all;
        for (int64_t i = 0; i < x.size(0); ++i) all.emplace_back(x.data<float>() + i * D, x.data<float>() + (i + 1) * D);
        const std::vector<double> m_all = mean_of(all, D);
        double max_var = 0;
        for (int64_t d = 0; d < D; ++d) {
            double v = 0;
            for (const auto& r : all) v += std::pow(r[size_t(d)] - m_all[size_t(d)], 2);
            max_var = std::max(max_var, v / double(all.size()));
        }
        mean_.clear();
        var_.clear();
        for (int64_t c = 0; c < classes; ++c) {
            const Rows rows = class_rows(x, y, int32_t(c));
            const std::vector<double> m = mean_of(rows, D);
            std::vector<double> v(size_t(D), 0.0);
            for (const auto& r : rows)
                for (int64_t d = 0; d < D; ++d) v[size_t(d)] += std::pow(r[size_t(d)] - m[size_t(d)], 2);
            for (double& vv : v) vv = vv / double(rows.size()) + 1e-9 * max_var;
            mean_.push_back(m);
            var_.push_back(v);
        }
    }

private:
    double class_log_density(int64_t c, const double* x) const override {
        double s = 0;
        for (int64_t d = 0; d < D_; ++d) {
            const double v = var_[size_t(c)][size_t(d)];
            s -= 0.5 * (kLog2Pi + std::log(v) + std::pow(x[d] - mean_[size_t(c)][size_t(d)], 2) / v);
        }
        return s;
    }
    int64_t D_ = 0;
    std::vector<std::vector<double>> mean_, var_;
};

class Ppca final : public PerClass {
public:
    explicit Ppca(int64_t k) : k_(k) {}
    std::string name() const override { return "ppca"; }
    void fit(const Tensor& x, const Tensor& y, int64_t classes, uint64_t) override {
        classes_ = classes;
        log_prior_ = class_log_priors(y, classes);
        const int64_t D = x.size(1);
        BENCHTOP_CHECK(k_ >= 1 && k_ < D, "ppca: components must be in [1, ", D - 1, "], got ", k_);
        gauss_.clear();
        for (int64_t c = 0; c < classes; ++c) {
            const Rows rows = class_rows(x, y, int32_t(c));
            const std::vector<double> m = mean_of(rows, D);
            std::vector<double> values, vectors;
            symmetric_eigen(covariance_of(rows, m, D), D, values, vectors);
            // Ascending: the top k are the last k. s^2 = mean of the discarded eigenvalues.
            double s2 = 0;
            for (int64_t i = 0; i < D - k_; ++i) s2 += values[size_t(i)];
            s2 = std::max(s2 / double(D - k_), 0.0) + kRegularisation;
            std::vector<double> cov(size_t(D * D), 0.0);
            for (int64_t e = D - k_; e < D; ++e) {
                const double w = std::max(values[size_t(e)] + kRegularisation - s2, 0.0);
                for (int64_t i = 0; i < D; ++i)
                    for (int64_t j = 0; j < D; ++j)
                        cov[size_t(i * D + j)] += w * vectors[size_t(i * D + e)] * vectors[size_t(j * D + e)];
            }
            add_diagonal(cov, D, s2);
            gauss_.push_back(Gaussian::from(m, cov, D));
        }
    }

private:
    double class_log_density(int64_t c, const double* x) const override { return gauss_[size_t(c)].log_density(x); }
    int64_t k_;
    std::vector<Gaussian> gauss_;
};

class Gmm final : public PerClass {
public:
    Gmm(int64_t m, int64_t iterations) : m_(m), iterations_(iterations) {}
    std::string name() const override { return "gmm"; }
    void fit(const Tensor& x, const Tensor& y, int64_t classes, uint64_t seed) override {
        BENCHTOP_CHECK(m_ >= 1, "gmm: components must be at least 1");
        classes_ = classes;
        log_prior_ = class_log_priors(y, classes);
        const int64_t D = x.size(1);
        mixtures_.clear();
        for (int64_t c = 0; c < classes; ++c) {
            const Rows rows = class_rows(x, y, int32_t(c));
            // At least ten examples per component.
            const int64_t m = std::clamp<int64_t>(int64_t(rows.size()) / 10, 1, m_);
            mixtures_.push_back(fit_mixture(rows, D, m, Rng(stream_key(seed, uint64_t(c), Purpose::Other))));
        }
    }

private:
    struct Mixture {
        std::vector<double> log_weight;
        std::vector<Gaussian> parts;
    };
    Mixture fit_mixture(const Rows& rows, int64_t D, int64_t m, Rng rng) const {
        const int64_t n = int64_t(rows.size());
        // k-means++ seeding of the means.
        std::vector<std::vector<double>> means = {rows[size_t(rng.below(uint64_t(n)))]};
        std::vector<double> d2(static_cast<size_t>(n));
        while (int64_t(means.size()) < m) {
            double total = 0;
            for (int64_t i = 0; i < n; ++i) {
                double best = INFINITY;
                for (const auto& mu : means) {
                    double s = 0;
                    for (int64_t d = 0; d < D; ++d) s += std::pow(rows[size_t(i)][size_t(d)] - mu[size_t(d)], 2);
                    best = std::min(best, s);
                }
                d2[size_t(i)] = best;
                total += best;
            }
            double u = rng.uniform() * total;
            int64_t pick = n - 1;
            for (int64_t i = 0; i < n; ++i) {
                if (u < d2[size_t(i)]) {
                    pick = i;
                    break;
                }
                u -= d2[size_t(i)];
            }
            means.push_back(rows[size_t(pick)]);
        }
        // Start: the class covariance for every component, equal weights.
        const std::vector<double> mean_all = mean_of(rows, D);
        std::vector<double> cov = covariance_of(rows, mean_all, D);
        add_diagonal(cov, D, kRegularisation);
        Mixture mix;
        for (int64_t j = 0; j < m; ++j) {
            mix.log_weight.push_back(-std::log(double(m)));
            mix.parts.push_back(Gaussian::from(means[size_t(j)], cov, D));
        }
        std::vector<double> resp(size_t(n * m));
        double previous = -INFINITY;
        for (int64_t it = 0; it < iterations_ && m > 1; ++it) {
            double ll = 0;
            for (int64_t i = 0; i < n; ++i) {
                double* r = resp.data() + i * m;
                for (int64_t j = 0; j < m; ++j) r[j] = mix.log_weight[size_t(j)] + mix.parts[size_t(j)].log_density(rows[size_t(i)].data());
                const double z = logsumexp(r, m);
                ll += z;
                for (int64_t j = 0; j < m; ++j) r[j] = std::exp(r[j] - z);
            }
            for (int64_t j = 0; j < m; ++j) {
                double nj = 0;
                std::vector<double> mu(size_t(D), 0.0), c(size_t(D * D), 0.0);
                for (int64_t i = 0; i < n; ++i) {
                    const double w = resp[size_t(i * m + j)];
                    nj += w;
                    for (int64_t d = 0; d < D; ++d) mu[size_t(d)] += w * rows[size_t(i)][size_t(d)];
                }
                nj = std::max(nj, 1e-12);
                for (double& v : mu) v /= nj;
                for (int64_t i = 0; i < n; ++i) {
                    const double w = resp[size_t(i * m + j)];
                    for (int64_t a = 0; a < D; ++a) {
                        const double da = rows[size_t(i)][size_t(a)] - mu[size_t(a)];
                        for (int64_t b = 0; b <= a; ++b) c[size_t(a * D + b)] += w * da * (rows[size_t(i)][size_t(b)] - mu[size_t(b)]);
                    }
                }
                for (int64_t a = 0; a < D; ++a)
                    for (int64_t b = 0; b <= a; ++b) c[size_t(b * D + a)] = c[size_t(a * D + b)] = c[size_t(a * D + b)] / nj;
                add_diagonal(c, D, kRegularisation);
                mix.log_weight[size_t(j)] = std::log(nj / double(n));
                mix.parts[size_t(j)] = Gaussian::from(mu, c, D);
            }
            if (std::abs(ll - previous) < 1e-6 * std::abs(ll)) break;
            previous = ll;
        }
        return mix;
    }
    double class_log_density(int64_t c, const double* x) const override {
        const Mixture& mix = mixtures_[size_t(c)];
        std::vector<double> v;
        for (size_t j = 0; j < mix.parts.size(); ++j) v.push_back(mix.log_weight[j] + mix.parts[j].log_density(x));
        return logsumexp(v.data(), int64_t(v.size()));
    }
    int64_t m_, iterations_;
    std::vector<Mixture> mixtures_;
};

}  // namespace

void symmetric_eigen(const std::vector<double>& a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors) {
    BENCHTOP_CHECK(int64_t(a.size()) == n * n, "symmetric_eigen: ", a.size(), " entries for ", n, " x ", n);
    std::vector<double> m = a;
    vectors.assign(size_t(n * n), 0.0);
    for (int64_t i = 0; i < n; ++i) vectors[size_t(i * n + i)] = 1.0;
    auto at = [&](int64_t i, int64_t j) -> double& { return m[size_t(i * n + j)]; };
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0, diag = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j) (i == j ? diag : off) += at(i, j) * at(i, j);
        if (off <= 1e-30 * std::max(diag, 1e-300)) break;
        for (int64_t p = 0; p < n - 1; ++p)
            for (int64_t q = p + 1; q < n; ++q) {
                const double apq = at(p, q);
                if (apq == 0) continue;
                // The rotation that zeroes (p, q) (Golub & Van Loan, algorithm 8.4.1).
                const double theta = (at(q, q) - at(p, p)) / (2 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int64_t k = 0; k < n; ++k) {
                    const double mkp = at(k, p), mkq = at(k, q);
                    at(k, p) = c * mkp - s * mkq;
                    at(k, q) = s * mkp + c * mkq;
                }
                for (int64_t k = 0; k < n; ++k) {
                    const double mpk = at(p, k), mqk = at(q, k);
                    at(p, k) = c * mpk - s * mqk;
                    at(q, k) = s * mpk + c * mqk;
                }
                for (int64_t k = 0; k < n; ++k) {
                    double& vkp = vectors[size_t(k * n + p)];
                    double& vkq = vectors[size_t(k * n + q)];
                    const double a1 = vkp, a2 = vkq;
                    vkp = c * a1 - s * a2;
                    vkq = s * a1 + c * a2;
                }
            }
    }
    // Sort ascending, permuting the eigenvector columns with the values.
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return at(x, x) < at(y, y); });
    values.resize(size_t(n));
    std::vector<double> sorted(size_t(n * n));
    for (int64_t j = 0; j < n; ++j) {
        values[size_t(j)] = at(order[size_t(j)], order[size_t(j)]);
        for (int64_t i = 0; i < n; ++i) sorted[size_t(i * n + j)] = vectors[size_t(i * n + order[size_t(j)])];
    }
    vectors = std::move(sorted);
}

std::vector<double> cholesky(const std::vector<double>& a, int64_t n) {
    std::vector<double> l(size_t(n * n), 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j <= i; ++j) {
            double s = a[size_t(i * n + j)];
            for (int64_t k = 0; k < j; ++k) s -= l[size_t(i * n + k)] * l[size_t(j * n + k)];
            if (i == j) {
                if (!(s > 0)) fail("cholesky: the matrix is not positive definite (pivot ", s, " at ", i, ")");
                l[size_t(i * n + i)] = std::sqrt(s);
            } else {
                l[size_t(i * n + j)] = s / l[size_t(j * n + j)];
            }
        }
    return l;
}

Gaussian Gaussian::from(std::vector<double> mean, const std::vector<double>& covariance, int64_t dim) {
    Gaussian g;
    g.dim = dim;
    g.mean = std::move(mean);
    g.chol = cholesky(covariance, dim);
    for (int64_t i = 0; i < dim; ++i) g.log_det += 2 * std::log(g.chol[size_t(i * dim + i)]);
    return g;
}

double Gaussian::log_density(const double* x) const {
    // Solve L z = x - mean; log N = -(|z|^2 + log|S| + D log 2 pi) / 2.
    std::vector<double> z(static_cast<size_t>(dim));
    double q = 0;
    for (int64_t i = 0; i < dim; ++i) {
        double s = x[i] - mean[size_t(i)];
        for (int64_t k = 0; k < i; ++k) s -= chol[size_t(i * dim + k)] * z[size_t(k)];
        z[size_t(i)] = s / chol[size_t(i * dim + i)];
        q += z[size_t(i)] * z[size_t(i)];
    }
    return -0.5 * (q + log_det + double(dim) * kLog2Pi);
}

std::unique_ptr<GenerativeClassifier> make_generative(const std::string& name, const GenerativeOptions& o) {
    if (name == "lda") return std::make_unique<Lda>();
    if (name == "naive_bayes") return std::make_unique<NaiveBayes>();
    if (name == "ppca") return std::make_unique<Ppca>(o.components);
    if (name == "gmm") return std::make_unique<Gmm>(o.components, o.em_iterations);
    fail("unknown generative classifier '", name, "'; known: lda, naive_bayes, ppca, gmm");
}

double joint_accuracy(const std::vector<double>& lj, const Tensor& y, int64_t classes) {
    const int64_t M = y.size(0);
    BENCHTOP_CHECK(int64_t(lj.size()) == M * classes, "joint_accuracy: ", lj.size(), " values for ", M, " x ", classes);
    int64_t ok = 0;
    for (int64_t i = 0; i < M; ++i) {
        const double* r = lj.data() + i * classes;
        ok += (std::max_element(r, r + classes) - r) == y.data<int32_t>()[i] ? 1 : 0;
    }
    return double(ok) / double(M);
}

double mean_max_probability(const std::vector<double>& lj, int64_t classes) {
    const int64_t M = int64_t(lj.size()) / classes;
    double s = 0;
    for (int64_t i = 0; i < M; ++i) {
        const double* r = lj.data() + i * classes;
        s += std::exp(*std::max_element(r, r + classes) - logsumexp(r, classes));
    }
    return s / double(M);
}

}  // namespace benchtop
