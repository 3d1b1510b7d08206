#include "benchtop/generative/vae.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "benchtop/core/rng.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/reduce.h"
#include "benchtop/ops/shape_ops.h"
#include "benchtop/optim/adam.h"

namespace benchtop {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;

Tensor normal_tensor(const Shape& shape, std::vector<Rng>& rngs) {
    Tensor t = Tensor::empty(shape, DType::F32);
    const int64_t K = shape[0], per = t.numel() / K;
    for (int64_t k = 0; k < K; ++k)
        for (int64_t i = 0; i < per; ++i) t.data<float>()[k * per + i] = float(rngs[size_t(k)].normal());
    return t;
}

}  // namespace

void add_vae_params(ParamSet& ps, const VaeSpec& s) {
    ps.add("enc1.weight", {s.hidden, s.in});
    ps.add("enc1.bias", {s.hidden});
    ps.add("enc_mu.weight", {s.latent, s.hidden});
    ps.add("enc_mu.bias", {s.latent});
    ps.add("enc_logvar.weight", {s.latent, s.hidden});
    ps.add("enc_logvar.bias", {s.latent});
    ps.add("dec1.weight", {s.hidden, s.latent});
    ps.add("dec1.bias", {s.hidden});
    ps.add("dec2.weight", {s.in, s.hidden});
    ps.add("dec2.bias", {s.in});
}

void init_vae(ParamSet& ps, std::span<const uint64_t> seeds) {
    init_torch_default(ps, seeds);
    if (!ps.contains("log_var")) ps.add("log_var", {1});  // zero: unit variance to start
}

Var vae_decode(ParamSet& ps, const VaeSpec&, Var z) {
    Graph& g = *z.g;
    Var h = linear_relu(z, ps.var(g, "dec1.weight"), ps.var(g, "dec1.bias"));
    return linear(h, ps.var(g, "dec2.weight"), ps.var(g, "dec2.bias"));
}

Var vae_negative_elbo(ParamSet& ps, const VaeSpec& spec, Var x, const Tensor& eps) {
    Graph& g = *x.g;
    const int64_t K = ps.n_members();
    Var h = linear_relu(x, ps.var(g, "enc1.weight"), ps.var(g, "enc1.bias"));
    Var mu = linear(h, ps.var(g, "enc_mu.weight"), ps.var(g, "enc_mu.bias"));
    Var lv = linear(h, ps.var(g, "enc_logvar.weight"), ps.var(g, "enc_logvar.bias"));
    Var z = add(mu, mul(exp(mul_scalar(lv, 0.5)), g.input(eps)));
    Var xh = vae_decode(ps, spec, z);
    Var lvx = reshape(ps.var(g, "log_var"), {K, 1});  // [K, 1] against [K, B]
    Var sq = sum(pow(sub(x, xh), 2.0), 2);            // [K, B]
    Var recon = add(mul_scalar(add_scalar(lvx, kLog2Pi), 0.5 * double(spec.in)),
                    mul_scalar(mul(sq, exp(neg(lvx))), 0.5));
    Var kl = mul_scalar(sum(sub(sub(add_scalar(lv, 1.0), pow(mu, 2.0)), exp(lv)), 2), -0.5);
    return mean(add(recon, kl), 1);
}

std::vector<double> train_class_vaes(ParamSet& ps, const VaeSpec& spec, const Tensor& x, const Tensor& y,
                                     const VaeTrainOptions& o) {
    const int64_t K = ps.n_members(), N = x.size(0), D = x.size(1);
    BENCHTOP_CHECK(D == spec.in, "train_class_vaes: inputs of ", D, " features for a VAE of ", spec.in);
    BENCHTOP_CHECK(int64_t(o.seeds.size()) == K, "train_class_vaes: ", o.seeds.size(), " seeds for ", K, " members");
    std::vector<std::vector<int64_t>> rows(static_cast<size_t>(K));
    for (int64_t i = 0; i < N; ++i) {
        const int32_t c = y.data<int32_t>()[i];
        if (c >= 0 && c < K) rows[size_t(c)].push_back(i);
    }
    for (int64_t k = 0; k < K; ++k) BENCHTOP_CHECK(!rows[size_t(k)].empty(), "train_class_vaes: class ", k, " has no examples");
    std::vector<Rng> order_rng, noise_rng;
    for (int64_t k = 0; k < K; ++k) {
        order_rng.emplace_back(stream_key(o.seeds[size_t(k)], 0, Purpose::Shuffle));
        noise_rng.emplace_back(stream_key(o.seeds[size_t(k)], 0, Purpose::Other));
    }
    std::vector<std::vector<int64_t>> perm(static_cast<size_t>(K));
    std::vector<size_t> pos(static_cast<size_t>(K), 0);
    Adam adam(ps, AdamOptions{.lr = o.lr});
    Tensor xb = Tensor::empty({K, o.batch, D}, DType::F32);
    std::vector<double> last(static_cast<size_t>(K), 0.0);
    Graph g;
    for (int64_t s = 0; s < o.steps; ++s) {
        // Each member draws its batch from its own class, reshuffled every pass over the class.
        for (int64_t k = 0; k < K; ++k) {
            auto& p = perm[size_t(k)];
            for (int64_t b = 0; b < o.batch; ++b) {
                if (pos[size_t(k)] >= p.size()) {
                    p = rows[size_t(k)];
                    for (size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[order_rng[size_t(k)].below(i)]);
                    pos[size_t(k)] = 0;
                }
                const int64_t r = p[pos[size_t(k)]++];
                std::memcpy(xb.data<float>() + (k * o.batch + b) * D, x.data<float>() + r * D, size_t(D) * sizeof(float));
            }
        }
        const Tensor eps = normal_tensor({K, o.batch, spec.latent}, noise_rng);
        Var loss = vae_negative_elbo(ps, spec, g.input(xb), eps);
        for (int64_t k = 0; k < K; ++k) last[size_t(k)] = loss.value().at(k);
        ps.zero_grad();
        g.backward(loss);
        adam.step();
        g.reset();
        if (o.on_step) o.on_step(s + 1);
    }
    return last;
}

