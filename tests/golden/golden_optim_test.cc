// 20-step training trajectories of tests/golden/cases/optim_*.json (written by
// make_golden.py from PyTorch): K = 2 independent members of a small residual MLP and a small
// 1-D CNN, trained with cross-entropy by SGD (momentum, weight decay, Nesterov), Adam and
// AdamW. Checked: the loss of every step, the step-1 gradients and the parameters after the
// checkpoint steps, all within golden::kRelTol.
//
// Two drivers update the parameters:
//  * Reference: an optimizer written here from PyTorch's documented update rules. It checks
//    the golden data and the models' forward/backward passes independently of src/optim.
//  * Library: benchtop's own Sgd / Adam (src/benchtop/optim); skipped until they are on the
//    branch (detected with __has_include).// Note: the build system does not know about files that do not exist yet, so after merging an
// implementation into an existing build directory, touch this file (or reconfigure) to re-run
// the detection.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"
#include "benchtop/ops/ops.h"
#include "support/golden.h"

#if __has_include("benchtop/ops/elementwise.cc") && __has_include("benchtop/ops/loss.cc") && \
    __has_include("benchtop/ops/linalg.cc")
#define GOLDEN_HAVE_MLP_OPS 1
#else
#define GOLDEN_HAVE_MLP_OPS 0
#endif
#if GOLDEN_HAVE_MLP_OPS && __has_include("benchtop/ops/conv.cc") && \
    __has_include("benchtop/ops/shape_ops.cc")
#define GOLDEN_HAVE_CNN_OPS 1
#else
#define GOLDEN_HAVE_CNN_OPS 0
#endif

#if __has_include("benchtop/optim/sgd.cc") && __has_include("benchtop/optim/adam.cc")
#define GOLDEN_HAVE_OPTIM 1
#include "benchtop/optim/adam.h"
#include "benchtop/optim/sgd.h"
#else
#define GOLDEN_HAVE_OPTIM 0
#endif

namespace benchtop {
namespace {

using golden::json;

#if GOLDEN_HAVE_MLP_OPS

// The model's per-member loss [K] on one batch. x [1, B, ...] shared, labels [B] shared.
Var forward(const std::string& model, Graph& g, ParamSet& ps, const Tensor& x,
            const Tensor& labels) {
    Var in = g.input(x);
    auto p = [&](const char* n) { return ps.var(g, n); };
    Var logits;
    if (model == "mlp") {
        Var h = relu(linear(in, p("fc1.weight"), p("fc1.bias")));
        h = add(h, relu(linear(h, p("fc2.weight"), p("fc2.bias"))));
        logits = linear(h, p("fc3.weight"), p("fc3.bias"));
    } else {
#if GOLDEN_HAVE_CNN_OPS
        Var h = relu(conv1d(in, p("conv1.weight"), p("conv1.bias"), 2, 1));
        h = relu(conv1d(h, p("conv2.weight"), p("conv2.bias"), 2, 1));
        const Shape& s = h.shape();  // [K, B, C, L] -> [K, B, C * L] (torch's flatten(1))
        h = reshape(h, Shape({s[0], s[1], s[2] * s[3]}));
        logits = linear(h, p("fc.weight"), p("fc.bias"));
#else
        ADD_FAILURE() << "CNN ops are not on this branch";
        return {};
#endif
    }
    return cross_entropy(logits, labels, Reduction::Mean);
}

// PyTorch's SGD / Adam / AdamW update rules (torch 1.13 documentation), one parameter
// tensor at a time, in float32 like the parameters.
class ReferenceOptimizer {
public:
    ReferenceOptimizer(const json& doc, ParamSet& ps) : ps_(ps) {
        kind_ = doc.at("optimizer").get<std::string>();
        const json& c = doc.at("config");
        lr_ = c.at("lr").get<double>();
        wd_ = c.at("weight_decay").get<double>();
        if (kind_ == "sgd") {
            momentum_ = c.at("momentum").get<double>();
            nesterov_ = c.at("nesterov").get<bool>();
        } else {
            beta1_ = c.at("betas")[0].get<double>();
            beta2_ = c.at("betas")[1].get<double>();
            eps_ = c.at("eps").get<double>();
        }
        for (auto& e : ps.entries()) {
            m_.push_back(Tensor::zeros(e.value.shape(), DType::F32));
            v_.push_back(Tensor::zeros(e.value.shape(), DType::F32));
        }
    }

