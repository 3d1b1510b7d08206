#include "benchtop/nn/mlp.h"

#include "benchtop/ops/linalg.h"

namespace benchtop {

void add_mlp_params(ParamSet& ps, const MlpSpec& spec) {
    ps.add("linear1.weight", {spec.hidden, spec.in});
    ps.add("linear1.bias", {spec.hidden});
    ps.add("linear2.weight", {spec.hidden, spec.hidden});
    ps.add("linear2.bias", {spec.hidden});
    ps.add("linear3.weight", {spec.out, spec.hidden});
    ps.add("linear3.bias", {spec.out});
}

Var mlp_forward(ParamSet& ps, const MlpSpec& spec, Var x) {
    Graph& g = *x.g;
    Var h1 = linear_relu(x, ps.var(g, "linear1.weight"), ps.var(g, "linear1.bias"));
    Var w2 = ps.var(g, "linear2.weight"), b2 = ps.var(g, "linear2.bias");
    // h1 + linear_relu(h1, w2, b2) as one node, bit-identical.
    Var h2 = spec.residual ? linear_relu_residual(h1, w2, b2) : linear_relu(h1, w2, b2);
    return linear(h2, ps.var(g, "linear3.weight"), ps.var(g, "linear3.bias"));
}

}  // namespace benchtop