AbsResult abs_infer(ParamSet& ps, const VaeSpec& spec, const Tensor& x, const AbsOptions& o) {
    const int64_t C = ps.n_members(), M = x.size(0), D = x.size(1), L = spec.latent;
    BENCHTOP_CHECK(x.rank() == 2 && D == spec.in, "abs_infer: inputs must be [M, ", spec.in, "]");
    BENCHTOP_CHECK(o.samples >= 1, "abs_infer: samples must be at least 1");
    AbsResult r;
    for (int64_t c = 0; c < C; ++c) r.log_var.push_back(ps.value("log_var").at(c));
    // The fixed draws, decoded once per class.
    std::vector<Rng> rngs;
    for (int64_t c = 0; c < C; ++c) rngs.emplace_back(stream_key(o.seed, uint64_t(c), Purpose::Other));
    const Tensor zs = normal_tensor({C, o.samples, L}, rngs);
    Tensor decoded;
    {
        Graph g;
        NoGradScope ng(g);
        decoded = vae_decode(ps, spec, g.input(zs)).value().clone();  // [C, N, D]
    }
    auto bound_of = [&](int64_t c, const float* xm, const float* xh, const float* z) {
        double sq = 0, zz = 0;
        for (int64_t d = 0; d < D; ++d) sq += std::pow(double(xm[d]) - double(xh[d]), 2);
        for (int64_t l = 0; l < L; ++l) zz += double(z[l]) * double(z[l]);
        const double lv = r.log_var[size_t(c)];
        return -0.5 * double(D) * (kLog2Pi + lv) - 0.5 * sq * std::exp(-lv) - 0.5 * zz - 0.5 * double(L) * kLog2Pi;
    };
    r.bound.assign(size_t(M * C), -INFINITY);
    r.reconstruction = Tensor::empty({C, M, D}, DType::F32);
    Tensor z = Tensor::empty({C, M, L}, DType::F32);
    for (int64_t c = 0; c < C; ++c)
        for (int64_t m = 0; m < M; ++m) {
            int64_t best = 0;
            for (int64_t i = 0; i < o.samples; ++i) {
                const double b = bound_of(c, x.data<float>() + m * D, decoded.data<float>() + (c * o.samples + i) * D,
                                          zs.data<float>() + (c * o.samples + i) * L);
                if (b > r.bound[size_t(m * C + c)]) r.bound[size_t(m * C + c)] = b, best = i;
            }
            std::memcpy(z.data<float>() + (c * M + m) * L, zs.data<float>() + (c * o.samples + best) * L, size_t(L) * sizeof(float));
            std::memcpy(r.reconstruction.data<float>() + (c * M + m) * D, decoded.data<float>() + (c * o.samples + best) * D,
                        size_t(D) * sizeof(float));
        }
    // Refinement: Adam ascent on every latent at once, keeping each latent's best bound.
    if (o.steps > 0) {
        Tensor x3 = Tensor::empty({1, M, D}, DType::F32);
        std::memcpy(x3.data<float>(), x.data<float>(), size_t(M * D) * sizeof(float));
        std::vector<double> m1(size_t(C * M * L), 0.0), m2(size_t(C * M * L), 0.0);
        Tensor inv_var = Tensor::empty({C, 1, 1}, DType::F32);
        for (int64_t c = 0; c < C; ++c) inv_var.data<float>()[c] = float(std::exp(-r.log_var[size_t(c)]));
        for (int64_t t = 1; t <= o.steps; ++t) {
            Graph g;
            Var zv = g.variable(z);
            Var xh = vae_decode(ps, spec, zv);
            // The negative bound, summed: its gradient with respect to each latent is its own.
            Var nll = add(mul_scalar(sum_all(mul(pow(sub(g.input(x3), xh), 2.0), g.input(inv_var))), 0.5),
                          mul_scalar(sum_all(pow(zv, 2.0)), 0.5));
            g.backward(nll);
            const Tensor& gz = g.grad(zv);
            const float* xhp = xh.value().data<float>();
            // Bounds of the latents before this step.
            for (int64_t c = 0; c < C; ++c)
                for (int64_t m = 0; m < M; ++m) {
                    const double b = bound_of(c, x.data<float>() + m * D, xhp + (c * M + m) * D, z.data<float>() + (c * M + m) * L);
                    if (b > r.bound[size_t(m * C + c)]) {
                        r.bound[size_t(m * C + c)] = b;
                        std::memcpy(r.reconstruction.data<float>() + (c * M + m) * D, xhp + (c * M + m) * D, size_t(D) * sizeof(float));
                    }
                }
            const double b1 = 0.9, b2 = 0.999, bc1 = 1 - std::pow(b1, double(t)), bc2 = 1 - std::pow(b2, double(t));
            for (int64_t i = 0; i < C * M * L; ++i) {
                const double gi = gz.data<float>()[i];
                m1[size_t(i)] = b1 * m1[size_t(i)] + (1 - b1) * gi;
                m2[size_t(i)] = b2 * m2[size_t(i)] + (1 - b2) * gi * gi;
                z.data<float>()[i] = float(double(z.data<float>()[i]) -
                                           o.lr * (m1[size_t(i)] / bc1) / (std::sqrt(m2[size_t(i)] / bc2) + 1e-8));
            }
            ps.zero_grad();
        }
        // The last step's latents.
        Graph g;
        NoGradScope ng(g);
        const Tensor xh = vae_decode(ps, spec, g.input(z)).value();
        for (int64_t c = 0; c < C; ++c)
            for (int64_t m = 0; m < M; ++m) {
                const double b = bound_of(c, x.data<float>() + m * D, xh.data<float>() + (c * M + m) * D, z.data<float>() + (c * M + m) * L);
                if (b > r.bound[size_t(m * C + c)]) {
                    r.bound[size_t(m * C + c)] = b;
                    std::memcpy(r.reconstruction.data<float>() + (c * M + m) * D, xh.data<float>() + (c * M + m) * D, size_t(D) * sizeof(float));
                }
            }
    }
    return r;
}

