// Reductions along one axis (sum, mean, max), whole-tensor sums, softmax and log_softmax.
// Rules: a tensor is viewed as [outer, n, inner] around the reduced axis; inner == 1 takes a
// contiguous fast path. Reducing the only axis without keepdim gives shape [1] (never rank 0).
// Softmaxes subtract the row maximum first; backward accumulates (+=) into input gradients.
#include "benchtop/ops/reduce.h"

#include <cmath>
#include <limits>

namespace benchtop {

namespace {

struct AxisView {
    int64_t outer = 1, n = 1, inner = 1;
};

AxisView axis_view(const Shape& s, int ax) {
    AxisView v;
    for (int d = 0; d < ax; ++d) v.outer *= s[d];
    v.n = s[ax];
    for (int d = ax + 1; d < s.rank(); ++d) v.inner *= s[d];
    return v;
}

Shape reduced_shape(const Shape& s, int ax, bool keepdim) {
    Shape out;
    for (int d = 0; d < s.rank(); ++d) {
        if (d != ax)
            out.push_back(s[d]);
        else if (keepdim)
            out.push_back(1);
    }
    if (out.rank() == 0) out.push_back(1);
    return out;
}

void store_view(Node& n, const AxisView& v) {
    n.iarg[0] = v.outer;
    n.iarg[1] = v.n;
    n.iarg[2] = v.inner;
}

AxisView load_view(const Node& n) {
    return AxisView{n.iarg[0], n.iarg[1], n.iarg[2]};
}

// ---------------------------------------------------------------- sum / mean

template <class T>
void sum_forward_t(const Tensor& x, Tensor& out, const AxisView& v, T scale) {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    if (v.inner == 1) {
        for (int64_t o = 0; o < v.outer; ++o) {
            const T* row = px + o * v.n;
            T s = 0;
            for (int64_t j = 0; j < v.n; ++j) s += row[j];
            po[o] = s * scale;
        }
        return;
    }
    for (int64_t o = 0; o < v.outer; ++o) {
        T* y = po + o * v.inner;
        for (int64_t i = 0; i < v.inner; ++i) y[i] = 0;
        for (int64_t j = 0; j < v.n; ++j) {
            const T* row = px + (o * v.n + j) * v.inner;
            for (int64_t i = 0; i < v.inner; ++i) y[i] += row[i];
        }
        for (int64_t i = 0; i < v.inner; ++i) y[i] *= scale;
    }
}

template <class T>
void sum_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    AxisView v = load_view(n);
    T scale = static_cast<T>(n.farg[0]);
    const T* dy = g.node(n.id).grad.data<T>();
    T* dx = g.grad(n.inputs[0]).data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t j = 0; j < v.n; ++j) {
            T* row = dx + (o * v.n + j) * v.inner;
            const T* gy = dy + o * v.inner;
            for (int64_t i = 0; i < v.inner; ++i) row[i] += gy[i] * scale;
        }
}

void sum_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { sum_backward_t<decltype(t)>(g, n); });
}

Var sum_impl(const char* name, Var x, int axis, bool keepdim, bool is_mean) {
    BENCHTOP_CHECK(x.defined(), name, ": undefined operand");
    Graph& g = *x.g;
    const Tensor& vx = x.value();
    int ax = vx.shape().axis(axis, name);
    AxisView v = axis_view(vx.shape(), ax);
    Tensor out = g.make_tensor(reduced_shape(vx.shape(), ax, keepdim), vx.dtype());
    double scale = is_mean ? 1.0 / static_cast<double>(v.n) : 1.0;
    dispatch_float(vx.dtype(), name, [&](auto t) {
        using T = decltype(t);
        sum_forward_t<T>(vx, out, v, static_cast<T>(scale));
    });
    Var y = g.record(name, out, sum_backward, {x});
    if (y.records()) {
        store_view(g.node(y), v);
        g.node(y).farg[0] = scale;
    }
    return y;
}

// ---------------------------------------------------------------- max

template <class T>
void max_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    AxisView v = load_view(n);
    const T* dy = g.node(n.id).grad.data<T>();
    const int32_t* arg = n.saved[0].data<int32_t>();
    T* dx = g.grad(n.inputs[0]).data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t i = 0; i < v.inner; ++i) {
            int64_t k = o * v.inner + i;
            dx[(o * v.n + arg[k]) * v.inner + i] += dy[k];
        }
}

void max_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { max_backward_t<decltype(t)>(g, n); });
}

// ---------------------------------------------------------------- whole tensor

template <class T>
void sum_all_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    T d = g.node(n.id).grad.data<T>()[0] * static_cast<T>(n.farg[0]);
    Tensor& gx = g.grad(n.inputs[0]);
    T* dx = gx.data<T>();
    int64_t total = gx.numel();
    for (int64_t i = 0; i < total; ++i) dx[i] += d;
}

void sum_all_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { sum_all_backward_t<decltype(t)>(g, n); });
}

Var sum_all_impl(const char* name, Var x, bool is_mean) {
    BENCHTOP_CHECK(x.defined(), name, ": undefined operand");
    Graph& g = *x.g;
    const Tensor& vx = x.value();
    Tensor out = g.make_tensor(Shape{1}, vx.dtype());
    int64_t total = vx.numel();
    double scale = is_mean ? 1.0 / static_cast<double>(total) : 1.0;
    dispatch_float(vx.dtype(), name, [&](auto t) {
        using T = decltype(t);
        const T* px = vx.data<T>();
        // Accumulate in double for accuracy on large float32 tensors.
        double s = 0;
        for (int64_t i = 0; i < total; ++i) s += static_cast<double>(px[i]);
        out.data<T>()[0] = static_cast<T>(s * scale);
    });
    Var y = g.record(name, out, sum_all_backward, {x});
    if (y.records()) g.node(y).farg[0] = scale;
    return y;
}

