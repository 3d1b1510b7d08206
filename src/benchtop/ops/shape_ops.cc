// Data-movement ops: reshape, permute/transpose, concat, slice and embedding.
// Rules: float32/float64 via dispatch_float; outputs come from the graph arena; backward
// functions accumulate (+=) into an input's gradient only when the input needs it.
#include "benchtop/ops/shape_ops.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace benchtop {

namespace {

std::string order_str(const std::vector<int>& order) {
    std::string s = "[";
    for (size_t i = 0; i < order.size(); ++i) s += (i ? ", " : "") + std::to_string(order[i]);
    return s + "]";
}

// ---- reshape ----

template <class T>
void add_into(T* dst, const T* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

void reshape_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    dispatch_float(dy.dtype(), "reshape", [&](auto t) {
        using T = decltype(t);
        add_into(g.grad(n.inputs[0]).template data<T>(), dy.template data<T>(), dy.numel());
    });
}

// ---- permute ----

// Calls f(out_index, in_offset) for every element of the permuted tensor.
template <class F>
void for_each_permuted(const Shape& in, const int64_t* order, F&& f) {
    int r = in.rank();
    std::array<int64_t, Shape::kMaxRank> in_stride{}, out_dim{}, step{}, idx{};
    int64_t s = 1;
    for (int d = r - 1; d >= 0; --d) {
        in_stride[size_t(d)] = s;
        s *= in[d];
    }
    for (int d = 0; d < r; ++d) {
        out_dim[size_t(d)] = in[int(order[d])];
        step[size_t(d)] = in_stride[size_t(order[d])];
    }
    int64_t total = in.numel(), off = 0;
    for (int64_t i = 0; i < total; ++i) {
        f(i, off);
        for (int d = r - 1; d >= 0; --d) {
            auto du = size_t(d);
            off += step[du];
            if (++idx[du] < out_dim[du]) break;
            off -= step[du] * out_dim[du];
            idx[du] = 0;
        }
    }
}

// A permutation that keeps leading axes [0, a) and swaps two blocks of trailing axes,
// [a, b) and [b, r), is a batch of 2-D transposes [rows, cols] -> [cols, rows] (e.g.
// [K, B, L] -> [K, L, B]); those run tile by tile instead of element by element.
struct Transpose2d {
    int64_t batch = 1, rows = 1, cols = 1;
};

bool as_transpose_2d(const Shape& in, const int64_t* order, Transpose2d* t) {
    int r = in.rank(), a = 0;
    while (a < r && order[a] == a) ++a;
    if (a == r) return false;
    int b = int(order[a]);
    if (b <= a) return false;
    for (int i = 0; i < r - b; ++i)
        if (order[a + i] != b + i) return false;
    for (int i = 0; i < b - a; ++i)
        if (order[a + (r - b) + i] != a + i) return false;
    for (int d = 0; d < a; ++d) t->batch *= in[d];
    for (int d = a; d < b; ++d) t->rows *= in[d];
    for (int d = b; d < r; ++d) t->cols *= in[d];
    return true;
}

// out[c, r] (=, or += when ACC) in[r, c] for each batch, in 16 x 16 tiles.
template <bool ACC, class T>
void transpose_2d(const Transpose2d& t, const T* in, T* out) {
    constexpr int64_t kTile = 16;
    const int64_t n = t.rows * t.cols;
    for (int64_t q = 0; q < t.batch; ++q) {
        const T* src = in + q * n;
        T* dst = out + q * n;
        for (int64_t r0 = 0; r0 < t.rows; r0 += kTile)
            for (int64_t c0 = 0; c0 < t.cols; c0 += kTile) {
                int64_t r1 = std::min(t.rows, r0 + kTile), c1 = std::min(t.cols, c0 + kTile);
                for (int64_t c = c0; c < c1; ++c)
                    for (int64_t r = r0; r < r1; ++r) {
                        if constexpr (ACC) dst[c * t.rows + r] += src[r * t.cols + c];
                        else dst[c * t.rows + r] = src[r * t.cols + c];
                    }
            }
    }
}

void permute_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    const Shape& in = g.node(n.inputs[0]).value.shape();
    dispatch_float(dy.dtype(), "permute", [&](auto t) {
        using T = decltype(t);
        T* dx = g.grad(n.inputs[0]).template data<T>();
        const T* py = dy.template data<T>();
        Transpose2d tr;
        if (as_transpose_2d(in, n.iarg.data(), &tr)) {  // dy is [cols, rows] per batch
            transpose_2d<true>(Transpose2d{tr.batch, tr.cols, tr.rows}, py, dx);
            return;
        }
        for_each_permuted(in, n.iarg.data(), [&](int64_t i, int64_t o) { dx[o] += py[i]; });
    });
}

