// Experiment mnist1d-baselines.
// Claim: on MNIST-1D, architectures with the right inductive bias win: logistic regression
// < MLP < GRU, CNN in test accuracy, and shuffling the 40 features (one fixed permutation)
// destroys the spatial structure the CNN and GRU rely on while the MLP and logistic
// regression, which see an unordered vector anyway, are unaffected.
// Reference: Greydanus & Kobak, "Scaling down deep learning with MNIST-1D" (ICML 2024),
// table of baselines; protocol of shared/specs/mnist1d.md section 5.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/io/safetensors.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"

namespace benchtop {
namespace {

const char* const kModels[] = {"logistic", "mlp", "cnn", "gru"};

ClassifierSpec spec_for(const std::string& model) {
    ClassifierSpec s;
    s.kind = model_kind_from_string(model);
    s.width = s.kind == ModelKind::Mlp ? 100 : s.kind == ModelKind::Cnn ? 25 : s.kind == ModelKind::Gru ? 6 : 0;
    return s;
}

// Replaces {model}, {seed} and {shuffle_features} in a path template.
class Mnist1dBaselines final : public Experiment {
public:
    Mnist1dBaselines() {
        schema_
            .choice("model", {"logistic", "mlp", "cnn", "gru"}, Json::array({"logistic", "mlp", "cnn", "gru"}),
                    "architecture: logistic regression, residual MLP (hidden 100), CNN (25 channels), "
                    "bidirectional GRU (hidden 6)")
            .boolean("shuffle_features", Json::array({false, true}),
                     "permute the 40 features by the reference's fixed permutation (destroys spatial order)")
            .integer("steps", 6000, 0, 1e7, "last training step; steps 0..steps are taken (the reference loop)")
            .real("lr", 1e-2, 0.0, 10.0, "Adam learning rate", true)
            .integer("batch", 100, 1, 1e6, "minibatch size; batches are taken in fixed order")
            .integer("eval_every", 250, 1, 1e7, "evaluate on the full train and test sets every this many steps")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0,
                  .max = 9e15, .help = "seed of the model initialisation (three runs, as the published table)"})
            .real("label_noise", 0.0, 0.0, 1.0,
                  "fraction of training labels replaced by a uniform random label (drawn from seed)")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator (42 = the frozen set)")
            .text("data_dir", "", "directory of frozen MNIST-1D raw files to read instead of generating")
            .text("init_from", "",
                  "safetensors file (PyTorch names and layouts) to start from; {model}, {seed}, "
                  "{shuffle_features} are replaced")
            .text("save_to", "", "safetensors file to write the trained weights to; same placeholders");
    }

