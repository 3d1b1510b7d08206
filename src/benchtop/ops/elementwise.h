// Element-wise differentiable ops. Binary ops broadcast NumPy-style, so a per-member bias
// [K, 1, H] adds to activations [K, B, H] and a shared input [1, B, D] meets per-member
// tensors [K, B, D]. Gradients of broadcast inputs are summed over the broadcast axes.
#pragma once

#include "benchtop/autograd/graph.h"

namespace benchtop {

Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
Var div(Var a, Var b);
Var add_scalar(Var a, double s);
Var mul_scalar(Var a, double s);
Var neg(Var a);

Var relu(Var x);
Var leaky_relu(Var x, double negative_slope = 0.01);
Var elu(Var x, double alpha = 1.0);
Var gelu(Var x);  // exact form x * Phi(x), as torch.nn.functional.gelu's default
Var tanh(Var x);
Var sigmoid(Var x);
Var softplus(Var x, double beta = 1.0, double threshold = 20.0);  // torch semantics
Var exp(Var x);
Var log(Var x);
Var sqrt(Var x);
Var pow(Var x, double exponent);
Var abs(Var x);  // d|x|/dx = sign(x), 0 at 0 (as torch)

inline Var operator+(Var a, Var b) { return add(a, b); }
inline Var operator-(Var a, Var b) { return sub(a, b); }
inline Var operator*(Var a, Var b) { return mul(a, b); }
inline Var operator/(Var a, Var b) { return div(a, b); }
inline Var operator-(Var a) { return neg(a); }
inline Var operator+(Var a, double s) { return add_scalar(a, s); }
inline Var operator-(Var a, double s) { return add_scalar(a, -s); }
inline Var operator*(Var a, double s) { return mul_scalar(a, s); }
inline Var operator*(double s, Var a) { return mul_scalar(a, s); }

}  // namespace benchtop
