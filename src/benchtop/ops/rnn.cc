// gru_sequence: forward over all steps of one direction, backward through time.
// Dimension legend: K members, B batch rows, L steps, I input features, H hidden units,
// G = 3H gate pre-activations (r, z, n). Per member the op runs one GEMM for the input
// projections of all steps, then per step one GEMM h W_hh^T and a fused gate pass.
// Backward mirrors it: per step a fused pass and one GEMM dgh W_hh, then one GEMM each
// for dW_hh, dW_ih and dx over all steps at once.
#include "benchtop/ops/rnn.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

// Values kept per step for the backward pass, as planes of B*H: r, z, n, hn = W_hn h + b_hn
// and the previous state h. Layout [kSaved, steps, B, H], so that each plane over all steps
// is one matrix (the dW_hh GEMM reads the h plane directly).
constexpr int64_t kSaved = 5;
enum Plane : int64_t { kR = 0, kZ = 1, kN = 2, kHn = 3, kHp = 4 };

// Activations. float: branch-free forms the compiler vectorises over the batch (glibc's
// scalar tanhf/expf calls were over a third of a training step); errors of a few ulp, the
// class of PyTorch's vectorised (SLEEF) kernels. double (gradient checks): std:: functions.
inline float exp_approx(float x) {
    // exp(x) = 2^n e^r, n = round(x / ln 2), |r| <= ln(2) / 2; e^r by its Taylor series to
    // degree 7 (truncation < 1e-8 relative), 2^n through the exponent bits. Adding
    // 1.5 * 2^23 rounds to an integer held in the low mantissa bits (no float -> int
    // conversion, so NaN stays NaN without undefined behaviour).
    constexpr float kMagic = 12582912.0f;
    x = x < -87.0f ? -87.0f : x;  // written as selects: NaN passes through
    x = x > 88.0f ? 88.0f : x;
    const float shifted = x * 1.44269504088896341f + kMagic;
    const float n = shifted - kMagic;
    const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t ubits, umagic;
    std::memcpy(&ubits, &shifted, sizeof ubits);
    std::memcpy(&umagic, &kMagic, sizeof umagic);
    const uint32_t bits = (ubits - umagic + 127u) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

template <class T>
inline T gate_sigmoid(T x) {
    if constexpr (std::is_same_v<T, float>) {
        return 1.0f / (1.0f + exp_approx(-x));
    } else {
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        T e = std::exp(x);
        return e / (T(1) + e);
    }
}

template <class T>
inline T gate_tanh(T x) {
    if constexpr (std::is_same_v<T, float>) {
        // |x| < 0.4: Taylor series to x^13 (truncation < 1e-8 relative); else
        // 1 - 2 / (e^{2|x|} + 1) with the sign restored. |x| >= 9 gives +-1 in float.
        float a = std::fabs(x);
        a = a > 9.0f ? 9.0f : a;  // keeps NaN
        const float x2 = x * x;
        float p = 21844.0f / 6081075;
        p = p * x2 - 1382.0f / 155925;
        p = p * x2 + 62.0f / 2835;
        p = p * x2 - 17.0f / 315;
        p = p * x2 + 2.0f / 15;
        p = p * x2 - 1.0f / 3;
        const float small = x + x * (x2 * p);
        const float big = std::copysign(1.0f - 2.0f / (exp_approx(2.0f * a) + 1.0f), x);
        return a < 0.4f ? small : big;
    } else {
        return std::tanh(x);
    }
}

// The gate arithmetic of one step over all B*H units (planes; no aliasing between them).
template <class T>
void gate_forward(int64_t count, const T* __restrict pr, const T* __restrict pz,
                  const T* __restrict pn, const T* __restrict hn, const T* __restrict hp,
                  T* __restrict r, T* __restrict z, T* __restrict n, T* __restrict h) {
    for (int64_t i = 0; i < count; ++i) {
        const T ri = gate_sigmoid(pr[i]);
        const T zi = gate_sigmoid(pz[i]);
        const T ni = gate_tanh(pn[i] + ri * hn[i]);
        r[i] = ri;
        z[i] = zi;
        n[i] = ni;
        h[i] = ni + zi * (hp[i] - ni);  // (1 - z) * n + z * h
    }
}

// dh in: gradient of the new state; out: its direct part dh * z (the W_hh part is added
// by the caller's GEMM).
template <class T>
void gate_backward(int64_t count, const T* __restrict r, const T* __restrict z,
                   const T* __restrict n, const T* __restrict hn, const T* __restrict hp,
                   T* __restrict dh, T* __restrict dar, T* __restrict daz, T* __restrict dan,
                   T* __restrict dhn) {
    for (int64_t i = 0; i < count; ++i) {
        const T dhv = dh[i];
        const T an = dhv * (T(1) - z[i]) * (T(1) - n[i] * n[i]);  // d pre-activation of n
        dar[i] = an * hn[i] * (r[i] * (T(1) - r[i]));
        daz[i] = dhv * (hp[i] - n[i]) * (z[i] * (T(1) - z[i]));
        dan[i] = an;
        dhn[i] = an * r[i];
        dh[i] = dhv * z[i];
    }
}

struct GruDims {
    int64_t K, Kx, B, L, I, H;
};

// Member-level pointers (already offset to member k).
template <class T>
struct GruMember {
    const T* x;  // [B, L*I]
    const T* w_ih;
    const T* w_hh;
    const T* b_ih;
    const T* b_hh;
};

// Forward of one member. Scratch: gi [B, L, G], gh [B, G], pre [4, B*H]. out [B, L, H];
// saved [kSaved, steps, B*H] with steps = L (for backward) or 2 (a ring, no backward).
template <class T>
void gru_forward_member(const GruMember<T>& m, const GruDims& d, bool reverse, T* gi, T* gh,
                        T* pre, T* out, T* saved, int64_t steps) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, BH = B * H;
    auto plane = [&](int64_t p, int64_t s) { return saved + (p * steps + s % steps) * BH; };
    gemm(false, true, B * L, G, I, T(1), m.x, I, m.w_ih, I, T(0), gi, G);  // all steps
    std::memset(plane(kHp, 0), 0, static_cast<size_t>(BH) * sizeof(T));    // zero state
    T* pr = pre;
    T* pz = pre + BH;
    T* pn = pre + 2 * BH;
    for (int64_t s = 0; s < L; ++s) {
        const int64_t t = reverse ? L - 1 - s : s;
        const T* hp = plane(kHp, s);
        if (s > 0) {
            gemm(false, true, B, G, H, T(1), hp, H, m.w_hh, H, T(0), gh, G);
        } else {
            std::memset(gh, 0, static_cast<size_t>(B * G) * sizeof(T));
        }
        T* r = plane(kR, s);
        T* z = plane(kZ, s);
        T* n = plane(kN, s);
        T* hn = plane(kHn, s);
        for (int64_t b = 0; b < B; ++b) {  // gather the pre-activations into planes
            const T* gib = gi + (b * L + t) * G;
            const T* ghb = gh + b * G;
            for (int64_t j = 0; j < H; ++j) {
                pr[b * H + j] = (gib[j] + m.b_ih[j]) + (ghb[j] + m.b_hh[j]);
                pz[b * H + j] = (gib[H + j] + m.b_ih[H + j]) + (ghb[H + j] + m.b_hh[H + j]);
                pn[b * H + j] = gib[2 * H + j] + m.b_ih[2 * H + j];
                hn[b * H + j] = ghb[2 * H + j] + m.b_hh[2 * H + j];
            }
        }
        T* h = s + 1 < L ? plane(kHp, s + 1) : pre + 3 * BH;  // the next step's previous state
        gate_forward(BH, pr, pz, pn, hn, hp, r, z, n, h);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t j = 0; j < H; ++j) out[(b * L + t) * H + j] = h[b * H + j];
    }
}

