// Causal discovery from observational data x [n, d] (rows are samples).
//
// NOTEARS (Zheng, Aragam, Ravikumar & Xing, "DAGs with NO TEARS", NeurIPS 2018): the linear SEM
// fitted by least squares with an L1 penalty, subject to acyclicity written as the smooth
// equality h(W) = tr(exp(W o W)) - d = 0, solved by the augmented Lagrangian; each inner
// problem by OWL-QN (L-BFGS for an L1-penalised objective; liblbfgs), the matrix exponential by
// Eigen. Weights under `threshold` are cut at the end.
//
// PC (Spirtes & Glymour 1991; the order-independent "stable" variant of Colombo & Maathuis,
// JMLR 2014): remove the edge i - j as soon as a Fisher-z test of the partial correlation given
// some set S of neighbours accepts independence at level alpha; orient v-structures i -> k <- j
// for k outside the separating set; then Meek's rules. Returns a CPDAG.
//
// sortnregress (Reisach, Seiler & Weichwald, "Beware of the simulated DAG!", NeurIPS 2021): order
// the variables by marginal variance and regress each on all that come before it; a baseline
// that does well exactly when the variance order is the causal order (high varsortability).
#pragma once

#include <cstdint>

#include "benchtop/causal/graph.h"

namespace benchtop::causal {

struct NotearsOptions {
    double lambda1 = 0.1;     // L1 weight
    double threshold = 0.3;   // |w| below this is no edge
    double h_tol = 1e-8;      // acyclicity reached
    double rho_max = 1e16;
    int max_outer = 100;
    int max_inner = 0;        // L-BFGS iterations per inner problem (0: until converged)
};
struct NotearsResult {
    Matrix w;              // thresholded weights (a DAG unless h never reached h_tol)
    double h = 0;          // h(W) before thresholding
    int outer = 0;         // augmented-Lagrangian iterations
    int64_t evaluations = 0;
};
NotearsResult notears_linear(const Matrix& x, const NotearsOptions& options = {});
// h(W) = tr(exp(W o W)) - d and its gradient exp(W o W)^T o 2W (for tests).
double notears_h(const Matrix& w, Matrix* grad = nullptr);

struct PcOptions {
    double alpha = 0.01;
    int max_condition = -1;  // largest conditioning set (-1: no limit)
};
struct PcResult {
    Matrix cpdag;
    int64_t tests = 0;  // conditional-independence tests made
};
PcResult pc(const Matrix& x, const PcOptions& options = {});
// The p-value of the Fisher-z test of X_i independent of X_j given X_S, from the correlation
// matrix of n samples.
double fisher_z_pvalue(const Matrix& corr, int64_t n, int64_t i, int64_t j, const std::vector<int64_t>& s);
Matrix correlation(const Matrix& x);

// Ordinary least squares of each variable on those of lower variance; coefficients under
// `threshold` are cut.
Matrix sortnregress(const Matrix& x, double threshold = 0.3);

}  // namespace benchtop::causal
