#include "benchtop/icl/models.h"

#include <cmath>

#include "benchtop/core/error.h"
#include "benchtop/nn/init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/optim/clip.h"

namespace benchtop::icl {

IclModelKind model_kind_from_string(const std::string& s) {
    if (s == "lsa") return IclModelKind::Lsa;
    if (s == "gpt") return IclModelKind::Gpt;
    throw Error("unknown in-context model '" + s + "' (lsa, gpt)");
}

namespace {

std::string lname(int64_t l, const char* what) { return "layers." + std::to_string(l) + "." + what; }

void check_spec(const IclModelSpec& s) {
    BENCHTOP_CHECK(s.d >= 1 && s.n >= 1 && s.layers >= 1, "in-context model: needs d, n and layers >= 1 (got d ", s.d,
                   ", n ", s.n, ", layers ", s.layers, ")");
    BENCHTOP_CHECK(s.kind == IclModelKind::Lsa || (s.width >= 1 && s.heads >= 1 && s.width % s.heads == 0),
                   "in-context GPT: heads ", s.heads, " must divide width ", s.width);
}

// LSA tokens [1, B, k + 1, d + 1]: the first k pairs and (x_k, 0).
Tensor lsa_tokens(const Prompts& p, int64_t k) {
    const int64_t D = p.d + 1, T = k + 1;
    Tensor t = Tensor::zeros({1, p.batch, T, D}, DType::F32);
    float* o = t.data<float>();
    for (int64_t b = 0; b < p.batch; ++b)
        for (int64_t i = 0; i <= k; ++i) {
            float* e = o + (b * T + i) * D;
            for (int64_t j = 0; j < p.d; ++j) e[j] = float(p.xi(b, i)[j]);
            e[p.d] = i < k ? float(p.yi(b, i)) : 0.0f;
        }
    return t;
}

// GPT tokens [1, B, 2k + 1, d + 1]: (x_0, 0), (0, y_0), ..., (x_k, 0).
Tensor gpt_tokens(const Prompts& p, int64_t k) {
    const int64_t D = p.d + 1, T = 2 * k + 1;
    Tensor t = Tensor::zeros({1, p.batch, T, D}, DType::F32);
    float* o = t.data<float>();
    for (int64_t b = 0; b < p.batch; ++b)
        for (int64_t i = 0; i <= k; ++i) {
            float* e = o + (b * T + 2 * i) * D;
            for (int64_t j = 0; j < p.d; ++j) e[j] = float(p.xi(b, i)[j]);
            if (i < k) e[D + p.d] = float(p.yi(b, i));
        }
    return t;
}

// Query predictions [K, B] from k >= 1 context pairs.
Var lsa_forward(Graph& g, ParamSet& ps, const IclModelSpec& s, const Tensor& tokens) {
    const int64_t K = ps.n_members(), B = tokens.size(1), T = tokens.size(2), D = s.d + 1, k = T - 1;
    Var e = g.input(tokens);
    for (int64_t l = 0; l < s.layers; ++l) {
        Var ctx = slice(e, 2, 0, k);                                  // [., B, k, D]
        Var qe = linear(e, ps.var(g, lname(l, "w_kq")));              // W_KQ e_j   [K, B, T, D]
        Var scores = matmul(ctx, transpose(qe, 2, 3));                // e_i^T W_KQ e_j   [K, B, k, T]
        Var v = linear(ctx, ps.var(g, lname(l, "w_pv")));             // W_PV e_i   [K, B, k, D]
        Var upd = mul_scalar(matmul(transpose(scores, 2, 3), v), 1.0 / double(k));
        e = add(e, upd);
    }
    return reshape(slice(slice(e, 2, k, k + 1), 3, D - 1, D), {K, B});
}

Var gpt_lin(Graph& g, ParamSet& ps, const std::string& name, Var x) {
    return linear(x, ps.var(g, name + ".weight"), ps.var(g, name + ".bias"));
}

Var gpt_ln(Graph& g, ParamSet& ps, const std::string& name, Var x) {
    return layer_norm(x, ps.var(g, name + ".weight"), ps.var(g, name + ".bias"));
}

// Outputs at every position [K, B, T].
Var gpt_forward(Graph& g, ParamSet& ps, const IclModelSpec& s, const Tensor& tokens) {
    const int64_t K = ps.n_members(), B = tokens.size(1), T = tokens.size(2), W = s.width;
    Var pos = reshape(slice(ps.var(g, "pos"), 1, 0, T), {K, 1, T, W});
    Var h = add(gpt_lin(g, ps, "read_in", g.input(tokens)), pos);
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "layers." + std::to_string(l) + ".";
        Var a = gpt_ln(g, ps, p + "ln1", h);
        Var att = attention(gpt_lin(g, ps, p + "q", a), gpt_lin(g, ps, p + "k", a), gpt_lin(g, ps, p + "v", a), s.heads, true);
        h = add(h, gpt_lin(g, ps, p + "out", att));
        Var m = gpt_ln(g, ps, p + "ln2", h);
        h = add(h, gpt_lin(g, ps, p + "fc2", gelu(gpt_lin(g, ps, p + "fc1", m))));
    }
    return reshape(gpt_lin(g, ps, "read_out", gpt_ln(g, ps, "ln_f", h)), {K, B, T});
}

}  // namespace

