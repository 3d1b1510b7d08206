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

#include "benchtop/kernels/dispatch.h"
#include "benchtop/kernels/gru_gates.h"
#include "benchtop/tensor/gemm.h"

namespace benchtop {

namespace {

// Values kept per step for the backward pass: r, z, n, hn = W_hn h + b_hn and the previous
// state h, as planes (see SavedPlanes for the layout).
constexpr int64_t kSaved = 5;
enum Plane : int64_t { kR = 0, kZ = 1, kN = 2, kHn = 3, kHp = 4 };

// The gate arithmetic (activations, forward and backward over the batch) is
// kernels/gru_gates.h: float32 runs on the active kernel path, float64 here.
template <class T>
using GateRow = kernels::GruGateRow<T>;

template <class T>
void gate_forward(int64_t count, const GateRow<T>& g, const T* hp, T* r, T* z, T* n, T* hn, T* h) {
    if constexpr (std::is_same_v<T, float>)
        kernels::active().gru_gate_forward(count, g, hp, r, z, n, hn, h);
    else
        kernels::gate_forward(count, g, hp, r, z, n, hn, h);
}

template <class T>
void gate_backward(int64_t count,
                   const T* r,
                   const T* z,
                   const T* n,
                   const T* hn,
                   const T* hp,
                   T* dh,
                   T* dar,
                   T* daz,
                   T* dan,
                   T* dhn) {
    if constexpr (std::is_same_v<T, float>)
        kernels::active().gru_gate_backward(count, r, z, n, hn, hp, dh, dar, daz, dan, dhn);
    else
        kernels::gate_backward(count, r, z, n, hn, hp, dh, dar, daz, dan, dhn);
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

// Layout: everything per member is unit-major ("transposed"): a state is [H, B], the
// projections of a step are [G, B], so that the gate passes run over contiguous batch
// rows and the GEMMs produce and consume these layouts directly (W_hh [G, H] x h [H, B]).
// Saved planes: [kSaved, H, steps, B]; step s of plane p is an [H, B] matrix with leading
// dimension steps*B. Column blocks of [G, L*B] matrices: time t for input projections
// (and their gradients), processing step s for hidden ones.
template <class T>
struct SavedPlanes {
    T* base;
    int64_t H, B, steps;
    T* at(int64_t p, int64_t s) const { return base + (p * H * steps + s % steps) * B; }
    int64_t ld() const { return steps * B; }
};

// x [B, L*I] -> xT [L*B, I] (rows ordered (t, b)).
template <class T>
void transpose_input(const T* x, const GruDims& d, T* xt) {
    for (int64_t b = 0; b < d.B; ++b)
        for (int64_t t = 0; t < d.L; ++t)
            for (int64_t i = 0; i < d.I; ++i)
                xt[(t * d.B + b) * d.I + i] = x[(b * d.L + t) * d.I + i];
}

// Forward of one member. Scratch: xt [L*B, I], gi [G, L*B], gh [G, B], last [H, B].
// out [B, L, H]; saved planes with steps = L (for backward) or 2 (a ring, no backward).
template <class T>
void gru_forward_member(const GruMember<T>& m,
                        const GruDims& d,
                        bool reverse,
                        T* xt,
                        T* gi,
                        T* gh,
                        T* last,
                        T* out,
                        const SavedPlanes<T>& sp) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, LB = L * B;
    transpose_input(m.x, d, xt);
    gemm(false, true, G, LB, I, T(1), m.w_ih, I, xt, I, T(0), gi, LB);  // all steps at once
    for (int64_t j = 0; j < H; ++j)                                     // zero initial state
        std::memset(sp.at(kHp, 0) + j * sp.ld(), 0, static_cast<size_t>(B) * sizeof(T));
    for (int64_t s = 0; s < L; ++s) {
        const int64_t t = reverse ? L - 1 - s : s;
        const T* hp = sp.at(kHp, s);
        if (s > 0) {
            gemm(false, false, G, B, H, T(1), m.w_hh, H, hp, sp.ld(), T(0), gh, B);
        } else {
            std::memset(gh, 0, static_cast<size_t>(G * B) * sizeof(T));
        }
        const bool has_next = s + 1 < L;
        T* h_next = has_next ? sp.at(kHp, s + 1) : last;
        const int64_t ld_next = has_next ? sp.ld() : B;
        for (int64_t j = 0; j < H; ++j) {
            GateRow<T> row{gi + j * LB + t * B,
                           gi + (H + j) * LB + t * B,
                           gi + (2 * H + j) * LB + t * B,
                           gh + j * B,
                           gh + (H + j) * B,
                           gh + (2 * H + j) * B,
                           m.b_ih[j],
                           m.b_ih[H + j],
                           m.b_ih[2 * H + j],
                           m.b_hh[j],
                           m.b_hh[H + j],
                           m.b_hh[2 * H + j]};
            const int64_t o = j * sp.ld();
            T* h = h_next + j * ld_next;
            gate_forward(B, row, hp + o, sp.at(kR, s) + o, sp.at(kZ, s) + o, sp.at(kN, s) + o,
                         sp.at(kHn, s) + o, h);
            for (int64_t b = 0; b < B; ++b) out[(b * L + t) * H + j] = h[b];
        }
    }
}

// Sum of a row in a fixed order: 16 interleaved partial sums (vectorisable without
// reassociation, unlike one serial chain), then the tail, then the partials in order.
template <class T>
T row_sum(const T* v, int64_t count) {
    constexpr int64_t kLanes = 16;
    T part[kLanes] = {};
    int64_t c = 0;
    for (; c + kLanes <= count; c += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) part[l] += v[c + l];
    T acc = T(0);
    for (; c < count; ++c) acc += v[c];
    for (int64_t l = 0; l < kLanes; ++l) acc += part[l];
    return acc;
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

// Backward of one member. dout [B, L, H]; saved planes (steps = L). Scratch: xt [L*B, I],
// dgi [G, L*B] (columns by time), dgh [G, L*B] (columns by step), dh [H, B], dxt [L*B, I].
template <class T>
void gru_backward_member(const GruMember<T>& m,
                         const GruDims& d,
                         bool reverse,
                         const SavedPlanes<T>& sp,
                         const T* dout,
                         T* xt,
                         T* dgi,
                         T* dgh,
                         T* dh,
                         T* dxt,
                         const GruGrads<T>& gr) {
    const int64_t B = d.B, L = d.L, I = d.I, H = d.H, G = 3 * H, LB = L * B;
    std::memset(dh, 0, static_cast<size_t>(H * B) * sizeof(T));
    for (int64_t s = L - 1; s >= 0; --s) {
        const int64_t t = reverse ? L - 1 - s : s;
        for (int64_t j = 0; j < H; ++j) {
            T* dhj = dh + j * B;
            for (int64_t b = 0; b < B; ++b) dhj[b] += dout[(b * L + t) * H + j];
            const int64_t o = j * sp.ld();
            gate_backward(B, sp.at(kR, s) + o, sp.at(kZ, s) + o, sp.at(kN, s) + o,
                          sp.at(kHn, s) + o, sp.at(kHp, s) + o, dhj, dgi + j * LB + t * B,
                          dgi + (H + j) * LB + t * B, dgi + (2 * H + j) * LB + t * B,
                          dgh + (2 * H + j) * LB + s * B);
            // r and z: hidden-projection gradients equal the input-projection ones.
            std::memcpy(dgh + j * LB + s * B, dgi + j * LB + t * B,
                        static_cast<size_t>(B) * sizeof(T));
            std::memcpy(dgh + (H + j) * LB + s * B, dgi + (H + j) * LB + t * B,
                        static_cast<size_t>(B) * sizeof(T));
        }
        if (s > 0) gemm(true, false, H, B, G, T(1), m.w_hh, H, dgh + s * B, LB, T(1), dh, B);
    }
    if (gr.w_hh && L > 1) {  // step 0 started from the zero state: no W_hh term
        // dW_hh [G, H] = dgh [G, (L-1)B] x hp^T: one product (each element one in-order chain
        // over the steps; a gemv per column j computed the same chains, one column at a time).
        gemm(false, true, G, H, (L - 1) * B, T(1), dgh + B, LB, sp.at(kHp, 1), sp.ld(), T(1),
             gr.w_hh, H);
    }
    auto row_sums = [&](const T* mat, T* db) {
        for (int64_t g = 0; g < G; ++g) db[g] += row_sum(mat + g * LB, LB);
    };
    if (gr.b_hh) row_sums(dgh, gr.b_hh);
    if (gr.b_ih) row_sums(dgi, gr.b_ih);
    if (gr.w_ih || gr.x) transpose_input(m.x, d, xt);
    if (gr.w_ih) gemm(false, false, G, I, LB, T(1), dgi, LB, xt, I, T(1), gr.w_ih, I);
    if (gr.x) {
        gemm(true, false, LB, I, G, T(1), dgi, LB, m.w_ih, I, T(0), dxt, I);  // [L*B, I]
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < L; ++t)
                for (int64_t i = 0; i < I; ++i) {
                    T v = dxt[(t * B + b) * I + i];
                    T& dst = gr.x[(b * L + t) * I + i];
                    dst = gr.beta_x == T(0) ? v : dst + v;
                }
    }
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
GruMember<T> member_of(const Tensor& x,
                       const Tensor& w_ih,
                       const Tensor& w_hh,
                       const Tensor& b_ih,
                       const Tensor& b_hh,
                       const GruDims& d,
                       int64_t k) {
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
    T* saved = const_cast<T*>(n.saved[0].data<T>());  // read only
    bool overwrite_x = false;
    T* dx =
        g.needs_grad(n.inputs[0]) ? g.grad_for_write(n.inputs[0], &overwrite_x).data<T>() : nullptr;
    auto grad_of = [&](int i) {
        return g.needs_grad(n.inputs[i]) ? g.grad(n.inputs[i]).data<T>() : nullptr;
    };
    T* dw_ih = grad_of(1);
    T* dw_hh = grad_of(2);
    T* db_ih = grad_of(3);
    T* db_hh = grad_of(4);
    auto scratch = [&](const Shape& s) {
        return g.make_tensor(s, dtype_of<T>()).template data<T>();
    };
    T* dgi = scratch({G, d.L * d.B});
    T* dgh = scratch({G, d.L * d.B});
    T* dh = scratch({d.H, d.B});
    T* xt = scratch({d.L * d.B, d.I});
    T* dxt = scratch({d.L * d.B, d.I});
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
        SavedPlanes<T> sp{saved + k * kSaved * d.H * d.L * d.B, d.H, d.B, d.L};
        gru_backward_member(member_of<T>(x, w_ih, w_hh, b_ih, b_hh, d, k), d, reverse, sp,
                            dout + k * d.B * d.L * d.H, xt, dgi, dgh, dh, dxt, gr);
    }
}

void gru_sequence_backward(Graph& g, const Node& n) {
    dispatch_float(g.node(n.id).value.dtype(), "gru_sequence",
                   [&](auto t) { gru_sequence_backward_t<decltype(t)>(g, n); });
}

}  // namespace

Var gru_sequence(Var x, Var w_ih, Var w_hh, Var b_ih, Var b_hh, int64_t length, bool reverse) {
    BENCHTOP_CHECK(
        x.defined() && w_ih.defined() && w_hh.defined() && b_ih.defined() && b_hh.defined(),
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
    BENCHTOP_CHECK(
        length >= 1 && sx.rank() == 3 && (sx[0] == K || sx[0] == 1) && sx[2] == length * I,
        "gru_sequence: input of shape ", sx.str(), " does not fit ", length, " steps of ", I,
        " features for ", K, " members");
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
    Tensor saved = g.make_tensor({rec ? K : 1, kSaved, H, steps, d.B}, dt);
    Tensor xt = g.make_tensor({length * d.B, I}, dt);
    Tensor gi = g.make_tensor({3 * H, length * d.B}, dt);
    Tensor gh = g.make_tensor({3 * H, d.B}, dt);
    Tensor last = g.make_tensor({H, d.B}, dt);
    dispatch_float(dt, "gru_sequence", [&](auto tag) {
        using T = decltype(tag);
        for (int64_t k = 0; k < K; ++k) {
            GruMember<T> m = member_of<T>(x.value(), w_ih.value(), w_hh.value(), b_ih.value(),
                                          b_hh.value(), d, k);
            SavedPlanes<T> sp{saved.data<T>() + (rec ? k * S * length * d.B : 0), H, d.B, steps};
            gru_forward_member(m, d, reverse, xt.data<T>(), gi.data<T>(), gh.data<T>(),
                               last.data<T>(), out.data<T>() + k * d.B * length * H, sp);
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
