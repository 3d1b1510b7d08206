// Multi-head scaled dot-product attention (see attention.h). Dimension legend: K members,
// B examples, Tq queries, Tk keys, D features, H heads of dh = D / H features.
// saved[0] = the probabilities P [K, B, H, Tq, Tk] (0 where masked); iarg[0] = H,
// iarg[1] = causal; farg[0] = 1 / sqrt(dh).
// Loops run per (member, example, head) over rows of dh contiguous features; nothing is
// allocated inside them (backward takes one row of scratch from the arena per call).
#include "benchtop/ops/attention.h"

#include <cmath>
#include <limits>

namespace benchtop {

namespace {

struct AttnDims {
    int64_t K, B, Tq, Tk, D, H, dh;
};

AttnDims attn_dims(const Shape& q, const Shape& k, int64_t heads) {
    return AttnDims{q[0], q[1], q[2], k[2], q[3], heads, q[3] / heads};
}

// Keys seen by query i: all, or (causal) those up to its absolute position Tk - Tq + i.
inline int64_t n_keys(const AttnDims& d, bool causal, int64_t i) {
    return causal ? d.Tk - d.Tq + i + 1 : d.Tk;
}

// a . b over n elements in a fixed order: eight interleaved partial sums (which the compiler
// keeps in vector registers), combined pairwise, then the tail. The order is the code's, so
// the result does not depend on the instruction set.
template <class T>
inline T dot(const T* __restrict a, const T* __restrict b, int64_t n) {
    constexpr int64_t W = 8;
    T acc[W] = {};
    int64_t i = 0;
    for (; i + W <= n; i += W)
        for (int64_t l = 0; l < W; ++l) acc[l] += a[i + l] * b[i + l];
    T s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

// y += alpha x over n elements.
template <class T>
inline void axpy(T alpha, const T* __restrict x, T* __restrict y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// Zeroes `rows` rows of n elements, `stride` apart.
template <class T>
inline void zero_rows(T* y, int64_t rows, int64_t n, int64_t stride) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < n; ++i) y[r * stride + i] = T(0);
}

template <class T>
void attention_forward_t(const AttnDims& d, bool causal, T scale, const T* q, const T* k,
                         const T* v, T* p, T* out) {
    const int64_t D = d.D, dh = d.dh;
    for (int64_t kb = 0; kb < d.K * d.B; ++kb) {
        const T* qb = q + kb * d.Tq * D;
        const T* kbp = k + kb * d.Tk * D;
        const T* vb = v + kb * d.Tk * D;
        T* ob = out + kb * d.Tq * D;
        for (int64_t h = 0; h < d.H; ++h) {
            const int64_t c0 = h * dh;
            for (int64_t i = 0; i < d.Tq; ++i) {
                const T* qi = qb + i * D + c0;
                T* pi = p + ((kb * d.H + h) * d.Tq + i) * d.Tk;
                const int64_t n = n_keys(d, causal, i);
                T m = -std::numeric_limits<T>::infinity();
                for (int64_t j = 0; j < n; ++j) {
                    const T s = dot(qi, kbp + j * D + c0, dh) * scale;
                    pi[j] = s;
                    m = s > m ? s : m;
                }
                T sum = 0;
                for (int64_t j = 0; j < n; ++j) {
                    const T e = std::exp(pi[j] - m);
                    pi[j] = e;
                    sum += e;
                }
                const T inv = T(1) / sum;
                for (int64_t j = 0; j < n; ++j) pi[j] *= inv;
                for (int64_t j = n; j < d.Tk; ++j) pi[j] = T(0);
                // out_i = sum_j P_ij v_j, each row of v added whole (contiguous over dh).
                T* oi = ob + i * D + c0;
                const T* v0 = vb + c0;
                const T p0 = pi[0];
                for (int64_t c = 0; c < dh; ++c) oi[c] = p0 * v0[c];
                for (int64_t j = 1; j < n; ++j) axpy(pi[j], vb + j * D + c0, oi, dh);
            }
        }
    }
}

template <class T>
void attention_backward_t(Graph& g, const Node& n) {
    const Tensor& tq = g.node(n.inputs[0]).value;
    const Tensor& tk = g.node(n.inputs[1]).value;
    const Tensor& tv = g.node(n.inputs[2]).value;
    const AttnDims d = attn_dims(tq.shape(), tk.shape(), n.iarg[0]);
    const bool causal = n.iarg[1] != 0;
    const T scale = static_cast<T>(n.farg[0]);
    const T* q = tq.data<T>();
    const T* k = tk.data<T>();
    const T* v = tv.data<T>();
    const T* p = n.saved[0].data<T>();
    const T* dout = g.node(n.id).grad.data<T>();
    // Each gradient is written whole; a fresh one is zeroed block by block just before its
    // first contribution (q, k and v may be one node: then so are their blocks).
    bool fq = false, fk = false, fv = false;
    T* dq = g.needs_grad(n.inputs[0]) ? g.grad_for_write(n.inputs[0], &fq).data<T>() : nullptr;
    T* dk = g.needs_grad(n.inputs[1]) ? g.grad_for_write(n.inputs[1], &fk).data<T>() : nullptr;
    T* dv = g.needs_grad(n.inputs[2]) ? g.grad_for_write(n.inputs[2], &fv).data<T>() : nullptr;
    if (!dq && !dk && !dv) return;
    const bool need_ds = dq || dk;
    T* dp = need_ds ? g.make_tensor(Shape{d.Tk}, dtype_of<T>()).template data<T>() : nullptr;
    const int64_t D = d.D, dh = d.dh;
    for (int64_t kb = 0; kb < d.K * d.B; ++kb) {
        const int64_t qoff = kb * d.Tq * D, koff = kb * d.Tk * D;
        for (int64_t h = 0; h < d.H; ++h) {
            const int64_t c0 = h * dh;
            if (fq) zero_rows(dq + qoff + c0, d.Tq, dh, D);
            if (fk) zero_rows(dk + koff + c0, d.Tk, dh, D);
            if (fv) zero_rows(dv + koff + c0, d.Tk, dh, D);
            for (int64_t i = 0; i < d.Tq; ++i) {
                const T* pi = p + ((kb * d.H + h) * d.Tq + i) * d.Tk;
                const T* doi = dout + qoff + i * D + c0;
                const int64_t nk = n_keys(d, causal, i);
                // dV_j += P_ij dO_i;  dP_ij = dO_i . V_j;  rs = sum_j P_ij dP_ij.
                T rs = 0;
                for (int64_t j = 0; j < nk; ++j) {
                    if (dv) axpy(pi[j], doi, dv + koff + j * D + c0, dh);
                    if (need_ds) {
                        dp[j] = dot(doi, v + koff + j * D + c0, dh);
                        rs += pi[j] * dp[j];
                    }
                }
                if (!need_ds) continue;
                // dS_ij = P_ij (dP_ij - rs);  dQ_i += scale dS_ij K_j;  dK_j += scale dS_ij Q_i.
                const T* qi = q + qoff + i * D + c0;
                T* dqi = dq ? dq + qoff + i * D + c0 : nullptr;
                for (int64_t j = 0; j < nk; ++j) {
                    const T ds = scale * (pi[j] * (dp[j] - rs));
                    if (dqi) axpy(ds, k + koff + j * D + c0, dqi, dh);
                    if (dk) axpy(ds, qi, dk + koff + j * D + c0, dh);
                }
            }
        }
    }
}

void attention_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "attention",
                   [&](auto t) { attention_backward_t<decltype(t)>(g, n); });
}

}  // namespace

