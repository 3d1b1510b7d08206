#include "benchtop/ssl/contrastive.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "benchtop/core/error.h"
#include "benchtop/nn/init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"

namespace benchtop::ssl {

SslMethod ssl_method_from_string(const std::string& s) {
    if (s == "simclr") return SslMethod::SimClr;
    if (s == "simsiam") return SslMethod::SimSiam;
    if (s == "byol") return SslMethod::Byol;
    throw Error("unknown self-supervised method '" + s + "' (simclr, simsiam, byol)");
}

int64_t representation_dim(const EncoderSpec& spec) {
    auto out = [](int64_t l, int64_t k) { return (l + 2 - k) / 2 + 1; };
    return spec.channels * out(out(out(spec.length, 5), 3), 3);
}

namespace {

void add_linear(ParamSet& ps, const std::string& name, int64_t out, int64_t in, const std::vector<uint64_t>& seeds) {
    ps.add(name + ".weight", {out, in});
    ps.add(name + ".bias", {out});
    init_default(ps, name + ".weight", seeds);
    init_default(ps, name + ".bias", seeds, {}, in);
}

void add_encoder(ParamSet& ps, const EncoderSpec& s, const std::vector<uint64_t>& seeds) {
    BENCHTOP_CHECK(s.length >= 8 && s.channels >= 1 && s.proj_hidden >= 1 && s.proj_dim >= 1 && s.pred_hidden >= 1,
                   "ssl encoder: needs length >= 8 and positive sizes");
    const int64_t C = s.channels;
    const std::pair<const char*, Shape> convs[] = {{"conv1", {C, 1, 5}}, {"conv2", {C, C, 3}}, {"conv3", {C, C, 3}}};
    for (const auto& [name, shape] : convs) {
        ps.add(std::string(name) + ".weight", shape);
        ps.add(std::string(name) + ".bias", {C});
        init_default(ps, std::string(name) + ".weight", seeds);
        init_default(ps, std::string(name) + ".bias", seeds, {}, shape[1] * shape[2]);
    }
}

void add_mlp(ParamSet& ps, const std::string& p, int64_t in, int64_t hidden, int64_t out, const std::vector<uint64_t>& seeds) {
    add_linear(ps, p + ".fc1", hidden, in, seeds);
    ps.add(p + ".bn.weight", {hidden}).fill(1.0);
    ps.add(p + ".bn.bias", {hidden});
    add_linear(ps, p + ".fc2", out, hidden, seeds);
}

// x [1 or K, B, L] -> representation [K, B, R].
Var encoder(Graph& g, ParamSet& ps, Var x) {
    const Shape s = x.shape();
    Var h = reshape(permute(x, {0, 2, 1}), {s[0], 1, s[2], s[1]});  // [., 1, L, B]: batch innermost
    for (const char* c : {"conv1", "conv2", "conv3"})
        h = conv1d_clb_relu(h, ps.var(g, std::string(c) + ".weight"), ps.var(g, std::string(c) + ".bias"), 2, 1);
    const Shape hs = h.shape();  // [K, C, L', B] -> [K, B, C * L'] (torch's flatten order)
    return reshape(permute(h, {0, 3, 1, 2}), {hs[0], hs[3], hs[1] * hs[2]});
}

// Linear, batch norm (batch statistics), ReLU, Linear.
Var mlp(Graph& g, ParamSet& ps, const std::string& p, Var x) {
    const int64_t K = ps.n_members(), H = ps.value(p + ".bn.weight").size(1);
    Var h = linear(x, ps.var(g, p + ".fc1.weight"), ps.var(g, p + ".fc1.bias"));
    h = batch_norm(h, ps.var(g, p + ".bn.weight"), ps.var(g, p + ".bn.bias"), Tensor::zeros({K, H}), Tensor::full({K, H}, 1.0),
                   /*training=*/true);
    return linear(relu(h), ps.var(g, p + ".fc2.weight"), ps.var(g, p + ".fc2.bias"));
}

Var l2_normalize(Var z) { return div(z, sqrt(add_scalar(sum(mul(z, z), 2, true), 1e-12))); }

Tensor shared(const Tensor& v) { return v.reshape({1, v.size(0), v.size(1)}); }

// Two views stacked: rows [0, B) the first, [B, 2B) the second -> [2B, L].
Tensor two_views(const Tensor& x, std::span<const int64_t> rows, const AugmentOptions& a, Rng& rng) {
    const Tensor v1 = augment_batch(x, rows, a, rng), v2 = augment_batch(x, rows, a, rng);
    const int64_t B = v1.size(0), L = v1.size(1);
    Tensor out = Tensor::empty({2 * B, L}, DType::F32);
    std::memcpy(out.data<float>(), v1.data<float>(), size_t(B * L) * sizeof(float));
    std::memcpy(out.data<float>() + B * L, v2.data<float>(), size_t(B * L) * sizeof(float));
    return out;
}

// [K, 2B, P] with its halves swapped.
Var swap_halves(Var z) {
    const int64_t n = z.shape()[1];
    return concat({slice(z, 1, n / 2, n), slice(z, 1, 0, n / 2)}, 1);
}

std::vector<Features> features_of(const Tensor& v, int64_t K) {  // [K, n, D] -> per member
    const int64_t n = v.size(1), D = v.size(2);
    std::vector<Features> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        out[size_t(k)] = {n, D, std::vector<float>(v.data<float>() + k * n * D, v.data<float>() + (k + 1) * n * D)};
    }
    return out;
}

std::vector<Features> batched(ParamSet& ps, const Tensor& x, bool projections) {
    const int64_t K = ps.n_members(), N = x.size(0), L = x.size(1);
    std::vector<Features> out(static_cast<size_t>(K));
    for (int64_t s = 0; s < N; s += 1000) {
        const int64_t e = std::min(N, s + 1000);
        Graph g;
        NoGradScope ng(g);
        Tensor part = Tensor::empty({1, e - s, L}, DType::F32);
        std::memcpy(part.data<float>(), x.data<float>() + s * L, size_t((e - s) * L) * sizeof(float));
        Var h = encoder(g, ps, g.input(part));
        if (projections) h = mlp(g, ps, "proj", h);
        const std::vector<Features> f = features_of(h.value(), K);
        for (int64_t k = 0; k < K; ++k) {
            Features& o = out[size_t(k)];
            o.dim = f[size_t(k)].dim, o.n += f[size_t(k)].n;
            o.f.insert(o.f.end(), f[size_t(k)].f.begin(), f[size_t(k)].f.end());
        }
    }
    return out;
}

}  // namespace

