// Models that learn regression in context, trained as a stack of K members on the engine.
//
// Linear self-attention (von Oswald et al. 2023): tokens e_i = (x_i, y_i) for the k context
// pairs and e_q = (x_q, 0) for the query, each in R^(d+1). Each of L layers updates every token
// with attention over the context tokens, without softmax, MLP or normalisation:
//     e_j <- e_j + (1/k) sum_{i<k} W_PV e_i (e_i^T W_KQ e_j)
// and the prediction is the last coordinate of the query token. One layer with
// W_KQ = [[I, 0], [0, 0]] and W_PV = eta [[0, 0], [0, 1]] is one step of gradient descent from
// w = 0 (prediction eta/k sum_i y_i x_i.x_q); the experiment checks what training finds.
//
// Small GPT (Garg et al. 2022): the interleaved sequence x_0, y_0, x_1, y_1, ..., x_n as tokens
// (x, 0) and (0, y) in R^(d+1), a linear read-in plus learned positions, pre-norm causal
// transformer blocks (multi-head softmax attention, GELU MLP of 4 x width), a final norm and a
// linear read-out; the output at x_k's position predicts y_k from the k pairs before it. The loss
// averages the squared error over every x position, so one model serves every k.
//
//   IclModelSpec spec{.kind = IclModelKind::Lsa, .d = 5, .n = 10, .layers = 1};
//   IclTrainOptions o{.task = {.d = 5, .n = 10}, .steps = 2000, .seeds = {0, 1}};
//   ParamSet ps = make_icl_params(spec, o.seeds);
//   std::vector<IclCurve> curves = train_icl(ps, spec, o);
//   std::vector<std::vector<double>> yhat = icl_predict(ps, spec, prompts, /*k=*/10);  // [K][B]
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchtop/icl/tasks.h"
#include "benchtop/nn/params.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop::icl {

enum class IclModelKind { Lsa, Gpt };
IclModelKind model_kind_from_string(const std::string& s);  // "lsa", "gpt"

struct IclModelSpec {
    IclModelKind kind = IclModelKind::Lsa;
    int64_t d = 5;            // input dimension
    int64_t n = 10;           // most context pairs (GPT: positions 2n + 1)
    int64_t layers = 1;
    int64_t width = 64;       // GPT only
    int64_t heads = 4;        // GPT only; divides width
    double init_scale = 0.5;  // LSA only: Xavier-normal weights times this
};

// Parameters of K = seeds.size() members, initialised (member k from seeds[k] alone).
ParamSet make_icl_params(const IclModelSpec& spec, const std::vector<uint64_t>& seeds);
int64_t icl_param_count(const IclModelSpec& spec);

struct IclTrainOptions {
    TaskOptions task;
    int64_t steps = 2000;
    int64_t batch = 256;        // fresh prompts per step, the same for every member
    PerMember lr = 1e-3;        // Adam
    double clip = 0;            // > 0: each member's gradient norm clipped to this before the update
    uint64_t data_seed = 0;     // prompts of step s: Rng(stream_key(data_seed, s, Purpose::Data))
    int64_t eval_every = 100;   // loss points of the curve (also the last step)
    std::function<void(int64_t)> on_step;
};

struct IclCurve {
    std::vector<int64_t> steps;
    std::vector<double> loss;  // training loss of the batch at that step (before the update)
};

// Adam on fresh prompts each step. LSA: squared error of the query with n context pairs; GPT: mean
// squared error over all x positions.
std::vector<IclCurve> train_icl(ParamSet& ps, const IclModelSpec& spec, const IclTrainOptions& o);

// Predictions of y_k for every prompt from its first k pairs, per member: [K][batch].
// 0 <= k <= min(p.n, spec.n); the model's own (no gradient) forward pass.
std::vector<std::vector<double>> icl_predict(ParamSet& ps, const IclModelSpec& spec, const Prompts& p, int64_t k);

}  // namespace benchtop::icl
