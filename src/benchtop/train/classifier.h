// Classifier models and the training loop shared by the experiments: a stack of K members of one
// architecture trained together on MNIST-1D-shaped data ([N, D] float32 inputs, int32 labels),
// with evaluation on the full train and test sets at fixed steps, per-member divergence
// detection and per-member learning curves.
//
// Batching follows the MNIST-1D reference protocol by default: step s uses rows
// [(batch * s) mod N, +batch) in fixed order, shared by every member. With `shuffle_each_epoch`
// every member draws its own permutation per epoch from its seed (stream Purpose::DataOrder),
// so its batches, and hence its result, do not depend on which stack it ran in.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "benchtop/nn/cnn.h"
#include "benchtop/nn/gru.h"
#include "benchtop/nn/mlp.h"
#include "benchtop/nn/params.h"
#include "benchtop/optim/optimizer.h"

namespace benchtop {

enum class ModelKind { Logistic, Mlp, Cnn, Gru, DeepMlp };

struct ClassifierSpec {
    ModelKind kind = ModelKind::Mlp;
    int64_t in = 40;
    int64_t out = 10;
    int64_t width = 100;       // MLP hidden units, CNN channels, GRU hidden size
    int64_t depth = 2;         // DeepMlp: number of hidden layers
    bool residual = true;      // Mlp: the reference residual form
};

ModelKind model_kind_from_string(const std::string& name);   // logistic, mlp, cnn, gru
void add_classifier_params(ParamSet& ps, const ClassifierSpec& spec);
// x [K or 1, B, in] -> logits [K, B, out].
Var classifier_forward(ParamSet& ps, const ClassifierSpec& spec, Var x);
int64_t classifier_param_count(const ClassifierSpec& spec);

struct ClassifierData {
    const Tensor* x_train;   // [N, D] F32
    const Tensor* y_train;   // [N] I32 shared, or [K, N] one label set per member (label noise)
    const Tensor* x_test;    // [M, D] F32
    const Tensor* y_test;    // [M] I32
};

enum class OptimizerKind { Adam, Sgd };

struct TrainOptions {
    int64_t steps = 6000;          // updates at steps 0..steps inclusive (the reference loop)
    int64_t batch = 100;
    int64_t eval_every = 250;      // evaluate after steps 0, eval_every, ..., and the last
    bool eval_at_period_end = false;  // instead after steps eval_every-1, 2*eval_every-1, ... (epoch ends)
    OptimizerKind optimizer = OptimizerKind::Adam;
    PerMember lr = 1e-2;
    PerMember momentum = 0.0;      // SGD only
    PerMember weight_decay = 0.0;
    bool decoupled_weight_decay = false;  // Adam only: AdamW
    // Train on the mean squared error between the outputs and one-hot targets (Liu et al. 2023,
    // "Omnigrok") instead of cross-entropy; evaluations still report cross-entropy and accuracy.
    bool mse_one_hot = false;
    // Record each member's total parameter norm at every evaluation (MemberCurve::weight_norm).
    bool record_weight_norm = false;
    bool shuffle_each_epoch = false;
    // Step decay: after every lr_decay_every steps (0: never) each member's lr is multiplied by
    // lr_decay (torch.optim.lr_scheduler.StepLR stepped once per epoch, in steps).
    int64_t lr_decay_every = 0;
    double lr_decay = 1.0;
    // A member whose training error is zero at an evaluation stops there: its learning rate
    // becomes 0 and its curve ends; the loop ends once every member has stopped (or diverged).
    // A member's result does not depend on the others in its stack.
    bool stop_member_when_fit = false;
    std::vector<uint64_t> seeds;   // one per member: data order streams (and nothing else)
    // Adversarial training (Madry et al. 2018): each batch's inputs x ([1 or K, B, D]) are replaced
    // by perturb_batch(x, labels) ([K, B, D]) before the step. It may use the parameters' gradients
    // (they are zeroed before the step's backward pass).
    std::function<Tensor(const Tensor& x, const Tensor& labels)> perturb_batch;
    // Called after each step with the number of steps done so far; may throw to stop.
    std::function<void(int64_t)> on_step;
};

struct MemberCurve {
    std::vector<int64_t> steps;
    std::vector<double> train_loss, train_acc, test_loss, test_acc;
    std::vector<double> weight_norm;  // with record_weight_norm: L2 norm of all parameters
    int64_t diverged_at = -1;      // first step whose training loss was not finite
    int64_t fit_at = -1;           // first evaluated step with zero training error
    double final_batch_loss = 0;
};

// Trains every member of ps (already initialised) in one stacked pass.
std::vector<MemberCurve> train_classifier(ParamSet& ps, const ClassifierSpec& spec, const ClassifierData& data,
                                          const TrainOptions& options);

// L2 norm of all of member k's parameters.
double param_norm(const ParamSet& ps, int64_t member);
// labels int32 [N...] -> float32 [N..., classes] with a 1 at each label.
Tensor one_hot(const Tensor& labels, int64_t classes);

// Mean cross-entropy and accuracy of every member on (x, y), evaluated in chunks.
struct EvalResult {
    std::vector<double> loss, acc;
};
EvalResult evaluate_classifier(ParamSet& ps, const ClassifierSpec& spec, const Tensor& x, const Tensor& y);

}  // namespace benchtop
