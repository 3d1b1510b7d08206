#include "benchtop/nn/cnn.h"

#include "benchtop/ops/conv.h"
#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/shape_ops.h"

namespace benchtop {

namespace {
int64_t conv_out(int64_t l, int64_t k, int64_t s, int64_t p) { return (l + 2 * p - k) / s + 1; }
}  // namespace

int64_t cnn_flat_features(const CnnSpec& spec) {
    int64_t l = conv_out(conv_out(conv_out(spec.length, 5, 2, 1), 3, 2, 1), 3, 2, 1);
    return spec.channels * l;
}

void add_cnn_params(ParamSet& ps, const CnnSpec& spec) {
    int64_t c = spec.channels;
    ps.add("conv1.weight", {c, 1, 5});
    ps.add("conv1.bias", {c});
    ps.add("conv2.weight", {c, c, 3});
    ps.add("conv2.bias", {c});
    ps.add("conv3.weight", {c, c, 3});
    ps.add("conv3.bias", {c});
    ps.add("linear.weight", {spec.out, cnn_flat_features(spec)});
    ps.add("linear.bias", {spec.out});
}

Var cnn_forward(ParamSet& ps, const CnnSpec& spec, Var x) {
    Graph& g = *x.g;
    const Shape& s = x.shape();
    BENCHTOP_CHECK(s.rank() == 3 && s[2] == spec.length, "cnn: input must be [K, B, ",
                   spec.length, "], got ", s.str());
    // The convolutions run batch-innermost ([K, C, L, B], ops/conv.h conv1d_clb): one
    // permute of the input and one of the last feature map instead of transposes per layer.
    Var h = reshape(permute(x, {0, 2, 1}), {s[0], 1, s[2], s[1]});
    h = conv1d_clb_relu(h, ps.var(g, "conv1.weight"), ps.var(g, "conv1.bias"), 2, 1);
    h = conv1d_clb_relu(h, ps.var(g, "conv2.weight"), ps.var(g, "conv2.bias"), 2, 1);
    h = conv1d_clb_relu(h, ps.var(g, "conv3.weight"), ps.var(g, "conv3.bias"), 2, 1);
    const Shape& hs = h.shape();  // [K, C, L', B] -> [K, B, C * L'] (torch's flatten order)
    h = reshape(permute(h, {0, 3, 1, 2}), {hs[0], hs[3], hs[1] * hs[2]});
    return linear(h, ps.var(g, "linear.weight"), ps.var(g, "linear.bias"));
}

}  // namespace benchtop
