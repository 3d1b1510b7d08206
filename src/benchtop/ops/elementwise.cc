// Element-wise ops: broadcasting binary arithmetic and unary activations, float32/float64.
// Rules: same-shape operands take a flat loop the compiler vectorises; other shapes go
// through detail::Bcast rows. Outputs live in the graph arena; backward accumulates (+=)
// into the gradient of each input that needs one, summing over broadcast axes.
#include "benchtop/ops/elementwise.h"

#include <cmath>

#include "benchtop/ops/broadcast.h"
#include "benchtop/ops/select.h"

namespace benchtop {

namespace {

using detail::Bcast;
using detail::bcast_rows;
using detail::make_bcast;

// ---------------------------------------------------------------- binary ops

enum class BOp { Add, Sub, Mul, Div };

template <BOp OP, class T>
inline T bop(T a, T b) {
    if constexpr (OP == BOp::Add) return a + b;
    if constexpr (OP == BOp::Sub) return a - b;
    if constexpr (OP == BOp::Mul) return a * b;
    if constexpr (OP == BOp::Div) return a / b;
}

// d(out)/d(a) * g and d(out)/d(b) * g.
template <BOp OP, class T>
inline T bgrad_a(T g, T /*a*/, T b) {
    if constexpr (OP == BOp::Add || OP == BOp::Sub) return g;
    if constexpr (OP == BOp::Mul) return g * b;
    if constexpr (OP == BOp::Div) return g / b;
}

template <BOp OP, class T>
inline T bgrad_b(T g, T a, T b) {
    if constexpr (OP == BOp::Add) return g;
    if constexpr (OP == BOp::Sub) return -g;
    if constexpr (OP == BOp::Mul) return g * a;
    if constexpr (OP == BOp::Div) return -g * a / (b * b);
}

template <BOp OP, class T>
void binary_forward_t(const Tensor& a, const Tensor& b, Tensor& out) {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    int64_t n = out.numel();
    if (a.shape() == b.shape()) {
        for (int64_t i = 0; i < n; ++i) po[i] = bop<OP>(pa[i], pb[i]);
        return;
    }
    Bcast bc = make_bcast(a.shape(), b.shape(), out.shape());
    bcast_rows(bc,
               [&](int64_t o, int64_t ia, int64_t ib, int64_t len, int64_t inc_a, int64_t inc_b) {
                   T* y = po + o;
                   const T* x1 = pa + ia;
                   const T* x2 = pb + ib;
                   if (inc_a == 1 && inc_b == 1) {
                       for (int64_t j = 0; j < len; ++j) y[j] = bop<OP>(x1[j], x2[j]);
                   } else if (inc_a == 1 && inc_b == 0) {
                       T s = *x2;
                       for (int64_t j = 0; j < len; ++j) y[j] = bop<OP>(x1[j], s);
                   } else if (inc_a == 0 && inc_b == 1) {
                       T s = *x1;
                       for (int64_t j = 0; j < len; ++j) y[j] = bop<OP>(s, x2[j]);
                   } else {
                       for (int64_t j = 0; j < len; ++j)
                           y[j] = bop<OP>(x1[j * inc_a], x2[j * inc_b]);
                   }
               });
}

template <BOp OP, class T>
void binary_backward_t(Graph& g, const Node& n) {
    const Tensor& a = g.node(n.inputs[0]).value;
    const Tensor& b = g.node(n.inputs[1]).value;
    const Tensor& dout = g.node(n.id).grad;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* dy = dout.data<T>();
    bool need_a = g.needs_grad(n.inputs[0]), need_b = g.needs_grad(n.inputs[1]);
    int64_t total = dout.numel();
    if (a.shape() == b.shape()) {
        // Fetch db only after da is written: a and b may be the same node (x * x).
        bool overwrite = false;
        if (need_a) {
            T* da = g.grad_for_write(n.inputs[0], &overwrite).data<T>();
            if (overwrite)
                for (int64_t i = 0; i < total; ++i) da[i] = bgrad_a<OP>(dy[i], pa[i], pb[i]);
            else
                for (int64_t i = 0; i < total; ++i) da[i] += bgrad_a<OP>(dy[i], pa[i], pb[i]);
        }
        if (need_b) {
            T* db = g.grad_for_write(n.inputs[1], &overwrite).data<T>();
            if (overwrite)
                for (int64_t i = 0; i < total; ++i) db[i] = bgrad_b<OP>(dy[i], pa[i], pb[i]);
            else
                for (int64_t i = 0; i < total; ++i) db[i] += bgrad_b<OP>(dy[i], pa[i], pb[i]);
        }
        return;
    }
    T* da = need_a ? g.grad(n.inputs[0]).data<T>() : nullptr;
    T* db = need_b ? g.grad(n.inputs[1]).data<T>() : nullptr;
    Bcast bc = make_bcast(a.shape(), b.shape(), dout.shape());
    bcast_rows(bc,
               [&](int64_t o, int64_t ia, int64_t ib, int64_t len, int64_t inc_a, int64_t inc_b) {
                   const T* gy = dy + o;
                   if (da) {
                       if (inc_a == 1) {
                           for (int64_t j = 0; j < len; ++j)
                               da[ia + j] += bgrad_a<OP>(gy[j], pa[ia + j], pb[ib + j * inc_b]);
                       } else if (inc_a == 0) {
                           T s = 0;
                           for (int64_t j = 0; j < len; ++j)
                               s += bgrad_a<OP>(gy[j], pa[ia], pb[ib + j * inc_b]);
                           da[ia] += s;
                       } else {
                           for (int64_t j = 0; j < len; ++j)
                               da[ia + j * inc_a] +=
                                   bgrad_a<OP>(gy[j], pa[ia + j * inc_a], pb[ib + j * inc_b]);
                       }
                   }
                   if (db) {
                       if (inc_b == 1) {
                           for (int64_t j = 0; j < len; ++j)
                               db[ib + j] += bgrad_b<OP>(gy[j], pa[ia + j * inc_a], pb[ib + j]);
                       } else if (inc_b == 0) {
                           T s = 0;
                           for (int64_t j = 0; j < len; ++j)
                               s += bgrad_b<OP>(gy[j], pa[ia + j * inc_a], pb[ib]);
                           db[ib] += s;
                       } else {
                           for (int64_t j = 0; j < len; ++j)
                               db[ib + j * inc_b] +=
                                   bgrad_b<OP>(gy[j], pa[ia + j * inc_a], pb[ib + j * inc_b]);
                       }
                   }
               });
}

template <BOp OP>
void binary_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { binary_backward_t<OP, decltype(t)>(g, n); });
}

