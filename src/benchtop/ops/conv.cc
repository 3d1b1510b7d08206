// conv1d (im2col + one GEMM per member) and 1-D max/average pooling, PyTorch semantics.
// Dimension legend: K members, B batch, C in channels, O out channels, L length, k kernel.
// Rules: float32/float64 via dispatch_float; scratch and outputs come from the graph arena;
// backward accumulates (+=) into an input's gradient only when the input needs it.
#include "benchtop/ops/conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "benchtop/ops/select.h"
#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

struct ConvDims {
    int64_t K, Kx, B, C, L, O, k, s, p, Lo;
    int64_t ck() const { return C * k; }
    int64_t cols() const { return B * Lo; }
};

ConvDims conv_dims(const Shape& x, const Shape& w, int64_t s, int64_t p) {
    ConvDims d{};
    d.Kx = x[0];
    d.B = x[1];
    d.C = x[2];
    d.L = x[3];
    d.K = w[0];
    d.O = w[1];
    d.k = w[3];
    d.s = s;
    d.p = p;
    d.Lo = (d.L + 2 * p - d.k) / s + 1;
    return d;
}

// Output positions t in [t0, t1) read x inside [0, L) at tap j; the rest read padding.
void valid_range(const ConvDims& d, int64_t j, int64_t* t0, int64_t* t1) {
    int64_t lo = d.p - j, hi = d.L + d.p - j;  // need lo <= t * s < hi
    *t0 = lo > 0 ? std::min(d.Lo, (lo + d.s - 1) / d.s) : 0;
    *t1 = hi > 0 ? std::min(d.Lo, (hi + d.s - 1) / d.s) : 0;
    if (*t1 < *t0) *t1 = *t0;
}

// col[(c * k + j), b * Lo + t] = x[b, c, t * s - p + j] (0 outside).
template <class T>
void im2col(const ConvDims& d, const T* x, T* col) {
    int64_t n = d.cols();
    for (int64_t j = 0; j < d.k; ++j) {
        int64_t t0, t1;
        valid_range(d, j, &t0, &t1);
        int64_t off = j - d.p;
        for (int64_t c = 0; c < d.C; ++c) {
            T* row = col + (c * d.k + j) * n;
            for (int64_t b = 0; b < d.B; ++b) {
                const T* xr = x + (b * d.C + c) * d.L;
                T* r = row + b * d.Lo;
                for (int64_t t = 0; t < t0; ++t) r[t] = T(0);
                if (d.s == 1) {
                    for (int64_t t = t0; t < t1; ++t) r[t] = xr[t + off];
                } else {
                    for (int64_t t = t0; t < t1; ++t) r[t] = xr[t * d.s + off];
                }
                for (int64_t t = t1; t < d.Lo; ++t) r[t] = T(0);
            }
        }
    }
}

// Adjoint of im2col: x[b, c, t * s - p + j] += col[(c * k + j), b * Lo + t].
template <class T>
void col2im_add(const ConvDims& d, const T* col, T* x) {
    int64_t n = d.cols();
    for (int64_t j = 0; j < d.k; ++j) {
        int64_t t0, t1;
        valid_range(d, j, &t0, &t1);
        int64_t off = j - d.p;
        for (int64_t c = 0; c < d.C; ++c) {
            const T* row = col + (c * d.k + j) * n;
            for (int64_t b = 0; b < d.B; ++b) {
                T* xr = x + (b * d.C + c) * d.L;
                const T* r = row + b * d.Lo;
                for (int64_t t = t0; t < t1; ++t) xr[t * d.s + off] += r[t];
            }
        }
    }
}

// Sum of a row of n values with 16 interleaved partial sums in a fixed order (vectorises;
// a single serial chain over B * Lo values was the slowest part of the bias gradient).
template <class T>
T row_sum(const T* r, int64_t n) {
    T acc[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; ++j) acc[j] += r[i + j];
    for (int j = 0; i + j < n; ++j) acc[j] += r[i + j];
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
    return acc[0];
}

