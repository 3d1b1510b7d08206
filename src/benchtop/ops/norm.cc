// layer_norm, batch_norm and dropout, batched over members (leading axis K; an input with
// leading axis 1 is shared by all members). Rules: float32/float64 via dispatch_float;
// statistics are accumulated in double; backward accumulates (+=) into an input's gradient
// only when the input needs it; dropout masks come from counter-based per-member streams.
#include "benchtop/ops/norm.h"

#include <cmath>

#include "benchtop/core/rng.h"

namespace benchtop {

namespace {

// ---- layer_norm ----
// saved[0] = mean, saved[1] = rstd, both [Kx, rows] float64; iarg[0] = K (output members).

void layer_norm_backward(Graph& g, const Node& n) {
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& dyt = g.node(n.id).grad;
    int64_t K = dyt.shape()[0], Kx = x.shape()[0], H = x.shape().back();
    int64_t rows = x.numel() / (Kx * H);
    bool has_w = n.iarg[1] != 0, has_b = n.iarg[2] != 0;
    int wi = has_w ? n.inputs[1] : -1;  // undefined inputs keep their slot (as -1)
    int bi = has_b ? n.inputs[2] : -1;
    const double* mean = n.saved[0].data<double>();
    const double* rstd = n.saved[1].data<double>();
    dispatch_float(x.dtype(), "layer_norm", [&](auto t) {
        using T = decltype(t);
        const T* px = x.template data<T>();
        const T* dy = dyt.template data<T>();
        const T* pw = has_w ? g.node(wi).value.template data<T>() : nullptr;
        T* dx = g.needs_grad(n.inputs[0]) ? g.grad(n.inputs[0]).template data<T>() : nullptr;
        T* dw = has_w && g.needs_grad(wi) ? g.grad(wi).template data<T>() : nullptr;
        T* db = has_b && g.needs_grad(bi) ? g.grad(bi).template data<T>() : nullptr;
        for (int64_t k = 0; k < K; ++k) {
            int64_t kx = Kx == 1 ? 0 : k;
            for (int64_t r = 0; r < rows; ++r) {
                const T* xr = px + (kx * rows + r) * H;
                const T* gr = dy + (k * rows + r) * H;
                double mu = mean[kx * rows + r], rs = rstd[kx * rows + r];
                double s1 = 0, s2 = 0;
                for (int64_t h = 0; h < H; ++h) {
                    double xh = (double(xr[h]) - mu) * rs;
                    double gh = double(gr[h]) * (pw ? double(pw[k * H + h]) : 1.0);
                    s1 += gh;
                    s2 += gh * xh;
                    if (dw) dw[k * H + h] += T(double(gr[h]) * xh);
                    if (db) db[k * H + h] += gr[h];
                }
                if (!dx) continue;
                T* dxr = dx + (kx * rows + r) * H;
                s1 /= double(H);
                s2 /= double(H);
                for (int64_t h = 0; h < H; ++h) {
                    double xh = (double(xr[h]) - mu) * rs;
                    double gh = double(gr[h]) * (pw ? double(pw[k * H + h]) : 1.0);
                    dxr[h] += T(rs * (gh - s1 - xh * s2));
                }
            }
        }
    });
}

// ---- batch_norm ----
// saved[0] = mean (or running mean), saved[1] = rstd, both [K, C] float64;
// iarg[0] = training, iarg[1] = has weight, iarg[2] = has bias.

struct BnDims {
    int64_t K, Kx, B, C, L;
};

BnDims bn_dims(const Shape& x, int64_t K) {
    BnDims d{};
    d.Kx = x[0];
    d.K = K;
    d.B = x[1];
    d.C = x[2];
    d.L = x.rank() == 4 ? x[3] : 1;
    return d;
}

void batch_norm_backward(Graph& g, const Node& n) {
    const Tensor& x = g.node(n.inputs[0]).value;
    const Tensor& dyt = g.node(n.id).grad;
    BnDims d = bn_dims(x.shape(), dyt.shape()[0]);
    bool training = n.iarg[0] != 0, has_w = n.iarg[1] != 0, has_b = n.iarg[2] != 0;
    int wi = has_w ? n.inputs[1] : -1;  // undefined inputs keep their slot (as -1)
    int bi = has_b ? n.inputs[2] : -1;
    const double* mean = n.saved[0].data<double>();
    const double* rstd = n.saved[1].data<double>();
    double cnt = double(d.B * d.L);
    dispatch_float(x.dtype(), "batch_norm", [&](auto t) {
        using T = decltype(t);
        const T* px = x.template data<T>();
        const T* dy = dyt.template data<T>();
        const T* pw = has_w ? g.node(wi).value.template data<T>() : nullptr;
        T* dx = g.needs_grad(n.inputs[0]) ? g.grad(n.inputs[0]).template data<T>() : nullptr;
        T* dw = has_w && g.needs_grad(wi) ? g.grad(wi).template data<T>() : nullptr;
        T* db = has_b && g.needs_grad(bi) ? g.grad(bi).template data<T>() : nullptr;
        int64_t xs = d.Kx == 1 ? 0 : d.B * d.C * d.L, ys = d.B * d.C * d.L;
        for (int64_t k = 0; k < d.K; ++k)
            for (int64_t c = 0; c < d.C; ++c) {
                double mu = mean[k * d.C + c], rs = rstd[k * d.C + c];
                double wv = pw ? double(pw[k * d.C + c]) : 1.0;
                double s1 = 0, s2 = 0;
                for (int64_t b = 0; b < d.B; ++b) {
                    const T* xr = px + k * xs + (b * d.C + c) * d.L;
                    const T* gr = dy + k * ys + (b * d.C + c) * d.L;
                    for (int64_t l = 0; l < d.L; ++l) {
                        s1 += double(gr[l]);
                        s2 += double(gr[l]) * (double(xr[l]) - mu) * rs;
                    }
                }
                if (dw) dw[k * d.C + c] += T(s2);
                if (db) db[k * d.C + c] += T(s1);
                if (!dx) continue;
                for (int64_t b = 0; b < d.B; ++b) {
                    const T* xr = px + k * xs + (b * d.C + c) * d.L;
                    const T* gr = dy + k * ys + (b * d.C + c) * d.L;
                    T* dxr = dx + k * xs + (b * d.C + c) * d.L;
                    for (int64_t l = 0; l < d.L; ++l) {
                        double gv = double(gr[l]);
                        if (training) {
                            double xh = (double(xr[l]) - mu) * rs;
                            gv = gv - s1 / cnt - xh * s2 / cnt;
                        }
                        dxr[l] += T(wv * rs * gv);
                    }
                }
            }
    });
}

// ---- dropout ----
// saved[0] = mask of the output's shape and dtype: 0 or 1 / (1 - p).

void dropout_backward(Graph& g, const Node& n) {
    if (!g.needs_grad(n.inputs[0])) return;
    const Tensor& dyt = g.node(n.id).grad;
    const Tensor& x = g.node(n.inputs[0]).value;
    int64_t K = dyt.shape()[0], per = dyt.numel() / K;
    int64_t xs = x.shape()[0] == 1 ? 0 : per;
    dispatch_float(dyt.dtype(), "dropout", [&](auto t) {
        using T = decltype(t);
        T* dx = g.grad(n.inputs[0]).template data<T>();
        const T* dy = dyt.template data<T>();
        const T* m = n.saved[0].template data<T>();
        for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < per; ++i) dx[k * xs + i] += dy[k * per + i] * m[k * per + i];
    });
}

void check_param(const char* op, Var p, const char* name, int64_t K, int64_t H, const Var& x) {
    if (!p.defined()) return;
    BENCHTOP_CHECK(p.shape() == Shape({K, H}) && p.dtype() == x.dtype(), op, ": ", name,
                   " of shape ", p.shape().str(), " and dtype ", dtype_name(p.dtype()),
                   " does not fit input of shape ", x.shape().str(), " and dtype ",
                   dtype_name(x.dtype()), " (expected [", K, ", ", H, "])");
}

}  // namespace