ParamSet make_icl_params(const IclModelSpec& s, const std::vector<uint64_t>& seeds) {
    check_spec(s);
    const auto K = int64_t(seeds.size());
    BENCHTOP_CHECK(K >= 1, "make_icl_params: needs at least one seed");
    ParamSet ps(K);
    const int64_t D = s.d + 1;
    if (s.kind == IclModelKind::Lsa) {
        const std::vector<double> scale(size_t(K), s.init_scale);
        for (int64_t l = 0; l < s.layers; ++l)
            for (const char* w : {"w_kq", "w_pv"}) {
                ps.add(lname(l, w), {D, D});
                init_xavier_normal(ps, lname(l, w), seeds, scale);
            }
        return ps;
    }
    const int64_t W = s.width;
    auto lin = [&](const std::string& name, int64_t out, int64_t in) {
        ps.add(name + ".weight", {out, in});
        ps.add(name + ".bias", {out});
        init_default(ps, name + ".weight", seeds);
        init_default(ps, name + ".bias", seeds, {}, in);
    };
    auto ln = [&](const std::string& name) {
        ps.add(name + ".weight", {W}).fill(1.0);
        ps.add(name + ".bias", {W});
    };
    lin("read_in", W, D);
    ps.add("pos", {2 * s.n + 1, W});
    init_xavier_normal(ps, "pos", seeds, std::vector<double>(size_t(K), 0.1));
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "layers." + std::to_string(l) + ".";
        ln(p + "ln1");
        for (const char* w : {"q", "k", "v", "out"}) lin(p + w, W, W);
        ln(p + "ln2");
        lin(p + "fc1", 4 * W, W);
        lin(p + "fc2", W, 4 * W);
    }
    ln("ln_f");
    lin("read_out", 1, W);
    return ps;
}

int64_t icl_param_count(const IclModelSpec& s) { return make_icl_params(s, {0}).numel_per_member(); }

std::vector<IclCurve> train_icl(ParamSet& ps, const IclModelSpec& s, const IclTrainOptions& o) {
    check_spec(s);
    const int64_t K = ps.n_members(), n = o.task.n;
    BENCHTOP_CHECK(o.task.d == s.d && n == s.n, "train_icl: the task's d and n (", o.task.d, ", ", n,
                   ") must equal the model's (", s.d, ", ", s.n, ")");
    BENCHTOP_CHECK(o.steps >= 0 && o.batch >= 1 && o.eval_every >= 1, "train_icl: needs steps >= 0, batch >= 1, eval_every >= 1");
    o.lr.check(K, "train_icl: lr");
    Adam adam(ps, AdamOptions{.lr = o.lr});
    std::vector<IclCurve> curves(static_cast<size_t>(K));
    Graph g;
    for (int64_t step = 0; step <= o.steps; ++step) {
        Rng rng(stream_key(o.data_seed, uint64_t(step), Purpose::Data));
        const Prompts p = sample_prompts(o.task, o.batch, rng);
        Var loss;
        if (s.kind == IclModelKind::Lsa) {
            Tensor target = Tensor::empty({o.batch}, DType::F32);
            for (int64_t b = 0; b < o.batch; ++b) target.data<float>()[b] = float(p.yi(b, n));
            loss = mse_loss(lsa_forward(g, ps, s, lsa_tokens(p, n)), g.input(target));
        } else {
            const int64_t T = 2 * n + 1;
            Tensor target = Tensor::zeros({o.batch, T}, DType::F32), mask = Tensor::zeros({o.batch, T}, DType::F32);
            for (int64_t b = 0; b < o.batch; ++b)
                for (int64_t i = 0; i <= n; ++i) {
                    target.data<float>()[b * T + 2 * i] = float(p.yi(b, i));
                    mask.data<float>()[b * T + 2 * i] = 1.0f;
                }
            Var err = mul(sub(gpt_forward(g, ps, s, gpt_tokens(p, n)), g.input(target)), g.input(mask));
            loss = mul_scalar(sum(reshape(mul(err, err), {K, o.batch * T}), 1), 1.0 / double(o.batch * (n + 1)));
        }
        if (step % o.eval_every == 0 || step == o.steps)
            for (int64_t k = 0; k < K; ++k) {
                curves[size_t(k)].steps.push_back(step);
                curves[size_t(k)].loss.push_back(loss.value().at(k));
            }
        if (step == o.steps) break;
        ps.zero_grad();
        g.backward(loss);
        if (o.clip > 0) clip_grad_norm(ps, o.clip);
        adam.step();
        g.reset();
        if (o.on_step) o.on_step(step + 1);
    }
    return curves;
}

std::vector<std::vector<double>> icl_predict(ParamSet& ps, const IclModelSpec& s, const Prompts& p, int64_t k) {
    check_spec(s);
    BENCHTOP_CHECK(p.d == s.d && k >= 0 && k <= p.n && k <= s.n, "icl_predict: k = ", k, " must lie in [0, ",
                   std::min(p.n, s.n), "] and the prompts' d (", p.d, ") equal the model's (", s.d, ")");
    const int64_t K = ps.n_members();
    std::vector<std::vector<double>> out(size_t(K), std::vector<double>(size_t(p.batch), 0.0));
    if (s.kind == IclModelKind::Lsa && k == 0) return out;
    Graph g;
    NoGradScope ng(g);
    Var y = s.kind == IclModelKind::Lsa ? lsa_forward(g, ps, s, lsa_tokens(p, k)) : gpt_forward(g, ps, s, gpt_tokens(p, k));
    const int64_t T = s.kind == IclModelKind::Lsa ? 1 : 2 * k + 1;
    const float* v = y.value().data<float>();
    for (int64_t m = 0; m < K; ++m)
        for (int64_t b = 0; b < p.batch; ++b) out[size_t(m)][size_t(b)] = v[(m * p.batch + b) * T + (T - 1)];
    return out;
}

}  // namespace benchtop::icl