// dz[i] = y[i] > 0 ? dy[i] : 0 (ReLU backward) for a row of n values; returns the row's sum
// of dz, in row_sum's order. NOTE: two plain passes. The one-pass form (select, store and 16
// partial sums in one loop) is miscompiled by GCC 12.2's loop vectoriser whenever the 16 lanes
// span two vectors (AVX2, or AVX-512 tuned for 256-bit vectors as -march=sapphirerapids is):
// the upper vector's select used the union of both halves' masks, so the conv bias and input
// gradients were wrong (tests/ops/conv_test.cc, Conv1dClb.FusedReluBackwardEqualsScalarReference).
template <class T>
T relu_mask_row_sum(const T* __restrict y, const T* __restrict dy, T* __restrict dz, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dz[i] = detail::where_positive(y[i], dy[i]);  // ops/select.h
    return row_sum(dz, n);
}

template <class T>
void conv1d_backward_t(Graph& g, const Node& n) {
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& w = g.node(n.inputs[1]).value;
    ConvDims d = conv_dims(x.shape(), w.shape(), n.iarg[0], n.iarg[1]);
    const T* dy = g.node(n.id).grad.data<T>();
    const T* pw = w.data<T>();
    // The forward pass kept the im2col columns whenever w needed a gradient.
    bool gx = g.needs_grad(n.inputs[0]), gw = g.needs_grad(n.inputs[1]);
    bool gb = n.n_inputs > 2 && g.needs_grad(n.inputs[2]);
    int64_t CK = d.ck(), NC = d.cols();
    int64_t sx = d.Kx == 1 ? 0 : d.B * d.C * d.L;
    Tensor dyt = g.make_tensor({d.O, NC}, w.dtype());  // dy of member k as [O, B * Lo]
    Tensor dcol = gx ? g.make_tensor({CK, NC}, w.dtype()) : Tensor();
    T* pt = dyt.data<T>();
    // Fused ReLU (conv1d_relu): the pre-activation gradient is dy where y > 0 (y > 0 exactly
    // where the pre-activation is), applied while dy is transposed.
    const T* py = n.iarg[2] != 0 ? g.node(n.id).value.data<T>() : nullptr;
    for (int64_t k = 0; k < d.K; ++k) {
        const int64_t off_k = k * d.B * d.O * d.Lo;
        const T* dyk = dy + off_k;
        for (int64_t b = 0; b < d.B; ++b)
            for (int64_t o = 0; o < d.O; ++o) {
                const T* src = dyk + (b * d.O + o) * d.Lo;
                T* dst = pt + o * NC + b * d.Lo;
                if (py) {
                    const T* yr = py + off_k + (b * d.O + o) * d.Lo;
                    for (int64_t i = 0; i < d.Lo; ++i) dst[i] = yr[i] > T(0) ? src[i] : T(0);
                } else {
                    std::memcpy(dst, src, size_t(d.Lo) * sizeof(T));
                }
            }
        if (gb) {
            T* db = g.grad(n.inputs[2]).data<T>() + k * d.O;
            for (int64_t o = 0; o < d.O; ++o) db[o] += row_sum(pt + o * NC, NC);
        }
        if (gw) {  // dw[k] += dyt col^T
            const T* ck = n.saved[0].data<T>() + (d.Kx == 1 ? 0 : k * CK * NC);
            gemm(false, true, d.O, CK, NC, T(1), pt, NC, ck, NC, T(1),
                 g.grad(n.inputs[1]).data<T>() + k * d.O * CK, CK);
        }
        if (gx) {  // dcol = w[k]^T dyt, then scatter into dx
            gemm(true, false, CK, NC, d.O, T(1), pw + k * d.O * CK, CK, pt, NC, T(0),
                 dcol.data<T>(), NC);
            col2im_add(d, dcol.data<T>(), g.grad(n.inputs[0]).data<T>() + k * sx);
        }
    }
}

void conv1d_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "conv1d",
                   [&](auto t) { conv1d_backward_t<decltype(t)>(g, n); });
}