namespace {

// [B, D] from x [1, B, D] or [B, D].
Tensor rows_of(const Tensor& x) {
    if (x.rank() == 2) return x;
    BENCHTOP_CHECK(x.rank() == 3 && x.size(0) == 1, "AbsTarget: inputs must be [1, B, D]");
    return x.reshape({x.size(1), x.size(2)});
}

Tensor bounds_as_logits(const AbsResult& r, int64_t B, int64_t C) {
    Tensor t = Tensor::empty({1, B, C}, DType::F32);
    for (int64_t i = 0; i < B * C; ++i) t.data<float>()[i] = float(r.bound[size_t(i)]);
    return t;
}

}  // namespace

Tensor AbsTarget::logits(const Tensor& x) {
    const Tensor xr = rows_of(x);
    return bounds_as_logits(abs_infer(ps_, spec_, xr, options_), xr.size(0), ps_.n_members());
}

Tensor AbsTarget::logit_gradients(const Tensor& x, Tensor* logits) {
    const Tensor xr = rows_of(x);
    const int64_t B = xr.size(0), D = xr.size(1), C = ps_.n_members();
    const AbsResult r = abs_infer(ps_, spec_, xr, options_);
    if (logits) *logits = bounds_as_logits(r, B, C);
    // d bound_c / dx = -(x - decoder_c(z*)) / variance_c at the optimal latent (envelope theorem).
    Tensor g = Tensor::empty({C, 1, B, D}, DType::F32);
    for (int64_t c = 0; c < C; ++c) {
        const double inv = std::exp(-r.log_var[size_t(c)]);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t d = 0; d < D; ++d)
                g.data<float>()[(c * B + b) * D + d] =
                    float(-(double(xr.data<float>()[b * D + d]) - double(r.reconstruction.data<float>()[(c * B + b) * D + d])) * inv);
    }
    return g;
}

Tensor AbsTarget::loss_gradient(const Tensor& x, const Tensor& y, Tensor* logits_out) {
    Tensor logits;
    const Tensor lg = logit_gradients(x, &logits);
    const int64_t B = logits.size(1), C = logits.size(2), D = lg.size(3);
    // Cross-entropy over the bounds: sum_c (softmax_c - [c = y]) d bound_c / dx.
    Tensor g = Tensor::zeros({1, B, D}, DType::F32);
    for (int64_t b = 0; b < B; ++b) {
        const float* l = logits.data<float>() + b * C;
        const double mx = *std::max_element(l, l + C);
        double z = 0;
        for (int64_t c = 0; c < C; ++c) z += std::exp(double(l[c]) - mx);
        const int32_t label = y.data<int32_t>()[b];  // one member: y is [B]
        for (int64_t c = 0; c < C; ++c) {
            const double w = std::exp(double(l[c]) - mx) / z - (c == label ? 1.0 : 0.0);
            for (int64_t d = 0; d < D; ++d) g.data<float>()[b * D + d] += float(w * double(lg.data<float>()[(c * B + b) * D + d]));
        }
    }
    if (logits_out) *logits_out = logits;
    return g;
}

}  // namespace benchtop
