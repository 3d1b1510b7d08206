#include "benchtop/train/token_classifier.h"

#include <algorithm>
#include <cmath>

#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/train/classifier.h"
#include "benchtop/train/metrics.h"

namespace benchtop {

namespace {

// [N, T] -> [1, N, T] (shared by every member).
Tensor shared_tokens(const Tensor& t) { return t.reshape({1, t.size(0), t.size(1)}); }

// Loss [K] and logits [K, N, out] at the last position.
struct Forward {
    Var loss;
    Tensor logits;
};

Forward forward_last(Graph& g, ParamSet& ps, const TransformerSpec& spec, const Tensor& tokens, const Tensor& labels) {
    Var logits = transformer_forward(g, ps, spec, shared_tokens(tokens), 1);
    const int64_t K = ps.n_members(), N = tokens.size(0);
    Var flat = reshape(logits, {K, N, transformer_out_size(spec)});
    return {cross_entropy(flat, labels), flat.value()};
}

}  // namespace

std::vector<TokenCurve> train_token_classifier(ParamSet& ps, const TransformerSpec& spec,
                                               const TokenClassifierData& data, const TokenTrainOptions& o) {
    const int64_t K = ps.n_members();
    const Tensor &xt = *data.train_tokens, &yt = *data.train_labels;
    BENCHTOP_CHECK(xt.rank() == 2 && xt.dtype() == DType::I32 && yt.rank() == 1 && yt.size(0) == xt.size(0),
                   "train_token_classifier: train tokens ", xt.shape().str(), " and labels ", yt.shape().str(),
                   " must be int32 [N, T] and [N]");
    BENCHTOP_CHECK(data.test_tokens->rank() == 2 && data.test_labels->size(0) == data.test_tokens->size(0),
                   "train_token_classifier: test tokens ", data.test_tokens->shape().str(), " and labels ",
                   data.test_labels->shape().str(), " do not match");
    BENCHTOP_CHECK(o.steps >= 0 && o.eval_every >= 1 && o.warmup_steps >= 0,
                   "train_token_classifier: steps and warmup_steps must be >= 0 and eval_every >= 1");
    o.lr.check(K, "train_token_classifier: lr");
    o.weight_decay.check(K, "train_token_classifier: weight_decay");

    Adam opt(ps, {.lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2, .weight_decay = o.weight_decay, .decoupled = true});
    std::vector<TokenCurve> curves(static_cast<size_t>(K));
    std::vector<double> lr_now(static_cast<size_t>(K));

    Graph g;
    for (int64_t s = 0; s <= o.steps; ++s) {
        const bool eval = s % o.eval_every == 0 || s == o.steps;
        Forward f = forward_last(g, ps, spec, xt, yt);
        for (int64_t k = 0; k < K; ++k) {
            TokenCurve& c = curves[size_t(k)];
            if (c.diverged_at < 0 && !std::isfinite(f.loss.value().at(k))) c.diverged_at = s;
        }
        if (eval) {
            const std::vector<double> train_acc = accuracy(f.logits, yt);
            std::vector<double> test_loss(static_cast<size_t>(K)), test_acc(static_cast<size_t>(K));
            {
                Graph ge;
                NoGradScope no_grad(ge);
                Forward te = forward_last(ge, ps, spec, *data.test_tokens, *data.test_labels);
                test_acc = accuracy(te.logits, *data.test_labels);
                for (int64_t k = 0; k < K; ++k) test_loss[size_t(k)] = te.loss.value().at(k);
            }
            for (int64_t k = 0; k < K; ++k) {
                TokenCurve& c = curves[size_t(k)];
                c.steps.push_back(s);
                c.train_loss.push_back(f.loss.value().at(k));
                c.train_acc.push_back(train_acc[size_t(k)]);
                c.test_loss.push_back(test_loss[size_t(k)]);
                c.test_acc.push_back(test_acc[size_t(k)]);
                c.weight_norm.push_back(param_norm(ps, k));
            }
        }
        if (s == o.steps) break;
        ps.zero_grad();
        g.backward(f.loss);
        const double warm = o.warmup_steps > 0 ? std::min(1.0, double(s + 1) / double(o.warmup_steps)) : 1.0;
        for (int64_t k = 0; k < K; ++k) lr_now[size_t(k)] = o.lr[k] * warm;
        opt.set_lr(PerMember(lr_now));
        opt.step();
        g.reset();
        if (o.on_step) o.on_step(s + 1);
    }
    return curves;
}

}  // namespace benchtop