// Batch-innermost layout (conv1d_clb): x [C, L, B] per member, output [O, Lo, B].
// col[(c * k + j), (t - t0) * B + b] = x[c, t * s - p + j, b] (0 outside) for output
// positions t in [t0, t1): whole batch rows.
template <class T>
void im2col_clb(const ConvDims& d, const T* x, T* col, int64_t t0, int64_t t1) {
    const int64_t B = d.B, n = (t1 - t0) * B;
    for (int64_t c = 0; c < d.C; ++c)
        for (int64_t j = 0; j < d.k; ++j) {
            T* row = col + (c * d.k + j) * n;
            for (int64_t t = t0; t < t1; ++t) {
                int64_t i = t * d.s - d.p + j;
                T* r = row + (t - t0) * B;
                if (i >= 0 && i < d.L)
                    std::memcpy(r, x + (c * d.L + i) * B, size_t(B) * sizeof(T));
                else
                    std::memset(r, 0, size_t(B) * sizeof(T));
            }
        }
}

// Adjoint of im2col_clb: x[c, t * s - p + j, b] += col[(c * k + j), t * B + b].
template <class T>
void col2im_clb_add(const ConvDims& d, const T* col, T* x) {
    const int64_t n = d.cols(), B = d.B;
    for (int64_t c = 0; c < d.C; ++c)
        for (int64_t j = 0; j < d.k; ++j) {
            const T* row = col + (c * d.k + j) * n;
            for (int64_t t = 0; t < d.Lo; ++t) {
                int64_t i = t * d.s - d.p + j;
                if (i < 0 || i >= d.L) continue;
                T* xr = x + (c * d.L + i) * B;
                const T* r = row + t * B;
                for (int64_t b = 0; b < B; ++b) xr[b] += r[b];
            }
        }
}

// Dims of conv1d_clb from x [Kx, C, L, B] (stored in ConvDims' [Kx, B, C, L] terms).
ConvDims conv_dims_clb(const Shape& x, const Shape& w, int64_t s, int64_t p) {
    return conv_dims(Shape({x[0], x[3], x[1], x[2]}), w, s, p);
}

template <class T>
void conv1d_clb_backward_t(Graph& g, const Node& n) {
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& w = g.node(n.inputs[1]).value;
    ConvDims d = conv_dims_clb(x.shape(), w.shape(), n.iarg[0], n.iarg[1]);
    const T* dy = g.node(n.id).grad.data<T>();
    const T* pw = w.data<T>();
    bool gx = g.needs_grad(n.inputs[0]), gw = g.needs_grad(n.inputs[1]);
    bool gb = n.n_inputs > 2 && g.needs_grad(n.inputs[2]);
    const int64_t CK = d.ck(), NC = d.cols(), ny = d.O * NC;
    const int64_t sx = d.Kx == 1 ? 0 : d.C * d.L * d.B;
    // Fused ReLU: the pre-activation gradient is dy where y > 0, into a scratch block.
    const T* py = n.iarg[2] != 0 ? g.node(n.id).value.data<T>() : nullptr;
    T* dz = py ? g.make_tensor({d.O, NC}, w.dtype()).data<T>() : nullptr;
    T* dcol = gx ? g.make_tensor({CK, NC}, w.dtype()).data<T>() : nullptr;
    for (int64_t k = 0; k < d.K; ++k) {
        const T* dyk = dy + k * ny;
        T* db = gb ? g.grad(n.inputs[2]).data<T>() + k * d.O : nullptr;
        if (py) {  // mask and bias sums in one pass
            const T* yk = py + k * ny;
            for (int64_t o = 0; o < d.O; ++o) {
                T sum = relu_mask_row_sum(yk + o * NC, dyk + o * NC, dz + o * NC, NC);
                if (db) db[o] += sum;
            }
            dyk = dz;
        } else if (db) {
            for (int64_t o = 0; o < d.O; ++o) db[o] += row_sum(dyk + o * NC, NC);
        }
        if (gw) {  // dw[k] += dy[k] col^T
            const T* ck = n.saved[0].data<T>() + (d.Kx == 1 ? 0 : k * CK * NC);
            gemm(false, true, d.O, CK, NC, T(1), dyk, NC, ck, NC, T(1),
                 g.grad(n.inputs[1]).data<T>() + k * d.O * CK, CK);
        }
        if (gx) {  // dcol = w[k]^T dy[k], then scatter into dx
            gemm(true, false, CK, NC, d.O, T(1), pw + k * d.O * CK, CK, dyk, NC, T(0), dcol, NC);
            col2im_clb_add(d, dcol, g.grad(n.inputs[0]).data<T>() + k * sx);
        }
    }
}