// Gradient outputs of one member; null where not needed. dx is assigned when beta_x = 0.
template <class T>
struct GruGrads {
    T* x;
    T beta_x;
    T* w_ih;
    T* w_hh;
    T* b_ih;
    T* b_hh;
};

// Backward of one member. dout [B, L, H]; saved [kSaved, L, B*H]; scratch dgi [B, L, G],
// dgh [L, B, G] (indexed by processing step), dh [B*H], tmp [4, B*H].
template <class T>
void gru_backward_member(const GruMember<T>& m, const GruDims& d, bool reverse, const T* saved,
                         const T* dout, T* dgi, T* dgh, T* dh, T* tmp, const GruGrads<T>& gr) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, BH = B * H;
    auto plane = [&](int64_t p, int64_t s) { return saved + (p * L + s) * BH; };
    T* dar = tmp;
    T* daz = tmp + BH;
    T* dan = tmp + 2 * BH;
    T* dhn = tmp + 3 * BH;
    std::memset(dh, 0, static_cast<size_t>(BH) * sizeof(T));
    for (int64_t s = L - 1; s >= 0; --s) {
        const int64_t t = reverse ? L - 1 - s : s;
        const T* r = plane(kR, s);
        const T* z = plane(kZ, s);
        const T* n = plane(kN, s);
        const T* hn = plane(kHn, s);
        const T* hp = plane(kHp, s);
        for (int64_t b = 0; b < B; ++b)  // dh += dout[:, t, :]
            for (int64_t j = 0; j < H; ++j) dh[b * H + j] += dout[(b * L + t) * H + j];
        gate_backward(BH, r, z, n, hn, hp, dh, dar, daz, dan, dhn);
        T* dghs = dgh + s * B * G;
        for (int64_t b = 0; b < B; ++b) {  // scatter into [B, G] rows
            T* dgib = dgi + (b * L + t) * G;
            T* dghb = dghs + b * G;
            for (int64_t j = 0; j < H; ++j) {
                const int64_t i = b * H + j;
                dgib[j] = dghb[j] = dar[i];
                dgib[H + j] = dghb[H + j] = daz[i];
                dgib[2 * H + j] = dan[i];
                dghb[2 * H + j] = dhn[i];
            }
        }
        if (s > 0) gemm(false, false, B, H, G, T(1), dghs, G, m.w_hh, H, T(1), dh, H);
    }
    if (gr.w_hh && L > 1)  // step 0 started from the zero state: no W_hh term
        gemm(true, false, G, H, (L - 1) * B, T(1), dgh + B * G, G, plane(kHp, 1), H, T(1), gr.w_hh, H);
    if (gr.b_hh)
        for (int64_t row = 0; row < L * B; ++row)
            for (int64_t j = 0; j < G; ++j) gr.b_hh[j] += dgh[row * G + j];
    if (gr.b_ih)
        for (int64_t row = 0; row < B * L; ++row)
            for (int64_t j = 0; j < G; ++j) gr.b_ih[j] += dgi[row * G + j];
    if (gr.w_ih) gemm(true, false, G, I, B * L, T(1), dgi, G, m.x, I, T(1), gr.w_ih, I);
    if (gr.x) gemm(false, false, B * L, I, G, T(1), dgi, G, m.w_ih, I, gr.beta_x, gr.x, I);
}