// ---- concat ----

void concat_backward(Graph& g, const Node& n) {
    const Tensor& dy = g.node(n.id).grad;
    int axis = int(n.iarg[0]);
    const Shape& os = dy.shape();
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= os[d];
    for (int d = axis + 1; d < os.rank(); ++d) inner *= os[d];
    int64_t row = os[axis] * inner, col0 = 0;
    dispatch_float(dy.dtype(), "concat", [&](auto t) {
        using T = decltype(t);
        const T* py = dy.template data<T>();
        for (int i = 0; i < n.n_inputs && n.inputs[size_t(i)] >= 0; ++i) {
            int64_t w = g.node(n.inputs[size_t(i)]).value.shape()[axis] * inner;
            if (g.needs_grad(n.inputs[size_t(i)])) {
                T* dx = g.grad(n.inputs[size_t(i)]).template data<T>();
                for (int64_t o = 0; o < outer; ++o) add_into(dx + o * w, py + o * row + col0, w);
            }
            col0 += w;
        }
    });
}

Var concat_group(const std::vector<Var>& xs, size_t begin, size_t end, int axis) {
    Graph& g = *xs[begin].g;
    const Shape& s0 = xs[begin].shape();
    Shape os = s0;
    os[axis] = 0;
    for (size_t i = begin; i < end; ++i) os[axis] += xs[i].shape()[axis];
    Tensor out = g.make_tensor(os, xs[begin].dtype());
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= os[d];
    for (int d = axis + 1; d < os.rank(); ++d) inner *= os[d];
    int64_t row = os[axis] * inner, col0 = 0;
    dispatch_float(out.dtype(), "concat", [&](auto t) {
        using T = decltype(t);
        T* po = out.template data<T>();
        for (size_t i = begin; i < end; ++i) {
            const T* px = xs[i].value().template data<T>();
            int64_t w = xs[i].shape()[axis] * inner;
            for (int64_t o = 0; o < outer; ++o)
                std::memcpy(po + o * row + col0, px + o * w, size_t(w) * sizeof(T));
            col0 += w;
        }
    });
    Var v0 = xs[begin];
    Var v1 = begin + 1 < end ? xs[begin + 1] : Var{};
    Var v2 = begin + 2 < end ? xs[begin + 2] : Var{};
    Var v3 = begin + 3 < end ? xs[begin + 3] : Var{};
    Var res = g.record("concat", out, concat_backward, {v0, v1, v2, v3});
    if (res.records()) g.node(res).iarg[0] = axis;
    return res;
}

// ---- slice ----

void slice_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    const Shape& xs = g.node(n.inputs[0]).value.shape();
    int axis = int(n.iarg[0]);
    int64_t start = n.iarg[1];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= xs[d];
    for (int d = axis + 1; d < xs.rank(); ++d) inner *= xs[d];
    int64_t w = dy.shape()[axis] * inner, row = xs[axis] * inner;
    dispatch_float(dy.dtype(), "slice", [&](auto t) {
        using T = decltype(t);
        T* dx = g.grad(n.inputs[0]).template data<T>();
        const T* py = dy.template data<T>();
        for (int64_t o = 0; o < outer; ++o) add_into(dx + o * row + start * inner, py + o * w, w);
    });
}

// ---- embedding ----

