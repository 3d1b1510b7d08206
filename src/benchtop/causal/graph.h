// Causal graphs, structural causal models and the metrics of causal discovery.
//
// A graph on d variables is a d x d matrix G (row-major, double): G(i, j) != 0 means an edge
// i -> j. A CPDAG (the Markov equivalence class of a DAG, what conditional-independence tests can
// identify) marks an undirected edge i - j by G(i, j) != 0 and G(j, i) != 0.
//
//   Rng rng(stream_key(seed, 0, Purpose::Data));
//   Dag g = random_dag(GraphKind::ErdosRenyi, /*d=*/20, /*k=*/2, rng);   // ~ k d edges
//   Matrix w = random_weights(g, rng);                                   // U(+-[0.5, 2])
//   Matrix x = sample_linear(w, {.n = 1000, .noise = Noise::Gaussian}, rng);
//   Scores s = score_dag(w_hat, w);   // SHD, TPR, FDR
//   double v = varsortability(x, w);  // Reisach, Seiler & Weichwald, NeurIPS 2021
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"

namespace benchtop::causal {

// A dense row-major matrix of doubles.
struct Matrix {
    int64_t rows = 0, cols = 0;
    std::vector<double> v;
    Matrix() = default;
    Matrix(int64_t r, int64_t c, double fill = 0.0) : rows(r), cols(c), v(static_cast<size_t>(r * c), fill) {}
    double& operator()(int64_t i, int64_t j) { return v[size_t(i * cols + j)]; }
    double operator()(int64_t i, int64_t j) const { return v[size_t(i * cols + j)]; }
};

enum class GraphKind { ErdosRenyi, ScaleFree };
GraphKind graph_kind_from_string(const std::string& s);  // "er" or "sf"

// A random DAG with about k * d edges, its nodes in random order (so the index order says
// nothing): Erdos-Renyi (each pair of a random order joined with probability 2k / (d - 1)) or
// scale-free (Barabasi-Albert: each new node sends k edges to earlier nodes chosen in
// proportion to their degree). Entries 0 or 1.
Matrix random_dag(GraphKind kind, int64_t d, double k, Rng& rng);
// Edge weights uniform in [-2, -0.5] U [0.5, 2] on the edges of g.
Matrix random_weights(const Matrix& g, Rng& rng);
bool is_dag(const Matrix& g);
// A topological order of a DAG (throws if it has a cycle).
std::vector<int64_t> topological_order(const Matrix& g);

enum class Noise { Gaussian, Exponential, Gumbel, Uniform };
Noise noise_from_string(const std::string& s);

// do(X_j = value) (hard) or, when soft, X_j's noise shifted by `value`.
struct Intervention {
    int64_t node = 0;
    double value = 0;
    bool soft = false;
};

struct SampleOptions {
    int64_t n = 1000;
    Noise noise = Noise::Gaussian;
    double noise_scale = 1.0;  // standard deviation of every noise term
    std::vector<Intervention> interventions;
};
// n samples [n, d] of the linear SEM X = X W + N.
Matrix sample_linear(const Matrix& w, const SampleOptions& o, Rng& rng);
// The nonlinear SEM X_j = MLP_j(parents of j) + N_j: one hidden layer of `hidden` sigmoid units,
// weights U(+-[0.5, 2]) (drawn from rng once per call), as in Zheng et al. 2020.
Matrix sample_mlp(const Matrix& g, const SampleOptions& o, Rng& rng, int64_t hidden = 100);

// Columns scaled to zero mean and unit variance.
Matrix standardize(const Matrix& x);
std::vector<double> column_variances(const Matrix& x);

// Scores of an estimate against the true DAG. For a DAG estimate: SHD = missing + extra +
// reversed edges, each pair once; TPR = right edges / true edges; FDR = (reversed + extra) /
// predicted edges. An undirected edge of a CPDAG estimate counts as right when the truth has the
// edge either way.
struct Scores {
    double shd = 0, tpr = 0, fdr = 0;
    int64_t predicted = 0;
};
Scores score_dag(const Matrix& estimate, const Matrix& truth);
// The CPDAG of a DAG: its skeleton with only the compelled edges directed (v-structures, then
// Meek's rules).
Matrix cpdag_of(const Matrix& dag);
// SHD between two CPDAGs: pairs whose marks differ (missing, extra, or another orientation).
double shd_cpdag(const Matrix& a, const Matrix& b);
// Meek's orientation rules R1-R3 applied to a partially directed graph until nothing changes
// (R4 is never needed when the only other orientations are v-structures; Meek 1995).
void apply_meek_rules(Matrix& g);

// Varsortability (Reisach et al. 2021): over all directed paths of the true graph (of every
// length, counted with multiplicity), the fraction along which the marginal variance increases
// (ties count one half). 1: sorting by variance recovers the causal order.
double varsortability(const Matrix& x, const Matrix& truth);

}  // namespace benchtop::causal
