// Exploding and vanishing signals at initialisation (Prince, Understanding Deep Learning, 2023,
// section 7.5 and fig. 7.7; He, Zhang, Ren & Sun, "Delving deep into rectifiers", ICCV 2015).
//
// A ReLU network of `depth` hidden layers, all `width` wide, with a linear output of `outputs`
// units, biases 0 and weights drawn N(0, sigma2); `inputs` standard-normal inputs of dimension
// `width`;
// least-squares loss to target 0, L = 1/2 sum_i |f_out(x_i)|^2. Pre-activations f_l = W_l h_{l-1}
// (h_0 = x, h_l = relu(f_l)). The forward pass records the variance of f_l over units and inputs,
// the backward pass the variance of dL/df_l. Each layer multiplies both, in expectation, by
// width * sigma2 / 2 (the ReLU halves the second moment), so only He's sigma2 = 2 / width keeps
// them flat. That backward prediction assumes the loss gradient is independent of the
// activations; with target 0 it is the output itself, and with a wide output (outputs = width)
// W_out^T W_out h is close to 2 h, which the ReLU masks do not halve, so the gradients grow
// even at He's scale (by about 1.14 per layer, measured). One output, as in Prince's notebook
// 7.3, keeps the prediction. Computed in float64 (scales far from He under- or overflow float32 within 50 layers).
#pragma once

#include <cstdint>
#include <vector>

namespace benchtop {

struct SignalPropagationSpec {
    int64_t depth = 50;
    int64_t width = 100;
    int64_t inputs = 1000;
    int64_t outputs = 1;
    double sigma2 = 0.02;
    uint64_t seed = 0;   // weights: Rng(stream_key(seed, layer, Init)); inputs: (seed, 0, Data)
};

struct SignalPropagation {
    std::vector<double> forward_var;   // [depth]: variance of f_1 .. f_depth
    std::vector<double> backward_var;  // [depth]: variance of dL/df_1 .. dL/df_depth
};

SignalPropagation measure_signal_propagation(const SignalPropagationSpec& spec);

// Least-squares slope of log10(values[i]) against i (non-positive or non-finite values skipped;
// NaN when fewer than two remain).
double log10_slope(const std::vector<double>& values);

}  // namespace benchtop
