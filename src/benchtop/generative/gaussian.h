// Generative classifiers: a density model per class, and the class whose model (times its prior)
// gives the input the highest likelihood wins. Fitted in float64, in closed form or by EM, in
// seconds on MNIST-1D. Small dense linear algebra (symmetric eigendecomposition by cyclic
// Jacobi rotations, Cholesky) is written out here, so results are the same bits on every CPU.
//
//   std::unique_ptr<GenerativeClassifier> m = make_generative("ppca", {.components = 5});
//   m->fit(x_train, y_train, 10, seed);            // x [N, D] float32, y [N] int32
//   std::vector<double> ll = m->log_joint(x_test); // [M * C]: log p(x | c) + log p(c)
//
// The models (Hastie, Tibshirani & Friedman, Elements of Statistical Learning, ch. 4 and 6;
// Tipping & Bishop 1999 for probabilistic PCA; Ledoit & Wolf 2004 for the shrinkage):
// - lda: one covariance shared by the classes, shrunk towards a multiple of the identity by the
//   Ledoit-Wolf coefficient (scikit-learn's LinearDiscriminantAnalysis(solver="lsqr",
//   shrinkage="auto")).
// - naive_bayes: independent Gaussian features per class, variances floored at 1e-9 times the
//   largest feature variance (as scikit-learn's GaussianNB).
// - ppca: per class, a Gaussian with covariance W W^T + s^2 I of rank `components`, the maximum-
//   likelihood solution from the class covariance's eigendecomposition.
// - gmm: per class, a mixture of `components` full-covariance Gaussians (EM from k-means++-seeded
//   means, covariances regularised by 1e-3 I).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchtop/tensor/tensor.h"

namespace benchtop {

// Symmetric eigendecomposition of the n x n row-major matrix a: eigenvalues ascending, and the
// eigenvectors as the columns of `vectors` (row-major n x n).
void symmetric_eigen(const std::vector<double>& a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors);
// Lower Cholesky factor of a symmetric positive-definite matrix (row-major); throws Error when the
// matrix is not positive definite.
std::vector<double> cholesky(const std::vector<double>& a, int64_t n);

// A multivariate Gaussian, prepared for log densities: mean and the Cholesky factor of the covariance.
struct Gaussian {
    std::vector<double> mean, chol;
    double log_det = 0;  // log |covariance|
    int64_t dim = 0;
    static Gaussian from(std::vector<double> mean, const std::vector<double>& covariance, int64_t dim);
    double log_density(const double* x) const;
};

struct GenerativeOptions {
    int64_t components = 5;       // ppca: rank; gmm: mixture components
    int64_t em_iterations = 100;  // gmm
};

class GenerativeClassifier {
public:
    virtual ~GenerativeClassifier() = default;
    virtual std::string name() const = 0;
    // x [N, D] float32, y [N] int32 in [0, classes); every class must have examples.
    virtual void fit(const Tensor& x, const Tensor& y, int64_t classes, uint64_t seed) = 0;
    // log p(x | c) + log p(c) for every row of x [M, D] and class: [M * classes].
    virtual std::vector<double> log_joint(const Tensor& x) const = 0;
    int64_t classes() const { return classes_; }

protected:
    int64_t classes_ = 0;
};

// "lda", "naive_bayes", "ppca" or "gmm"; anything else is an Error naming them.
std::unique_ptr<GenerativeClassifier> make_generative(const std::string& name, const GenerativeOptions& options);

// Accuracy of the argmax of log_joint [M * C] against y [M].
double joint_accuracy(const std::vector<double>& log_joint, const Tensor& y, int64_t classes);
// The mean over rows of the largest posterior probability (softmax of each row of log_joint).
double mean_max_probability(const std::vector<double>& log_joint, int64_t classes);

}  // namespace benchtop
