// Gradient check against central finite differences, in float64.
// check_gradients(f, inputs) builds f on fresh variables, back-propagates a fixed random
// weighting of the output (a vector-Jacobian product), and compares every input's gradient
// with (L(x + eps e_i) - L(x - eps e_i)) / 2 eps where L = sum(weights * f(x)).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "benchtop/autograd/graph.h"
#include "benchtop/core/rng.h"
#include "benchtop/nn/params.h"

namespace benchtop::testing {

using GraphFn = std::function<Var(Graph&, const std::vector<Var>&)>;

// Random float64 tensor with entries uniform in [lo, hi).
inline Tensor random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Tensor t = Tensor::empty(shape, DType::F64);
    Rng rng(stream_key(seed, 0, Purpose::Other));
    for (int64_t i = 0; i < t.numel(); ++i) t.set(i, rng.uniform(lo, hi));
    return t;
}

struct GradCheckOptions {
    double eps = 1e-6;
    double atol = 1e-6;
    double rtol = 1e-5;
    std::vector<bool> check;  // which inputs to check (default: all)
};

inline double weighted_output(const GraphFn& f, const std::vector<Tensor>& inputs,
                              const Tensor& weights) {
    Graph g;
    std::vector<Var> vars;
    for (const Tensor& t : inputs) vars.push_back(g.input(t));
    Var out = f(g, vars);
    const Tensor& v = out.value();
    double s = 0;
    for (int64_t i = 0; i < v.numel(); ++i) s += v.at(i) * weights.at(i);
    return s;
}

// Returns true when every checked gradient matches; reports the first mismatches.
inline void check_gradients(const GraphFn& f, std::vector<Tensor> inputs,
                            const GradCheckOptions& opt = {}) {
    for (Tensor& t : inputs) t = t.clone();
    Graph g;
    std::vector<Var> vars;
    for (const Tensor& t : inputs) vars.push_back(g.variable(t));
    Var out = f(g, vars);
    ASSERT_EQ(out.dtype(), DType::F64) << "gradient checks run in float64";
    Tensor weights = random_tensor(out.shape(), 12345, -1.0, 1.0);
    g.backward(out, weights);
    for (size_t j = 0; j < inputs.size(); ++j) {
        if (!opt.check.empty() && !opt.check[j]) continue;
        Tensor analytic = g.grad(vars[j].id).clone();
        int reported = 0;
        double max_err = 0;
        for (int64_t i = 0; i < inputs[j].numel(); ++i) {
            double x0 = inputs[j].at(i);
            inputs[j].set(i, x0 + opt.eps);
            double lp = weighted_output(f, inputs, weights);
            inputs[j].set(i, x0 - opt.eps);
            double lm = weighted_output(f, inputs, weights);
            inputs[j].set(i, x0);
            double numeric = (lp - lm) / (2 * opt.eps);
            double a = analytic.at(i);
            double err = std::abs(a - numeric);
            max_err = std::max(max_err, err);
            if (err > opt.atol + opt.rtol * std::abs(numeric) && reported < 5) {
                ADD_FAILURE() << "input " << j << " (shape " << inputs[j].shape().str()
                              << ") element " << i << ": analytic " << a << " vs numeric "
                              << numeric << " (error " << err << ")";
                ++reported;
            }
        }
    }
}

// The same check for a model's parameters: every entry of every parameter of `ps` (at most
// `max_per_param` evenly spaced entries per parameter) against central finite differences of
// sum(w * f(ps)), w a fixed random weighting of f's output. ps must be float64.
using ParamLossFn = std::function<Var(Graph&, ParamSet&)>;

inline double weighted_param_loss(const ParamLossFn& f, ParamSet& ps, const Tensor& w) {
    Graph g;
    Var out = f(g, ps);
    double s = 0;
    for (int64_t i = 0; i < out.value().numel(); ++i) s += out.value().at(i) * w.at(i);
    return s;
}

inline void check_param_gradients(const ParamLossFn& f, ParamSet& ps, int64_t max_per_param = 40) {
    ps.zero_grad();
    Graph g;
    Var out = f(g, ps);
    Tensor w = random_tensor(out.shape(), 99);
    g.backward(out, w);
    const double eps = 1e-6;
    for (auto& e : ps.entries()) {
        const int64_t n = e.value.numel();
        const int64_t stride = std::max<int64_t>(1, n / max_per_param);
        for (int64_t i = 0; i < n; i += stride) {
            const double x0 = e.value.at(i);
            e.value.set(i, x0 + eps);
            const double lp = weighted_param_loss(f, ps, w);
            e.value.set(i, x0 - eps);
            const double lm = weighted_param_loss(f, ps, w);
            e.value.set(i, x0);
            const double numeric = (lp - lm) / (2 * eps);
            EXPECT_NEAR(e.grad.at(i), numeric, 1e-6 + 1e-5 * std::abs(numeric)) << e.name << "[" << i << "]";
        }
    }
}

}  // namespace benchtop::testing