ParamSet make_ssl_params(const EncoderSpec& s, const std::vector<uint64_t>& seeds) {
    BENCHTOP_CHECK(!seeds.empty(), "make_ssl_params: needs at least one seed");
    ParamSet ps(int64_t(seeds.size()));
    add_encoder(ps, s, seeds);
    add_mlp(ps, "proj", representation_dim(s), s.proj_hidden, s.proj_dim, seeds);
    if (s.predictor) add_mlp(ps, "pred", s.proj_dim, s.pred_hidden, s.proj_dim, seeds);
    return ps;
}

std::vector<Features> encode(ParamSet& ps, const EncoderSpec&, const Tensor& x) { return batched(ps, x, false); }
std::vector<Features> project(ParamSet& ps, const EncoderSpec&, const Tensor& x) { return batched(ps, x, true); }

std::vector<SslCurve> pretrain(ParamSet& ps, const EncoderSpec& spec, const Tensor& x, const Tensor& x_monitor,
                               const SslOptions& o) {
    const int64_t K = ps.n_members(), N = x.size(0);
    BENCHTOP_CHECK(x.rank() == 2 && x.size(1) == spec.length && x_monitor.rank() == 2 && x_monitor.size(1) == spec.length,
                   "pretrain: signals must be [N, ", spec.length, "]");
    BENCHTOP_CHECK(o.epochs >= 0 && o.batch >= 2 && o.eval_every >= 1 && o.temperature > 0 && o.ema >= 0 && o.ema <= 1,
                   "pretrain: needs epochs >= 0, batch >= 2, eval_every >= 1, temperature > 0 and ema in [0, 1]");
    const bool use_predictor = spec.predictor && o.method != SslMethod::SimClr;
    BENCHTOP_CHECK(!use_predictor || ps.contains("pred.fc1.weight"), "pretrain: the parameters have no predictor");
    const int64_t B = std::min(o.batch, N);
    Adam adam(ps, AdamOptions{.lr = o.lr, .weight_decay = o.weight_decay, .decoupled = true});
    // BYOL's target network: encoder and projector, starting as a copy of the online ones.
    ParamSet target(K);
    if (o.method == SslMethod::Byol)
        for (const auto& e : ps.entries())
            if (e.name.rfind("pred.", 0) != 0) {
                std::vector<int64_t> dims = e.value.shape().vec();
                dims.erase(dims.begin());
                target.add(e.name, Shape(dims)).copy_from(e.value);
            }
    std::vector<SslCurve> curves(static_cast<size_t>(K));
    auto monitor = [&](int64_t epoch) {
        const std::vector<Features> z = project(ps, spec, x_monitor);
        for (int64_t k = 0; k < K; ++k) {
            SslCurve& c = curves[size_t(k)];
            c.eval_epochs.push_back(epoch);
            c.proj_std.push_back(normalized_std(z[size_t(k)]));
            c.proj_rank.push_back(effective_rank(singular_values(z[size_t(k)])));
        }
    };
    monitor(0);
    Tensor labels = Tensor::empty({2 * B}, DType::I32);
    for (int64_t i = 0; i < 2 * B; ++i) labels.data<int32_t>()[i] = int32_t((i + B) % (2 * B));
    Tensor diag = Tensor::zeros({2 * B, 2 * B}, DType::F32);
    for (int64_t i = 0; i < 2 * B; ++i) diag.data<float>()[i * 2 * B + i] = -1e9f;
    std::vector<int64_t> perm(static_cast<size_t>(N));
    std::vector<double> epoch_loss(static_cast<size_t>(K));
    Graph g;
    int64_t step = 0;
    for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
        std::iota(perm.begin(), perm.end(), 0);
        Rng shuffle(stream_key(o.data_seed, uint64_t(epoch), Purpose::Shuffle));
        for (int64_t i = N - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(shuffle.below(uint64_t(i + 1)))]);
        std::fill(epoch_loss.begin(), epoch_loss.end(), 0.0);
        const int64_t batches = N / B;
        for (int64_t b = 0; b < batches; ++b, ++step) {
            Rng rng(stream_key(o.data_seed, uint64_t(step), Purpose::Data));
            const Tensor views = two_views(x, std::span<const int64_t>(perm.data() + b * B, size_t(B)), o.augment, rng);
            Var z = mlp(g, ps, "proj", encoder(g, ps, g.input(shared(views))));  // [K, 2B, P]
            Var loss;
            if (o.method == SslMethod::SimClr) {
                Var zn = l2_normalize(z);
                Var sim = add(mul_scalar(matmul(zn, transpose(zn, 1, 2)), 1.0 / o.temperature), g.input(diag));
                loss = cross_entropy(sim, labels);
            } else {
                Var p = use_predictor ? mlp(g, ps, "pred", z) : z;
                Var t;
                if (o.method == SslMethod::Byol) {
                    Graph gt;
                    NoGradScope ng(gt);
                    t = g.input(mlp(gt, target, "proj", encoder(gt, target, gt.input(shared(views)))).value().clone());
                } else {
                    t = o.stop_gradient ? g.input(z.value()) : z;
                }
                loss = neg(mean(sum(mul(l2_normalize(p), swap_halves(l2_normalize(t))), 2), 1));  // [K]
            }
            for (int64_t k = 0; k < K; ++k) epoch_loss[size_t(k)] += loss.value().at(k) / double(batches);
            ps.zero_grad();
            g.backward(loss);
            adam.step();
            g.reset();
            if (o.method == SslMethod::Byol)
                for (auto& e : target.entries()) {
                    const Tensor& on = ps.value(e.name);
                    float* t = e.value.data<float>();
                    const float* s = on.data<float>();
                    for (int64_t i = 0; i < e.value.numel(); ++i) t[i] = float(o.ema * t[i] + (1 - o.ema) * s[i]);
                }
            if (o.on_step) o.on_step(step + 1);
        }
        for (int64_t k = 0; k < K; ++k) {
            curves[size_t(k)].loss_epochs.push_back(epoch);
            curves[size_t(k)].loss.push_back(epoch_loss[size_t(k)]);
        }
        if (epoch % o.eval_every == 0 || epoch == o.epochs) monitor(epoch);
    }
    return curves;
}