void embedding_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dy = g.node(n.id).grad;
    const Tensor& idx = n.saved[0];
    const Shape& ws = g.node(n.inputs[0]).value.shape();
    int64_t K = ws[0], V = ws[1], E = ws[2];
    int64_t N = idx.numel() / idx.shape()[0];
    int64_t si = idx.shape()[0] == 1 ? 0 : N;
    const int32_t* pi = idx.data<int32_t>();
    dispatch_float(dy.dtype(), "embedding", [&](auto t) {
        using T = decltype(t);
        T* dw = g.grad(n.inputs[0]).template data<T>();
        const T* py = dy.template data<T>();
        for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < N; ++i)
                add_into(dw + (k * V + pi[k * si + i]) * E, py + (k * N + i) * E, E);
    });
}

}  // namespace

Var reshape(Var x, const Shape& shape) {
    BENCHTOP_CHECK(shape.numel() == x.shape().numel(), "reshape: cannot reshape ", x.shape().str(),
                   " to ", shape.str(), " (element counts differ)");
    dispatch_float(x.dtype(), "reshape", [](auto) {});
    Graph& g = *x.g;
    return g.record("reshape", x.value().reshape(shape), reshape_backward, {x});
}

Var permute(Var x, const std::vector<int>& order) {
    const Shape& in = x.shape();
    int r = in.rank();
    bool ok = int(order.size()) == r;
    std::array<int64_t, 8> ord{};
    std::array<bool, Shape::kMaxRank> seen{};
    for (int i = 0; ok && i < r; ++i) {
        int a = order[size_t(i)];
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[size_t(a)]) {
            ok = false;
            break;
        }
        seen[size_t(a)] = true;
        ord[size_t(i)] = a;
    }
    BENCHTOP_CHECK(ok, "permute: order ", order_str(order), " is not a permutation of the axes of ",
                   in.str());
    Shape os;
    for (int i = 0; i < r; ++i) os.push_back(in[int(ord[size_t(i)])]);
    Graph& g = *x.g;
    Tensor out = g.make_tensor(os, x.dtype());
    dispatch_float(x.dtype(), "permute", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* po = out.template data<T>();
        Transpose2d tr;
        if (as_transpose_2d(in, ord.data(), &tr))
            transpose_2d<false>(tr, px, po);
        else
            for_each_permuted(in, ord.data(), [&](int64_t i, int64_t o) { po[i] = px[o]; });
    });
    Var res = g.record("permute", out, permute_backward, {x});
    if (res.records()) g.node(res).iarg = ord;
    return res;
}

Var transpose(Var x, int axis0, int axis1) {
    int r = x.shape().rank();
    BENCHTOP_CHECK(axis0 >= -r && axis0 < r && axis1 >= -r && axis1 < r, "transpose: axes ", axis0,
                   " and ", axis1, " out of range for shape ", x.shape().str());
    std::vector<int> order(static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) order[size_t(i)] = i;
    std::swap(order[size_t((axis0 + r) % r)], order[size_t((axis1 + r) % r)]);
    return permute(x, order);
}

Var concat(const std::vector<Var>& xs, int axis) {
    BENCHTOP_CHECK(!xs.empty(), "concat: needs at least one input");
    const Shape& s0 = xs[0].shape();
    BENCHTOP_CHECK(axis >= -s0.rank() && axis < s0.rank(), "concat: axis ", axis,
                   " out of range for shape ", s0.str());
    int ax = axis < 0 ? axis + s0.rank() : axis;
    for (size_t i = 1; i < xs.size(); ++i) {
        const Shape& si = xs[i].shape();
        bool ok = si.rank() == s0.rank();
        for (int d = 0; ok && d < s0.rank(); ++d) ok = d == ax || si[d] == s0[d];
        BENCHTOP_CHECK(ok, "concat: input ", i, " of shape ", si.str(),
                       " does not match input 0 of shape ", s0.str(), " outside axis ", ax);
        BENCHTOP_CHECK(xs[i].dtype() == xs[0].dtype(), "concat: input ", i, " is ",
                       dtype_name(xs[i].dtype()), " but input 0 is ", dtype_name(xs[0].dtype()),
                       " (shapes ", si.str(), " and ", s0.str(), ")");
    }
    dispatch_float(xs[0].dtype(), "concat", [](auto) {});
    if (xs.size() <= 4) return concat_group(xs, 0, xs.size(), ax);
    // A node has at most 6 inputs: concatenate in groups of 4, then the groups.
    std::vector<Var> parts;
    for (size_t b = 0; b < xs.size(); b += 4)
        parts.push_back(concat_group(xs, b, std::min(xs.size(), b + 4), ax));
    return concat(parts, ax);
}