void conv1d_clb_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "conv1d_clb",
                   [&](auto t) { conv1d_clb_backward_t<decltype(t)>(g, n); });
}

struct PoolDims {
    int64_t rows, L, Lo, k, s, p;
};

PoolDims pool_dims(const Shape& x, int64_t k, int64_t s, int64_t p) {
    PoolDims d{};
    d.L = x.back();
    d.rows = x.numel() / d.L;
    d.k = k;
    d.s = s;
    d.p = p;
    d.Lo = (d.L + 2 * p - k) / s + 1;
    return d;
}

void max_pool_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    const int32_t* arg = n.saved[0].data<int32_t>();
    int64_t L = g.node(n.inputs[0]).value.shape().back(), Lo = dy.shape().back();
    int64_t rows = dy.numel() / Lo;
    dispatch_float(dy.dtype(), "max_pool1d", [&](auto t) {
        using T = decltype(t);
        T* dx = g.grad(n.inputs[0]).template data<T>();
        const T* py = dy.template data<T>();
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t o = 0; o < Lo; ++o) dx[r * L + arg[r * Lo + o]] += py[r * Lo + o];
    });
}

void avg_pool_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    PoolDims d = pool_dims(g.node(n.inputs[0]).value.shape(), n.iarg[0], n.iarg[1], n.iarg[2]);
    dispatch_float(dy.dtype(), "avg_pool1d", [&](auto t) {
        using T = decltype(t);
        T* dx = g.grad(n.inputs[0]).template data<T>();
        const T* py = dy.template data<T>();
        T inv = T(1) / T(d.k);
        for (int64_t r = 0; r < d.rows; ++r)
            for (int64_t o = 0; o < d.Lo; ++o) {
                T gv = py[r * d.Lo + o] * inv;
                for (int64_t j = 0; j < d.k; ++j) {
                    int64_t i = o * d.s - d.p + j;
                    if (i >= 0 && i < d.L) dx[r * d.L + i] += gv;
                }
            }
    });
}

PoolDims check_pool(const char* op, Var x, int kernel, int& stride, int padding) {
    const Shape& s = x.shape();
    if (stride <= 0) stride = kernel;
    BENCHTOP_CHECK(s.rank() >= 2, op, ": input must be [K, ..., L], got ", s.str());
    BENCHTOP_CHECK(kernel >= 1 && padding >= 0 && 2 * padding <= kernel, op, ": kernel ", kernel,
                   " and padding ", padding,
                   " are invalid (need kernel >= 1, 0 <= padding <= kernel / 2); input ", s.str());
    BENCHTOP_CHECK(s.back() + 2 * padding >= kernel, op, ": kernel ", kernel,
                   " is longer than the padded input (shape ", s.str(), ", padding ", padding, ")");
    return pool_dims(s, kernel, stride, padding);
}

Shape pooled_shape(const Shape& s, int64_t Lo) {
    Shape o = s;
    o[o.rank() - 1] = Lo;
    return o;
}