template <BOp OP>
Var binary(const char* name, Var a, Var b) {
    BENCHTOP_CHECK(a.defined() && b.defined(), name, ": undefined operand");
    BENCHTOP_CHECK(a.g == b.g, name, ": operands belong to different graphs");
    const Tensor& va = a.value();
    const Tensor& vb = b.value();
    if (va.dtype() != vb.dtype())
        fail(name, ": dtypes differ: ", dtype_name(va.dtype()), " ", va.shape().str(), " and ",
             dtype_name(vb.dtype()), " ", vb.shape().str());
    Shape os =
        va.shape() == vb.shape() ? va.shape() : broadcast_shapes(va.shape(), vb.shape(), name);
    Graph& g = *a.g;
    Tensor out = g.make_tensor(os, va.dtype());
    dispatch_float(va.dtype(), name,
                   [&](auto t) { binary_forward_t<OP, decltype(t)>(va, vb, out); });
    return g.record(name, out, binary_backward<OP>, {a, b});
}

// ---------------------------------------------------------------- unary ops

enum class UOp {
    AddScalar,
    MulScalar,
    Neg,
    Relu,
    LeakyRelu,
    Elu,
    Gelu,
    Tanh,
    Sigmoid,
    Softplus,
    Exp,
    Log,
    Sqrt,
    Pow,
    Abs
};

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <class T>
inline T sigmoid_of(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
}

// Forward: y = f(x) with real parameters p0, p1.
template <UOp OP, class T>
inline T ufwd(T x, T p0, T p1) {
    if constexpr (OP == UOp::AddScalar) return x + p0;
    if constexpr (OP == UOp::MulScalar) return x * p0;
    if constexpr (OP == UOp::Neg) return -x;
    if constexpr (OP == UOp::Relu) return x < T(0) ? T(0) : x;  // NaN propagates
    if constexpr (OP == UOp::LeakyRelu) return x > T(0) ? x : x * p0;
    if constexpr (OP == UOp::Elu) return x > T(0) ? x : p0 * std::expm1(x);
    if constexpr (OP == UOp::Gelu) return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
    if constexpr (OP == UOp::Tanh) return std::tanh(x);
    if constexpr (OP == UOp::Sigmoid) return sigmoid_of(x);
    if constexpr (OP == UOp::Softplus) {
        T bx = p0 * x;
        return bx > p1 ? x : std::log1p(std::exp(bx)) / p0;
    }
    if constexpr (OP == UOp::Exp) return std::exp(x);
    if constexpr (OP == UOp::Log) return std::log(x);
    if constexpr (OP == UOp::Sqrt) return std::sqrt(x);
    if constexpr (OP == UOp::Pow) return std::pow(x, p0);
    if constexpr (OP == UOp::Abs) return std::abs(x);
}