Var slice(Var x, int axis, int64_t start, int64_t end) {
    const Shape& in = x.shape();
    BENCHTOP_CHECK(axis >= -in.rank() && axis < in.rank(), "slice: axis ", axis,
                   " out of range for shape ", in.str());
    int ax = axis < 0 ? axis + in.rank() : axis;
    BENCHTOP_CHECK(start >= 0 && start <= end && end <= in[ax], "slice: range [", start, ", ", end,
                   ") out of bounds for axis ", ax, " of shape ", in.str());
    Shape os = in;
    os[ax] = end - start;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < ax; ++d) outer *= in[d];
    for (int d = ax + 1; d < in.rank(); ++d) inner *= in[d];
    int64_t w = os[ax] * inner, row = in[ax] * inner;
    Graph& g = *x.g;
    Tensor out = g.make_tensor(os, x.dtype());
    dispatch_float(x.dtype(), "slice", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* po = out.template data<T>();
        for (int64_t o = 0; o < outer; ++o)
            std::memcpy(po + o * w, px + o * row + start * inner, size_t(w) * sizeof(T));
    });
    Var res = g.record("slice", out, slice_backward, {x});
    if (res.records()) {
        g.node(res).iarg[0] = ax;
        g.node(res).iarg[1] = start;
    }
    return res;
}

Var embedding(const Tensor& indices, Var weight) {
    const Shape& ws = weight.shape();
    const Shape& is = indices.shape();
    BENCHTOP_CHECK(ws.rank() == 3, "embedding: weight must be [K, V, E], got ", ws.str());
    BENCHTOP_CHECK(indices.dtype() == DType::I32, "embedding: indices must be int32, got ",
                   dtype_name(indices.dtype()), " (shape ", is.str(), ")");
    BENCHTOP_CHECK(is.rank() >= 1 && is.rank() < Shape::kMaxRank && (is[0] == ws[0] || is[0] == 1),
                   "embedding: indices of shape ", is.str(), " do not fit weight of shape ",
                   ws.str(), " (expected [K or 1, N...])");
    int64_t K = ws[0], V = ws[1], E = ws[2];
    int64_t N = is[0] == 0 ? 0 : is.numel() / is[0];
    int64_t si = is[0] == 1 ? 0 : N;
    const int32_t* pi = indices.data<int32_t>();
    for (int64_t i = 0; i < is.numel(); ++i)
        BENCHTOP_CHECK(pi[i] >= 0 && pi[i] < V, "embedding: index ", pi[i], " at position ", i,
                       " is outside [0, ", V, ") (V = ", V, ", weight shape ", ws.str(), ")");
    Shape os = is;
    os[0] = K;
    os.push_back(E);
    Graph& g = *weight.g;
    Tensor out = g.make_tensor(os, weight.dtype());
    dispatch_float(weight.dtype(), "embedding", [&](auto t) {
        using T = decltype(t);
        const T* pw = weight.value().template data<T>();
        T* po = out.template data<T>();
        for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < N; ++i)
                std::memcpy(po + (k * N + i) * E, pw + (k * V + pi[k * si + i]) * E,
                            size_t(E) * sizeof(T));
    });
    Var res = g.record("embedding", out, embedding_backward, {weight});
    if (res.records()) {  // keep a copy: the caller's index buffer may change before backward
        Tensor kept = g.make_tensor(is, DType::I32);
        std::memcpy(kept.raw(), indices.raw(), indices.nbytes());
        g.node(res).saved[0] = kept;
    }
    return res;
}

}  // namespace benchtop
