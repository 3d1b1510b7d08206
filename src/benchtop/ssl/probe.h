// Evaluating a representation: a linear probe (multinomial logistic regression on frozen
// features) and the diagnostics of collapse.
//
//   ProbeResult r = linear_probe(train_features, train_labels, test_features, test_labels, 10);
//   double erank = effective_rank(singular_values(features));            // RankMe
//   double s = normalized_std(projections);                              // 1/sqrt(D) when healthy
#pragma once

#include <cstdint>
#include <vector>

namespace benchtop::ssl {

// Row-major features: f[i * dim + j].
struct Features {
    int64_t n = 0, dim = 0;
    std::vector<float> f;
};

struct ProbeOptions {
    double l2 = 1e-3;           // lambda/2 |W|^2 (not on the bias) added to the mean cross-entropy
    int max_iterations = 100;   // L-BFGS
    // Standardise with the mean and std of these features (e.g. all unlabelled training signals)
    // instead of the labelled ones'; null: the labelled ones.
    const Features* standardize_with = nullptr;
};

struct ProbeResult {
    double train_acc = 0, test_acc = 0;
    double train_loss = 0;      // the objective at the end
};

// Logistic regression on standardised features (the training set's mean and std, or those of
// o.standardize_with; a constant feature is left at 0), fitted by L-BFGS (liblbfgs) from zero.
ProbeResult linear_probe(const Features& train, const std::vector<int32_t>& train_labels, const Features& test,
                         const std::vector<int32_t>& test_labels, int64_t classes, const ProbeOptions& o = {});

// Singular values of the n x dim matrix, descending (Eigen's BDCSVD, in double).
std::vector<double> singular_values(const Features& x);
// RankMe (Garrido et al. 2023): exp(entropy of p_i = s_i / sum s + 1e-7). 1 for a rank-one
// matrix, min(n, dim) for equal singular values; 0 for a zero matrix.
double effective_rank(const std::vector<double>& sv);
// Mean over dimensions of the standard deviation over rows of the l2-normalised rows
// (SimSiam's collapse monitor): about 1/sqrt(dim) for spread-out vectors, 0 when every row points
// the same way. Rows of norm 0 are left out.
double normalized_std(const Features& x);

}  // namespace benchtop::ssl
