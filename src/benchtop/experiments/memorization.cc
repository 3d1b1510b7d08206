// Experiment memorization.
// Claim: networks big enough to generalise can also memorise: they fit random labels and
// random inputs exactly, only more slowly than real data, and what they learn then says
// nothing about the test set (Zhang, Bengio, Hardt, Recht & Vinyals, "Understanding deep
// learning requires rethinking generalization", ICLR 2017; Prince, Understanding Deep
// Learning, 2023, figures 20.1 and 20.2, whose MNIST-1D settings this follows). A second
// protocol fits random labels by full-batch gradient descent with MLPs of 1 to 4 hidden layers
// and equal parameter counts: the deeper ones fit in fewer epochs.
#include "benchtop/experiments/memorization.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "benchtop/data/mnist1d.h"
#include "benchtop/data/randomize.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/deep_mlp.h"
#include "benchtop/nn/init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"

namespace benchtop {

int64_t width_for_budget(int64_t hidden_layers, int64_t budget) {
    auto count = [&](int64_t w) {
        return deep_mlp_param_count({.in = 40, .hidden = std::vector<int64_t>(size_t(hidden_layers), w), .out = 10});
    };
    int64_t best = 1;
    for (int64_t w = 1; w <= 100000; ++w) {
        if (std::llabs(count(w) - budget) < std::llabs(count(best) - budget)) best = w;
        if (count(w) > budget) break;
    }
    return best;
}

namespace {

class Memorization final : public Experiment {
public:
    Memorization() {
        schema_
            .choice("protocol", {"fit", "depth"}, "fit",
                    "fit: minibatch SGD with momentum and step decay (UDL fig 20.1); depth: full-batch gradient "
                    "descent without momentum until the training set is fitted, width from param_budget (fig 20.2)")
            .choice("data", {"true", "noise", "permuted"}, Json::array({"true", "noise", "permuted"}),
                    "true: MNIST-1D; noise: inputs replaced by Gaussian noise of the training set's mean and "
                    "variance; permuted: training labels permuted once")
            .real("label_noise", 0.0, 0.0, 1.0,
                  "fraction of training labels then replaced by a uniform random label (the path from true to "
                  "random labels)")
            .integer("hidden_layers", 4, 1, 64, "hidden ReLU layers of the MLP")
            .integer("width", 300, 1, 4096, "hidden units per layer (protocol=fit)")
            .integer("param_budget", 15200, 100, 1e8,
                     "protocol=depth: each depth gets the width whose parameter count is nearest to this")
            .integer("epochs", 60, 1, 1e6, "training epochs (protocol=fit)")
            .integer("gd_epochs", 8000, 1, 1e7, "protocol=depth: the most epochs (full-batch steps) allowed")
            .real("lr", 0.02, 0.0, 10.0, "SGD learning rate (protocol=fit)", true)
            .real("gd_lr", 0.5, 0.0, 10.0, "gradient-descent learning rate (protocol=depth)", true)
            .real("momentum", 0.9, 0.0, 0.999, "SGD momentum (protocol=fit)")
            .integer("lr_decay_every", 20, 0, 1e6, "multiply the lr by lr_decay every this many epochs "
                                                    "(0: never; protocol=fit)")
            .real("lr_decay", 0.5, 0.0, 1.0, "step-decay factor (protocol=fit)", true)
            .integer("batch", 100, 1, 1e6, "minibatch size, reshuffled every epoch per seed (protocol=fit)")
            .integer("num_samples", 8000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0,
                     "seed of the MNIST-1D generator and of the noise inputs")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0,
                  .max = 9e15, .help = "seed of initialisation, batch order, label permutation and label noise"});
    }

