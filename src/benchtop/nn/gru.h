// Bidirectional single-layer GRU classifier ("GRUBase" of MNIST-1D): each of the L input
// values is one time step of size 1; zero initial state; the 2H outputs of all L steps
// are flattened (time-major, forward then backward state) and fed to a linear layer.
// Parameter names and gate order (r, z, n) follow torch.nn.GRU:
// gru.weight_ih_l0 [3H, I], gru.weight_hh_l0 [3H, H], gru.bias_ih_l0, gru.bias_hh_l0 and
// the same with suffix _reverse; linear.weight [out, L*2H], linear.bias.
#pragma once

#include "benchtop/nn/params.h"

namespace benchtop {

struct GruSpec {
    int64_t length = 40;
    int64_t input = 1;
    int64_t hidden = 6;
    int64_t out = 10;
};

void add_gru_params(ParamSet& ps, const GruSpec& spec);
// x [K or 1, B, length * input] -> logits [K, B, out].
// Runs each direction as one fused gru_sequence node (ops/rnn.h).
Var gru_forward(ParamSet& ps, const GruSpec& spec, Var x);
// The same model composed cell by cell from gru_cell (~20 graph nodes per step): the
// reference for tests and the "before" of bench/e2e/gru_step.cc.
Var gru_forward_composed(ParamSet& ps, const GruSpec& spec, Var x);

// One GRU step composed from linear, slice and element-wise ops (the reference that the
// fused gru_sequence of ops/rnn.h is tested against): x_t [K or 1, B, I], h [K, B, H] -> [K, B, H].
Var gru_cell(Var x_t, Var h, Var w_ih, Var w_hh, Var b_ih, Var b_hh);

}  // namespace benchtop
