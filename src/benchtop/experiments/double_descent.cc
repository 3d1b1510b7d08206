// Experiment double-descent.
// Claim: as models grow, test error first falls, then rises to a peak where the model just
// manages to fit the (noisy) training set exactly (the interpolation threshold), then falls
// again for larger models; label noise makes the peak pronounced, without it there is none.
// References: Belkin et al., "Reconciling modern machine learning practice and the bias-variance
// trade-off", PNAS 2019; Nakkiran et al., "Deep double descent", ICLR 2020; Prince,
// "Understanding Deep Learning" (2023) section 8.4; MNIST-1D protocol of shared/specs/mnist1d.md
// section 6.
#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/data/mnist1d.h"
#include "benchtop/experiments/double_descent.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"

namespace benchtop {
namespace {

class DoubleDescent final : public Experiment {
public:
    DoubleDescent() {
        Json widths = Json::array();
        for (int w : {2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100, 150, 300}) widths.push_back(w);
        schema_.choice("model", {"mlp", "cnn"}, "mlp", "mlp: 40-n-n-10 with two hidden ReLU layers; cnn: c channels")
            .add({.name = "width", .type = ParamType::Int, .default_value = widths, .min = 1, .max = 4096,
                  .help = "hidden units per layer (mlp) or channels (cnn)"})
            .real("label_noise", 0.15, 0.0, 1.0, "fraction of training labels replaced by a uniform random label")
            .integer("epochs", 500, 1, 1e6, "training epochs")
            .real("lr", 0.01, 0.0, 10.0, "SGD learning rate", true)
            .real("momentum", 0.9, 0.0, 0.999, "SGD momentum")
            .integer("batch", 100, 1, 1e6, "minibatch size; batches shuffled every epoch, per seed")
            .integer("num_samples", 16000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("eval_every", 10, 1, 1e6, "evaluate every this many epochs (epoch-wise curves)")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0,
                  .max = 9e15, .help = "seed of initialisation, batch order and label noise"});
    }