    std::string name() const override { return "memorization"; }
    std::string claim() const override {
        return "networks fit random labels and random inputs exactly, more slowly than real data, with test "
               "error at chance";
    }
    std::string reference() const override {
        return "Zhang et al., Understanding deep learning requires rethinking generalization, ICLR 2017; Prince, "
               "Understanding Deep Learning, figs 20.1-20.2";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override {
        return {"protocol", "data", "label_noise", "hidden_layers", "seed"};
    }

    static bool depth_protocol(const Json& c) { return c["protocol"] == "depth"; }
    static int64_t n_train(const Json& c) { return c["train_examples"].get<int64_t>(); }
    static int64_t batch_of(const Json& c) { return depth_protocol(c) ? n_train(c) : c["batch"].get<int64_t>(); }
    static int64_t width_of(const Json& c) {
        return depth_protocol(c) ? width_for_budget(c["hidden_layers"].get<int64_t>(),
                                                    c["param_budget"].get<int64_t>())
                                 : c["width"].get<int64_t>();
    }
    static int64_t steps_per_epoch(const Json& c) { return (n_train(c) + batch_of(c) - 1) / batch_of(c); }

    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        if (!depth_protocol(c) && c["batch"].get<int64_t>() > n_train(c))
            throw UsageError("memorization: batch must not exceed train_examples");
    }
    static int64_t epochs_of(const Json& c) {
        return depth_protocol(c) ? c["gd_epochs"].get<int64_t>() : c["epochs"].get<int64_t>();
    }
    int64_t work_units(const Json& c) const override { return epochs_of(c) * steps_per_epoch(c); }
    double seconds_per_unit(const Json& c) const override {
        // About 2.6e-11 s per multiply-add of a training step plus a fixed 12 us (double-descent's
        // measurement), and one forward pass over train and test sets per epoch.
        double w = static_cast<double>(width_of(c)), L = c["hidden_layers"].get<double>();
        double macs = 40 * w + (L - 1) * w * w + 10 * w;
        double per_step = 3 * macs * double(batch_of(c)) * 2.6e-11 + 1.2e-5;
        double eval = macs * double(c["num_samples"].get<int64_t>()) * 2.6e-11 / double(steps_per_epoch(c));
        return per_step + eval;
    }
    int64_t max_pack(const Json& c) const override {
        int64_t per_member = batch_of(c) * width_of(c);
        return std::clamp<int64_t>(16384 / std::max<int64_t>(1, per_member), 1, 8);
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("label_noise");
        if (c["data"] == "permuted") c["data"] = "true";  // same inputs; labels are per member
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        std::shared_ptr<const Mnist1dData> data = mnist1d_split(c0);

        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
        // Labels: permuted (per member) where asked, then label noise (per member).
        const int64_t N = data->y_train.size(0);
        Tensor labels = Tensor::empty({K, N}, DType::I32);
        for (int64_t k = 0; k < K; ++k) {
            const Json& c = cfgs[size_t(k)];
            Tensor y = c["data"] == "permuted" ? permute_labels(data->y_train, seeds[size_t(k)]) : data->y_train;
            y = apply_label_noise(y, c["label_noise"].get<double>(), seeds[size_t(k)]);
            std::copy_n(y.data<int32_t>(), N, labels.data<int32_t>() + k * N);
        }
        Tensor x_noise;
        if (c0["data"] == "noise") x_noise = gaussian_inputs_like(data->x_train, c0["data_seed"].get<uint64_t>());
        const Tensor& x_train = c0["data"] == "noise" ? x_noise : data->x_train;

        ClassifierSpec spec;
        spec.kind = ModelKind::DeepMlp;
        spec.in = data->x_train.size(1);
        spec.width = width_of(c0);
        spec.depth = c0["hidden_layers"].get<int64_t>();
        ParamSet ps(K);
        add_classifier_params(ps, spec);
        // He-uniform weights, zero biases.
        for (int64_t l = 0; l <= spec.depth; ++l) init_kaiming_uniform(ps, deep_mlp_weight_name(l), seeds);

        const bool depth = depth_protocol(c0);
        const int64_t spe = steps_per_epoch(c0);
        TrainOptions o;
        o.optimizer = OptimizerKind::Sgd;
        o.steps = epochs_of(c0) * spe - 1;
        o.batch = batch_of(c0);
        o.eval_every = spe;
        o.eval_at_period_end = true;
        o.seeds = seeds;
        o.on_step = step_reporter(ctx, K);
        if (depth) {
            o.lr = c0["gd_lr"].get<double>();
            o.stop_member_when_fit = true;
        } else {
            o.lr = c0["lr"].get<double>();
            o.momentum = c0["momentum"].get<double>();
            o.shuffle_each_epoch = true;
            o.lr_decay_every = c0["lr_decay_every"].get<int64_t>() * spe;
            o.lr_decay = c0["lr_decay"].get<double>();
        }
        std::vector<MemberCurve> curves =
            train_classifier(ps, spec, {&x_train, &labels, &data->x_test, &data->y_test}, o);

        std::vector<RunOutcome> out;
        for (int64_t k = 0; k < K; ++k) {
            const MemberCurve& mc = curves[size_t(k)];
            RunOutcome r;
            int64_t to_1pct = -1;
            for (size_t i = 0; i < mc.steps.size(); ++i) {
                int64_t epoch = (mc.steps[i] + 1) / spe;
                r.metrics.push_back({"train_error", epoch, 1 - mc.train_acc[i]});
                r.metrics.push_back({"test_error", epoch, 1 - mc.test_acc[i]});
                r.metrics.push_back({"train_loss", epoch, mc.train_loss[i]});
                r.metrics.push_back({"test_loss", epoch, mc.test_loss[i]});
                if (to_1pct < 0 && 1 - mc.train_acc[i] <= 0.01) to_1pct = epoch;
            }
            r.summaries.push_back({"params", static_cast<double>(ps.numel_per_member())});
            r.summaries.push_back({"width", static_cast<double>(spec.width)});
            if (mc.diverged_at >= 0) {
                r.state = RunState::Diverged;
                r.summaries.push_back({"diverged_at", static_cast<double>(mc.diverged_at), mc.diverged_at});
            } else {
                const int64_t epoch = (mc.steps.back() + 1) / spe;
                if (mc.fit_at >= 0) r.summaries.push_back({"epochs_to_fit", double((mc.fit_at + 1) / spe)});
                if (to_1pct >= 0) r.summaries.push_back({"epochs_to_1pct", double(to_1pct)});
                r.summaries.push_back({"train_error", 1 - mc.train_acc.back(), epoch});
                r.summaries.push_back({"test_error", 1 - mc.test_acc.back(), epoch});
                r.summaries.push_back({"train_loss", mc.train_loss.back(), epoch});
                r.summaries.push_back({"test_loss", mc.test_loss.back(), epoch});
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

}  // namespace

std::vector<MemorizationGroup> memorization_groups(const Store& store) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    std::map<std::string, MemorizationGroup> groups;
    std::map<std::string, std::map<int64_t, std::pair<double, int64_t>>> curves;
    std::map<std::string, std::pair<double, int64_t>> fit_sum, pct_sum;
    for (const RunRow& r : store.runs("memorization")) {
        if (r.state != RunState::Complete || !r.summaries.count("train_error")) continue;
        Json c = Json::parse(r.config_json);
        MemorizationGroup& g = groups[r.group_key];
        g.protocol = c["protocol"].get<std::string>();
        g.data = c["data"].get<std::string>();
        g.label_noise = c["label_noise"].get<double>();
        g.hidden_layers = c["hidden_layers"].get<int64_t>();
        g.width = static_cast<int64_t>(r.summaries.at("width"));
        g.params = static_cast<int64_t>(r.summaries.at("params"));
        g.runs += 1;
        g.train_error += r.summaries.at("train_error");
        g.test_error += r.summaries.at("test_error");
        g.train_loss += r.summaries.at("train_loss");
        g.test_loss += r.summaries.at("test_loss");
        if (r.summaries.count("epochs_to_fit")) {
            double e = r.summaries.at("epochs_to_fit");
            g.fitted += 1;
            fit_sum[r.group_key].first += e;
            fit_sum[r.group_key].second += 1;
            g.epochs_to_fit_max = std::max(g.epochs_to_fit_max, e);
        }
        if (r.summaries.count("epochs_to_1pct")) {
            pct_sum[r.group_key].first += r.summaries.at("epochs_to_1pct");
            pct_sum[r.group_key].second += 1;
        }
        for (const Metric& m : store.metrics(r.run_id, "train_loss")) {
            auto& [sum, n] = curves[r.group_key][m.step];
            sum += m.value;
            n += 1;
        }
    }
    std::vector<MemorizationGroup> out;
    for (auto& [key, g] : groups) {
        const auto n = static_cast<double>(g.runs);
        g.train_error /= n;
        g.test_error /= n;
        g.train_loss /= n;
        g.test_loss /= n;
        g.epochs_to_fit = fit_sum.count(key) ? fit_sum[key].first / double(fit_sum[key].second) : nan;
        g.epochs_to_1pct = pct_sum.count(key) ? pct_sum[key].first / double(pct_sum[key].second) : nan;
        // The curve where every run still has a value (depth-protocol runs stop when fitted).
        for (const auto& [epoch, sn] : curves[key]) {
            if (sn.second != g.runs) break;
            g.epochs.push_back(epoch);
            g.train_loss_curve.push_back(sn.first / double(sn.second));
        }
        out.push_back(std::move(g));
    }
    std::sort(out.begin(), out.end(), [](const MemorizationGroup& a, const MemorizationGroup& b) {
        return std::tie(a.protocol, a.data, a.label_noise, a.hidden_layers, a.width) <
               std::tie(b.protocol, b.data, b.label_noise, b.hidden_layers, b.width);
    });
    return out;
}

namespace {

const char* data_label(const std::string& d) {
    if (d == "true") return "true labels";
    if (d == "noise") return "Gaussian-noise inputs";
    return "permuted labels";
}

std::vector<std::string> Memorization::draw(const Store& store, const std::string& out_dir) const {
    std::vector<MemorizationGroup> groups = memorization_groups(store);
    if (groups.empty()) return {};
    Panel curves, depth, noise;
    curves.title = "Training loss while fitting (label noise 0)";
    curves.xlabel = "epoch";
    curves.ylabel = "training loss (cross-entropy)";
    depth.title = "Epochs to fit random labels, equal parameter counts";
    depth.xlabel = "hidden layers";
    depth.ylabel = "epochs to zero training error";
    noise.title = "Error against label noise (true inputs)";
    noise.xlabel = "fraction of training labels randomised";
    noise.ylabel = "final error";
    Series depth_s, depth_1pct, noise_test, noise_train;
    depth_s.label = "zero error (mean over seeds)";
    depth_1pct.label = "1% error";
    depth_1pct.dashed = true;
    noise_test.label = "test";
    noise_train.label = "train";
    noise_train.dashed = true;
    std::map<std::string, int> colors = {{"true", 0}, {"noise", 1}, {"permuted", 2}};
    for (const MemorizationGroup& g : groups) {
        if (g.protocol == "fit" && g.label_noise == 0) {
            Series s;
            char label[160];
            std::snprintf(label, sizeof label, "%s (%d layers x %d)", data_label(g.data), int(g.hidden_layers),
                          int(g.width));
            s.label = label;
            s.color = colors[g.data];
            s.style = Series::Style::Line;
            for (size_t i = 0; i < g.epochs.size(); ++i) {
                s.x.push_back(double(g.epochs[i]));
                s.y.push_back(g.train_loss_curve[i]);
            }
            curves.series.push_back(std::move(s));
        }
        if (g.protocol == "depth" && g.data != "true") {
            depth_s.x.push_back(double(g.hidden_layers));
            depth_s.y.push_back(g.epochs_to_fit);
            depth_1pct.x.push_back(double(g.hidden_layers));
            depth_1pct.y.push_back(g.epochs_to_1pct);
        }
        if (g.protocol == "fit" && g.data == "true") {
            noise_test.x.push_back(g.label_noise);
            noise_test.y.push_back(g.test_error);
            noise_train.x.push_back(g.label_noise);
            noise_train.y.push_back(g.train_error);
        }
    }
    Figure fig;
    fig.title = "Memorization on MNIST-1D";
    if (!curves.series.empty()) fig.panels.push_back(curves);
    if (!depth_s.x.empty()) {
        depth.series = {depth_s, depth_1pct};
        fig.panels.push_back(depth);
    }
    if (noise_test.x.size() >= 2) {
        noise.series = {noise_test, noise_train};
        noise.yrange = std::make_pair(0.0, 1.0);
        fig.panels.push_back(noise);
    }
    if (fig.panels.empty()) return {};
    RenderedFigure rf = render_figure(fig, out_dir + "/memorization");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& memorization_experiment() {
    static const Memorization e;
    return e;
}

}  // namespace benchtop