GruDims gru_dims(const Node& n, const Graph& g) {
    const Shape& sx = g.node(n.inputs[0]).value.shape();
    const Shape& sw = g.node(n.inputs[1]).value.shape();
    GruDims d{};
    d.K = sw[0];
    d.Kx = sx[0];
    d.B = sx[1];
    d.L = n.iarg[0];
    d.I = sw[2];
    d.H = sw[1] / 3;
    return d;
}

template <class T>
GruMember<T> member_of(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                       const Tensor& b_hh, const GruDims& d, int64_t k) {
    const int64_t G = 3 * d.H;
    return {x.data<T>() + (d.Kx == 1 ? 0 : k * d.B * d.L * d.I), w_ih.data<T>() + k * G * d.I,
            w_hh.data<T>() + k * G * d.H, b_ih.data<T>() + k * G, b_hh.data<T>() + k * G};
}

template <class T>
void gru_sequence_backward_t(Graph& g, const Node& n) {
    GruDims d = gru_dims(n, g);
    const bool reverse = n.iarg[1] != 0;
    const int64_t G = 3 * d.H;
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& w_ih = g.node(n.inputs[1]).value;
    const Tensor& w_hh = g.node(n.inputs[2]).value;
    const Tensor& b_ih = g.node(n.inputs[3]).value;
    const Tensor& b_hh = g.node(n.inputs[4]).value;
    const T* dout = g.node(n.id).grad.data<T>();
    const T* saved = n.saved[0].data<T>();
    bool overwrite_x = false;
    T* dx = g.needs_grad(n.inputs[0]) ? g.grad_for_write(n.inputs[0], &overwrite_x).data<T>()
                                      : nullptr;
    auto grad_of = [&](int i) { return g.needs_grad(n.inputs[i]) ? g.grad(n.inputs[i]).data<T>() : nullptr; };
    T* dw_ih = grad_of(1);
    T* dw_hh = grad_of(2);
    T* db_ih = grad_of(3);
    T* db_hh = grad_of(4);
    T* dgi = g.make_tensor({d.B, d.L, G}, dtype_of<T>()).template data<T>();
    T* dgh = g.make_tensor({d.L, d.B, G}, dtype_of<T>()).template data<T>();
    T* dh = g.make_tensor({d.B, d.H}, dtype_of<T>()).template data<T>();
    T* tmp = g.make_tensor({4, d.B, d.H}, dtype_of<T>()).template data<T>();
    for (int64_t k = 0; k < d.K; ++k) {
        GruGrads<T> gr{};
        if (dx) {
            gr.x = dx + (d.Kx == 1 ? 0 : k * d.B * d.L * d.I);
            // A fresh gradient is assigned by the first member that writes it.
            gr.beta_x = overwrite_x && (d.Kx != 1 || k == 0) ? T(0) : T(1);
        }
        gr.w_ih = dw_ih ? dw_ih + k * G * d.I : nullptr;
        gr.w_hh = dw_hh ? dw_hh + k * G * d.H : nullptr;
        gr.b_ih = db_ih ? db_ih + k * G : nullptr;
        gr.b_hh = db_hh ? db_hh + k * G : nullptr;
        gru_backward_member(member_of<T>(x, w_ih, w_hh, b_ih, b_hh, d, k), d, reverse,
                            saved + k * d.L * d.B * kSaved * d.H, dout + k * d.B * d.L * d.H, dgi,
                            dgh, dh, tmp, gr);
    }
}