// dy/dx given x and y = f(x).
template <UOp OP, class T>
inline T uderiv(T x, T y, T p0, T p1) {
    if constexpr (OP == UOp::AddScalar) return T(1);
    if constexpr (OP == UOp::MulScalar) return p0;
    if constexpr (OP == UOp::Neg) return T(-1);
    if constexpr (OP == UOp::Relu) return x > T(0) ? T(1) : T(0);
    if constexpr (OP == UOp::LeakyRelu) return x > T(0) ? T(1) : p0;
    if constexpr (OP == UOp::Elu) return x > T(0) ? T(1) : y + p0;
    if constexpr (OP == UOp::Gelu)
        return T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2))) +
               x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    if constexpr (OP == UOp::Tanh) return T(1) - y * y;
    if constexpr (OP == UOp::Sigmoid) return y * (T(1) - y);
    if constexpr (OP == UOp::Softplus) {
        T bx = p0 * x;
        return bx > p1 ? T(1) : sigmoid_of(bx);
    }
    if constexpr (OP == UOp::Exp) return y;
    if constexpr (OP == UOp::Log) return T(1) / x;
    if constexpr (OP == UOp::Sqrt) return T(0.5) / y;
    if constexpr (OP == UOp::Pow) return p0 * std::pow(x, p0 - T(1));
    if constexpr (OP == UOp::Abs) return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

template <UOp OP, class T>
void unary_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const T* x = g.node(n.inputs[0]).value.data<T>();
    const T* y = g.node(n.id).value.data<T>();
    const T* dy = g.node(n.id).grad.data<T>();
    bool overwrite = false;
    T* dx = g.grad_for_write(n.inputs[0], &overwrite).data<T>();
    T p0 = static_cast<T>(n.farg[0]), p1 = static_cast<T>(n.farg[1]);
    int64_t total = g.node(n.id).value.numel();
    if constexpr (OP == UOp::Relu) {  // hot path: branch-free select (ops/select.h)
        if (overwrite)
            for (int64_t i = 0; i < total; ++i) dx[i] = detail::where_positive(x[i], dy[i]);
        else
            for (int64_t i = 0; i < total; ++i) dx[i] += detail::where_positive(x[i], dy[i]);
    } else if (overwrite) {
        for (int64_t i = 0; i < total; ++i) dx[i] = dy[i] * uderiv<OP>(x[i], y[i], p0, p1);
    } else {
        for (int64_t i = 0; i < total; ++i) dx[i] += dy[i] * uderiv<OP>(x[i], y[i], p0, p1);
    }
}

template <UOp OP>
void unary_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { unary_backward_t<OP, decltype(t)>(g, n); });
}

template <UOp OP>
Var unary(const char* name, Var x, double p0 = 0, double p1 = 0) {
    BENCHTOP_CHECK(x.defined(), name, ": undefined operand");
    Graph& g = *x.g;
    const Tensor& vx = x.value();
    Tensor out = g.make_tensor(vx.shape(), vx.dtype());
    dispatch_float(vx.dtype(), name, [&](auto t) {
        using T = decltype(t);
        const T* px = vx.data<T>();
        T* po = out.data<T>();
        T q0 = static_cast<T>(p0), q1 = static_cast<T>(p1);
        int64_t total = vx.numel();
        for (int64_t i = 0; i < total; ++i) po[i] = ufwd<OP>(px[i], q0, q1);
    });
    Var y = g.record(name, out, unary_backward<OP>, {x});
    if (y.records()) {
        Node& n = g.node(y);
        n.farg[0] = p0;
        n.farg[1] = p1;
    }
    return y;
}

}  // namespace

Var add(Var a, Var b) {
    return binary<BOp::Add>("add", a, b);
}
Var sub(Var a, Var b) {
    return binary<BOp::Sub>("sub", a, b);
}
Var mul(Var a, Var b) {
    return binary<BOp::Mul>("mul", a, b);
}
Var div(Var a, Var b) {
    return binary<BOp::Div>("div", a, b);
}
Var add_scalar(Var a, double s) {
    return unary<UOp::AddScalar>("add_scalar", a, s);
}
Var mul_scalar(Var a, double s) {
    return unary<UOp::MulScalar>("mul_scalar", a, s);
}
Var neg(Var a) {
    return unary<UOp::Neg>("neg", a);
}

Var relu(Var x) {
    return unary<UOp::Relu>("relu", x);
}
Var leaky_relu(Var x, double negative_slope) {
    return unary<UOp::LeakyRelu>("leaky_relu", x, negative_slope);
}
Var elu(Var x, double alpha) {
    return unary<UOp::Elu>("elu", x, alpha);
}
Var gelu(Var x) {
    return unary<UOp::Gelu>("gelu", x);
}
Var tanh(Var x) {
    return unary<UOp::Tanh>("tanh", x);
}
Var sigmoid(Var x) {
    return unary<UOp::Sigmoid>("sigmoid", x);
}
Var softplus(Var x, double beta, double threshold) {
    BENCHTOP_CHECK(beta != 0, "softplus: beta must be non-zero");
    return unary<UOp::Softplus>("softplus", x, beta, threshold);
}
Var exp(Var x) {
    return unary<UOp::Exp>("exp", x);
}
Var log(Var x) {
    return unary<UOp::Log>("log", x);
}
Var sqrt(Var x) {
    return unary<UOp::Sqrt>("sqrt", x);
}
Var pow(Var x, double exponent) {
    return unary<UOp::Pow>("pow", x, exponent);
}
Var abs(Var x) {
    return unary<UOp::Abs>("abs", x);
}

}  // namespace benchtop
