// matmul and linear, batched over members. Dimension legend: K members, N flattened
// batch rows, D input features, O output features; M, P generic matrix sizes.
#include "benchtop/ops/linalg.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "benchtop/tensor/column_sums.h"
#include "benchtop/tensor/fma_gemm.h"
#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

// Batch bookkeeping for matmul: output batch shape and, per output batch index, the batch
// index of a and b (with broadcasting).
struct BatchMap {
    int64_t n_batch = 1;
    std::vector<int64_t> ia, ib;
};

BatchMap batch_map(const Shape& a, const Shape& b, Shape* out_batch) {
    Shape ba, bb;
    for (int i = 0; i < a.rank() - 2; ++i) ba.push_back(a[i]);
    for (int i = 0; i < b.rank() - 2; ++i) bb.push_back(b[i]);
    Shape bo = broadcast_shapes(ba, bb, "matmul");
    *out_batch = bo;
    BatchMap m;
    m.n_batch = bo.numel();
    m.ia.resize(static_cast<size_t>(m.n_batch));
    m.ib.resize(static_cast<size_t>(m.n_batch));
    int r = bo.rank();
    for (int64_t o = 0; o < m.n_batch; ++o) {
        int64_t rem = o, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int d = r - 1; d >= 0; --d) {
            int64_t idx = rem % bo[d];
            rem /= bo[d];
            int da = d - (r - ba.rank()), db = d - (r - bb.rank());
            if (da >= 0) {
                if (ba[da] != 1) ia += idx * sa;
                sa *= ba[da];
            }
            if (db >= 0) {
                if (bb[db] != 1) ib += idx * sb;
                sb *= bb[db];
            }
        }
        m.ia[static_cast<size_t>(o)] = ia;
        m.ib[static_cast<size_t>(o)] = ib;
    }
    return m;
}

template <class T>
void matmul_backward_t(Graph& g, const Node& n) {
    const Tensor& a = g.node(n.inputs[0]).value;
    const Tensor& b = g.node(n.inputs[1]).value;
    const Tensor& dout = g.node(n.id).grad;
    Shape bo;
    BatchMap bm = batch_map(a.shape(), b.shape(), &bo);
    int64_t M = a.shape()[a.rank() - 2], N = a.shape().back(), P = b.shape().back();
    const T* dy = dout.data<T>();
    if (g.needs_grad(n.inputs[0])) {
        T* da = g.grad(n.inputs[0]).data<T>();
        const T* pb = b.data<T>();
        for (int64_t o = 0; o < bm.n_batch; ++o)  // da += dy b^T
            gemm(false, true, M, N, P, T(1), dy + o * M * P, P, pb + bm.ib[size_t(o)] * N * P, P,
                 T(1), da + bm.ia[size_t(o)] * M * N, N);
    }
    if (g.needs_grad(n.inputs[1])) {
        T* db = g.grad(n.inputs[1]).data<T>();
        const T* pa = a.data<T>();
        for (int64_t o = 0; o < bm.n_batch; ++o)  // db += a^T dy
            gemm(true, false, N, P, M, T(1), pa + bm.ia[size_t(o)] * M * N, N, dy + o * M * P, P,
                 T(1), db + bm.ib[size_t(o)] * N * P, P);
    }
}

void matmul_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "matmul",
                   [&](auto t) { matmul_backward_t<decltype(t)>(g, n); });
}

struct LinearDims {
    int64_t K, Kx, N, D, O;
};

LinearDims linear_dims(const Shape& x, const Shape& w) {
    LinearDims d{};
    d.K = w[0];
    d.O = w[1];
    d.D = w[2];
    d.Kx = x[0];
    d.N = x.numel() / (d.Kx * d.D);
    return d;
}

// dz[i] = y[i] > 0 ? dy[i] : 0, the ReLU backward from the ReLU's output. dy[i] is read
// unconditionally: written as a conditional read, the compiler emits masked loads.
template <class T>
void relu_backward(const T* __restrict y, const T* __restrict dy, T* __restrict dz, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const T g = dy[i];
        dz[i] = y[i] > T(0) ? g : T(0);
    }
}