Var conv1d_impl(const char* op, Var x, Var w, Var b, int stride, int padding, bool relu_out) {
    const Shape& sx = x.shape();
    const Shape& sw = w.shape();
    BENCHTOP_CHECK(sw.rank() == 4, op, ": weight must be [K, O, C, k], got ", sw.str());
    BENCHTOP_CHECK(sx.rank() == 4 && sx[2] == sw[2] && (sx[0] == sw[0] || sx[0] == 1),
                   op, ": input of shape ", sx.str(), " does not fit weight of shape ", sw.str(),
                   " (expected [K or 1, B, ", sw[2], ", L])");
    BENCHTOP_CHECK(x.dtype() == w.dtype(), op, ": input is ", dtype_name(x.dtype()),
                   " but weight is ", dtype_name(w.dtype()), " (shapes ", sx.str(), " and ",
                   sw.str(), ")");
    BENCHTOP_CHECK(stride >= 1 && padding >= 0, op, ": invalid stride ", stride, " or padding ",
                   padding, " (input ", sx.str(), ")");
    BENCHTOP_CHECK(sx[3] + 2 * padding >= sw[3], op, ": kernel of weight ", sw.str(),
                   " is longer than the padded input ", sx.str(), " (padding ", padding, ")");
    if (b.defined()) {
        BENCHTOP_CHECK(b.shape() == Shape({sw[0], sw[1]}) && b.dtype() == w.dtype(),
                       op, ": bias of shape ", b.shape().str(), " does not fit weight of shape ",
                       sw.str(), " (expected [", sw[0], ", ", sw[1], "])");
    }
    ConvDims d = conv_dims(sx, sw, stride, padding);
    Graph& g = *x.g;
    Tensor out = g.make_tensor({d.K, d.B, d.O, d.Lo}, x.dtype());
    bool keep_col = g.grad_enabled() && g.needs_grad(w.id);
    Tensor col;
    dispatch_float(x.dtype(), op, [&](auto t) {
        using T = decltype(t);
        int64_t CK = d.ck(), NC = d.cols();
        // The columns are kept for the weight gradient when it is needed (one block per
        // distinct input member), so backward does not redo im2col.
        int64_t n_col = keep_col ? (d.Kx == 1 ? 1 : d.K) : 1;
        col = g.make_tensor({n_col, CK, NC}, x.dtype());
        Tensor tmp = g.make_tensor({d.O, NC}, x.dtype());
        const T* px = x.value().template data<T>();
        const T* pw = w.value().template data<T>();
        T* pc = col.template data<T>();
        T* pt = tmp.template data<T>();
        T* po = out.template data<T>();
        int64_t sxk = d.Kx == 1 ? 0 : d.B * d.C * d.L;
        for (int64_t k = 0; k < d.K; ++k) {
            T* ck = keep_col && d.Kx != 1 ? pc + k * CK * NC : pc;
            if (k == 0 || d.Kx != 1) im2col(d, px + k * sxk, ck);
            gemm(false, false, d.O, NC, CK, T(1), pw + k * d.O * CK, CK, ck, NC, T(0), pt, NC);
            const T* bk = b.defined() ? b.value().template data<T>() + k * d.O : nullptr;
            T* yk = po + k * d.B * d.O * d.Lo;
            for (int64_t bi = 0; bi < d.B; ++bi)
                for (int64_t o = 0; o < d.O; ++o) {
                    T* yr = yk + (bi * d.O + o) * d.Lo;
                    const T* tr = pt + o * NC + bi * d.Lo;
                    T bias = bk ? bk[o] : T(0);
                    if (relu_out) {  // same select as relu()
                        for (int64_t i = 0; i < d.Lo; ++i) {
                            T v = tr[i] + bias;
                            yr[i] = v < T(0) ? T(0) : v;
                        }
                    } else {
                        for (int64_t i = 0; i < d.Lo; ++i) yr[i] = tr[i] + bias;
                    }
                }
        }
    });
    Var res = g.record(op, out, conv1d_backward, {x, w, b});
    if (res.records()) {
        Node& n = g.node(res);
        n.iarg[0] = stride;
        n.iarg[1] = padding;
        n.iarg[2] = relu_out ? 1 : 0;
        if (keep_col) n.saved[0] = col;
    }
    return res;
}

