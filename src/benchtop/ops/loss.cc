// Losses with a leading member axis: cross_entropy (fused log-softmax + NLL) and mse_loss.
// Rules: Mean/Sum reduce each member over every other axis to shape [K]; None keeps
// [K, N...]. Labels/targets may be per member or shared [N...]. cross_entropy saves the
// softmax probabilities and an arena copy of the labels; backward accumulates (+=), or
// assigns when it is the first to write the logits' gradient.
#include "benchtop/ops/loss.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "benchtop/ops/fast_math.h"

#include "benchtop/kernels/dispatch.h"

namespace benchtop {

namespace {

Shape drop_front(const Shape& s) {
    Shape out;
    for (int d = 1; d < s.rank(); ++d) out.push_back(s[d]);
    return out;
}

Shape drop_back(const Shape& s) {
    Shape out;
    for (int d = 0; d + 1 < s.rank(); ++d) out.push_back(s[d]);
    return out;
}

// "[i, j, ...]": the multi-index of flat element `flat` of a tensor of shape `s`.
std::string index_str(const Shape& s, int64_t flat) {
    std::vector<int64_t> idx(static_cast<size_t>(s.rank()));
    for (int d = s.rank() - 1; d >= 0; --d) {
        idx[static_cast<size_t>(d)] = flat % s[d];
        flat /= s[d];
    }
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < idx.size(); ++i) os << (i ? ", " : "") << idx[i];
    os << "]";
    return os.str();
}

// Weight of row r's loss in the output gradient: dout[r] (None), dout[k] / M (Mean) or
// dout[k] (Sum), with k = r / M.
template <class T>
inline T row_weight(const T* dout, Reduction red, int64_t r, int64_t M) {
    if (red == Reduction::None) return dout[r];
    T w = dout[r / M];
    return red == Reduction::Mean ? w / static_cast<T>(M) : w;
}

// ---------------------------------------------------------------- cross_entropy

// exp of a shifted logit (<= 0, or NaN): the vectorisable detail::exp_approx for float
// (0 below ln(FLT_MIN), within 0.87 * 2^-23 relative above), std::exp for double.
inline float softmax_exp(float x) {
    return detail::exp_approx(x);
}
inline double softmax_exp(double x) {
    return std::exp(x);
}

template <class T>
void cross_entropy_backward_t(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    Reduction red = static_cast<Reduction>(n.iarg[0]);
    bool shared = n.iarg[1] != 0;
    int64_t M = n.iarg[2], C = n.iarg[3];
    const T* p = n.saved[0].data<T>();
    const int32_t* lab = n.saved[1].data<int32_t>();
    const T* dout = g.node(n.id).grad.data<T>();
    bool overwrite = false;
    Tensor& gx = g.grad_for_write(n.inputs[0], &overwrite);
    T* dx = gx.data<T>();
    int64_t R = gx.numel() / C;
    // Reduced: one weight per member, so the member's M rows are one flat loop.
    const int64_t block = red == Reduction::None ? 1 : M;
    for (int64_t r0 = 0; r0 < R; r0 += block) {
        const T w = row_weight(dout, red, r0, M);
        const T* pr = p + r0 * C;
        T* dr = dx + r0 * C;
        if (overwrite)
            for (int64_t i = 0; i < block * C; ++i) dr[i] = w * pr[i];
        else
            for (int64_t i = 0; i < block * C; ++i) dr[i] += w * pr[i];
        for (int64_t r = r0; r < r0 + block; ++r) dx[r * C + lab[shared ? r % M : r]] -= w;
    }
}

void cross_entropy_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { cross_entropy_backward_t<decltype(t)>(g, n); });
}

// ---------------------------------------------------------------- mse_loss

