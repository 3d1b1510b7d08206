#include "benchtop/train/classifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "benchtop/core/rng.h"
#include "benchtop/nn/deep_mlp.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/optim/sgd.h"
#include "benchtop/train/metrics.h"

namespace benchtop {

ModelKind model_kind_from_string(const std::string& name) {
    if (name == "logistic") return ModelKind::Logistic;
    if (name == "mlp") return ModelKind::Mlp;
    if (name == "cnn") return ModelKind::Cnn;
    if (name == "gru") return ModelKind::Gru;
    fail("unknown model '", name, "' (expected logistic, mlp, cnn or gru)");
}

namespace {
MlpSpec mlp_spec(const ClassifierSpec& s) { return {.in = s.in, .hidden = s.width, .out = s.out, .residual = s.residual}; }
CnnSpec cnn_spec(const ClassifierSpec& s) { return {.length = s.in, .channels = s.width, .out = s.out}; }
DeepMlpSpec deep_spec(const ClassifierSpec& s) {
    return {.in = s.in, .hidden = std::vector<int64_t>(static_cast<size_t>(s.depth), s.width), .out = s.out};
}
GruSpec gru_spec(const ClassifierSpec& s) { return {.length = s.in, .input = 1, .hidden = s.width, .out = s.out}; }
}  // namespace

void add_classifier_params(ParamSet& ps, const ClassifierSpec& spec) {
    switch (spec.kind) {
        case ModelKind::Logistic:
            ps.add("linear.weight", {spec.out, spec.in});
            ps.add("linear.bias", {spec.out});
            return;
        case ModelKind::Mlp: add_mlp_params(ps, mlp_spec(spec)); return;
        case ModelKind::Cnn: add_cnn_params(ps, cnn_spec(spec)); return;
        case ModelKind::Gru: add_gru_params(ps, gru_spec(spec)); return;
        case ModelKind::DeepMlp: add_deep_mlp_params(ps, deep_spec(spec)); return;
    }
}

Var classifier_forward(ParamSet& ps, const ClassifierSpec& spec, Var x) {
    Graph& g = *x.g;
    switch (spec.kind) {
        case ModelKind::Logistic: return linear(x, ps.var(g, "linear.weight"), ps.var(g, "linear.bias"));
        case ModelKind::Mlp: return mlp_forward(ps, mlp_spec(spec), x);
        case ModelKind::Cnn: return cnn_forward(ps, cnn_spec(spec), x);
        case ModelKind::Gru: return gru_forward(ps, gru_spec(spec), x);
        case ModelKind::DeepMlp: return deep_mlp_forward(ps, deep_spec(spec), x);
    }
    fail("classifier_forward: unknown model kind");
}

int64_t classifier_param_count(const ClassifierSpec& spec) {
    ParamSet ps(1);
    add_classifier_params(ps, spec);
    return ps.numel_per_member();
}

namespace {

// Columns [start, start + n) of per-member labels [K, N] as a new [K, n] tensor.
Tensor label_columns(const Tensor& y, int64_t start, int64_t n) {
    int64_t K = y.size(0), N = y.size(1);
    Tensor out = Tensor::empty({K, n}, DType::I32);
    for (int64_t k = 0; k < K; ++k)
        std::memcpy(out.data<int32_t>() + k * n, y.data<int32_t>() + k * N + start, size_t(n) * sizeof(int32_t));
    return out;
}

}  // namespace

EvalResult evaluate_classifier(ParamSet& ps, const ClassifierSpec& spec, const Tensor& x, const Tensor& y) {
    const int64_t K = ps.n_members(), N = x.size(0);
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(N, (1 << 22) / std::max<int64_t>(1, K * spec.width)));
    EvalResult r{std::vector<double>(size_t(K), 0.0), std::vector<double>(size_t(K), 0.0)};
    Graph g;
    NoGradScope ng(g);
    for (int64_t start = 0; start < N; start += chunk) {
        int64_t n = std::min(chunk, N - start);
        Tensor yb = y.rank() == 1 ? batch_rows(y, start, n, false) : label_columns(y, start, n);
        Var logits = classifier_forward(ps, spec, g.input(batch_rows(x, start, n)));
        Var loss = cross_entropy(logits, yb, Reduction::Sum);
        std::vector<double> acc = accuracy(logits.value(), yb);
        for (int64_t k = 0; k < K; ++k) {
            r.loss[size_t(k)] += loss.value().at(k);
            r.acc[size_t(k)] += acc[size_t(k)] * static_cast<double>(n);
        }
        g.reset();
    }
    for (int64_t k = 0; k < K; ++k) {
        r.loss[size_t(k)] /= static_cast<double>(N);
        r.acc[size_t(k)] /= static_cast<double>(N);
    }
    return r;
}