Var attention(Var q, Var k, Var v, int64_t n_heads, bool causal) {
    BENCHTOP_CHECK(q.defined() && k.defined() && v.defined(), "attention: undefined operand");
    BENCHTOP_CHECK(q.g == k.g && q.g == v.g, "attention: q, k and v belong to different graphs");
    const Shape& sq = q.shape();
    const Shape& sk = k.shape();
    const Shape& sv = v.shape();
    BENCHTOP_CHECK(sq.rank() == 4 && sk.rank() == 4 && sv.rank() == 4,
                   "attention: q, k and v must be [K, B, T, D], got q ", sq.str(), ", k ",
                   sk.str(), ", v ", sv.str());
    BENCHTOP_CHECK(sk == sv, "attention: k and v must have the same shape, got k ", sk.str(),
                   " and v ", sv.str());
    BENCHTOP_CHECK(sq[0] == sk[0] && sq[1] == sk[1] && sq[3] == sk[3],
                   "attention: q ", sq.str(), " and k, v ", sk.str(),
                   " must share K, B and D (q [K, B, Tq, D], k and v [K, B, Tk, D])");
    BENCHTOP_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), "attention: dtypes differ (q ",
                   dtype_name(q.dtype()), ", k ", dtype_name(k.dtype()), ", v ",
                   dtype_name(v.dtype()), ")");
    BENCHTOP_CHECK(n_heads > 0 && sq[3] % n_heads == 0, "attention: n_heads = ", n_heads,
                   " must be positive and divide the feature size D = ", sq[3], " of q ",
                   sq.str());
    BENCHTOP_CHECK(sk[2] >= 1, "attention: needs at least one key, got k ", sk.str());
    BENCHTOP_CHECK(!causal || sq[2] <= sk[2], "attention: causal attention needs Tq <= Tk, got q ",
                   sq.str(), " and k ", sk.str());
    const AttnDims d = attn_dims(sq, sk, n_heads);
    Graph& g = *q.g;
    Tensor out = g.make_tensor(sq, q.dtype());
    Tensor probs = g.make_tensor(Shape{d.K, d.B, d.H, d.Tq, d.Tk}, q.dtype());
    const double scale = 1.0 / std::sqrt(static_cast<double>(d.dh));
    dispatch_float(q.dtype(), "attention", [&](auto t) {
        using T = decltype(t);
        attention_forward_t<T>(d, causal, static_cast<T>(scale), q.value().data<T>(),
                               k.value().data<T>(), v.value().data<T>(), probs.data<T>(),
                               out.data<T>());
    });
    Var y = g.record("attention", out, attention_backward, {q, k, v});
    if (y.records()) {
        Node& nd = g.node(y);
        nd.saved[0] = probs;
        nd.iarg[0] = n_heads;
        nd.iarg[1] = causal ? 1 : 0;
        nd.farg[0] = scale;
    }
    return y;
}

}  // namespace benchtop