Var conv1d_clb_impl(const char* op, Var x, Var w, Var b, int stride, int padding, bool relu_out) {
    const Shape& sx = x.shape();
    const Shape& sw = w.shape();
    BENCHTOP_CHECK(sw.rank() == 4, op, ": weight must be [K, O, C, k], got ", sw.str());
    BENCHTOP_CHECK(sx.rank() == 4 && sx[1] == sw[2] && (sx[0] == sw[0] || sx[0] == 1),
                   op, ": input of shape ", sx.str(), " does not fit weight of shape ", sw.str(),
                   " (expected [K or 1, ", sw[2], ", L, B])");
    BENCHTOP_CHECK(x.dtype() == w.dtype(), op, ": input is ", dtype_name(x.dtype()),
                   " but weight is ", dtype_name(w.dtype()), " (shapes ", sx.str(), " and ",
                   sw.str(), ")");
    BENCHTOP_CHECK(stride >= 1 && padding >= 0, op, ": invalid stride ", stride, " or padding ",
                   padding, " (input ", sx.str(), ")");
    BENCHTOP_CHECK(sx[2] + 2 * padding >= sw[3], op, ": kernel of weight ", sw.str(),
                   " is longer than the padded input ", sx.str(), " (padding ", padding, ")");
    if (b.defined()) {
        BENCHTOP_CHECK(b.shape() == Shape({sw[0], sw[1]}) && b.dtype() == w.dtype(),
                       op, ": bias of shape ", b.shape().str(), " does not fit weight of shape ",
                       sw.str(), " (expected [", sw[0], ", ", sw[1], "])");
    }
    ConvDims d = conv_dims_clb(sx, sw, stride, padding);
    Graph& g = *x.g;
    Tensor out = g.make_tensor({d.K, d.O, d.Lo, d.B}, x.dtype());
    bool keep_col = g.grad_enabled() && g.needs_grad(w.id);
    Tensor col;
    dispatch_float(x.dtype(), op, [&](auto t) {
        using T = decltype(t);
        const int64_t CK = d.ck(), NC = d.cols();
        // Columns are kept for the weight gradient (one block per distinct input member).
        // Without a backward pass (evaluation of a whole data set), they are built and used
        // a few output positions at a time: a block of ~256 KB stays in cache and is reused
        // instead of megabytes of fresh memory per layer (page faults were ~6% of a run).
        int64_t n_col = keep_col ? (d.Kx == 1 ? 1 : d.K) : 1;
        int64_t tc = keep_col ? d.Lo
                              : std::clamp<int64_t>((int64_t(1) << 16) / std::max<int64_t>(1, CK * d.B),
                                                    1, d.Lo);
        col = g.make_tensor({n_col, CK, tc * d.B}, x.dtype());
        const T* px = x.value().template data<T>();
        const T* pw = w.value().template data<T>();
        T* pc = col.template data<T>();
        T* po = out.template data<T>();
        const int64_t sxk = d.Kx == 1 ? 0 : d.C * d.L * d.B;
        for (int64_t k = 0; k < d.K; ++k) {
            T* ck = keep_col && d.Kx != 1 ? pc + k * CK * NC : pc;
            T* yk = po + k * d.O * NC;
            if (keep_col) {
                if (k == 0 || d.Kx != 1) im2col_clb(d, px + k * sxk, ck, 0, d.Lo);
                gemm(false, false, d.O, NC, CK, T(1), pw + k * d.O * CK, CK, ck, NC, T(0), yk, NC);
            } else {
                for (int64_t t0 = 0; t0 < d.Lo; t0 += tc) {
                    int64_t t1 = std::min(d.Lo, t0 + tc), nc = (t1 - t0) * d.B;
                    im2col_clb(d, px + k * sxk, ck, t0, t1);
                    gemm(false, false, d.O, nc, CK, T(1), pw + k * d.O * CK, CK, ck, nc, T(0),
                         yk + t0 * d.B, NC);
                }
            }
            const T* bk = b.defined() ? b.value().template data<T>() + k * d.O : nullptr;
            for (int64_t o = 0; o < d.O; ++o) {  // bias (+ ReLU) epilogue, in place
                T* yr = yk + o * NC;
                T bias = bk ? bk[o] : T(0);
                if (relu_out) {  // same select as relu()
                    for (int64_t i = 0; i < NC; ++i) {
                        T v = yr[i] + bias;
                        yr[i] = v < T(0) ? T(0) : v;
                    }
                } else {
                    for (int64_t i = 0; i < NC; ++i) yr[i] += bias;
                }
            }
        }
    });
    Var res = g.record(op, out, conv1d_clb_backward, {x, w, b});
    if (res.records()) {
        Node& n = g.node(res);
        n.iarg[0] = stride;
        n.iarg[1] = padding;
        n.iarg[2] = relu_out ? 1 : 0;
        if (keep_col) n.saved[0] = col;
    }
    return res;
}

}  // namespace

