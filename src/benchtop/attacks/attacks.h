// Adversarial attacks on a stack of K classifiers at once: each member is attacked on its own
// copy of the inputs, and its result does not depend on the other members of the stack.
//
//   ClassifierTarget target(ps, spec);                        // any model of train/classifier.h
//   Tensor adv = pgd(target, x, y, {.norm = Norm::Linf, .eps = 0.3}, seeds);   // [K, B, D]
//   std::vector<double> acc = attacked_accuracy(target, adv, y);
//   MinimalL2 m = minimal_l2_pgd(target, x, y, {.max_eps = 20}, seeds);        // per example
//
// The battery (Madry et al. 2018; Carlini & Wagner 2017; Brendel, Rauber & Bethge 2018):
// - fgsm: one signed-gradient step of size eps (L-infinity; Goodfellow et al. 2015);
// - pgd: projected gradient ascent on the cross-entropy under L-infinity or L2, from a random
//   start in the ball; the first iterate that is misclassified is kept;
// - minimal_l2_pgd: per example, the smallest L2 radius at which PGD succeeds, by bisection;
// - deepfool: steps to the nearest boundary of the model linearised at the current point;
// - boundary_attack: needs only the predicted class (no gradients): from an adversarial start
//   it walks along the decision boundary towards the clean input, so models whose gradients
//   are uninformative are attacked fairly.
// No attack returns a point outside its ball (eps in the attack's norm around the clean input).
// Inputs are unbounded reals (MNIST-1D signals), so there is no box to clip to.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/train/classifier.h"

namespace benchtop {

// What an attack sees of a stack of K classifiers on inputs of D features.
class AttackTarget {
public:
    virtual ~AttackTarget() = default;
    virtual int64_t members() const = 0;
    // Logits [K, B, C] of inputs x [K, B, D] (member k sees x[k]).
    virtual Tensor logits(const Tensor& x) = 0;
    // The gradient [K, B, D] of each member's summed cross-entropy on (x[k], y) with respect to
    // x[k]; y is [B] (shared) or [K, B]. With `logits`, also the logits of x.
    virtual Tensor loss_gradient(const Tensor& x, const Tensor& y, Tensor* logits = nullptr) = 0;
    // The gradients [C, K, B, D] of every logit with respect to the inputs x [K, B, D], and
    // (with `logits`) the logits.
    virtual Tensor logit_gradients(const Tensor& x, Tensor* logits = nullptr) = 0;
};

// A stack of train/classifier.h models. The attack's backward passes also write the parameter
// gradients of ps; they are zeroed after each one.
class ClassifierTarget final : public AttackTarget {
public:
    ClassifierTarget(ParamSet& ps, ClassifierSpec spec) : ps_(ps), spec_(spec) {}
    int64_t members() const override { return ps_.n_members(); }
    Tensor logits(const Tensor& x) override;
    Tensor loss_gradient(const Tensor& x, const Tensor& y, Tensor* logits = nullptr) override;
    Tensor logit_gradients(const Tensor& x, Tensor* logits = nullptr) override;

private:
    ParamSet& ps_;
    ClassifierSpec spec_;
};

enum class Norm { Linf, L2 };

struct PgdOptions {
    Norm norm = Norm::Linf;
    double eps = 0.1;          // radius of the ball, in the units of the inputs
    int64_t steps = 20;
    double step_size = 0;      // 0: 2.5 * eps / steps (Madry et al. 2018)
    bool random_start = true;  // uniform in the L-inf ball; uniform direction and radius in L2
};

// x [B, D] (the same clean inputs for every member) or [K, B, D]; y [B] int32 labels.
// The results are [K, B, D].
Tensor fgsm(AttackTarget& target, const Tensor& x, const Tensor& y, double eps);
// seeds: one per member (the random start), so a member's result does not depend on its stack.
Tensor pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const PgdOptions& options,
           const std::vector<uint64_t>& seeds);
// Per example radii [K * B] instead of one eps.
Tensor pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const PgdOptions& options,
           const std::vector<double>& eps, const std::vector<uint64_t>& seeds);

// Accuracy of each member on its inputs x [K, B, D] (e.g. adversarial ones).
std::vector<double> attacked_accuracy(AttackTarget& target, const Tensor& x, const Tensor& y);
// [K * B]: 1 where member k classifies its input x[k, b] as y[b].
std::vector<uint8_t> correct_mask(AttackTarget& target, const Tensor& x, const Tensor& y);

constexpr double kNotFound = std::numeric_limits<double>::infinity();

// Per example [K * B] L2 distance of the adversarial example found (0 when the clean input is
// already misclassified; kNotFound when none was found), and the examples [K, B, D].
struct MinimalL2 {
    std::vector<double> distance;
    Tensor adversarial;
};

struct MinimalL2Options {
    double max_eps = 10;        // largest radius tried
    int64_t bisections = 10;    // halvings of the bracket after the first success
    PgdOptions pgd{.norm = Norm::L2, .eps = 0, .steps = 20, .step_size = 0, .random_start = false};
};
MinimalL2 minimal_l2_pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const MinimalL2Options& options,
                         const std::vector<uint64_t>& seeds);

// DeepFool (Moosavi-Dezfooli, Fawzi & Frossard, CVPR 2016), L2: from x, repeatedly step to the
// nearest boundary of the model linearised at the current point, overshooting by `overshoot`,
// until the example is misclassified. Exact (up to the overshoot) for linear models.
struct DeepFoolOptions {
    int64_t max_iterations = 50;
    double overshoot = 0.02;
};
MinimalL2 deepfool(AttackTarget& target, const Tensor& x, const Tensor& y, const DeepFoolOptions& options);

struct BoundaryOptions {
    int64_t steps = 500;        // random-walk steps after the start is found
    int64_t init_tries = 50;    // random-noise starts tried when no other example is adversarial
    double spherical = 0.05;    // initial size of the orthogonal step, relative to the distance
    double source = 0.05;       // initial step towards the clean input, relative to the distance
};
// Decision-based: starts from the nearest of `starts` [S, D] (e.g. training inputs) that the
// member misclassifies as not y (or from noise), bisects to the boundary, then random-walks along
// it towards x, accepting only adversarial points closer to x.
MinimalL2 boundary_attack(AttackTarget& target, const Tensor& x, const Tensor& y, const Tensor& starts,
                          const BoundaryOptions& options, const std::vector<uint64_t>& seeds);

// Per example [K * B]: 1 where the clean input is classified correctly and no attack of the
// battery succeeded (each entry of `fooled` is [K * B], 1 where that attack succeeded).
std::vector<uint8_t> robust_mask(const std::vector<uint8_t>& clean_correct,
                                 const std::vector<std::vector<uint8_t>>& fooled);

// The fraction of examples whose minimal perturbation (from a battery) is larger than `radius`:
// the accuracy under every attack at that radius (misclassified examples have distance 0).
double robust_fraction(const std::vector<double>& distances, double radius);
// A summary key for an attack's result at one radius, e.g. "pgd_l2_acc_eps0.1".
std::string radius_key(const std::string& what, double radius);

// The median of the finite-or-infinite values (kNotFound counts as larger than all).
double median(std::vector<double> values);

}  // namespace benchtop