double param_norm(const ParamSet& ps, int64_t member) {
    double ss = 0;
    for (const auto& e : ps.entries()) {
        const Tensor v = e.value.member(member);
        dispatch_float(v.dtype(), "param_norm", [&](auto tag) {
            using T = decltype(tag);
            const T* p = v.data<T>();
            for (int64_t i = 0, n = v.numel(); i < n; ++i) ss += double(p[i]) * double(p[i]);
        });
    }
    return std::sqrt(ss);
}

Tensor one_hot(const Tensor& labels, int64_t classes) {
    std::vector<int64_t> dims = labels.shape().vec();
    dims.push_back(classes);
    Tensor t = Tensor::zeros(Shape(dims), DType::F32);
    const int32_t* y = labels.data<int32_t>();
    float* o = t.data<float>();
    for (int64_t i = 0, n = labels.numel(); i < n; ++i) {
        BENCHTOP_CHECK(y[i] >= 0 && y[i] < classes, "one_hot: label ", y[i], " outside [0, ", classes, ")");
        o[i * classes + y[i]] = 1.f;
    }
    return t;
}

std::vector<MemberCurve> train_classifier(ParamSet& ps, const ClassifierSpec& spec, const ClassifierData& data,
                                          const TrainOptions& o) {
    const int64_t K = ps.n_members();
    const Tensor& xt = *data.x_train;
    const Tensor& yt = *data.y_train;
    const int64_t N = xt.size(0), D = xt.size(1);
    BENCHTOP_CHECK(xt.rank() == 2 && xt.dtype() == DType::F32, "train_classifier: x_train must be [N, D] float32, got ",
                   xt.shape().str());
    BENCHTOP_CHECK((yt.rank() == 1 && yt.size(0) == N) || (yt.rank() == 2 && yt.size(0) == K && yt.size(1) == N),
                   "train_classifier: y_train of shape ", yt.shape().str(), " does not fit ", K, " members and ",
                   N, " examples");
    BENCHTOP_CHECK(o.batch >= 1 && o.batch <= N, "train_classifier: batch ", o.batch, " must be in [1, ", N, "]");
    BENCHTOP_CHECK(o.eval_every >= 1, "train_classifier: eval_every must be >= 1");
    BENCHTOP_CHECK(!o.shuffle_each_epoch || static_cast<int64_t>(o.seeds.size()) == K,
                   "train_classifier: shuffling needs one seed per member, got ", o.seeds.size());

    std::optional<Adam> adam;
    std::optional<Sgd> sgd;
    if (o.optimizer == OptimizerKind::Adam)
        adam.emplace(ps, AdamOptions{.lr = o.lr, .weight_decay = o.weight_decay,
                                     .decoupled = o.decoupled_weight_decay});
    else
        sgd.emplace(ps, SgdOptions{.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay});

    std::vector<MemberCurve> curves(static_cast<size_t>(K));
    std::vector<std::vector<int64_t>> order(static_cast<size_t>(K));
    std::vector<Rng> shuffle_rng;
    if (o.shuffle_each_epoch)
        for (int64_t k = 0; k < K; ++k) shuffle_rng.emplace_back(stream_key(o.seeds[size_t(k)], 0, Purpose::Shuffle));
    Tensor xb_own, yb_own;
    if (o.shuffle_each_epoch) {
        xb_own = Tensor::empty({K, o.batch, D}, DType::F32);
        yb_own = Tensor::empty({K, o.batch}, DType::I32);
    }

    auto evaluate = [&](int64_t step) {
        EvalResult tr = evaluate_classifier(ps, spec, xt, yt);
        EvalResult te = evaluate_classifier(ps, spec, *data.x_test, *data.y_test);
        for (int64_t k = 0; k < K; ++k) {
            MemberCurve& c = curves[size_t(k)];
            if (c.diverged_at >= 0 || (o.stop_member_when_fit && c.fit_at >= 0)) continue;
            if (c.fit_at < 0 && tr.acc[size_t(k)] == 1.0) c.fit_at = step;
            c.steps.push_back(step);
            c.train_loss.push_back(tr.loss[size_t(k)]);
            c.train_acc.push_back(tr.acc[size_t(k)]);
            c.test_loss.push_back(te.loss[size_t(k)]);
            c.test_acc.push_back(te.acc[size_t(k)]);
            if (o.record_weight_norm) c.weight_norm.push_back(param_norm(ps, k));
        }
    };

    // Learning rates of step s: decayed, and 0 for members that stopped.
    BENCHTOP_CHECK(o.lr_decay_every >= 0, "train_classifier: lr_decay_every must be >= 0");
    o.lr.check(K, "train_classifier: lr");
    std::vector<double> lr_now(static_cast<size_t>(K));
    auto lr_at = [&](int64_t s) {
        const double f = o.lr_decay_every > 0 ? std::pow(o.lr_decay, double(s / o.lr_decay_every)) : 1.0;
        for (int64_t k = 0; k < K; ++k) {
            const MemberCurve& c = curves[size_t(k)];
            lr_now[size_t(k)] = (o.stop_member_when_fit && c.fit_at >= 0) ? 0.0 : o.lr[k] * f;
        }
        return PerMember(lr_now);
    };
    const bool variable_lr = o.lr_decay_every > 0 || o.stop_member_when_fit;

    Graph g;
    const int64_t steps_per_epoch = (N + o.batch - 1) / o.batch;
    for (int64_t s = 0; s <= o.steps; ++s) {
        if (o.stop_member_when_fit) {
            bool all_done = true;
            for (const MemberCurve& c : curves) all_done = all_done && (c.fit_at >= 0 || c.diverged_at >= 0);
            if (all_done) break;
        }
        if (variable_lr) {
            if (adam) adam->set_lr(lr_at(s));
            else sgd->set_lr(lr_at(s));
        }
        Var input;
        Tensor labels;
        if (o.shuffle_each_epoch) {
            // Epoch e, batch j of member k: rows order_k[j*batch, +batch) of that epoch's permutation
            // (the last batch of an epoch may be short; it is filled from the start of the epoch).
            int64_t j = s % steps_per_epoch;
            for (int64_t k = 0; k < K; ++k) {
                auto& ord = order[size_t(k)];
                if (j == 0) {
                    ord.resize(size_t(N));
                    std::iota(ord.begin(), ord.end(), 0);
                    Rng& rng = shuffle_rng[size_t(k)];
                    for (int64_t i = N - 1; i > 0; --i)
                        std::swap(ord[size_t(i)], ord[size_t(rng.below(uint64_t(i + 1)))]);
                }
                for (int64_t b = 0; b < o.batch; ++b) {
                    int64_t row = ord[size_t((j * o.batch + b) % N)];
                    std::memcpy(xb_own.data<float>() + (k * o.batch + b) * D, xt.data<float>() + row * D,
                                size_t(D) * sizeof(float));
                    yb_own.data<int32_t>()[k * o.batch + b] =
                        yt.rank() == 1 ? yt.data<int32_t>()[row] : yt.data<int32_t>()[k * N + row];
                }
            }
            input = g.input(xb_own);
            labels = yb_own;
        } else {
            int64_t start = (o.batch * s) % N;
            int64_t n = std::min(o.batch, N - start);
            input = g.input(batch_rows(xt, start, n));
            labels = yt.rank() == 1 ? batch_rows(yt, start, n, false) : label_columns(yt, start, n);
        }
        if (o.perturb_batch) input = g.input(o.perturb_batch(input.value(), labels));
        Var out = classifier_forward(ps, spec, input);
        Var loss = o.mse_one_hot ? mse_loss(out, g.input(one_hot(labels, spec.out))) : cross_entropy(out, labels);
        for (int64_t k = 0; k < K; ++k) {
            double l = loss.value().at(k);
            MemberCurve& c = curves[size_t(k)];
            if (c.diverged_at < 0 && !std::isfinite(l)) c.diverged_at = s;
            if (c.diverged_at < 0) c.final_batch_loss = l;
        }
        ps.zero_grad();
        g.backward(loss);
        if (adam) adam->step();
        else sgd->step();
        g.reset();
        const int64_t phase = o.eval_at_period_end ? s + 1 : s;
        if (phase % o.eval_every == 0 || s == o.steps) evaluate(s);
        if (o.on_step) o.on_step(s + 1);
    }
    return curves;
}

}  // namespace benchtop