std::vector<double> train_supervised(const EncoderSpec& spec, const std::vector<uint64_t>& seeds, const Tensor& x,
                                     const std::vector<int32_t>& y, const Tensor& x_test, const std::vector<int32_t>& y_test,
                                     int64_t classes, const SupervisedOptions& o) {
    BENCHTOP_CHECK(!seeds.empty() && x.rank() == 2 && x.size(0) == int64_t(y.size()) && x_test.size(0) == int64_t(y_test.size()),
                   "train_supervised: signals and labels do not match");
    const auto K = int64_t(seeds.size());
    ParamSet ps(K);
    add_encoder(ps, spec, seeds);
    add_linear(ps, "head", classes, representation_dim(spec), seeds);
    Adam adam(ps, AdamOptions{.lr = o.lr});
    std::vector<int64_t> rows(y.size());
    std::iota(rows.begin(), rows.end(), 0);
    Tensor labels = Tensor::empty({int64_t(y.size())}, DType::I32);
    std::copy(y.begin(), y.end(), labels.data<int32_t>());
    auto logits = [&](Graph& g, const Tensor& v) {
        return linear(encoder(g, ps, g.input(shared(v))), ps.var(g, "head.weight"), ps.var(g, "head.bias"));
    };
    Graph g;
    for (int64_t s = 0; s < o.steps; ++s) {
        Rng rng(stream_key(o.data_seed, uint64_t(s), Purpose::Data));
        Var loss = cross_entropy(logits(g, augment_batch(x, rows, o.augment, rng)), labels);
        ps.zero_grad();
        g.backward(loss);
        adam.step();
        g.reset();
    }
    Graph ge;
    NoGradScope ng(ge);
    const Tensor out = logits(ge, x_test).value();  // [K, M, classes]
    const int64_t M = x_test.size(0);
    std::vector<double> acc(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        int64_t right = 0;
        for (int64_t i = 0; i < M; ++i) {
            const float* r = out.data<float>() + (k * M + i) * classes;
            right += std::max_element(r, r + classes) - r == y_test[size_t(i)];
        }
        acc[size_t(k)] = double(right) / double(M);
    }
    return acc;
}

}  // namespace benchtop::ssl
