// The MNIST-1D reference MLP and its plain variant, for a stack of K members.
// Residual form (Greydanus & Kobak 2024, "MLPBase"): h1 = relu(linear1(x));
// h2 = h1 + relu(linear2(h1)); out = linear3(h2). Plain form: h2 = relu(linear2(h1)).
// Parameter names and layouts are PyTorch's (linear1.weight [hidden, in], ...).
#pragma once

#include "benchtop/nn/params.h"

namespace benchtop {

struct MlpSpec {
    int64_t in = 40;
    int64_t hidden = 100;
    int64_t out = 10;
    bool residual = true;
};

// Adds linear{1,2,3}.{weight,bias} to ps (zero-initialised).
void add_mlp_params(ParamSet& ps, const MlpSpec& spec);
// x [K or 1, B, in] -> logits [K, B, out].
Var mlp_forward(ParamSet& ps, const MlpSpec& spec, Var x);

}  // namespace benchtop