Var layer_norm(Var x, Var weight, Var bias, double eps) {
    const Shape& sx = x.shape();
    BENCHTOP_CHECK(sx.rank() >= 2, "layer_norm: input must be [K, N..., H], got ", sx.str());
    int64_t Kx = sx[0], H = sx.back();
    int64_t K = weight.defined() ? weight.shape()[0] : bias.defined() ? bias.shape()[0] : Kx;
    BENCHTOP_CHECK(Kx == K || Kx == 1, "layer_norm: input of shape ", sx.str(),
                   " does not fit parameters with ", K, " members");
    check_param("layer_norm", weight, "weight", K, H, x);
    check_param("layer_norm", bias, "bias", K, H, x);
    int64_t rows = sx.numel() / (Kx * H);
    Graph& g = *x.g;
    Shape os = sx;
    os[0] = K;
    Tensor out = g.make_tensor(os, x.dtype());
    Tensor mean = g.make_tensor({Kx, rows}, DType::F64);
    Tensor rstd = g.make_tensor({Kx, rows}, DType::F64);
    double* pm = mean.data<double>();
    double* pr = rstd.data<double>();
    dispatch_float(x.dtype(), "layer_norm", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        for (int64_t i = 0; i < Kx * rows; ++i) {
            const T* xr = px + i * H;
            double s = 0;
            for (int64_t h = 0; h < H; ++h) s += double(xr[h]);
            double mu = s / double(H), v = 0;
            for (int64_t h = 0; h < H; ++h) v += (double(xr[h]) - mu) * (double(xr[h]) - mu);
            pm[i] = mu;
            pr[i] = 1.0 / std::sqrt(v / double(H) + eps);
        }
        const T* pw = weight.defined() ? weight.value().template data<T>() : nullptr;
        const T* pb = bias.defined() ? bias.value().template data<T>() : nullptr;
        T* po = out.template data<T>();
        for (int64_t k = 0; k < K; ++k) {
            int64_t kx = Kx == 1 ? 0 : k;
            for (int64_t r = 0; r < rows; ++r) {
                int64_t i = kx * rows + r;
                const T* xr = px + i * H;
                T* yr = po + (k * rows + r) * H;
                for (int64_t h = 0; h < H; ++h) {
                    double y = (double(xr[h]) - pm[i]) * pr[i];
                    if (pw) y *= double(pw[k * H + h]);
                    if (pb) y += double(pb[k * H + h]);
                    yr[h] = T(y);
                }
            }
        }
    });
    Var res = g.record("layer_norm", out, layer_norm_backward, {x, weight, bias});
    if (res.records()) {
        Node& n = g.node(res);
        n.saved[0] = mean;
        n.saved[1] = rstd;
        n.iarg[1] = weight.defined();
        n.iarg[2] = bias.defined();
    }
    return res;
}