template <class T>
void mse_backward_t(Graph& g, const Node& n) {
    Reduction red = static_cast<Reduction>(n.iarg[0]);
    bool shared = n.iarg[1] != 0;
    int64_t M = n.iarg[2];
    const Tensor& pv = g.node(n.inputs[0]).value;
    const T* p = pv.data<T>();
    const T* t = g.node(n.inputs[1]).value.data<T>();
    const T* dout = g.node(n.id).grad.data<T>();
    int64_t total = pv.numel();
    T* dp = g.needs_grad(n.inputs[0]) ? g.grad(n.inputs[0]).data<T>() : nullptr;
    T* dt = g.needs_grad(n.inputs[1]) ? g.grad(n.inputs[1]).data<T>() : nullptr;
    for (int64_t i = 0; i < total; ++i) {
        int64_t it = shared ? i % M : i;
        T d = T(2) * (p[i] - t[it]) * row_weight(dout, red, i, M);
        if (dp) dp[i] += d;
        if (dt) dt[it] -= d;
    }
}

void mse_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), n.op,
                   [&](auto t) { mse_backward_t<decltype(t)>(g, n); });
}

}  // namespace

Var cross_entropy(Var logits, const Tensor& labels, Reduction reduction) {
    BENCHTOP_CHECK(logits.defined(), "cross_entropy: undefined logits");
    Graph& g = *logits.g;
    const Tensor& x = logits.value();
    const Shape& xs = x.shape();
    BENCHTOP_CHECK(xs.rank() >= 2, "cross_entropy: logits must be [K, N..., C], got ", xs.str());
    BENCHTOP_CHECK(labels.dtype() == DType::I32, "cross_entropy: labels must be int32, got ",
                   dtype_name(labels.dtype()), " of shape ", labels.shape().str());
    Shape full = drop_back(xs);
    Shape shared_shape = drop_front(full);
    bool shared = false;
    if (labels.shape() == full) {
        shared = false;
    } else if (labels.shape() == shared_shape) {
        shared = true;
    } else {
        fail("cross_entropy: labels of shape ", labels.shape().str(),
             " do not fit logits of shape ", xs.str(), " (expected ", full.str(), " or shared ",
             shared_shape.str(), ")");
    }
    int64_t K = xs[0], C = xs.back(), R = full.numel(), M = R / K;
    BENCHTOP_CHECK(C > 0, "cross_entropy: logits of shape ", xs.str(), " have no classes");
    const int32_t* lab = labels.data<int32_t>();
    int64_t n_lab = labels.numel();
    for (int64_t i = 0; i < n_lab; ++i) {
        if (lab[i] < 0 || lab[i] >= C) [[unlikely]]
            fail("cross_entropy: label ", lab[i], " at position ", index_str(labels.shape(), i),
                 " of labels ", labels.shape().str(), " is outside [0, ", C, ") for C = ", C,
                 " classes");
    }
    bool rec = g.grad_enabled() && logits.requires_grad();
    Shape os = reduction == Reduction::None ? full : Shape{K};
    Tensor out = g.make_tensor(os, x.dtype());
    // The generic loop computes the probabilities even without recording (its exp pass runs in
    // place there); the vector path writes them only when recording.
    Tensor probs = g.make_tensor(xs, x.dtype());
    dispatch_float(x.dtype(), "cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        const T* px = x.data<T>();
        T* po = out.data<T>();
        T* pp = probs.data<T>();
        if (reduction != Reduction::None)
            for (int64_t k = 0; k < K; ++k) po[k] = 0;
        // Rows the generic loop below computes (all but those of the vector path).
        int64_t rows = R;
        // Float rows of at most 16 classes: the active kernel path's vector version, where it
        // has one (kernels/ce_rows16.h), with the same results as this loop.
        if constexpr (std::is_same_v<T, float>) {
            const auto rows16 = kernels::active().cross_entropy_rows16;
            if (C <= 16 && rows16 != nullptr) {
                rows16(px, pp, R, C, lab, shared, M, reduction == Reduction::None, rec, po);
                rows = 0;
            }
        }
        // Blocks of rows in three passes, so that the exp runs as one flat loop over the
        // block (the compiler vectorises it; a row holds only C values): shifted logits
        // x - max, their exp, then per row the sum in class order, the loss and 1 / sum.
        constexpr int64_t kRows = 64;
        T row_max[kRows];
        for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
            const int64_t nr = rows - r0 < kRows ? rows - r0 : kRows;
            for (int64_t j = 0; j < nr; ++j) {
                const T* xr = px + (r0 + j) * C;
                T* zr = pp + (r0 + j) * C;
                T m = xr[0];
                for (int64_t c = 1; c < C; ++c) m = xr[c] > m ? xr[c] : m;
                row_max[j] = m;
                for (int64_t c = 0; c < C; ++c) zr[c] = xr[c] - m;
            }
            T* pb = pp + r0 * C;
            for (int64_t i = 0; i < nr * C; ++i) pb[i] = softmax_exp(pb[i]);
            for (int64_t j = 0; j < nr; ++j) {
                const int64_t r = r0 + j;
                const T* xr = px + r * C;
                T* prow = pp + r * C;
                T s = 0;
                for (int64_t c = 0; c < C; ++c) s += prow[c];
                T loss = (row_max[j] - xr[lab[shared ? r % M : r]]) + std::log(s);
                if (reduction == Reduction::None)
                    po[r] = loss;
                else
                    po[r / M] += loss;
                if (rec) {
                    T inv = T(1) / s;
                    for (int64_t c = 0; c < C; ++c) prow[c] *= inv;
                }
            }
        }
        if (reduction == Reduction::Mean)
            for (int64_t k = 0; k < K; ++k) po[k] /= static_cast<T>(M);
    });
    Var y = g.record("cross_entropy", out, cross_entropy_backward, {logits});
    if (y.records()) {
        Node& n = g.node(y);
        Tensor lab_copy = g.make_tensor(labels.shape(), DType::I32);
        if (n_lab > 0) std::memcpy(lab_copy.raw(), labels.raw(), labels.nbytes());
        n.saved[0] = probs;
        n.saved[1] = lab_copy;
        n.iarg[0] = static_cast<int64_t>(reduction);
        n.iarg[1] = shared ? 1 : 0;
        n.iarg[2] = M;
        n.iarg[3] = C;
    }
    return y;
}

