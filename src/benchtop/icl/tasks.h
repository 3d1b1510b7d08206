// In-context regression tasks and the exact baselines a trained model is compared with
// (Garg, Tsipras, Liang & Valiant, "What can transformers learn in-context? A case study of
// simple function classes", NeurIPS 2022; von Oswald et al., "Transformers learn in-context by
// gradient descent", ICML 2023).
//
// A prompt is n + 1 points (x_i, f(x_i)) of one function f drawn from a class; the model sees
// the first k pairs and x_k and predicts f(x_k). x ~ N(0, I_d). Classes:
//   linear   f(x) = w.x,  w ~ N(0, I_d)
//   sparse   the same with all but `sparsity` random coordinates of w zeroed
//   relu     f(x) = sum_j a_j relu(u_j.x), u_j ~ N(0, I_d), a_j ~ N(0, 2 / hidden)
//
//   Rng rng(stream_key(seed, 0, Purpose::Data));
//   Prompts p = sample_prompts({.function = FunctionClass::Linear, .d = 10, .n = 10}, 4096, rng);
//   double eta = best_gd_step_size(p, 10, 1);          // one GD step from w = 0, the best eta
//   std::vector<double> yhat = gd_predict(p, 10, 1, eta);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchtop/core/rng.h"

namespace benchtop::icl {

enum class FunctionClass { Linear, Sparse, Relu };
FunctionClass function_class_from_string(const std::string& s);  // "linear", "sparse", "relu"
std::string to_string(FunctionClass f);

struct TaskOptions {
    FunctionClass function = FunctionClass::Linear;
    int64_t d = 10;             // input dimension
    int64_t n = 10;             // in-context examples before the query (points per prompt: n + 1)
    int64_t sparsity = 3;       // non-zero coordinates of w (sparse)
    int64_t relu_hidden = 100;  // hidden units of the random network (relu)
};

// B prompts of n + 1 points each, row-major: x[(b * (n + 1) + i) * d + j], y[b * (n + 1) + i].
struct Prompts {
    int64_t batch = 0, n = 0, d = 0;
    std::vector<double> x, y;
    const double* xi(int64_t b, int64_t i) const { return x.data() + (b * (n + 1) + i) * d; }
    double yi(int64_t b, int64_t i) const { return y[size_t(b * (n + 1) + i)]; }
};

Prompts sample_prompts(const TaskOptions& o, int64_t batch, Rng& rng);

// Predictions of f(x_k) for every prompt, from the first k pairs (0 <= k <= n):
// - gradient descent on (1 / 2k) sum_i (w.x_i - y_i)^2 from w = 0, `steps` steps of size eta
//   (k = 0 or steps = 0: 0);
std::vector<double> gd_predict(const Prompts& p, int64_t k, int64_t steps, double eta);
// - least squares, the minimum-norm solution when k < d;
std::vector<double> least_squares_predict(const Prompts& p, int64_t k);
// - the mean of the nearest `neighbours` x_i's values (all of them when k < neighbours; 0 when k = 0).
std::vector<double> knn_predict(const Prompts& p, int64_t k, int64_t neighbours = 3);

// Mean squared error of predictions of f(x_k) over the prompts.
double mse_at(const Prompts& p, int64_t k, const std::vector<double>& pred);
// The step size eta that minimises gd_predict's error at k over these prompts. One step: the
// exact minimiser (the prediction is linear in eta). More: a log-spaced grid over
// [1e-3, 4] refined by golden-section search in the best cell.
double best_gd_step_size(const Prompts& p, int64_t k, int64_t steps);
// Pearson correlation of two prediction vectors.
double correlation(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace benchtop::icl
