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

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#define BENCHTOP_CE_ROWS16 1
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which it then reports as
// maybe uninitialized where they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

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
// (0 below ln(FLT_MIN), within 0.66 * 2^-23 relative above), std::exp for double.
inline float softmax_exp(float x) {
    return detail::exp_approx(x);
}
inline double softmax_exp(double x) {
    return std::exp(x);
}

#if defined(__AVX512F__)
// One row of C <= 16 classes as one masked vector: exp(x - max(x)) into the whole 16-float row
// e (exp_approx16, equal to exp_approx); returns max(x).
inline float row_exps16(const float* xr, int64_t C, float* e) {
    const __mmask16 cm = __mmask16((1u << C) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(cm, xr);
    // Lanes past C hold -inf; then the maximum of halves, quarters, pairs and lanes.
    __m512 a = _mm512_mask_blend_ps(cm, _mm512_set1_ps(-INFINITY), v);
    a = _mm512_max_ps(a, _mm512_shuffle_f32x4(a, a, 0x4E));
    a = _mm512_max_ps(a, _mm512_shuffle_f32x4(a, a, 0xB1));
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
    _mm512_store_ps(e, detail::exp_approx16(_mm512_sub_ps(v, a)));
    return _mm512_cvtss_f32(a);
}

// The row's probabilities e * inv, its C values stored to pr. `room` floats from pr on may be
// written (used by the AVX2 version; AVX-512's masked stores are as fast as plain ones).
inline void row_probs16(const float* e, float inv, int64_t C, float* pr, int64_t /*room*/) {
    _mm512_mask_storeu_ps(pr, __mmask16((1u << C) - 1u),
                          _mm512_mul_ps(_mm512_load_ps(e), _mm512_set1_ps(inv)));
}
#elif defined(BENCHTOP_CE_ROWS16)
// The same two steps with AVX2: the row as two 8-lane vectors (the second empty for C <= 8).
inline __m256i first_lanes8(int64_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float row_exps16(const float* xr, int64_t C, float* e) {
    const __m256i lo_lanes = first_lanes8(C), hi_lanes = first_lanes8(C - 8);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256 lo = _mm256_maskload_ps(xr, lo_lanes);
    const __m256 hi = _mm256_maskload_ps(xr + 8, hi_lanes);
    // Lanes past C hold -inf; then the maximum of the two vectors, halves, pairs and lanes.
    __m256 a = _mm256_max_ps(_mm256_blendv_ps(ninf, lo, _mm256_castsi256_ps(lo_lanes)),
                             _mm256_blendv_ps(ninf, hi, _mm256_castsi256_ps(hi_lanes)));
    a = _mm256_max_ps(a, _mm256_permute2f128_ps(a, a, 0x01));
    a = _mm256_max_ps(a, _mm256_permute_ps(a, 0x4E));
    a = _mm256_max_ps(a, _mm256_permute_ps(a, 0xB1));
    _mm256_store_ps(e, detail::exp_approx8(_mm256_sub_ps(lo, a)));
    _mm256_store_ps(e + 8, detail::exp_approx8(_mm256_sub_ps(hi, a)));
    return _mm256_cvtss_f32(a);
}

// Masked stores are slow on AVX2 machines (Zen 3: the probabilities' two masked stores were a
// third of the forward's time). Where `room` allows, the row's vectors are stored whole: the
// lanes past C land in the following rows, which are written after this one.
inline void row_probs16(const float* e, float inv, int64_t C, float* pr, int64_t room) {
    const __m256 w = _mm256_set1_ps(inv);
    const __m256 lo = _mm256_mul_ps(_mm256_load_ps(e), w);
    const __m256 hi = _mm256_mul_ps(_mm256_load_ps(e + 8), w);
    if (C > 8 && room >= 16) {
        _mm256_storeu_ps(pr, lo);
        _mm256_storeu_ps(pr + 8, hi);
    } else if (C <= 8 && room >= 8) {
        _mm256_storeu_ps(pr, lo);
    } else {
        _mm256_maskstore_ps(pr, first_lanes8(C), lo);
        if (C > 8) _mm256_maskstore_ps(pr + 8, first_lanes8(C - 8), hi);
    }
}
#endif

#if defined(BENCHTOP_CE_ROWS16)
// The forward for float rows of at most 16 classes, a row at a time in vectors (row_exps16),
// with the same results as the generic loop below: x - max(x), its exp (equal to exp_approx),
// the sum in class order, the loss, and the probabilities when recording.
// The max is a vector reduction; it differs from the in-order scan only in which of two
// equal signed zeros it returns and when the row holds a NaN, and in both cases every result
// of the row is the same (an exact zero shifts to an exact zero, whose exp is 1; a NaN makes
// the row's sum, loss and probabilities NaN either way).
void cross_entropy_rows16(const float* px,
                          float* pp,
                          int64_t R,
                          int64_t C,
                          const int32_t* lab,
                          bool shared,
                          int64_t M,
                          Reduction reduction,
                          bool rec,
                          float* po) {
    // Blocks of rows in passes, so that the rows of a pass are independent: exp of the
    // shifted logits (vectors, into a scratch block of full 16-float rows: whole-vector stores
    // forward to the loads that follow, masked ones do not), then per row the sum, the loss
    // and 1 / sum, then the probabilities.
    constexpr int64_t kRows = 64;
    alignas(64) float e[kRows][16];
    float row_max[kRows], inv[kRows];
    for (int64_t r0 = 0; r0 < R; r0 += kRows) {
        const int64_t nr = R - r0 < kRows ? R - r0 : kRows;
        for (int64_t j = 0; j < nr; ++j) row_max[j] = row_exps16(px + (r0 + j) * C, C, e[j]);
        for (int64_t j = 0; j < nr; ++j) {
            const int64_t r = r0 + j;
            float s = 0;
            for (int64_t c = 0; c < C; ++c) s += e[j][c];
            const float loss = (row_max[j] - px[r * C + lab[shared ? r % M : r]]) + std::log(s);
            if (reduction == Reduction::None)
                po[r] = loss;
            else
                po[r / M] += loss;
            inv[j] = 1.0f / s;
        }
        if (rec)
            for (int64_t j = 0; j < nr; ++j)
                row_probs16(e[j], inv[j], C, pp + (r0 + j) * C, (R - r0 - j) * C);
    }
}
#endif

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
#if defined(BENCHTOP_CE_ROWS16)
        if constexpr (std::is_same_v<T, float>) {
            if (C <= 16) {
                cross_entropy_rows16(px, pp, R, C, lab, shared, M, reduction, rec, po);
                rows = 0;
            }
        }
#endif
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