Var mse_loss(Var pred, Var target, Reduction reduction) {
    BENCHTOP_CHECK(pred.defined() && target.defined(), "mse_loss: undefined operand");
    BENCHTOP_CHECK(pred.g == target.g, "mse_loss: operands belong to different graphs");
    Graph& g = *pred.g;
    const Tensor& p = pred.value();
    const Tensor& t = target.value();
    const Shape& ps = p.shape();
    BENCHTOP_CHECK(ps.rank() >= 1, "mse_loss: pred must be [K, N...], got ", ps.str());
    if (p.dtype() != t.dtype())
        fail("mse_loss: dtypes differ: pred ", dtype_name(p.dtype()), " ", ps.str(), " and target ",
             dtype_name(t.dtype()), " ", t.shape().str());
    bool shared = false;
    if (t.shape() == ps) {
        shared = false;
    } else if (t.shape() == drop_front(ps)) {
        shared = true;
    } else {
        fail("mse_loss: target of shape ", t.shape().str(), " does not fit pred of shape ",
             ps.str(), " (expected ", ps.str(), " or shared ", drop_front(ps).str(), ")");
    }
    int64_t K = ps[0], total = ps.numel(), M = K > 0 ? total / K : 0;
    Shape os = reduction == Reduction::None ? ps : Shape{K};
    Tensor out = g.make_tensor(os, p.dtype());
    dispatch_float(p.dtype(), "mse_loss", [&](auto tag) {
        using T = decltype(tag);
        const T* pp = p.data<T>();
        const T* pt = t.data<T>();
        T* po = out.data<T>();
        if (reduction == Reduction::None) {
            for (int64_t i = 0; i < total; ++i) {
                T d = pp[i] - pt[shared ? i % M : i];
                po[i] = d * d;
            }
            return;
        }
        for (int64_t k = 0; k < K; ++k) {
            const T* pk = pp + k * M;
            const T* tk = pt + (shared ? 0 : k * M);
            T s = 0;
            for (int64_t i = 0; i < M; ++i) {
                T d = pk[i] - tk[i];
                s += d * d;
            }
            po[k] = reduction == Reduction::Mean ? s / static_cast<T>(M) : s;
        }
    });
    Var y = g.record("mse_loss", out, mse_backward, {pred, target});
    if (y.records()) {
        Node& n = g.node(y);
        n.iarg[0] = static_cast<int64_t>(reduction);
        n.iarg[1] = shared ? 1 : 0;
        n.iarg[2] = M;
    }
    return y;
}

}  // namespace benchtop
