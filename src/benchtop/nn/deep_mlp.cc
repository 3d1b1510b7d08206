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

std::vector<Tensor> deep_mlp_relu_masks(ParamSet& ps, const DeepMlpSpec& spec, const Tensor& x) {
    check_spec(spec);
    Graph g;
    g.set_grad_enabled(false);
    std::vector<Tensor> masks;
    Var h = g.input(x);
    const int64_t n_layers = deep_mlp_n_layers(spec);
    for (int64_t l = 0; l + 1 < n_layers; ++l) {
        Var z = linear(h, ps.var(g, deep_mlp_weight_name(l)), ps.var(g, deep_mlp_bias_name(l)));
        Tensor m = Tensor::empty(z.shape(), z.dtype());
        dispatch_float(m.dtype(), "deep_mlp_relu_masks", [&](auto tag) {
            using T = decltype(tag);
            const T* pz = z.value().template data<T>();
            T* pm = m.template data<T>();
            for (int64_t i = 0; i < m.numel(); ++i) pm[i] = pz[i] > 0 ? T(1) : T(0);
        });
        masks.push_back(m);
        h = relu(z);
    }
    return masks;
}

Var deep_mlp_forward_masked(ParamSet& ps, const DeepMlpSpec& spec, Var x, const std::vector<Tensor>& masks) {
    check_spec(spec);
    Graph& g = *x.g;
    const int64_t n_layers = deep_mlp_n_layers(spec);
    BENCHTOP_CHECK(static_cast<int64_t>(masks.size()) == n_layers - 1, "deep_mlp_forward_masked: ", masks.size(),
                   " masks for ", n_layers - 1, " hidden layers");
    Var h = x;
    for (int64_t l = 0; l < n_layers; ++l) {
        h = linear(h, ps.var(g, deep_mlp_weight_name(l)), ps.var(g, deep_mlp_bias_name(l)));
        if (l + 1 < n_layers) h = mul(h, g.input(masks[size_t(l)]));
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
