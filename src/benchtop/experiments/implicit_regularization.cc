// Experiment implicit-regularization.
// Claim: gradient descent with larger steps, and SGD with smaller batches, find solutions that
// generalise better, in flatter minima: the finite step adds (lr / 4) |grad L|^2 to the loss it
// effectively minimises, and minibatches add (lr / 4B) sum_b |grad L_b - grad L|^2 (Prince,
// Understanding Deep Learning, 2023, section 9.2 and fig. 9.5; Keskar et al., "On large-batch
// training for deep learning: generalization gap and sharp minima", ICLR 2017; Smith et al.,
// "On the origin of implicit regularization in stochastic gradient descent", ICLR 2021).
// Every run moves the same distance, distance / lr steps, and minibatch runs at least min_epochs
// epochs (enough to fit the training set).
#include "benchtop/experiments/implicit_regularization.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/analysis/sharpness.h"
#include "benchtop/data/mnist1d.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/deep_mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"
#include "benchtop/train/metrics.h"

namespace benchtop {

std::vector<ImplicitRegPoint> implicit_regularization_points(const Store& store) {
    std::map<std::tuple<int64_t, double, int64_t>, ImplicitRegPoint> acc;
    for (const RunRow& r : store.runs("implicit-regularization")) {
        if (r.state != RunState::Complete || !r.summaries.count("sharpness")) continue;
        Json c = Json::parse(r.config_json);
        const int64_t w = c["width"].get<int64_t>(), b = c["batch"].get<int64_t>();
        const double lr = c["lr"].get<double>();
        ImplicitRegPoint& p = acc[{w, lr, b}];
        p.width = w, p.lr = lr, p.batch = b;
        p.runs += 1;
        p.train_error += r.summaries.at("train_error");
        p.test_error += r.summaries.at("test_error");
        p.sharpness += r.summaries.at("sharpness");
        p.grad_variance_term += r.summaries.at("grad_variance_term");
    }
    std::vector<ImplicitRegPoint> out;
    for (auto& [key, p] : acc) {
        const auto n = static_cast<double>(p.runs);
        p.train_error /= n, p.test_error /= n, p.sharpness /= n, p.grad_variance_term /= n;
        out.push_back(p);
    }
    return out;
}

namespace {

class ImplicitRegularization final : public Experiment {
public:
    ImplicitRegularization() {
        schema_
            .add({.name = "width", .type = ParamType::Int, .default_value = Json::array({25, 50, 100, 200}),
                  .min = 1, .max = 4096, .help = "hidden units of each of the two hidden layers"})
            .add({.name = "lr", .type = ParamType::Real, .default_value = Json::array({0.05, 0.1, 0.5}), .min = 0.0,
                  .max = 10.0, .min_exclusive = true, .help = "learning rate (plain SGD, no momentum)"})
            .add({.name = "batch", .type = ParamType::Int, .default_value = Json::array({10, 100, 4000}), .min = 1,
                  .max = 1e7, .help = "minibatch size (reshuffled every epoch, per seed); train_examples = full batch"})
            .real("distance", 600, 0.0, 1e9,
                  "lr x steps: every run takes distance / lr steps (Prince fig 9.5 uses 6000)", true)
            .integer("min_epochs", 100, 0, 1e7,
                     "minibatch runs take at least this many epochs, so that they too fit the training set")
            .integer("num_samples", 8000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("power_iterations", 30, 1, 10000, "power-iteration steps for the sharpness")
            .real("hvp_eps", 1e-4, 0.0, 1.0,
                  "step of the central difference along a unit vector for Hessian-vector products", true)
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = 0, .min = 0, .max = 9e15,
                  .help = "seed of initialisation, batch order and the power iteration's start"});
    }

    std::string name() const override { return "implicit-regularization"; }
    std::string claim() const override {
        return "larger learning rates and smaller batches reach flatter minima that generalise better";
    }
    std::string reference() const override {
        return "Prince, Understanding Deep Learning, 9.2 and fig 9.5; Keskar et al. ICLR 2017; Smith et al. ICLR 2021";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"width", "lr", "batch", "seed"}; }