Var conv1d(Var x, Var w, Var b, int stride, int padding) {
    return conv1d_impl("conv1d", x, w, b, stride, padding, false);
}

Var conv1d_relu(Var x, Var w, Var b, int stride, int padding) {
    return conv1d_impl("conv1d_relu", x, w, b, stride, padding, true);
}

Var conv1d_clb(Var x, Var w, Var b, int stride, int padding) {
    return conv1d_clb_impl("conv1d_clb", x, w, b, stride, padding, false);
}

Var conv1d_clb_relu(Var x, Var w, Var b, int stride, int padding) {
    return conv1d_clb_impl("conv1d_clb_relu", x, w, b, stride, padding, true);
}

Var max_pool1d(Var x, int kernel, int stride, int padding) {
    PoolDims d = check_pool("max_pool1d", x, kernel, stride, padding);
    Graph& g = *x.g;
    Shape os = pooled_shape(x.shape(), d.Lo);
    Tensor out = g.make_tensor(os, x.dtype());
    Tensor arg = g.make_tensor(os, DType::I32);
    int32_t* pa = arg.data<int32_t>();
    dispatch_float(x.dtype(), "max_pool1d", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* po = out.template data<T>();
        for (int64_t r = 0; r < d.rows; ++r)
            for (int64_t o = 0; o < d.Lo; ++o) {
                T best = -std::numeric_limits<T>::infinity();
                int64_t bi = -1;
                for (int64_t j = 0; j < d.k; ++j) {
                    int64_t i = o * d.s - d.p + j;
                    if (i < 0 || i >= d.L) continue;
                    T v = px[r * d.L + i];
                    if (bi < 0 || v > best || std::isnan(v)) {
                        best = v;
                        bi = i;
                        if (std::isnan(v)) break;
                    }
                }
                po[r * d.Lo + o] = best;
                pa[r * d.Lo + o] = int32_t(bi);
            }
    });
    Var res = g.record("max_pool1d", out, max_pool_backward, {x});
    if (res.records()) g.node(res).saved[0] = arg;
    return res;
}

Var avg_pool1d(Var x, int kernel, int stride, int padding) {
    PoolDims d = check_pool("avg_pool1d", x, kernel, stride, padding);
    Graph& g = *x.g;
    Tensor out = g.make_tensor(pooled_shape(x.shape(), d.Lo), x.dtype());
    dispatch_float(x.dtype(), "avg_pool1d", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* po = out.template data<T>();
        T inv = T(1) / T(d.k);
        for (int64_t r = 0; r < d.rows; ++r)
            for (int64_t o = 0; o < d.Lo; ++o) {
                T s = 0;
                for (int64_t j = 0; j < d.k; ++j) {
                    int64_t i = o * d.s - d.p + j;
                    if (i >= 0 && i < d.L) s += px[r * d.L + i];
                }
                po[r * d.Lo + o] = s * inv;
            }
    });
    Var res = g.record("avg_pool1d", out, avg_pool_backward, {x});
    if (res.records()) {
        g.node(res).iarg[0] = d.k;
        g.node(res).iarg[1] = d.s;
        g.node(res).iarg[2] = d.p;
    }
    return res;
}

}  // namespace benchtop