template <class T>
void linear_backward_t(Graph& g, const Node& n) {
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& w = g.node(n.inputs[1]).value;
    LinearDims d = linear_dims(x.shape(), w.shape());
    const T* dout = g.node(n.id).grad.data<T>();
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    int64_t sx = d.Kx == 1 ? 0 : d.N * d.D;
    // The weight's and bias's gradients are written whole: assigned when nothing has been
    // accumulated into them yet (a ParamSet's after zero_grad), else accumulated.
    bool db_fresh = false, dw_fresh = false;
    T* db = n.inputs[2] >= 0 && g.needs_grad(n.inputs[2])
                ? g.grad_for_write(n.inputs[2], &db_fresh).data<T>()
                : nullptr;
    T* dw = g.needs_grad(n.inputs[1]) ? g.grad_for_write(n.inputs[1], &dw_fresh).data<T>()
                                      : nullptr;
    const int64_t member = d.N * d.O;
    const bool relu = n.iarg[0] != 0, residual = n.iarg[1] != 0;
    // Fused ReLU: the masked gradient dz = dout where y > 0 (y > 0 exactly where the
    // pre-activation is), for all members at once, so that each GEMM below is one batched call
    // over the members. The mask is the forward's bits (saved[1], FMA kernel) or the ReLU output
    // (the residual op keeps it in saved[0]). The bias gradient sums each member's dz while it
    // is still in cache.
    const T* dy = dout;
    if (relu) {
        T* dz = g.make_tensor(Shape({d.K, d.N, d.O}), dtype_of<T>()).template data<T>();
        // Bits exist only for float (the FMA kernel's forward).
        const auto* bits = n.saved[1].raw() != nullptr
                               ? reinterpret_cast<const uint16_t*>(n.saved[1].data<int32_t>())
                               : nullptr;
        const T* y = bits       ? nullptr
                     : residual ? n.saved[0].data<T>()
                                : g.node(n.id).value.data<T>();
        const int64_t words = d.N * relu_mask_words(d.O);
        for (int64_t k = 0; k < d.K; ++k) {
            if constexpr (std::is_same_v<T, float>)
                if (bits)  // with the bias gradient in the same pass
                    relu_mask_backward(bits + k * words, dout + k * member, dz + k * member, d.N,
                                       d.O, db ? db + k * d.O : nullptr, db_fresh);
            if (!bits) {
                relu_backward(y + k * member, dout + k * member, dz + k * member, member);
                if (db) add_column_sums(dz + k * member, d.N, d.O, db + k * d.O, db_fresh);
            }
        }
        dy = dz;
    } else if (db) {
        for (int64_t k = 0; k < d.K; ++k)
            add_column_sums(dout + k * member, d.N, d.O, db + k * d.O, db_fresh);
    }
    bool overwrite = false;
    T* dx =
        g.needs_grad(n.inputs[0]) ? g.grad_for_write(n.inputs[0], &overwrite).data<T>() : nullptr;
    if (dx && (sx != 0 || d.K == 1)) {
        // Per-member x: dx[k] (+)= dout[k] (the residual) + dy[k] w[k]. A fresh gradient is
        // assigned by its first write, the residual's or the GEMM's.
        bool fresh = overwrite;
        bool fused = false;
        if constexpr (std::is_same_v<T, float>) {
            if (residual && fresh) {
                // dx = dout + dy w in the kernel's stores: the same sum as the copy followed by
                // the accumulating product below.
                FmaEpilogue ep;
                ep.addend = dout;
                ep.stride_addend = member;
                fma_gemm_batched(false, false, d.K, d.N, d.D, d.O, dy, d.O, member, pw, d.D,
                                 d.O * d.D, dx, d.D, d.N * d.D, ep);
                fused = true;
            }
        }
        if (!fused) {
            if (residual) {
                if (fresh)
                    std::copy(dout, dout + d.K * member, dx);
                else
                    for (int64_t i = 0; i < d.K * member; ++i) dx[i] += dout[i];
                fresh = false;
            }
            gemm_batched(false, false, d.K, d.N, d.D, d.O, dy, d.O, member, pw, d.D, d.O * d.D, dx,
                         d.D, d.N * d.D, !fresh);
        }
    } else if (dx) {
        // x shared by the members: its gradient sums theirs in member order, the residual's
        // first (as the residual add's backward does it before the linear's).
        bool fresh = overwrite;
        if (residual) {
            if (fresh) std::fill(dx, dx + member, T(0));
            for (int64_t k = 0; k < d.K; ++k)
                for (int64_t i = 0; i < member; ++i) dx[i] += dout[k * member + i];
            fresh = false;
        }
        for (int64_t k = 0; k < d.K; ++k)
            gemm_batched(false, false, 1, d.N, d.D, d.O, dy + k * member, d.O, member,
                         pw + k * d.O * d.D, d.D, d.O * d.D, dx, d.D, d.N * d.D, !fresh || k > 0);
    }
    if (dw)  // dw[k] (+)= dy[k]^T x[k]
        gemm_batched(true, false, d.K, d.O, d.D, d.N, dy, d.O, member, px, d.D, sx, dw, d.D,
                     d.O * d.D, !dw_fresh);
}

