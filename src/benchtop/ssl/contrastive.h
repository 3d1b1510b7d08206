// Self-supervised pre-training of a 1-D CNN encoder on MNIST-1D, for a stack of K members:
// SimCLR (Chen et al. 2020), SimSiam (Chen & He 2021) and BYOL (Grill et al. 2020), with the
// switches that make them collapse, and a supervised reference trained on a few labels.
//
// Encoder: the MNIST-1D CNN's convolutions (conv 1->C k5 s2 p1, conv C->C k3 s2 p1 twice, ReLU
// after each), flattened: the representation, C * 5 features. Projector: Linear(rep, hidden),
// BatchNorm, ReLU, Linear(hidden, proj). Predictor (SimSiam, BYOL): Linear(proj, pred_hidden),
// BatchNorm, ReLU, Linear(pred_hidden, proj). Batch norm always uses the batch's statistics.
//
// Losses on two augmented views (ssl/augment.h) of each signal:
//   simclr   NT-Xent: cross-entropy of each view's cosine similarities / temperature against the
//            other 2B - 1 views, the positive being its partner
//   simsiam  -(cos(p1, sg(z2)) + cos(p2, sg(z1))) / 2; sg = stop-gradient (switch: stop_gradient)
//   byol     the same with sg(z) replaced by a target network's projection, the target an
//            exponential moving average of the online encoder and projector (ema; 0: a copy)
// `predictor = false` uses p = z (SimSiam and BYOL without a predictor).
//
//   ParamSet ps = make_ssl_params(spec, seeds);
//   std::vector<SslCurve> c = pretrain(ps, spec, x_train, x_monitor, {.method = SslMethod::SimSiam});
//   std::vector<Features> rep = encode(ps, spec, x_test);                 // one per member
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/ssl/augment.h"
#include "benchtop/ssl/probe.h"

namespace benchtop::ssl {

enum class SslMethod { SimClr, SimSiam, Byol };
SslMethod ssl_method_from_string(const std::string& s);  // "simclr", "simsiam", "byol"

struct EncoderSpec {
    int64_t length = 40;
    int64_t channels = 32;
    int64_t proj_hidden = 128;
    int64_t proj_dim = 64;
    int64_t pred_hidden = 32;
    bool predictor = true;  // add the predictor's parameters (used by simsiam and byol)
};

int64_t representation_dim(const EncoderSpec& spec);
// Encoder, projector and (spec.predictor) predictor, PyTorch's default init; member k from seeds[k].
ParamSet make_ssl_params(const EncoderSpec& spec, const std::vector<uint64_t>& seeds);

struct SslOptions {
    SslMethod method = SslMethod::SimClr;
    AugmentOptions augment;
    int64_t epochs = 50;
    int64_t batch = 256;
    double lr = 1e-3;            // Adam
    double weight_decay = 0;     // decoupled (AdamW)
    double temperature = 0.5;    // simclr
    bool stop_gradient = true;   // simsiam
    double ema = 0.99;           // byol: target <- ema * target + (1 - ema) * online after each step
    uint64_t data_seed = 0;      // shuffles and augmentations (the same for every member)
    int64_t eval_every = 5;      // epochs between collapse measurements on the monitor signals
    std::function<void(int64_t)> on_step;
};

// Per member: the mean training loss of each epoch, and every eval_every epochs (and before
// training, epoch 0) the collapse diagnostics of the projections of the monitor signals.
struct SslCurve {
    std::vector<int64_t> loss_epochs;
    std::vector<double> loss;
    std::vector<int64_t> eval_epochs;
    std::vector<double> proj_std;   // normalized_std of the projections
    std::vector<double> proj_rank;  // effective_rank of the projections
};

// x_train, x_monitor: float32 [N, length].
std::vector<SslCurve> pretrain(ParamSet& ps, const EncoderSpec& spec, const Tensor& x_train, const Tensor& x_monitor,
                               const SslOptions& o);

// Representations (the flattened convolution output) and projections of x [N, length], one
// Features per member, computed in batches of 1000 (projections: batch-norm statistics of each batch).
std::vector<Features> encode(ParamSet& ps, const EncoderSpec& spec, const Tensor& x);
std::vector<Features> project(ParamSet& ps, const EncoderSpec& spec, const Tensor& x);

// The supervised reference: the encoder plus a linear classifier, trained from scratch (seeds)
// with cross-entropy on augmented views of the labelled signals, full batch, `steps` Adam steps.
// Returns each member's accuracy on (x_test, y_test) (no augmentation).
struct SupervisedOptions {
    AugmentOptions augment;
    int64_t steps = 300;
    double lr = 1e-3;
    uint64_t data_seed = 0;
};
std::vector<double> train_supervised(const EncoderSpec& spec, const std::vector<uint64_t>& seeds, const Tensor& x,
                                     const std::vector<int32_t>& y, const Tensor& x_test, const std::vector<int32_t>& y_test,
                                     int64_t classes, const SupervisedOptions& o);

}  // namespace benchtop::ssl
