// Invariant learning under distribution shift: Colored MNIST-1D and the methods that try to
// ignore the colour (Arjovsky, Bottou, Gulrajani & Lopez-Paz, "Invariant risk minimization",
// 2019; Krueger et al., "Out-of-distribution generalization via risk extrapolation (REx)",
// ICML 2021).
//
// The data: MNIST-1D signals with a binary label (digit < 5) flipped with probability 0.25, so a
// predictor from the shape alone is right at most 75% of the time. Each signal is written into
// one of two channels (the "colour", 2 x 40 inputs), chosen by the label flipped with a
// probability that depends on the environment (0.2 and 0.1 in training, 0.9 in the test): in
// training the colour predicts the label better than the shape, in the test it points the
// wrong way. Grayscale data (the oracle) writes the signal into both channels.
//
// The model: a stack of MLPs (ReLU, `layers` hidden layers of `hidden` units, one logit), full
// batch, Adam, on the mean over environments of
//   ERM:    R_e = mean binary cross-entropy;
//   IRMv1:  R_e + lambda (d R_e(w f) / dw at w = 1)^2  = R_e + lambda mean((sigmoid(f) - y) f)^2;
//   V-REx:  R_e + lambda Var_e(R_e);
// plus l2 * |theta|^2. lambda is 1 for the first anneal_steps steps, then penalty_weight, and the
// loss is divided by lambda when lambda > 1 (as in the IRM reference code).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"

namespace benchtop::causal {

struct Environment {
    Tensor x;  // [N, 80] float32: the signal in channel 0 or 1 (or both: grayscale)
    Tensor y;  // [N] float32, 0 or 1
    double colour_flip = 0;
};

struct ColouredOptions {
    double label_noise = 0.25;
    std::vector<double> train_flips = {0.2, 0.1};  // one environment each, equal shares of the rows
    double test_flip = 0.9;
    bool grayscale = false;
    uint64_t seed = 0;  // of the label noise and the colours
};
// x_train [N, 40], digits_train [N] int32 -> the training environments; the test environment
// from the test rows.
std::vector<Environment> coloured_environments(const Tensor& x_train, const Tensor& digits_train, const Tensor& x_test,
                                               const Tensor& digits_test, const ColouredOptions& options);

enum class InvarianceMethod { Erm, Irm, Vrex };
InvarianceMethod invariance_method_from_string(const std::string& s);  // erm, irm, vrex

struct InvarianceOptions {
    InvarianceMethod method = InvarianceMethod::Irm;
    int64_t hidden = 256;
    int64_t layers = 2;
    int64_t steps = 501;
    int64_t eval_every = 50;
    double lr = 1e-3;
    double l2 = 1e-3;
    double penalty_weight = 1e4;
    int64_t anneal_steps = 100;
    std::vector<uint64_t> seeds;  // one per member (initialisation)
};

struct InvarianceCurve {
    std::vector<int64_t> steps;
    std::vector<double> train_acc, test_acc, train_risk, penalty;
};
// The last environment is the test one; the others train. One curve per member.
std::vector<InvarianceCurve> train_invariant(const std::vector<Environment>& envs, const InvarianceOptions& options);

}  // namespace benchtop::causal
