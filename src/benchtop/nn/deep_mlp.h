// A plain ReLU multilayer perceptron of any depth, for a stack of K members.
// Layer l is a PyTorch Linear named "layers.l" (weight [out, in], bias [out]); every hidden
// layer is followed by a ReLU and the last (output) layer is not. Unlike the fixed
// MNIST-1D reference MLP (nn/mlp.h), the depth and widths are free, which is what the
// linear-region experiments of analysis/linear_regions.h need: Hanin & Rolnick (2019,
// "Complexity of linear regions in deep networks" and "Deep ReLU networks have surprisingly
// few activation patterns") compare region counts across depths and widths at equal
// neuron budgets.
//
//   DeepMlpSpec spec{.in = 40, .hidden = {64, 64}, .out = 10};
//   ParamSet ps(/*n_members=*/8);
//   add_deep_mlp_params(ps, spec);
//   init_torch_default(ps, seeds);   // fan_in from each "layers.l.weight"
//   Var logits = deep_mlp_forward(ps, spec, g.input(x));   // [8, B, 10]
#pragma once

#include <string>
#include <vector>

#include "benchtop/tensor/tensor.h"

#include "benchtop/nn/params.h"

namespace benchtop {

struct DeepMlpSpec {
    int64_t in = 40;
    std::vector<int64_t> hidden = {100, 100};  // widths of the hidden layers (may be empty)
    int64_t out = 10;
};

// Number of Linear layers (hidden layers + the output layer).
int64_t deep_mlp_n_layers(const DeepMlpSpec& spec);
// "layers.<l>.weight" / "layers.<l>.bias".
std::string deep_mlp_weight_name(int64_t layer);
std::string deep_mlp_bias_name(int64_t layer);
// Adds layers.{0..L}.{weight,bias} to ps (zero-initialised). Throws for non-positive sizes.
void add_deep_mlp_params(ParamSet& ps, const DeepMlpSpec& spec);
// x [K or 1, B, in] -> logits [K, B, out].
Var deep_mlp_forward(ParamSet& ps, const DeepMlpSpec& spec, Var x);
// The ReLU activation pattern at x: one [K, B, hidden[l]] tensor per hidden layer, 1 where the
// pre-activation is positive and 0 elsewhere (dtype of the parameters).
std::vector<Tensor> deep_mlp_relu_masks(ParamSet& ps, const DeepMlpSpec& spec, const Tensor& x);
// The network with its activation pattern frozen: each ReLU replaced by multiplication with the
// given mask. Equal to deep_mlp_forward where the masks are x's own pattern; as a function of the
// parameters it is smooth (a polynomial inside the softmax), so finite differences of its
// gradients give the Hessian of the piecewise-smooth network almost everywhere, free of the
// jumps that units crossing their kinks add (see analysis/sharpness.h).
Var deep_mlp_forward_masked(ParamSet& ps, const DeepMlpSpec& spec, Var x, const std::vector<Tensor>& masks);
// Parameters per member: sum over layers of out * in + out.
int64_t deep_mlp_param_count(const DeepMlpSpec& spec);

}  // namespace benchtop
