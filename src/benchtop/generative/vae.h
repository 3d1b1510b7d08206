// Variational autoencoders for stacks, and the analysis-by-synthesis classifier built from one VAE
// per class (Kingma & Welling, ICLR 2014; Schott, Rauber, Bethge & Brendel, "Towards the first
// adversarially robust neural network model on MNIST", ICLR 2019).
//
// Member k of the stack is one VAE: encoder x -> relu(hidden) -> (mu, log var) of a `latent`-dim
// Gaussian; decoder z -> relu(hidden) -> the mean of a Gaussian over x, whose variance is one
// learned scalar per member (exp(log_var)). Trained on the negative ELBO with beta = 1.
//
//   ParamSet ps(10);  add_vae_params(ps, spec);  init_vae(ps, seeds);
//   train_class_vaes(ps, spec, x_train, y_train, options);   // member c on class c only
//   AbsResult r = abs_infer(ps, spec, x, {.samples = 100, .steps = 20});
//   // r.bound[m * C + c]: the best log p(x_m | z) + log p(z) found for class c
//
// ABS inference: for each class, the best of `samples` fixed latent draws (the same for every
// input), refined by `steps` Adam steps on the latent; the class with the highest bound wins and
// the softmax of the bounds is the confidence. AbsTarget lets the attacks of attacks/ attack it:
// by the envelope theorem the gradient of a bound with respect to x at the optimal z is
// -(x - decoder(z*)) / variance.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "benchtop/attacks/attacks.h"
#include "benchtop/nn/params.h"

namespace benchtop {

struct VaeSpec {
    int64_t in = 40;
    int64_t hidden = 100;
    int64_t latent = 8;
};

void add_vae_params(ParamSet& ps, const VaeSpec& spec);
// PyTorch's default init of the linear layers from each member's seed; log_var = 0.
void init_vae(ParamSet& ps, std::span<const uint64_t> seeds);
// z [K, B, latent] -> decoded means [K, B, in].
Var vae_decode(ParamSet& ps, const VaeSpec& spec, Var z);
// The negative ELBO of each member on its inputs x [K, B, in] with the reparameterisation noise
// eps [K, B, latent]: mean over B of  D/2 (log 2 pi + log_var) + |x - x_hat|^2 / (2 exp(log_var))
// + KL(q(z|x) || N(0, I)).  Shape [K].
Var vae_negative_elbo(ParamSet& ps, const VaeSpec& spec, Var x, const Tensor& eps);

struct VaeTrainOptions {
    int64_t steps = 3000;
    int64_t batch = 64;
    double lr = 1e-3;
    std::vector<uint64_t> seeds;  // one per member: batch order and noise
    std::function<void(int64_t)> on_step;
};
// Trains member c on the rows of x_train ([N, in] float32) with label c (y_train [N] int32);
// returns each member's last negative ELBO on its batch.
std::vector<double> train_class_vaes(ParamSet& ps, const VaeSpec& spec, const Tensor& x_train, const Tensor& y_train,
                                     const VaeTrainOptions& options);

struct AbsOptions {
    int64_t samples = 100;  // fixed latent draws tried per class
    int64_t steps = 20;     // Adam steps on the best draw's latent
    double lr = 0.05;
    uint64_t seed = 0;      // of the fixed draws
};

struct AbsResult {
    std::vector<double> bound;  // [M * C]: log p(x | z*) + log p(z*) of class c
    Tensor reconstruction;      // [C, M, in]: decoder(z*) of each class
    std::vector<double> log_var;  // [C]
};
// x [M, in] float32; the classes are the members of ps.
AbsResult abs_infer(ParamSet& ps, const VaeSpec& spec, const Tensor& x, const AbsOptions& options);

// The ABS classifier as an attack target (one member: the classifier; logits are the bounds).
class AbsTarget final : public AttackTarget {
public:
    AbsTarget(ParamSet& ps, VaeSpec spec, AbsOptions options) : ps_(ps), spec_(spec), options_(options) {}
    int64_t members() const override { return 1; }
    Tensor logits(const Tensor& x) override;
    Tensor loss_gradient(const Tensor& x, const Tensor& y, Tensor* logits = nullptr) override;
    Tensor logit_gradients(const Tensor& x, Tensor* logits = nullptr) override;

private:
    ParamSet& ps_;
    VaeSpec spec_;
    AbsOptions options_;
};

}  // namespace benchtop