    std::string name() const override { return "mnist1d-baselines"; }
    std::string claim() const override {
        return "inductive bias matters: logistic < MLP < GRU, CNN on MNIST-1D, and shuffling the features "
               "drops CNN/GRU to MLP level";
    }
    std::string reference() const override {
        return "Greydanus & Kobak, Scaling down deep learning with MNIST-1D, ICML 2024";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"model", "shuffle_features"}; }

    int64_t work_units(const Json& c) const override { return c["steps"].get<int64_t>() + 1; }
    double seconds_per_unit(const Json& c) const override {
        // Measured on one core of the reference machine (docs/experiments/mnist1d-baselines.md),
        // evaluation included.
        std::string m = c["model"].get<std::string>();
        return m == "logistic" ? 6e-6 : m == "mlp" ? 8.5e-5 : m == "cnn" ? 3e-4 : 6e-4;
    }
    int64_t max_pack(const Json& c) const override {
        // Measured (docs/engine.md): the GRU and the CNN train slower per member in a stack than
        // alone on this host, the small MLPs faster.
        std::string m = c["model"].get<std::string>();
        return m == "gru" || m == "cnn" ? 1 : 8;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("lr");  // per-member learning rates and label noise are first-class
        c.erase("label_noise");
        c.erase("init_from");
        c.erase("save_to");
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        Mnist1dSource src;
        src.data_dir = c0["data_dir"].get<std::string>();
        src.args.seed = c0["data_seed"].get<uint32_t>();
        src.shuffle_features = c0["shuffle_features"].get<bool>();
        std::shared_ptr<const Mnist1dData> data = mnist1d_dataset(src);

        ClassifierSpec spec = spec_for(c0["model"].get<std::string>());
        spec.in = data->x_train.size(1);
        ParamSet ps(K);
        add_classifier_params(ps, spec);
        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
        init_torch_default(ps, seeds);
        for (int64_t k = 0; k < K; ++k) {
            std::string init = cfgs[size_t(k)]["init_from"].get<std::string>();
            if (!init.empty()) load_params(expand_weights_path(init, cfgs[size_t(k)]), ps, k);
        }

        // Label noise is per run (drawn from its seed), so members may differ: labels [K, N].
        const std::vector<double> noise = pack_values<double>(cfgs, "label_noise");
        const bool noisy = std::any_of(noise.begin(), noise.end(), [](double f) { return f > 0; });
        Tensor noisy_labels;
        if (noisy) noisy_labels = per_member_label_noise(data->y_train, noise, seeds);

        TrainOptions o;
        o.steps = c0["steps"].get<int64_t>();
        o.batch = std::min<int64_t>(c0["batch"].get<int64_t>(), data->x_train.size(0));
        o.eval_every = c0["eval_every"].get<int64_t>();
        o.lr = pack_values<double>(cfgs, "lr");
        o.seeds = seeds;
        o.on_step = step_reporter(ctx, K);
        std::vector<MemberCurve> curves = train_classifier(
            ps, spec, {&data->x_train, noisy ? &noisy_labels : &data->y_train, &data->x_test, &data->y_test}, o);

        std::vector<RunOutcome> out;
        for (int64_t k = 0; k < K; ++k) {
            const MemberCurve& mc = curves[size_t(k)];
            RunOutcome r;
            for (size_t i = 0; i < mc.steps.size(); ++i) {
                int64_t s = mc.steps[i];
                r.metrics.push_back({"train_loss", s, mc.train_loss[i]});
                r.metrics.push_back({"train_acc", s, mc.train_acc[i]});
                r.metrics.push_back({"test_loss", s, mc.test_loss[i]});
                r.metrics.push_back({"test_acc", s, mc.test_acc[i]});
            }
            r.summaries.push_back({"params", static_cast<double>(ps.numel_per_member())});
            if (mc.diverged_at >= 0) {
                r.state = RunState::Diverged;
                r.summaries.push_back({"diverged_at", static_cast<double>(mc.diverged_at), mc.diverged_at});
            } else if (!mc.steps.empty()) {
                int64_t s = mc.steps.back();
                r.summaries.push_back({"train_loss", mc.train_loss.back(), s});
                r.summaries.push_back({"train_acc", mc.train_acc.back(), s});
                r.summaries.push_back({"test_loss", mc.test_loss.back(), s});
                r.summaries.push_back({"test_acc", mc.test_acc.back(), s});
                r.summaries.push_back({"steps", static_cast<double>(s), s});
            }
            std::string save = cfgs[size_t(k)]["save_to"].get<std::string>();
            if (!save.empty()) {
                std::string path = expand_weights_path(save, cfgs[size_t(k)]);
                std::filesystem::path parent = std::filesystem::path(path).parent_path();
                if (!parent.empty()) std::filesystem::create_directories(parent);
                save_params(path, ps, k, {{"benchtop_experiment", name()}});
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::string pretty_model(const std::string& m) {
    return m == "logistic" ? "logistic regression" : m == "mlp" ? "MLP" : m == "cnn" ? "CNN" : "GRU";
}

std::vector<std::string> Mnist1dBaselines::draw(const Store& store, const std::string& out_dir) const {
    // (model, shuffled) -> test accuracies of the runs, and their curves step -> accuracies.
    struct Group {
        std::vector<double> final_acc;
        std::map<int64_t, std::vector<double>> curve;
    };
    std::map<std::pair<std::string, bool>, Group> groups;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete) continue;
        Json c = Json::parse(r.config_json);
        Group& g = groups[{c["model"].get<std::string>(), c["shuffle_features"].get<bool>()}];
        auto it = r.summaries.find("test_acc");
        if (it != r.summaries.end()) g.final_acc.push_back(100 * it->second);
        for (const Metric& m : store.metrics(r.run_id, "test_acc")) g.curve[m.step].push_back(100 * m.value);
    }
    if (groups.empty()) return {};
    auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) s += x;
        return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
    };

    Panel bars;
    bars.title = "Test accuracy after training";
    bars.ylabel = "test accuracy (%)";
    bars.yrange = std::make_pair(0.0, 100.0);
    bars.key_position = "top left";
    std::vector<std::string> models;
    for (const char* m : kModels)
        if (groups.count({m, false}) || groups.count({m, true})) models.push_back(m);
    for (const std::string& m : models) bars.xtics.push_back(pretty_model(m));
    for (bool shuffled : {false, true}) {
        Series s;
        s.label = shuffled ? "features shuffled" : "original order";
        s.style = Series::Style::Bars;
        for (size_t i = 0; i < models.size(); ++i) {
            auto it = groups.find({models[i], shuffled});
            s.x.push_back(static_cast<double>(i));
            s.y.push_back(it == groups.end() ? std::nan("") : mean(it->second.final_acc));
        }
        bars.series.push_back(std::move(s));
    }

    Panel curves;
    curves.title = "Learning curves (mean over seeds)";
    curves.xlabel = "training step";
    curves.ylabel = "test accuracy (%)";
    curves.yrange = std::make_pair(0.0, 100.0);
    curves.key_position = "bottom right maxrows 4";
    int color = 0;
    for (const std::string& m : models) {
        for (bool shuffled : {false, true}) {
            auto it = groups.find({m, shuffled});
            if (it == groups.end()) continue;
            Series s;
            s.label = pretty_model(m) + (shuffled ? ", shuffled" : "");
            s.style = Series::Style::Line;
            s.color = color;
            s.dashed = shuffled;
            for (const auto& [step, accs] : it->second.curve) {
                s.x.push_back(static_cast<double>(step));
                s.y.push_back(mean(accs));
            }
            curves.series.push_back(std::move(s));
        }
        ++color;
    }
    Figure fig;
    fig.title = "MNIST-1D baselines";
    fig.panels = {bars, curves};
    RenderedFigure rf = render_figure(fig, out_dir + "/mnist1d-baselines");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& mnist1d_baselines_experiment() {
    static const Mnist1dBaselines e;
    return e;
}

}  // namespace benchtop
