#include "benchtop/nn/deep_mlp.h"

#include <utility>

#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"

namespace benchtop {

namespace {

void check_spec(const DeepMlpSpec& spec) {
    BENCHTOP_CHECK(spec.in > 0 && spec.out > 0,
                   "DeepMlpSpec: in and out must be positive, got in=", spec.in, " out=", spec.out);
    for (size_t l = 0; l < spec.hidden.size(); ++l)
        BENCHTOP_CHECK(spec.hidden[l] > 0, "DeepMlpSpec: hidden[", l, "] must be positive, got ",
                       spec.hidden[l]);
}

// Input and output width of Linear layer l.
std::pair<int64_t, int64_t> layer_dims(const DeepMlpSpec& spec, int64_t l) {
    const auto n_hidden = static_cast<int64_t>(spec.hidden.size());
    int64_t fan_in = l == 0 ? spec.in : spec.hidden[static_cast<size_t>(l - 1)];
    int64_t fan_out = l == n_hidden ? spec.out : spec.hidden[static_cast<size_t>(l)];
    return {fan_in, fan_out};
}

}  // namespace

int64_t deep_mlp_n_layers(const DeepMlpSpec& spec) {
    return static_cast<int64_t>(spec.hidden.size()) + 1;
}

std::string deep_mlp_weight_name(int64_t layer) {
    return "layers." + std::to_string(layer) + ".weight";
}

std::string deep_mlp_bias_name(int64_t layer) {
    return "layers." + std::to_string(layer) + ".bias";
}

void add_deep_mlp_params(ParamSet& ps, const DeepMlpSpec& spec) {
    check_spec(spec);
    for (int64_t l = 0; l < deep_mlp_n_layers(spec); ++l) {
        auto [fan_in, fan_out] = layer_dims(spec, l);
        ps.add(deep_mlp_weight_name(l), {fan_out, fan_in});
        ps.add(deep_mlp_bias_name(l), {fan_out});
    }
}

Var deep_mlp_forward(ParamSet& ps, const DeepMlpSpec& spec, Var x) {
    check_spec(spec);
    Graph& g = *x.g;
    const int64_t n_layers = deep_mlp_n_layers(spec);
    Var h = x;
    for (int64_t l = 0; l < n_layers; ++l) {
        h = linear(h, ps.var(g, deep_mlp_weight_name(l)), ps.var(g, deep_mlp_bias_name(l)));
        if (l + 1 < n_layers) h = relu(h);
    }
    return h;
}

int64_t deep_mlp_param_count(const DeepMlpSpec& spec) {
    check_spec(spec);
    int64_t n = 0;
    for (int64_t l = 0; l < deep_mlp_n_layers(spec); ++l) {
        auto [fan_in, fan_out] = layer_dims(spec, l);
        n += fan_out * fan_in + fan_out;
    }
    return n;
}

}  // namespace benchtop
