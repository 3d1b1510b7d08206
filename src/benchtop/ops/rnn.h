// Fused recurrent ops: a whole GRU sequence (one direction) as one graph node with a
// hand-written backward through time. Replaces ~20 nodes per time step (two linears,
// six slices, gate arithmetic) of the composed cell, which made the MNIST-1D GRU the
// slowest baseline; the GEMMs stay in tensor/gemm.h, one per member and step.
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

// Single-layer GRU over L time steps with zero initial state, PyTorch semantics and
// layouts (gate order r, z, n):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
// x [K or 1, B, L * I] (time-major within a row: step t reads x[..., t*I : (t+1)*I]);
// w_ih [K, 3H, I], w_hh [K, 3H, H], b_ih and b_hh [K, 3H].
// Returns the hidden state of every step, [K, B, L, H], indexed by time t; with
// reverse = true the sequence is processed from t = L-1 down to 0.
// Every member runs the same code on its own slices, so a member's result does not
// depend on K.
Var gru_sequence(
    Var x, Var w_ih, Var w_hh, Var b_ih, Var b_hh, int64_t length, bool reverse = false);

}  // namespace benchtop