// ---------------------------------------------------------------- softmax

template <class T, bool LOG>
void softmax_forward_t(const Tensor& x, Tensor& out, const AxisView& v) {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t i = 0; i < v.inner; ++i) {
            const T* xr = px + o * v.n * v.inner + i;
            T* yr = po + o * v.n * v.inner + i;
            int64_t st = v.inner;
            T m = xr[0];
            for (int64_t j = 1; j < v.n; ++j) m = xr[j * st] > m ? xr[j * st] : m;
            T s = 0;
            if constexpr (LOG) {
                for (int64_t j = 0; j < v.n; ++j) s += std::exp(xr[j * st] - m);
                T ls = std::log(s);  // (x - m) - log s: exact cancellation near the max
                for (int64_t j = 0; j < v.n; ++j) yr[j * st] = (xr[j * st] - m) - ls;
            } else {
                for (int64_t j = 0; j < v.n; ++j) {
                    T e = std::exp(xr[j * st] - m);
                    yr[j * st] = e;
                    s += e;
                }
                T inv = T(1) / s;
                for (int64_t j = 0; j < v.n; ++j) yr[j * st] *= inv;
            }
        }
}

template <class T, bool LOG>
void softmax_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    AxisView v = load_view(n);
    const T* py = g.node(n.id).value.data<T>();
    const T* pdy = g.node(n.id).grad.data<T>();
    T* pdx = g.grad(n.inputs[0]).data<T>();
    int64_t st = v.inner;
    for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t i = 0; i < v.inner; ++i) {
            int64_t base = o * v.n * v.inner + i;
            const T* y = py + base;
            const T* dy = pdy + base;
            T* dx = pdx + base;
            T s = 0;
            if constexpr (LOG) {
                for (int64_t j = 0; j < v.n; ++j) s += dy[j * st];
                for (int64_t j = 0; j < v.n; ++j)
                    dx[j * st] += dy[j * st] - std::exp(y[j * st]) * s;
            } else {
                for (int64_t j = 0; j < v.n; ++j) s += dy[j * st] * y[j * st];
                for (int64_t j = 0; j < v.n; ++j) dx[j * st] += y[j * st] * (dy[j * st] - s);
            }
        }
}

template <bool LOG>
void softmax_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { softmax_backward_t<decltype(t), LOG>(g, n); });
}

template <bool LOG>
Var softmax_impl(const char* name, Var x, int axis) {
    BENCHTOP_CHECK(x.defined(), name, ": undefined operand");
    Graph& g = *x.g;
    const Tensor& vx = x.value();
    int ax = vx.shape().axis(axis, name);
    AxisView v = axis_view(vx.shape(), ax);
    Tensor out = g.make_tensor(vx.shape(), vx.dtype());
    dispatch_float(vx.dtype(), name,
                   [&](auto t) { softmax_forward_t<decltype(t), LOG>(vx, out, v); });
    Var y = g.record(name, out, softmax_backward<LOG>, {x});
    if (y.records()) store_view(g.node(y), v);
    return y;
}

}  // namespace

Var sum(Var x, int axis, bool keepdim) {
    return sum_impl("sum", x, axis, keepdim, false);
}
Var mean(Var x, int axis, bool keepdim) {
    return sum_impl("mean", x, axis, keepdim, true);
}

Var max(Var x, int axis, bool keepdim) {
    BENCHTOP_CHECK(x.defined(), "max: undefined operand");
    Graph& g = *x.g;
    const Tensor& vx = x.value();
    int ax = vx.shape().axis(axis, "max");
    AxisView v = axis_view(vx.shape(), ax);
    BENCHTOP_CHECK(v.n > 0, "max: cannot reduce an empty axis of shape ", vx.shape().str());
    Shape os = reduced_shape(vx.shape(), ax, keepdim);
    Tensor out = g.make_tensor(os, vx.dtype());
    Tensor arg = g.make_tensor(os, DType::I32);
    dispatch_float(vx.dtype(), "max", [&](auto t) {
        using T = decltype(t);
        const T* px = vx.data<T>();
        T* po = out.data<T>();
        int32_t* pa = arg.data<int32_t>();
        for (int64_t o = 0; o < v.outer; ++o)
            for (int64_t i = 0; i < v.inner; ++i) {
                const T* xr = px + o * v.n * v.inner + i;
                T m = xr[0];
                int32_t best = 0;
                for (int64_t j = 1; j < v.n; ++j)
                    if (xr[j * v.inner] > m) {  // strict: first maximum wins
                        m = xr[j * v.inner];
                        best = static_cast<int32_t>(j);
                    }
                po[o * v.inner + i] = m;
                pa[o * v.inner + i] = best;
            }
    });
    Var y = g.record("max", out, max_backward, {x});
    if (y.records()) {
        Node& n = g.node(y);
        store_view(n, v);
        n.saved[0] = arg;
    }
    return y;
}

Var sum_all(Var x) {
    return sum_all_impl("sum_all", x, false);
}
Var mean_all(Var x) {
    return sum_all_impl("mean_all", x, true);
}
Var softmax(Var x, int axis) {
    return softmax_impl<false>("softmax", x, axis);
}
Var log_softmax(Var x, int axis) {
    return softmax_impl<true>("log_softmax", x, axis);
}

}  // namespace benchtop