void linear_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "linear",
                   [&](auto t) { linear_backward_t<decltype(t)>(g, n); });
}

}  // namespace

Var matmul(Var a, Var b) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    BENCHTOP_CHECK(sa.rank() >= 2 && sb.rank() >= 2, "matmul: operands must have rank >= 2, got ",
                   sa.str(), " and ", sb.str());
    BENCHTOP_CHECK(a.dtype() == b.dtype(), "matmul: dtypes differ (", dtype_name(a.dtype()),
                   " and ", dtype_name(b.dtype()), ")");
    int64_t M = sa[sa.rank() - 2], N = sa.back(), N2 = sb[sb.rank() - 2], P = sb.back();
    BENCHTOP_CHECK(N == N2, "matmul: inner dimensions differ: ", sa.str(), " x ", sb.str());
    Shape out_shape;
    BatchMap bm = batch_map(sa, sb, &out_shape);
    out_shape.push_back(M);
    out_shape.push_back(P);
    Graph& g = *a.g;
    Tensor out = g.make_tensor(out_shape, a.dtype());
    dispatch_float(a.dtype(), "matmul", [&](auto t) {
        using T = decltype(t);
        const T* pa = a.value().data<T>();
        const T* pb = b.value().data<T>();
        T* po = out.data<T>();
        for (int64_t o = 0; o < bm.n_batch; ++o)
            gemm(false, false, M, P, N, T(1), pa + bm.ia[size_t(o)] * M * N, N,
                 pb + bm.ib[size_t(o)] * N * P, P, T(0), po + o * M * P, P);
    });
    return g.record("matmul", out, matmul_backward, {a, b});
}

