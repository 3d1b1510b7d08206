#include "benchtop/analysis/signal_propagation.h"

#include <cmath>
#include <limits>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"
#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

double variance(const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    return var / static_cast<double>(v.size());
}

}  // namespace

SignalPropagation measure_signal_propagation(const SignalPropagationSpec& s) {
    BENCHTOP_CHECK(s.depth >= 1 && s.width >= 1 && s.inputs >= 1 && s.outputs >= 1,
                   "measure_signal_propagation: depth, width, inputs and outputs must be positive, got ", s.depth,
                   ", ", s.width, ", ", s.inputs, ", ", s.outputs);
    BENCHTOP_CHECK(s.sigma2 > 0 && std::isfinite(s.sigma2),
                   "measure_signal_propagation: sigma2 must be positive, got ", s.sigma2);
    const int64_t W = s.width, N = s.inputs, L = s.depth, O = s.outputs;
    const double sd = std::sqrt(s.sigma2);
    // Weights of layers 1..L+1 row-major (out, in): [W, W], and [O, W] for the output layer.
    std::vector<std::vector<double>> weights(static_cast<size_t>(L + 1));
    for (int64_t l = 0; l <= L; ++l) {
        std::vector<double>& w = weights[size_t(l)];
        w.resize(static_cast<size_t>((l == L ? O : W) * W));
        Rng rng(stream_key(s.seed, static_cast<uint64_t>(l + 1), Purpose::Init));
        for (double& v : w) v = sd * rng.normal();
    }
    // Inputs h_0 [N, W].
    std::vector<double> h(static_cast<size_t>(N * W));
    Rng rng(stream_key(s.seed, 0, Purpose::Data));
    for (double& v : h) v = rng.normal();

    // Forward: f_l = h_{l-1} W_l^T, [N, W]; keep every f_l for the ReLU masks of the backward pass.
    std::vector<std::vector<double>> f(static_cast<size_t>(L + 1));
    SignalPropagation out;
    for (int64_t l = 0; l <= L; ++l) {
        std::vector<double>& fl = f[size_t(l)];
        const int64_t out_w = l == L ? O : W;
        fl.assign(static_cast<size_t>(N * out_w), 0.0);
        gemm(false, true, N, out_w, W, 1.0, h.data(), W, weights[size_t(l)].data(), W, 0.0, fl.data(), out_w);
        if (l == L) break;
        out.forward_var.push_back(variance(fl));
        for (size_t i = 0; i < h.size(); ++i) h[i] = fl[i] > 0 ? fl[i] : 0.0;
    }
    // Backward: dL/df_out = f_out; dL/dh_{l} = dL/df_{l+1} W_{l+1}; dL/df_l = dL/dh_l * [f_l > 0].
    std::vector<double> g = f[size_t(L)], gh(static_cast<size_t>(N * W));
    out.backward_var.assign(static_cast<size_t>(L), 0.0);
    for (int64_t l = L; l >= 1; --l) {
        const int64_t in_w = l == L ? O : W;  // width of the gradient g coming in
        gemm(false, false, N, W, in_w, 1.0, g.data(), in_w, weights[size_t(l)].data(), W, 0.0, gh.data(), W);
        g.resize(static_cast<size_t>(N * W));
        const std::vector<double>& fl = f[size_t(l - 1)];
        for (size_t i = 0; i < g.size(); ++i) g[i] = fl[i] > 0 ? gh[i] : 0.0;
        out.backward_var[size_t(l - 1)] = variance(g);
    }
    return out;
}

double log10_slope(const std::vector<double>& values) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        if (!(values[i] > 0) || !std::isfinite(values[i])) continue;
        const double x = static_cast<double>(i), y = std::log10(values[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
    }
    if (n < 2) return std::numeric_limits<double>::quiet_NaN();
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

}  // namespace benchtop
