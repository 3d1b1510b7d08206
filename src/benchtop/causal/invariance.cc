#include "benchtop/causal/invariance.h"

#include <cmath>
#include <cstring>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/reduce.h"
#include "benchtop/ops/shape_ops.h"
#include "benchtop/optim/adam.h"

namespace benchtop::causal {

InvarianceMethod invariance_method_from_string(const std::string& s) {
    if (s == "erm") return InvarianceMethod::Erm;
    if (s == "irm") return InvarianceMethod::Irm;
    if (s == "vrex") return InvarianceMethod::Vrex;
    throw Error("unknown invariance method '" + s + "'; known: erm, irm, vrex");
}

namespace {

Environment make_env(const Tensor& x, const Tensor& digits, int64_t begin, int64_t end, double flip,
                     const ColouredOptions& o, Rng& rng) {
    const int64_t n = end - begin, L = x.size(1);
    Environment e;
    e.colour_flip = flip;
    e.x = Tensor::zeros({n, 2 * L}, DType::F32);
    e.y = Tensor::zeros({n}, DType::F32);
    for (int64_t i = 0; i < n; ++i) {
        int label = digits.data<int32_t>()[begin + i] < 5 ? 1 : 0;
        if (rng.uniform() < o.label_noise) label = 1 - label;
        int colour = label;
        if (rng.uniform() < flip) colour = 1 - colour;
        e.y.data<float>()[i] = float(label);
        const float* src = x.data<float>() + (begin + i) * L;
        float* dst = e.x.data<float>() + i * 2 * L;
        if (o.grayscale || colour == 0) std::memcpy(dst, src, size_t(L) * sizeof(float));
        if (o.grayscale || colour == 1) std::memcpy(dst + L, src, size_t(L) * sizeof(float));
    }
    return e;
}

std::string layer(int64_t l, const char* what) { return "layer" + std::to_string(l) + "." + what; }

// Logits [K, N, 1] of every member on x [K, N, D].
Var logits(ParamSet& ps, int64_t layers, Var x) {
    Graph& g = *x.g;
    Var h = x;
    for (int64_t l = 0; l < layers; ++l) h = linear_relu(h, ps.var(g, layer(l, "weight")), ps.var(g, layer(l, "bias")));
    return linear(h, ps.var(g, layer(layers, "weight")), ps.var(g, layer(layers, "bias")));
}

Tensor stacked(const Tensor& x, int64_t K) {
    const int64_t n = x.numel();
    Tensor out = Tensor::empty(x.rank() == 1 ? Shape{K, x.size(0), 1} : Shape{K, x.size(0), x.size(1)}, DType::F32);
    for (int64_t k = 0; k < K; ++k) std::memcpy(out.data<float>() + k * n, x.data<float>(), size_t(n) * sizeof(float));
    return out;
}

}  // namespace

std::vector<Environment> coloured_environments(const Tensor& x_train, const Tensor& digits_train, const Tensor& x_test,
                                               const Tensor& digits_test, const ColouredOptions& o) {
    BENCHTOP_CHECK(!o.train_flips.empty(), "coloured_environments: needs at least one training environment");
    Rng rng(stream_key(o.seed, 0, Purpose::LabelNoise));
    std::vector<Environment> envs;
    const int64_t n = x_train.size(0), E = int64_t(o.train_flips.size());
    for (int64_t e = 0; e < E; ++e) envs.push_back(make_env(x_train, digits_train, e * n / E, (e + 1) * n / E, o.train_flips[size_t(e)], o, rng));
    envs.push_back(make_env(x_test, digits_test, 0, x_test.size(0), o.test_flip, o, rng));
    return envs;
}

std::vector<InvarianceCurve> train_invariant(const std::vector<Environment>& envs, const InvarianceOptions& o) {
    const int64_t K = int64_t(o.seeds.size()), E = int64_t(envs.size()) - 1, D = envs.at(0).x.size(1);
    BENCHTOP_CHECK(K >= 1 && E >= 1, "train_invariant: needs seeds and at least one training environment");
    ParamSet ps(K);
    for (int64_t l = 0; l <= o.layers; ++l) {
        ps.add(layer(l, "weight"), {l == o.layers ? 1 : o.hidden, l == 0 ? D : o.hidden});
        ps.add(layer(l, "bias"), {l == o.layers ? 1 : o.hidden});
    }
    init_torch_default(ps, o.seeds);
    Adam adam(ps, AdamOptions{.lr = o.lr});
    std::vector<Tensor> xs, ys;
    for (const Environment& e : envs) xs.push_back(stacked(e.x, K)), ys.push_back(stacked(e.y, K));
    std::vector<InvarianceCurve> curves(static_cast<size_t>(K));
    auto accuracy = [&](Var f, int64_t env) {  // per member
        std::vector<double> acc(static_cast<size_t>(K), 0.0);
        const int64_t n = ys[size_t(env)].size(1);
        for (int64_t k = 0; k < K; ++k) {
            int64_t right = 0;
            for (int64_t i = 0; i < n; ++i)
                right += (f.value().data<float>()[k * n + i] > 0) == (ys[size_t(env)].data<float>()[k * n + i] > 0.5f);
            acc[size_t(k)] = double(right) / double(n);
        }
        return acc;
    };
    Graph g;
    for (int64_t step = 0; step < o.steps; ++step) {
        const bool eval = step % o.eval_every == 0 || step == o.steps - 1;
        Var risk_sum, pen_sum;
        std::vector<Var> risks;
        std::vector<double> train_acc(static_cast<size_t>(K), 0.0);
        for (int64_t e = 0; e < E; ++e) {
            Var f = logits(ps, o.layers, g.input(xs[size_t(e)]));
            Var y = g.input(ys[size_t(e)]);
            Var r = mean(sum(sub(softplus(f), mul(y, f)), 2), 1);  // [K]
            risks.push_back(r);
            risk_sum = e == 0 ? r : add(risk_sum, r);
            if (o.method != InvarianceMethod::Vrex) {  // recorded for ERM too
                Var grad = mean(sum(mul(sub(sigmoid(f), y), f), 2), 1);  // d R_e(w f) / dw at w = 1
                Var p = pow(grad, 2.0);
                pen_sum = e == 0 ? p : add(pen_sum, p);
            }
            if (eval) {
                const std::vector<double> a = accuracy(f, e);
                for (int64_t k = 0; k < K; ++k) train_acc[size_t(k)] += a[size_t(k)] / double(E);
            }
        }
        Var risk = mul_scalar(risk_sum, 1.0 / double(E));
        Var penalty;
        if (o.method != InvarianceMethod::Vrex) penalty = mul_scalar(pen_sum, 1.0 / double(E));
        if (o.method == InvarianceMethod::Vrex) {
            for (int64_t e = 0; e < E; ++e) {
                Var d2 = pow(sub(risks[size_t(e)], risk), 2.0);
                penalty = e == 0 ? d2 : add(penalty, d2);
            }
            penalty = mul_scalar(penalty, 1.0 / double(E));
        }
        Var l2;
        for (int64_t l = 0; l <= o.layers; ++l)
            for (const char* what : {"weight", "bias"}) {
                Var w = ps.var(g, layer(l, what));
                Var s = sum(pow(reshape(w, {K, w.value().numel() / K}), 2.0), 1);
                l2 = l2.defined() ? add(l2, s) : s;
            }
        const double lambda = step >= o.anneal_steps ? o.penalty_weight : 1.0;
        Var loss = add(risk, mul_scalar(l2, o.l2));
        if (o.method != InvarianceMethod::Erm) loss = add(loss, mul_scalar(penalty, lambda));
        if (o.method != InvarianceMethod::Erm && lambda > 1) loss = mul_scalar(loss, 1.0 / lambda);
        if (eval) {
            std::vector<double> test_acc;
            {
                Graph ge;
                NoGradScope ng(ge);
                test_acc = accuracy(logits(ps, o.layers, ge.input(xs[size_t(E)])), E);
            }
            for (int64_t k = 0; k < K; ++k) {
                InvarianceCurve& c = curves[size_t(k)];
                c.steps.push_back(step);
                c.train_acc.push_back(train_acc[size_t(k)]);
                c.test_acc.push_back(test_acc[size_t(k)]);
                c.train_risk.push_back(risk.value().at(k));
                c.penalty.push_back(penalty.defined() ? penalty.value().at(k) : std::nan(""));
            }
        }
        ps.zero_grad();
        g.backward(loss);
        adam.step();
        g.reset();
    }
    return curves;
}

}  // namespace benchtop::causal
