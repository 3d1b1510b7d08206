// gru_sequence: forward over all steps of one direction, backward through time.
// Dimension legend: K members, B batch rows, L steps, I input features, H hidden units,
// G = 3H gate pre-activations (r, z, n). Per member the op runs one GEMM for the input
// projections of all steps, then per step one GEMM h W_hh^T and a fused gate pass.
// Backward mirrors it: per step a fused pass and one GEMM dgh W_hh, then one GEMM each
// for dW_hh, dW_ih and dx over all steps at once.
#include "benchtop/ops/rnn.h"

#include <cmath>
#include <cstring>

#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

// Values kept per step and batch row for the backward pass: r, z, n, hn = W_hn h + b_hn
// and the previous state h, each H wide.
constexpr int64_t kSaved = 5;

template <class T>
inline T sigmoid_of(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
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

// Forward of one member. gi [B, L, G] and gh [B, G] are scratch; out [B, L, H];
// saved [L, B, kSaved*H] when saved_step != 0, else one reused [B, kSaved*H] block.
template <class T>
void gru_forward_member(const GruMember<T>& m, const GruDims& d, bool reverse, T* gi, T* gh,
                        T* out, T* saved, int64_t saved_step) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, S = kSaved * H;
    gemm(false, true, B * L, G, I, T(1), m.x, I, m.w_ih, I, T(0), gi, G);  // all steps
    for (int64_t s = 0; s < L; ++s) {
        const int64_t t = reverse ? L - 1 - s : s;
        const T* hp = nullptr;  // previous state, rows of stride L*H; zero at s = 0
        if (s > 0) {
            hp = out + (reverse ? t + 1 : t - 1) * H;
            gemm(false, true, B, G, H, T(1), hp, L * H, m.w_hh, H, T(0), gh, G);
        } else {
            std::memset(gh, 0, static_cast<size_t>(B * G) * sizeof(T));
        }
        T* sv = saved + s * saved_step;
        for (int64_t b = 0; b < B; ++b) {
            const T* gib = gi + (b * L + t) * G;
            const T* ghb = gh + b * G;
            T* hb = out + (b * L + t) * H;
            T* svb = sv + b * S;
            for (int64_t j = 0; j < H; ++j) {
                const T hpv = hp ? hp[b * L * H + j] : T(0);
                const T r = sigmoid_of((gib[j] + m.b_ih[j]) + (ghb[j] + m.b_hh[j]));
                const T z = sigmoid_of((gib[H + j] + m.b_ih[H + j]) + (ghb[H + j] + m.b_hh[H + j]));
                const T hn = ghb[2 * H + j] + m.b_hh[2 * H + j];
                const T n = std::tanh((gib[2 * H + j] + m.b_ih[2 * H + j]) + r * hn);
                hb[j] = n + z * (hpv - n);  // (1 - z) * n + z * h
                svb[j] = r;
                svb[H + j] = z;
                svb[2 * H + j] = n;
                svb[3 * H + j] = hn;
                svb[4 * H + j] = hpv;
            }
        }
    }
}

// Gradient outputs of one member; null where not needed. dx is assigned when beta_dx = 0.
template <class T>
struct GruGrads {
    T* x;
    T beta_x;
    T* w_ih;
    T* w_hh;
    T* b_ih;
    T* b_hh;
};

// Backward of one member. dout [B, L, H]; saved [L, B, kSaved*H]; scratch dgi [B, L, G],
// dgh [L, B, G] (indexed by processing step), dh [B, H].
template <class T>
void gru_backward_member(const GruMember<T>& m, const GruDims& d, bool reverse, const T* saved,
                         const T* dout, T* dgi, T* dgh, T* dh, const GruGrads<T>& gr) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, S = kSaved * H;
    std::memset(dh, 0, static_cast<size_t>(B * H) * sizeof(T));
    for (int64_t s = L - 1; s >= 0; --s) {
        const int64_t t = reverse ? L - 1 - s : s;
        const T* sv = saved + s * B * S;
        T* dghs = dgh + s * B * G;
        for (int64_t b = 0; b < B; ++b) {
            const T* svb = sv + b * S;
            const T* dob = dout + (b * L + t) * H;
            T* dgib = dgi + (b * L + t) * G;
            T* dghb = dghs + b * G;
            T* dhb = dh + b * H;
            for (int64_t j = 0; j < H; ++j) {
                const T r = svb[j], z = svb[H + j], n = svb[2 * H + j], hn = svb[3 * H + j];
                const T hp = svb[4 * H + j];
                const T dhv = dob[j] + dhb[j];
                const T dan = dhv * (T(1) - z) * (T(1) - n * n);  // d pre-activation of n
                const T dar = dan * hn * (r * (T(1) - r));
                const T daz = dhv * (hp - n) * (z * (T(1) - z));
                dgib[j] = dar;
                dgib[H + j] = daz;
                dgib[2 * H + j] = dan;
                dghb[j] = dar;
                dghb[H + j] = daz;
                dghb[2 * H + j] = dan * r;
                dhb[j] = dhv * z;
            }
        }
        if (s > 0) gemm(false, false, B, H, G, T(1), dghs, G, m.w_hh, H, T(1), dh, H);
    }
    if (gr.w_hh && L > 1)  // step 0 started from the zero state: no W_hh term
        gemm(true, false, G, H, (L - 1) * B, T(1), dgh + B * G, G, saved + B * S + 4 * H, S, T(1),
             gr.w_hh, H);
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
                            dgh, dh, gr);
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
    // Without a backward pass only one step's saved block is needed (reused).
    Tensor saved = rec ? g.make_tensor({K, length, d.B, S}, dt) : g.make_tensor({d.B, S}, dt);
    Tensor gi = g.make_tensor({d.B, length, 3 * H}, dt);
    Tensor gh = g.make_tensor({d.B, 3 * H}, dt);
    dispatch_float(dt, "gru_sequence", [&](auto tag) {
        using T = decltype(tag);
        for (int64_t k = 0; k < K; ++k) {
            GruMember<T> m =
                member_of<T>(x.value(), w_ih.value(), w_hh.value(), b_ih.value(), b_hh.value(), d, k);
            T* sv = saved.data<T>() + (rec ? k * length * d.B * S : 0);
            gru_forward_member(m, d, reverse, gi.data<T>(), gh.data<T>(),
                               out.data<T>() + k * d.B * length * H, sv, rec ? d.B * S : 0);
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