Var batch_norm(Var x,
               Var weight,
               Var bias,
               Tensor running_mean,
               Tensor running_var,
               bool training,
               double momentum,
               double eps) {
    const Shape& sx = x.shape();
    BENCHTOP_CHECK(sx.rank() == 3 || sx.rank() == 4,
                   "batch_norm: input must be [K, B, C] or [K, B, C, L], got ", sx.str());
    const Shape& rs = running_mean.shape();
    BENCHTOP_CHECK(rs.rank() == 2 && rs[1] == sx[2] && (sx[0] == rs[0] || sx[0] == 1) &&
                       running_var.shape() == rs,
                   "batch_norm: running statistics of shapes ", rs.str(), " and ",
                   running_var.shape().str(), " do not fit input of shape ", sx.str(),
                   " (expected [K, ", sx[2], "])");
    BENCHTOP_CHECK(running_mean.dtype() == x.dtype() && running_var.dtype() == x.dtype(),
                   "batch_norm: running statistics are ", dtype_name(running_mean.dtype()),
                   " but input of shape ", sx.str(), " is ", dtype_name(x.dtype()));
    BnDims d = bn_dims(sx, rs[0]);
    check_param("batch_norm", weight, "weight", d.K, d.C, x);
    check_param("batch_norm", bias, "bias", d.K, d.C, x);
    int64_t cnt = d.B * d.L;
    BENCHTOP_CHECK(!training || cnt > 1, "batch_norm: training needs more than one value per ",
                   "channel, got input of shape ", sx.str());
    Graph& g = *x.g;
    Shape os = sx;
    os[0] = d.K;
    Tensor out = g.make_tensor(os, x.dtype());
    Tensor mean = g.make_tensor({d.K, d.C}, DType::F64);
    Tensor rstd = g.make_tensor({d.K, d.C}, DType::F64);
    double* pm = mean.data<double>();
    double* pr = rstd.data<double>();
    dispatch_float(x.dtype(), "batch_norm", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* rm = running_mean.template data<T>();
        T* rv = running_var.template data<T>();
        int64_t xs = d.Kx == 1 ? 0 : d.B * d.C * d.L, ys = d.B * d.C * d.L;
        for (int64_t k = 0; k < d.K; ++k)
            for (int64_t c = 0; c < d.C; ++c) {
                int64_t j = k * d.C + c;
                if (training) {
                    double s = 0, v = 0;
                    for (int64_t b = 0; b < d.B; ++b) {
                        const T* xr = px + k * xs + (b * d.C + c) * d.L;
                        for (int64_t l = 0; l < d.L; ++l) s += double(xr[l]);
                    }
                    double mu = s / double(cnt);
                    for (int64_t b = 0; b < d.B; ++b) {
                        const T* xr = px + k * xs + (b * d.C + c) * d.L;
                        for (int64_t l = 0; l < d.L; ++l)
                            v += (double(xr[l]) - mu) * (double(xr[l]) - mu);
                    }
                    pm[j] = mu;
                    pr[j] = 1.0 / std::sqrt(v / double(cnt) + eps);
                    rm[j] = T((1 - momentum) * double(rm[j]) + momentum * mu);
                    rv[j] = T((1 - momentum) * double(rv[j]) + momentum * v / double(cnt - 1));
                } else {
                    pm[j] = double(rm[j]);
                    pr[j] = 1.0 / std::sqrt(double(rv[j]) + eps);
                }
                double wv = weight.defined() ? double(weight.value().template data<T>()[j]) : 1.0;
                double bv = bias.defined() ? double(bias.value().template data<T>()[j]) : 0.0;
                for (int64_t b = 0; b < d.B; ++b) {
                    const T* xr = px + k * xs + (b * d.C + c) * d.L;
                    T* yr = out.template data<T>() + k * ys + (b * d.C + c) * d.L;
                    for (int64_t l = 0; l < d.L; ++l)
                        yr[l] = T((double(xr[l]) - pm[j]) * pr[j] * wv + bv);
                }
            }
    });
    Var res = g.record("batch_norm", out, batch_norm_backward, {x, weight, bias});
    if (res.records()) {
        Node& n = g.node(res);
        n.saved[0] = mean;
        n.saved[1] = rstd;
        n.iarg[0] = training;
        n.iarg[1] = weight.defined();
        n.iarg[2] = bias.defined();
    }
    return res;
}