    void step() {
        ++t_;
        for (size_t i = 0; i < ps_.entries().size(); ++i) {
            auto& e = ps_.entries()[i];
            float* p = e.value.data<float>();
            const float* gr = e.grad.data<float>();
            float* m = m_[i].data<float>();
            float* v = v_[i].data<float>();
            const auto lr = static_cast<float>(lr_), wd = static_cast<float>(wd_);
            for (int64_t j = 0; j < e.value.numel(); ++j) {
                float g = gr[j];
                if (kind_ == "sgd") {
                    g += wd * p[j];
                    const auto mu = static_cast<float>(momentum_);
                    m[j] = t_ == 1 ? g : mu * m[j] + g;
                    g = nesterov_ ? g + mu * m[j] : m[j];
                    p[j] -= lr * g;
                } else {
                    if (kind_ == "adamw") p[j] *= 1.f - lr * wd;
                    else g += wd * p[j];
                    const auto b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
                    m[j] = b1 * m[j] + (1.f - b1) * g;
                    v[j] = b2 * v[j] + (1.f - b2) * g * g;
                    const double bc1 = 1.0 - std::pow(beta1_, t_);
                    const double bc2 = 1.0 - std::pow(beta2_, t_);
                    const float denom =
                        std::sqrt(v[j]) / static_cast<float>(std::sqrt(bc2)) + static_cast<float>(eps_);
                    p[j] -= static_cast<float>(lr_ / bc1) * m[j] / denom;
                }
            }
        }
    }

private:
    ParamSet& ps_;
    std::string kind_;
    double lr_ = 0, wd_ = 0, momentum_ = 0, beta1_ = 0, beta2_ = 0, eps_ = 0;
    bool nesterov_ = false;
    int t_ = 0;
    std::vector<Tensor> m_, v_;
};

// Slice `i` of a stacked [N, ...] tensor as [1, ...].
Tensor batch(const Tensor& all, int64_t i) {
    std::vector<int64_t> dims = all.shape().vec();
    int64_t per = all.numel() / dims[0];
    dims[0] = 1;
    Tensor out = Tensor::empty(Shape(dims), all.dtype());
    for (int64_t j = 0; j < per; ++j) out.set(j, all.at(i * per + j));
    return out;
}

Tensor labels_of(const Tensor& all, int64_t i) {
    int64_t per = all.numel() / all.shape()[0];
    Tensor out = Tensor::empty(Shape({per}), DType::I32);
    for (int64_t j = 0; j < per; ++j) out.set(j, all.at(i * per + j));
    return out;
}

// An optimizer for the trajectory `doc` over `ps`, as a step function.
using StepFn = std::function<void()>;
using OptimizerFactory = StepFn (*)(const json& doc, ParamSet& ps);

StepFn reference_optimizer(const json& doc, ParamSet& ps) {
    auto opt = std::make_shared<ReferenceOptimizer>(doc, ps);
    return [opt] { opt->step(); };
}

#if GOLDEN_HAVE_OPTIM
// benchtop's own optimizers (src/benchtop/optim).
StepFn library_optimizer(const json& doc, ParamSet& ps) {
    const std::string kind = doc.at("optimizer").get<std::string>();
    const json& c = doc.at("config");
    if (kind == "sgd") {
        SgdOptions o;
        o.lr = c.at("lr").get<double>();
        o.momentum = c.at("momentum").get<double>();
        o.weight_decay = c.at("weight_decay").get<double>();
        o.nesterov = c.at("nesterov").get<bool>();
        auto opt = std::make_shared<Sgd>(ps, o);
        return [opt] { opt->step(); };
    }
    AdamOptions o;
    o.lr = c.at("lr").get<double>();
    o.beta1 = c.at("betas")[0].get<double>();
    o.beta2 = c.at("betas")[1].get<double>();
    o.eps = c.at("eps").get<double>();
    o.weight_decay = c.at("weight_decay").get<double>();
    o.decoupled = kind == "adamw";
    auto opt = std::make_shared<Adam>(ps, o);
    return [opt] { opt->step(); };
}
#endif

// Runs the trajectory of cases/<file> with the given optimizer; returns the max error.
double run_trajectory(const std::string& file, OptimizerFactory make_optimizer) {
    json doc = golden::load(file);
    SCOPED_TRACE(file);
    const std::string model = doc.at("model").get<std::string>();
    const int64_t k = doc.at("members").get<int64_t>();
    ParamSet ps(k, DType::F32);
    for (const std::string& n : doc.at("param_names").get<std::vector<std::string>>()) {
        Tensor init = golden::tensor(doc.at("initial").at(n));
        std::vector<int64_t> dims = init.shape().vec();
        dims.erase(dims.begin());
        ps.add(n, Shape(dims)).copy_from(init);
    }
    StepFn step_fn = make_optimizer(doc, ps);
    Tensor xs = golden::tensor(doc.at("inputs"));
    Tensor ys = golden::tensor(doc.at("labels"), DType::I32);
    const int steps = doc.at("steps").get<int>();
    double worst = 0;
    Graph g;
    for (int step = 1; step <= steps; ++step) {
        ps.zero_grad();
        Var loss = forward(model, g, ps, batch(xs, step - 1), labels_of(ys, step - 1));
        json ref_loss = {{"shape", {k}}, {"data", doc.at("losses")[static_cast<size_t>(step - 1)]}};
        worst = std::max(worst, golden::expect_close(loss.value(), ref_loss,
                                                      "loss at step " + std::to_string(step)));
        g.backward(loss);
        g.reset();
        if (step == 1)
            for (auto& [n, ref] : doc.at("grads_step1").items())
                worst = std::max(worst, golden::expect_close(ps.grad(n), ref, "step-1 grad " + n));
        step_fn();
        const std::string key = std::to_string(step);
        if (doc.at("params").contains(key))
            for (auto& [n, ref] : doc.at("params").at(key).items())
                worst = std::max(worst, golden::expect_close(ps.value(n), ref,
                                                              n + " after step " + key));
    }
    std::printf("[ golden   ] %-30s max relative error %.3g\n", file.c_str(), worst);
    return worst;
}

const char* const kOptimizers[] = {"sgd_momentum", "sgd_momentum_wd", "sgd_nesterov", "adam",
                                   "adamw"};
#endif  // GOLDEN_HAVE_MLP_OPS

TEST(GoldenOptim, MlpReferenceTrajectories) {
#if GOLDEN_HAVE_MLP_OPS
    for (const char* o : kOptimizers) run_trajectory(std::string("optim_mlp_") + o + ".json", reference_optimizer);
#else
    GTEST_SKIP() << "needs relu/add (elementwise.cc) and cross_entropy (loss.cc) on this branch";
#endif
}

TEST(GoldenOptim, CnnReferenceTrajectories) {
#if GOLDEN_HAVE_CNN_OPS
    for (const char* o : kOptimizers) run_trajectory(std::string("optim_cnn_") + o + ".json", reference_optimizer);
#else
    GTEST_SKIP() << "needs conv1d (conv.cc), reshape (shape_ops.cc), elementwise.cc and loss.cc "
                    "on this branch";
#endif
}

TEST(GoldenOptim, MlpLibraryTrajectories) {
#if GOLDEN_HAVE_OPTIM && GOLDEN_HAVE_MLP_OPS
    for (const char* o : kOptimizers) run_trajectory(std::string("optim_mlp_") + o + ".json", library_optimizer);
#else
    GTEST_SKIP() << "needs benchtop's optimizers (src/benchtop/optim, branch op) and the MLP's ops "
                    "(elementwise.cc, loss.cc) on this branch";
#endif
}

TEST(GoldenOptim, CnnLibraryTrajectories) {
#if GOLDEN_HAVE_OPTIM && GOLDEN_HAVE_CNN_OPS
    for (const char* o : kOptimizers) run_trajectory(std::string("optim_cnn_") + o + ".json", library_optimizer);
#else
    GTEST_SKIP() << "needs benchtop's optimizers (src/benchtop/optim, branch op) and the CNN's ops "
                    "(conv.cc, shape_ops.cc, elementwise.cc, loss.cc) on this branch";
#endif
}

}  // namespace
}  // namespace benchtop