namespace {

// y[i, o] += b[o] for rows x cols, then max(y, 0) where relu (NaN stays NaN).
template <class T>
void add_bias_rows(T* __restrict y, const T* __restrict b, int64_t rows, int64_t cols, bool relu) {
    for (int64_t i = 0; i < rows; ++i) {
        T* yi = y + i * cols;
        if (relu) {
            for (int64_t o = 0; o < cols; ++o) {
                const T v = yi[o] + b[o];
                yi[o] = v < T(0) ? T(0) : v;
            }
        } else {
            for (int64_t o = 0; o < cols; ++o) yi[o] += b[o];
        }
    }
}

// out[i] = x[i] + (y[i] = max(y[i] + b[o], 0)) for rows x cols (b may be null): the ReLU
// output stays in y for backward.
template <class T>
void relu_residual_rows(T* __restrict y,
                        T* __restrict out,
                        const T* __restrict x,
                        const T* __restrict b,
                        int64_t rows,
                        int64_t cols) {
    for (int64_t i = 0; i < rows; ++i) {
        T* yi = y + i * cols;
        T* oi = out + i * cols;
        const T* xi = x + i * cols;
        for (int64_t o = 0; o < cols; ++o) {
            const T v = b ? yi[o] + b[o] : yi[o];
            const T r = v < T(0) ? T(0) : v;
            yi[o] = r;
            oi[o] = xi[o] + r;
        }
    }
}

// linear, linear_relu (relu_out) and linear_relu_residual (residual, which implies
// relu_out): one node whose backward is linear_backward.
Var linear_impl(const char* op, Var x, Var w, Var b, bool relu_out, bool residual = false) {
    const Shape& sx = x.shape();
    const Shape& sw = w.shape();
    BENCHTOP_CHECK(sw.rank() == 3, op, ": weight must be [K, out, in], got ", sw.str());
    BENCHTOP_CHECK(sx.rank() >= 2 && sx.back() == sw[2] && (sx[0] == sw[0] || sx[0] == 1), op,
                   ": input of shape ", sx.str(), " does not fit weight of shape ", sw.str(),
                   " (expected [K or 1, ..., ", sw[2], "])");
    BENCHTOP_CHECK(x.dtype() == w.dtype(), op, ": input is ", dtype_name(x.dtype()),
                   " but weight is ", dtype_name(w.dtype()));
    if (b.defined()) {
        BENCHTOP_CHECK(b.shape() == Shape({sw[0], sw[1]}) && b.dtype() == w.dtype(), op,
                       ": bias of shape ", b.shape().str(), " does not fit weight of shape ",
                       sw.str(), " (expected [", sw[0], ", ", sw[1], "])");
    }
    LinearDims d = linear_dims(sx, sw);
    Shape dims = sx;  // no heap: this runs every step
    dims[0] = d.K;
    dims[dims.rank() - 1] = d.O;
    if (residual) {
        BENCHTOP_CHECK(d.O == d.D, op, ": needs as many outputs as inputs, got weight of shape ",
                       sw.str(), " for input of shape ", sx.str());
    }
    Graph& g = *x.g;
    Tensor out = g.make_tensor(dims, x.dtype());
    // float32 runs on the FMA kernel: a ReLU layer keeps its gradient mask as bits for backward
    // (one 16-bit word per 16 outputs of a row). float64: the residual op runs the GEMM into the
    // ReLU output (kept for backward), then writes out = x + relu(...).
    const bool fused = x.dtype() == DType::F32;
    const int64_t mask_words = d.N * relu_mask_words(d.O);  // per member
    Tensor bits = fused && (relu_out || residual)
                      ? g.make_tensor(Shape({(d.K * mask_words + 1) / 2}), DType::I32)
                      : Tensor();
    Tensor act = residual && !fused ? g.make_tensor(dims, x.dtype()) : out;
    dispatch_float(x.dtype(), op, [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().data<T>();
        const T* pw = w.value().data<T>();
        T* po = act.data<T>();
        int64_t stride_x = d.Kx == 1 ? 0 : d.N * d.D;
        if constexpr (std::is_same_v<T, float>) {
            if (fused) {
                // Bias, ReLU and residual in the kernel's stores: the same operations in the
                // same order as the passes below, so the same bits.
                FmaEpilogue ep;
                if (b.defined()) {
                    ep.bias = b.value().data<float>();
                    ep.stride_bias = d.O;
                }
                ep.relu = relu_out || residual;
                if (residual) {
                    ep.residual = px;
                    ep.stride_residual = stride_x;
                    ep.sum = out.data<float>();
                    ep.stride_sum = d.N * d.O;
                    ep.store_c = false;  // backward needs the mask bits, not the ReLU output
                }
                if (ep.relu) {
                    ep.relu_bits = reinterpret_cast<uint16_t*>(bits.data<int32_t>());
                    ep.stride_bits = mask_words;
                }
                fma_gemm_batched(false, true, d.K, d.N, d.O, d.D, px, d.D, stride_x, pw, d.D,
                                 d.O * d.D, po, d.O, d.N * d.O, ep);
                return;
            }
        }
        gemm_batched(false, true, d.K, d.N, d.O, d.D, px, d.D, stride_x, pw, d.D, d.O * d.D, po,
                     d.O, d.N * d.O);
        for (int64_t k = 0; k < d.K; ++k) {
            T* yk = po + k * d.N * d.O;
            // Bias and ReLU (and the residual) in one pass.
            if (residual)
                relu_residual_rows(yk, out.data<T>() + k * d.N * d.O, px + k * stride_x,
                                   b.defined() ? b.value().data<T>() + k * d.O : nullptr, d.N, d.O);
            else if (b.defined())
                add_bias_rows(yk, b.value().data<T>() + k * d.O, d.N, d.O, relu_out);
            else if (relu_out)
                for (int64_t i = 0; i < d.N * d.O; ++i) yk[i] = yk[i] < T(0) ? T(0) : yk[i];
        }
    });
    Var y = g.record(op, out, linear_backward, {x, w, b});
    if (y.records()) {
        Node& n = g.node(y);
        n.iarg[0] = relu_out || residual ? 1 : 0;
        n.iarg[1] = residual ? 1 : 0;
        if (residual && !fused) n.saved[0] = act;
        n.saved[1] = bits;
    }
    return y;
}

}  // namespace

Var linear(Var x, Var w, Var b) {
    return linear_impl("linear", x, w, b, false);
}

Var linear_relu(Var x, Var w, Var b) {
    return linear_impl("linear_relu", x, w, b, true);
}

Var linear_relu_residual(Var x, Var w, Var b) {
    return linear_impl("linear_relu_residual", x, w, b, true, true);
}

}  // namespace benchtop