    std::string name() const override { return "double-descent"; }
    std::string claim() const override {
        return "test error peaks at the interpolation threshold and falls again for bigger models (with label "
               "noise)";
    }
    std::string reference() const override {
        return "Belkin et al. PNAS 2019; Nakkiran et al. ICLR 2020; Prince, Understanding Deep Learning, 8.4";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"model", "width", "label_noise", "seed"}; }

    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        if (c["batch"].get<int64_t>() > c["train_examples"].get<int64_t>())
            throw UsageError("double-descent: batch must not exceed train_examples");
    }
    static int64_t steps_per_epoch(const Json& c) {
        int64_t n = c["train_examples"].get<int64_t>(), b = c["batch"].get<int64_t>();
        return (n + b - 1) / b;
    }
    int64_t work_units(const Json& c) const override { return c["epochs"].get<int64_t>() * steps_per_epoch(c); }
    double seconds_per_unit(const Json& c) const override {
        double w = static_cast<double>(c["width"].get<int64_t>());
        double b = static_cast<double>(c["batch"].get<int64_t>());
        // Measured on one core (width 8: 13 us per step, width 300: 0.82 ms per step, evaluation
        // included): about 2.6e-11 s per multiply-add of a training step plus a fixed 12 us.
        double macs = c["model"] == "mlp" ? b * (40 * w + w * w + 10 * w) : b * (w * 5 * 19 + 2 * w * w * 3 * 8);
        return 3 * macs * 2.6e-11 + 1.2e-5;
    }
    int64_t max_pack(const Json& c) const override {
        // Measured (docs/experiments/double-descent.md): stacking pays while a stack's hidden
        // activations (members x batch x width floats) stay within about 64 KB.
        int64_t per_member = c["batch"].get<int64_t>() * c["width"].get<int64_t>();
        return std::clamp<int64_t>(16384 / std::max<int64_t>(1, per_member), 1, 8);
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("lr");
        c.erase("label_noise");
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        std::shared_ptr<const Mnist1dData> data = mnist1d_split(c0);

        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
        const Tensor labels =
            per_member_label_noise(data->y_train, pack_values<double>(cfgs, "label_noise"), seeds);

        ClassifierSpec spec;
        spec.in = data->x_train.size(1);
        spec.width = c0["width"].get<int64_t>();
        if (c0["model"] == "mlp") {
            spec.kind = ModelKind::DeepMlp;
            spec.depth = 2;
        } else {
            spec.kind = ModelKind::Cnn;
        }
        ParamSet ps(K);
        add_classifier_params(ps, spec);
        init_torch_default(ps, seeds);

        const int64_t spe = steps_per_epoch(c0);
        TrainOptions o;
        o.optimizer = OptimizerKind::Sgd;
        o.steps = c0["epochs"].get<int64_t>() * spe - 1;
        o.batch = c0["batch"].get<int64_t>();
        o.eval_every = c0["eval_every"].get<int64_t>() * spe;
        o.eval_at_period_end = true;  // curves at the ends of epochs eval_every, 2 eval_every, ...
        o.lr = pack_values<double>(cfgs, "lr");
        o.momentum = c0["momentum"].get<double>();
        o.shuffle_each_epoch = true;
        o.seeds = seeds;
        o.on_step = step_reporter(ctx, K);
        std::vector<MemberCurve> curves =
            train_classifier(ps, spec, {&data->x_train, &labels, &data->x_test, &data->y_test}, o);

        std::vector<RunOutcome> out;
        for (int64_t k = 0; k < K; ++k) {
            const MemberCurve& mc = curves[size_t(k)];
            RunOutcome r;
            for (size_t i = 0; i < mc.steps.size(); ++i) {
                int64_t epoch = (mc.steps[i] + 1) / spe;
                r.metrics.push_back({"train_error", epoch, 1 - mc.train_acc[i]});
                r.metrics.push_back({"test_error", epoch, 1 - mc.test_acc[i]});
                r.metrics.push_back({"train_loss", epoch, mc.train_loss[i]});
                r.metrics.push_back({"test_loss", epoch, mc.test_loss[i]});
            }
            r.summaries.push_back({"params", static_cast<double>(ps.numel_per_member())});
            if (mc.diverged_at >= 0) {
                r.state = RunState::Diverged;
                r.summaries.push_back({"diverged_at", static_cast<double>(mc.diverged_at), mc.diverged_at});
            } else {
                int64_t epoch = (mc.steps.back() + 1) / spe;
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

std::map<std::pair<std::string, double>, std::vector<DoubleDescentPoint>> double_descent_points(const Store& store) {
    std::map<std::pair<std::string, double>, std::map<int64_t, std::vector<std::pair<double, double>>>> acc;
    std::map<std::pair<std::string, int64_t>, double> params;
    for (const RunRow& r : store.runs("double-descent")) {
        if (r.state != RunState::Complete) continue;
        Json c = Json::parse(r.config_json);
        auto tr = r.summaries.find("train_error"), te = r.summaries.find("test_error");
        if (tr == r.summaries.end() || te == r.summaries.end()) continue;
        std::string model = c["model"].get<std::string>();
        int64_t w = c["width"].get<int64_t>();
        acc[{model, c["label_noise"].get<double>()}][w].push_back({tr->second, te->second});
        params[{model, w}] = r.summaries.count("params") ? r.summaries.at("params") : 0;
    }
    std::map<std::pair<std::string, double>, std::vector<DoubleDescentPoint>> out;
    for (const auto& [key, by_width] : acc) {
        for (const auto& [w, v] : by_width) {
            DoubleDescentPoint p;
            p.width = w;
            p.params = params[{key.first, w}];
            p.runs = static_cast<int64_t>(v.size());
            p.test_min = p.train_min = 1e300;
            p.test_max = p.train_max = -1e300;
            for (auto [tr, te] : v) {
                p.train_mean += tr / static_cast<double>(v.size());
                p.test_mean += te / static_cast<double>(v.size());
                p.test_min = std::min(p.test_min, te);
                p.test_max = std::max(p.test_max, te);
                p.train_min = std::min(p.train_min, tr);
                p.train_max = std::max(p.train_max, tr);
            }
            out[key].push_back(p);
        }
    }
    return out;
}

// Smallest width whose training error is zero for every seed (-1 if none).
int64_t interpolation_threshold(const std::vector<DoubleDescentPoint>& pts) {
    for (const DoubleDescentPoint& p : pts)
        if (p.train_max == 0.0) return p.width;
    return -1;
}

namespace {

std::vector<std::string> DoubleDescent::draw(const Store& store, const std::string& out_dir) const {
    auto groups = double_descent_points(store);
    if (groups.empty()) return {};
    Panel by_width, by_params;
    by_width.title = "Final error against model width";
    by_width.xlabel = "hidden units per layer (channels for the CNN)";
    by_width.ylabel = "error (fraction misclassified)";
    by_width.logx = true;
    by_width.key_position = "bottom left";
    by_params.title = "Final error against parameter count";
    by_params.xlabel = "parameters";
    by_params.ylabel = "error (fraction misclassified)";
    by_params.logx = true;
    by_params.key_position = "bottom left";
    int color = 0;
    double n_train = 0;
    for (const RunRow& r : store.runs(name())) {
        n_train = Json::parse(r.config_json)["train_examples"].get<double>();
        break;
    }
    for (const auto& [key, pts] : groups) {
        char tag[96];
        std::snprintf(tag, sizeof tag, "%s, %g%% label noise", key.first.c_str(), 100 * key.second);
        Series test, train, test_p, train_p;
        test.label = std::string("test, ") + tag;
        train.label = std::string("train, ") + tag;
        test.color = train.color = test_p.color = train_p.color = color++;
        train.dashed = train_p.dashed = true;
        for (const DoubleDescentPoint& p : pts) {
            test.x.push_back(static_cast<double>(p.width));
            test.y.push_back(p.test_mean);
            test.y_lo.push_back(p.test_min);
            test.y_hi.push_back(p.test_max);
            train.x.push_back(static_cast<double>(p.width));
            train.y.push_back(p.train_mean);
            test_p.x.push_back(p.params);
            test_p.y.push_back(p.test_mean);
            test_p.y_lo.push_back(p.test_min);
            test_p.y_hi.push_back(p.test_max);
            train_p.x.push_back(p.params);
            train_p.y.push_back(p.train_mean);
        }
        test_p.label = test.label;
        train_p.label = train.label;
        int64_t thr = interpolation_threshold(pts);
        if (thr > 0) {
            char l[96];
            std::snprintf(l, sizeof l, "interpolation threshold (%s, %g%%): width %ld", key.first.c_str(),
                          100 * key.second, static_cast<long>(thr));
            by_width.vlines.push_back({static_cast<double>(thr), l});
        }
        by_width.series.push_back(std::move(test));
        by_width.series.push_back(std::move(train));
        by_params.series.push_back(std::move(test_p));
        by_params.series.push_back(std::move(train_p));
    }
    if (n_train > 0) by_params.vlines.push_back({n_train, "number of training examples"});
    Figure fig;
    fig.title = "Double descent on MNIST-1D (mean over seeds, band: min to max)";
    fig.panels = {by_width, by_params};
    RenderedFigure rf = render_figure(fig, out_dir + "/double-descent");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& double_descent_experiment() {
    static const DoubleDescent e;
    return e;
}

}  // namespace benchtop