    static int64_t steps_of(const Json& c) {
        const int64_t n = c["train_examples"].get<int64_t>(), b = c["batch"].get<int64_t>();
        const int64_t by_distance = std::llround(c["distance"].get<double>() / c["lr"].get<double>());
        const int64_t by_epochs = c["min_epochs"].get<int64_t>() * ((n + b - 1) / b);
        return std::max<int64_t>({1, by_distance, by_epochs});
    }
    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        if (c["batch"].get<int64_t>() > c["train_examples"].get<int64_t>())
            throw UsageError("implicit-regularization: batch (" + format_value(c["batch"]) +
                             ") must not exceed train_examples (" + format_value(c["train_examples"]) + ")");
    }
    int64_t work_units(const Json& c) const override { return steps_of(c); }
    double seconds_per_unit(const Json& c) const override {
        double w = c["width"].get<double>(), b = c["batch"].get<double>();
        double macs = 40 * w + w * w + 10 * w;
        return 3 * macs * b * 2.6e-11 + 1.2e-5;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        const int64_t n_train = c0["train_examples"].get<int64_t>();
        std::shared_ptr<const Mnist1dData> data = mnist1d_split(c0);
        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");

        ClassifierSpec spec;
        spec.kind = ModelKind::DeepMlp;
        spec.in = data->x_train.size(1);
        spec.width = c0["width"].get<int64_t>();
        spec.depth = 2;
        ParamSet ps(K);
        add_classifier_params(ps, spec);
        init_torch_default(ps, seeds);

        const int64_t steps = steps_of(c0), batch = c0["batch"].get<int64_t>();
        const double lr = c0["lr"].get<double>();
        TrainOptions o;
        o.optimizer = OptimizerKind::Sgd;
        o.steps = steps - 1;
        o.batch = batch;
        o.eval_every = std::max<int64_t>(1, steps / 20);
        o.eval_at_period_end = true;
        o.lr = lr;
        o.shuffle_each_epoch = batch < n_train;
        o.seeds = seeds;
        o.on_step = step_reporter(ctx, K);
        std::vector<MemberCurve> curves =
            train_classifier(ps, spec, {&data->x_train, &data->y_train, &data->x_test, &data->y_test}, o);

        // Curvature and gradient noise at the end point, in float64.
        ParamSet ps64 = convert_params(ps, DType::F64);
        const Tensor x64 = data->x_train.to(DType::F64);
        const Tensor& y = data->y_train;
        // Mean training loss over rows [start, start + n) in chunks; gradients accumulate.
        auto grad_rows = [&](ParamSet& p, int64_t start, int64_t n) {
            std::vector<double> loss(static_cast<size_t>(K), 0.0);
            const int64_t chunk = 1000;
            for (int64_t s = start; s < start + n; s += chunk) {
                const int64_t m = std::min(chunk, start + n - s);
                Graph g;
                Var l = cross_entropy(classifier_forward(p, spec, g.input(batch_rows(x64, s, m))),
                                      batch_rows(y, s, m, false), Reduction::Sum);
                l = mul_scalar(l, 1.0 / double(n));
                for (int64_t k = 0; k < K; ++k) loss[size_t(k)] += l.value().at(k);
                g.backward(l);
            }
            return loss;
        };
        GradientOracle full = [&](ParamSet& p) { return grad_rows(p, 0, n_train); };
        // For the Hessian the ReLU pattern is frozen at the end point (deep_mlp_forward_masked):
        // finite differences of the ReLU network's own gradients jump wherever a unit crosses its
        // kink, and made the estimate depend on eps by a factor of 5 (measured).
        const DeepMlpSpec dspec{.in = spec.in, .hidden = {spec.width, spec.width}, .out = spec.out};
        const int64_t chunk = 1000;
        std::vector<std::vector<Tensor>> masks;
        for (int64_t s = 0; s < n_train; s += chunk)
            masks.push_back(deep_mlp_relu_masks(ps64, dspec, batch_rows(x64, s, std::min(chunk, n_train - s))));
        GradientOracle frozen = [&](ParamSet& p) {
            std::vector<double> loss(static_cast<size_t>(K), 0.0);
            for (int64_t s = 0; s < n_train; s += chunk) {
                const int64_t m = std::min(chunk, n_train - s);
                Graph g;
                Var l = cross_entropy(
                    deep_mlp_forward_masked(p, dspec, g.input(batch_rows(x64, s, m)), masks[size_t(s / chunk)]),
                    batch_rows(y, s, m, false), Reduction::Sum);
                l = mul_scalar(l, 1.0 / double(n_train));
                for (int64_t k = 0; k < K; ++k) loss[size_t(k)] += l.value().at(k);
                g.backward(l);
            }
            return loss;
        };
        SharpnessOptions so;
        so.iterations = c0["power_iterations"].get<int>();
        so.eps = c0["hvp_eps"].get<double>();
        so.seed = seeds[0];
        SharpnessResult sharp = top_hessian_eigenvalue(ps64, frozen, so);
        ctx.check_stop();

        // Gradient-variance term (lr / 4B) sum_b |grad L_b - grad L|^2 over the B = N / batch
        // batches of the fixed-order partition (a last short batch is left out), and the
        // gradient-descent term (lr / 4) |grad L|^2.
        ps64.zero_grad();
        full(ps64);
        Direction g_full;
        for (const ParamSet::Entry& e : ps64.entries()) g_full.push_back(e.grad.clone());
        const std::vector<double> g2 = member_dot(g_full, g_full);
        const int64_t B = n_train / batch;
        std::vector<double> var_sum(static_cast<size_t>(K), 0.0);
        if (batch < n_train) {
            for (int64_t b = 0; b < B; ++b) {
                ps64.zero_grad();
                grad_rows(ps64, b * batch, batch);
                Direction diff;
                size_t i = 0;
                for (const ParamSet::Entry& e : ps64.entries()) {
                    Tensor d = e.grad.clone();
                    double* pd = d.data<double>();
                    const double* pf = g_full[i++].data<double>();
                    for (int64_t j = 0; j < d.numel(); ++j) pd[j] -= pf[j];
                    diff.push_back(d);
                }
                std::vector<double> d2 = member_dot(diff, diff);
                for (int64_t k = 0; k < K; ++k) var_sum[size_t(k)] += d2[size_t(k)];
            }
        }

        std::vector<RunOutcome> out;
        for (int64_t k = 0; k < K; ++k) {
            const MemberCurve& mc = curves[size_t(k)];
            RunOutcome r;
            for (size_t i = 0; i < mc.steps.size(); ++i) {
                r.metrics.push_back({"train_error", mc.steps[i] + 1, 1 - mc.train_acc[i]});
                r.metrics.push_back({"test_error", mc.steps[i] + 1, 1 - mc.test_acc[i]});
                r.metrics.push_back({"train_loss", mc.steps[i] + 1, mc.train_loss[i]});
            }
            r.summaries.push_back({"params", double(ps.numel_per_member())});
            r.summaries.push_back({"steps", double(steps)});
            r.summaries.push_back({"epochs", double(steps) * double(batch) / double(n_train)});
            if (mc.diverged_at >= 0) {
                r.state = RunState::Diverged;
                r.summaries.push_back({"diverged_at", double(mc.diverged_at), mc.diverged_at});
            } else {
                r.summaries.push_back({"train_error", 1 - mc.train_acc.back(), steps});
                r.summaries.push_back({"test_error", 1 - mc.test_acc.back(), steps});
                r.summaries.push_back({"train_loss", mc.train_loss.back(), steps});
                r.summaries.push_back({"test_loss", mc.test_loss.back(), steps});
                r.summaries.push_back({"sharpness", sharp.eigenvalue[size_t(k)], steps});
                r.summaries.push_back({"sharpness_last_change", sharp.last_change[size_t(k)], steps});
                r.summaries.push_back({"grad_norm_term", lr / 4 * g2[size_t(k)], steps});
                r.summaries.push_back(
                    {"grad_variance_term", B > 0 ? lr / (4.0 * double(B)) * var_sum[size_t(k)] : 0.0, steps});
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override {
        std::vector<ImplicitRegPoint> pts = implicit_regularization_points(store);
        if (pts.empty()) return {};
        int64_t full_batch = 0;
        for (const RunRow& r : store.runs(name())) {
            full_batch = Json::parse(r.config_json)["train_examples"].get<int64_t>();
            break;
        }
        Panel by_lr, by_batch, sharp;
        by_lr.title = "Full-batch gradient descent: learning rate";
        by_batch.title = "SGD at lr 0.1: batch size";
        by_lr.xlabel = by_batch.xlabel = "hidden units per layer";
        by_lr.ylabel = by_batch.ylabel = "test error";
        by_lr.logx = by_batch.logx = true;
        sharp.title = "Sharpness against test error (all runs)";
        sharp.xlabel = "largest Hessian eigenvalue of the training loss";
        sharp.ylabel = "test error";
        sharp.logx = true;
        sharp.key_position = "outside right";
        std::map<double, Series> lr_s;
        std::map<int64_t, Series> b_s;
        std::map<std::pair<double, int64_t>, Series> scatter;
        for (const ImplicitRegPoint& p : pts) {
            char label[64];
            if (p.batch == full_batch) {
                Series& s = lr_s[p.lr];
                std::snprintf(label, sizeof label, "lr %g", p.lr);
                s.label = label;
                s.x.push_back(double(p.width)), s.y.push_back(p.test_error);
            }
            if (p.lr == 0.1) {
                Series& s = b_s[p.batch];
                std::snprintf(label, sizeof label, "batch %ld", long(p.batch));
                s.label = label;
                s.x.push_back(double(p.width)), s.y.push_back(p.test_error);
            }
            Series& s = scatter[{p.lr, p.batch}];
            std::snprintf(label, sizeof label, "lr %g, batch %ld", p.lr, long(p.batch));
            s.label = label;
            s.style = Series::Style::Points;
            s.x.push_back(p.sharpness), s.y.push_back(p.test_error);
        }
        for (auto& [k, s] : lr_s) by_lr.series.push_back(s);
        for (auto& [k, s] : b_s) by_batch.series.push_back(s);
        for (auto& [k, s] : scatter) sharp.series.push_back(s);
        Figure fig;
        fig.title = "Implicit regularization on MNIST-1D (two hidden layers; every run moves the same distance)";
        if (!by_lr.series.empty()) fig.panels.push_back(by_lr);
        if (!by_batch.series.empty()) fig.panels.push_back(by_batch);
        fig.panels.push_back(sharp);
        RenderedFigure rf = render_figure(fig, out_dir + "/implicit-regularization");
        return {rf.svg, rf.png};
    }

private:
    Schema schema_;
};

}  // namespace

const Experiment& implicit_regularization_experiment() {
    static const ImplicitRegularization e;
    return e;
}

}  // namespace benchtop