void gru_sequence_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "gru_sequence",
                   [&](auto t) { gru_sequence_backward_t<decltype(t)>(g, n); });
}

}  // namespace

Var gru_sequence(Var x, Var w_ih, Var w_hh, Var b_ih, Var b_hh, int64_t length, bool reverse) {
    BENCHTOP_CHECK(x.defined() && w_ih.defined() && w_hh.defined() && b_ih.defined() &&
                       b_hh.defined(),
                   "gru_sequence: undefined operand");
    const Shape& sx = x.shape();
    const Shape& si = w_ih.shape();
    BENCHTOP_CHECK(si.rank() == 3 && si[1] % 3 == 0, "gru_sequence: w_ih must be [K, 3H, I], got ",
                   si.str());
    const int64_t K = si[0], H = si[1] / 3, I = si[2];
    BENCHTOP_CHECK(w_hh.shape() == Shape({K, 3 * H, H}), "gru_sequence: w_hh of shape ",
                   w_hh.shape().str(), " does not fit w_ih of shape ", si.str());
    BENCHTOP_CHECK(b_ih.shape() == Shape({K, 3 * H}) && b_hh.shape() == Shape({K, 3 * H}),
                   "gru_sequence: biases must be [", K, ", ", 3 * H, "], got ", b_ih.shape().str(),
                   " and ", b_hh.shape().str());
    BENCHTOP_CHECK(length >= 1 && sx.rank() == 3 && (sx[0] == K || sx[0] == 1) &&
                       sx[2] == length * I,
                   "gru_sequence: input of shape ", sx.str(), " does not fit ", length,
                   " steps of ", I, " features for ", K, " members");
    const DType dt = x.dtype();
    for (const Var* v : {&w_ih, &w_hh, &b_ih, &b_hh})
        BENCHTOP_CHECK(v->dtype() == dt, "gru_sequence: mixed dtypes (", dtype_name(dt), " and ",
                       dtype_name(v->dtype()), ")");
    Graph& g = *x.g;
    GruDims d{K, sx[0], sx[1], length, I, H};
    bool rec = false;
    for (const Var* v : {&x, &w_ih, &w_hh, &b_ih, &b_hh}) rec = rec || v->requires_grad();
    rec = rec && g.grad_enabled();
    const int64_t S = kSaved * H;
    Tensor out = g.make_tensor({K, d.B, length, H}, dt);
    // Without a backward pass two steps of saved values (a ring) suffice.
    const int64_t steps = rec ? length : 2;
    Tensor saved = g.make_tensor({rec ? K : 1, kSaved, steps, d.B, H}, dt);
    Tensor gi = g.make_tensor({d.B, length, 3 * H}, dt);
    Tensor gh = g.make_tensor({d.B, 3 * H}, dt);
    Tensor pre = g.make_tensor({4, d.B, H}, dt);
    dispatch_float(dt, "gru_sequence", [&](auto tag) {
        using T = decltype(tag);
        for (int64_t k = 0; k < K; ++k) {
            GruMember<T> m =
                member_of<T>(x.value(), w_ih.value(), w_hh.value(), b_ih.value(), b_hh.value(), d, k);
            T* sv = saved.data<T>() + (rec ? k * S * length * d.B : 0);
            gru_forward_member(m, d, reverse, gi.data<T>(), gh.data<T>(), pre.data<T>(),
                               out.data<T>() + k * d.B * length * H, sv, steps);
        }
    });
    Var y = g.record("gru_sequence", out, gru_sequence_backward, {x, w_ih, w_hh, b_ih, b_hh});
    if (y.records()) {
        Node& n = g.node(y);
        n.saved[0] = saved;
        n.iarg[0] = length;
        n.iarg[1] = reverse ? 1 : 0;
    }
    return y;
}

}  // namespace benchtop
