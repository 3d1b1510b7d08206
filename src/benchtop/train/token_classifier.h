// Full-batch training of a sequence classifier built on the transformer of nn/transformer.h: each
// example is a token sequence [T] whose label is predicted at the last position (as the grokking
// tasks "a b =" -> c). A stack of K members trains together on the same data, each with its own
// learning rate and weight decay (AdamW with linear warm-up, as Power et al. 2022 and Nanda et al.
// 2023). Curves record train and test loss and accuracy and the parameter norm.
//
//   TokenTrainOptions o{.steps = 3000, .lr = 1e-3, .weight_decay = {1.0, 0.0}};
//   std::vector<TokenCurve> c = train_token_classifier(ps, spec, {&xtr, &ytr, &xte, &yte}, o);
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "benchtop/nn/transformer.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop {

struct TokenClassifierData {
    const Tensor* train_tokens;  // int32 [N, T]
    const Tensor* train_labels;  // int32 [N], in [0, out)
    const Tensor* test_tokens;   // int32 [M, T]
    const Tensor* test_labels;   // int32 [M]
};

struct TokenTrainOptions {
    int64_t steps = 1000;          // full-batch AdamW updates
    PerMember lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.98;
    PerMember weight_decay = 1.0;  // decoupled (AdamW)
    int64_t warmup_steps = 10;     // update u (1-based) uses lr * min(u / warmup_steps, 1)
    int64_t eval_every = 10;       // evaluate after 0, eval_every, 2 eval_every, ... updates and the last
    std::function<void(int64_t)> on_step;  // after each update, with the updates done so far
};

// Evaluations of one member. steps[i] = updates done before evaluation i.
struct TokenCurve {
    std::vector<int64_t> steps;
    std::vector<double> train_loss, train_acc, test_loss, test_acc, weight_norm;
    int64_t diverged_at = -1;  // first update whose training loss was not finite
};

std::vector<TokenCurve> train_token_classifier(ParamSet& ps, const TransformerSpec& spec,
                                               const TokenClassifierData& data, const TokenTrainOptions& options);

}  // namespace benchtop
