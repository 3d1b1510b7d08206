// The curvature of a loss at a point, for every member of a stack at once: Hessian-vector
// products by central differences of gradients, the largest Hessian eigenvalue ("sharpness";
// Keskar et al., "On large-batch training for deep learning: generalization gap and sharp
// minima", ICLR 2017) by power iteration on them, and the gradient-variance term of SGD's
// implicit regulariser (Prince, Understanding Deep Learning, 2023, section 9.2, after Smith,
// Dherin, Barrett & De, "On the origin of implicit regularization in stochastic gradient
// descent", ICLR 2021).
//
// For ReLU networks difference the gradients of the network with its activation pattern frozen
// at the point (nn/deep_mlp.h, deep_mlp_forward_masked): the network's own gradients jump where
// a unit crosses its kink, and those jumps divided by 2 eps swamp the curvature (tested: Hv
// moves by 27x its size between eps 1e-2 and 1e-5, against 4e-6 with the pattern frozen).
//
// A gradient oracle fills the ParamSet's gradients with d loss_k / d theta_k for every member k
// and returns the K losses; members are independent, so one backward pass of the summed losses
// does. A direction is a list of tensors shaped like ps.entries() ([K, ...] each).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "benchtop/nn/params.h"

namespace benchtop {

using GradientOracle = std::function<std::vector<double>(ParamSet&)>;
using Direction = std::vector<Tensor>;

// H_k v_k ~ (g_k(theta + eps v) - g_k(theta - eps v)) / (2 eps) for every member; ps's values
// are restored exactly (saved and copied back) and its gradients are left holding g(theta - eps v).
Direction hessian_vector_product(ParamSet& ps, const GradientOracle& grad, const Direction& v, double eps);

struct SharpnessOptions {
    int iterations = 20;
    double eps = 1e-4;     // step of the central difference along a unit vector
    uint64_t seed = 0;     // start vector: Gaussian, Rng(stream_key(seed, k, Purpose::Other)) for member k
    // Power iteration finds the eigenvalue of largest magnitude. Away from a minimum that can be
    // negative; then a second run on H - lambda I (all eigenvalues >= 0) finds the largest one.
    bool largest_algebraic = true;
};

struct SharpnessResult {
    std::vector<double> eigenvalue;   // per member: v^T H v of the final unit vector
    std::vector<double> last_change;  // per member: |change of the estimate| / |estimate| in the last step
};

// Power iteration on H_k for every member: the largest eigenvalue (see largest_algebraic).
// ps's values are unchanged.
SharpnessResult top_hessian_eigenvalue(ParamSet& ps, const GradientOracle& grad, const SharpnessOptions& options);

// Per member, the dot product of two directions and the squared norm of one.
std::vector<double> member_dot(const Direction& a, const Direction& b);

// A ParamSet with ps's names and values converted to `dtype` (gradients zero).
ParamSet convert_params(const ParamSet& ps, DType dtype);

}  // namespace benchtop