Var dropout(
    Var x, double p, bool training, std::span<const uint64_t> member_seeds, uint64_t counter) {
    const Shape& sx = x.shape();
    BENCHTOP_CHECK(p >= 0 && p < 1, "dropout: probability ", p, " is outside [0, 1) (input ",
                   sx.str(), ")");
    dispatch_float(x.dtype(), "dropout", [](auto) {});
    if (!training || p == 0) return x;
    int64_t K = int64_t(member_seeds.size());
    BENCHTOP_CHECK(sx.rank() >= 1 && K >= 1 && (sx[0] == K || sx[0] == 1), "dropout: ", K,
                   " member seeds do not fit input of shape ", sx.str());
    Shape os = sx;
    os[0] = K;
    Graph& g = *x.g;
    Tensor out = g.make_tensor(os, x.dtype());
    Tensor mask = g.make_tensor(os, x.dtype());
    int64_t per = os.numel() / K, xs = sx[0] == 1 ? 0 : per;
    dispatch_float(x.dtype(), "dropout", [&](auto t) {
        using T = decltype(t);
        const T* px = x.value().template data<T>();
        T* po = out.template data<T>();
        T* pm = mask.template data<T>();
        T scale = T(1.0 / (1.0 - p));
        for (int64_t k = 0; k < K; ++k) {
            Rng rng(stream_key(member_seeds[size_t(k)], counter, Purpose::Dropout));
            for (int64_t i = 0; i < per; ++i) {
                T m = rng.uniform() >= p ? scale : T(0);
                pm[k * per + i] = m;
                po[k * per + i] = px[k * xs + i] * m;
            }
        }
    });
    Var res = g.record("dropout", out, dropout_backward, {x});
    if (res.records()) g.node(res).saved[0] = mask;
    return res;
}

}  // namespace benchtop
