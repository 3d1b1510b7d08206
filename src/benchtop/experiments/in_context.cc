// Experiment in-context.
// Claim: a transformer trained on prompts of random linear functions learns to regress in
// context; one trained layer of linear self-attention is one step of gradient descent with the
// best step size, and a small GPT's error falls with the number of examples toward least
// squares (Garg, Tsipras, Liang & Valiant, NeurIPS 2022; von Oswald et al., ICML 2023).
//
// Models and baselines: icl/models.h and icl/tasks.h. The seeds of a configuration train as one
// stack on the same prompts; evaluation uses held-out prompts of the same class, the same for
// every run of a data seed, and the exact baselines are computed on them.
#include <cmath>
#include <map>

#include "benchtop/experiments/experiment.h"
#include "benchtop/icl/models.h"
#include "benchtop/icl/tasks.h"
#include "benchtop/report/plot.h"

namespace benchtop {
namespace {

using namespace icl;

class InContext final : public Experiment {
public:
    InContext() {
        schema_.choice("model", {"lsa", "gpt"}, Json::array({"lsa", "gpt"}),
                       "lsa (linear self-attention, no softmax or MLP) or gpt (a small pre-norm transformer)")
            .add({.name = "layers", .type = ParamType::Int, .default_value = Json::array({1, 2, 3}), .min = 1, .max = 64,
                  .help = "attention layers (lsa) or transformer blocks (gpt)"})
            .choice("function", {"linear", "sparse", "relu"}, "linear", "the function class of the prompts")
            .integer("d", 5, 1, 1024, "input dimension")
            .integer("n", 10, 1, 4096, "in-context examples before the query")
            .integer("sparsity", 2, 1, 1024, "non-zero weights of a sparse linear function")
            .integer("relu_hidden", 100, 1, 65536, "hidden units of a random ReLU network (function relu)")
            .integer("width", 32, 1, 4096, "gpt: model width")
            .integer("heads", 4, 1, 64, "gpt: attention heads (divide width)")
            .real("init_scale", 0.1, 0.0, 100.0, "lsa: Xavier-normal initial weights times this")
            .integer("steps", 4000, 1, 1e8, "Adam steps, each on fresh prompts")
            .integer("batch", 128, 1, 1e6, "prompts per step")
            .real("lr", 1e-3, 0.0, 10.0, "Adam learning rate")
            .real("clip", 1.0, 0.0, 1e9, "gradient-norm clipping per member (0: none)")
            .integer("eval_every", 100, 1, 1e8, "steps between points of the training curve")
            .integer("eval_prompts", 2000, 10, 1e7, "held-out prompts for the evaluation and the baselines")
            .integer("data_seed", 0, 0, 4294967295.0, "seed of the training and evaluation prompts")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation"});
    }

    std::string name() const override { return "in-context"; }
    std::string claim() const override {
        return "transformers learn linear regression in context: one linear-attention layer is one optimal step of "
               "gradient descent, and a small GPT's error falls toward least squares with more examples";
    }
    std::string reference() const override {
        return "Garg, Tsipras, Liang & Valiant, What can transformers learn in-context?, NeurIPS 2022; von Oswald et al., "
               "Transformers learn in-context by gradient descent, ICML 2023";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"model", "layers", "function", "seed"}; }
    void check(const Json& c) const override {
        if (c["model"] == "gpt" && c["width"].get<int64_t>() % c["heads"].get<int64_t>() != 0)
            throw UsageError("in-context: heads (" + c["heads"].dump() + ") must divide width (" + c["width"].dump() + ")");
        if (c["function"] == "sparse" && c["sparsity"].get<int64_t>() > c["d"].get<int64_t>())
            throw UsageError("in-context: sparsity (" + c["sparsity"].dump() + ") must not exceed d (" + c["d"].dump() + ")");
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("lr");
        return c.dump();
    }
    int64_t work_units(const Json& c) const override { return c["steps"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        const double n = c["n"].get<double>(), B = c["batch"].get<double>(), L = c["layers"].get<double>();
        if (c["model"] == "lsa") return 2e-9 * B * n * (c["d"].get<double>() + 1) * L * 10 + 2e-5;
        const double W = c["width"].get<double>();
        return 3e-10 * B * (2 * n + 1) * L * 12 * W * W * 3 + 1e-4;
    }
    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<RunOutcome> InContext::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    const TaskOptions task{.function = function_class_from_string(c["function"].get<std::string>()),
                           .d = c["d"].get<int64_t>(),
                           .n = c["n"].get<int64_t>(),
                           .sparsity = c["sparsity"].get<int64_t>(),
                           .relu_hidden = c["relu_hidden"].get<int64_t>()};
    const IclModelSpec spec{.kind = model_kind_from_string(c["model"].get<std::string>()),
                            .d = task.d,
                            .n = task.n,
                            .layers = c["layers"].get<int64_t>(),
                            .width = c["width"].get<int64_t>(),
                            .heads = c["heads"].get<int64_t>(),
                            .init_scale = c["init_scale"].get<double>()};
    const uint64_t data_seed = c["data_seed"].get<uint64_t>();
    ParamSet ps = make_icl_params(spec, pack_values<uint64_t>(cfgs, "seed"));
    const IclTrainOptions o{.task = task,
                            .steps = c["steps"].get<int64_t>(),
                            .batch = c["batch"].get<int64_t>(),
                            .lr = PerMember(pack_values<double>(cfgs, "lr")),
                            .clip = c["clip"].get<double>(),
                            .data_seed = data_seed,
                            .eval_every = c["eval_every"].get<int64_t>(),
                            .on_step = step_reporter(ctx, K)};
    const std::vector<IclCurve> curves = train_icl(ps, spec, o);

    // Held-out prompts (another stream than training's) and the exact baselines on them.
    Rng rng(stream_key(data_seed, 0, Purpose::Other));
    const Prompts p = sample_prompts(task, c["eval_prompts"].get<int64_t>(), rng);
    const int64_t n = task.n, L = spec.layers;
    std::vector<RunOutcome> out(static_cast<size_t>(K));
    for (int64_t m = 0; m < K; ++m) {
        RunOutcome& r = out[size_t(m)];
        const IclCurve& cv = curves[size_t(m)];
        for (size_t i = 0; i < cv.steps.size(); ++i) r.metrics.push_back({"train_loss", cv.steps[i], cv.loss[i]});
        if (!std::isfinite(cv.loss.back())) r.state = RunState::Diverged;
    }
    std::vector<std::vector<double>> at_n;  // the model's predictions at k = n, per member
    for (int64_t k = 0; k <= n; ++k) {
        ctx.check_stop();
        const double eta1 = best_gd_step_size(p, k, 1), etaL = best_gd_step_size(p, k, L);
        const double base[] = {mse_at(p, k, std::vector<double>(size_t(p.batch), 0.0)), mse_at(p, k, gd_predict(p, k, 1, eta1)),
                               mse_at(p, k, gd_predict(p, k, L, etaL)), mse_at(p, k, least_squares_predict(p, k)),
                               mse_at(p, k, knn_predict(p, k, 3))};
        const std::vector<std::vector<double>> pred = icl_predict(ps, spec, p, k);
        for (int64_t m = 0; m < K; ++m) {
            RunOutcome& r = out[size_t(m)];
            r.metrics.push_back({"mse_model", k, mse_at(p, k, pred[size_t(m)])});
            const char* names[] = {"mse_zero", "mse_gd1", "mse_gd_layers", "mse_ls", "mse_knn"};
            for (int i = 0; i < 5; ++i) r.metrics.push_back({names[i], k, base[i]});
        }
        if (k == n) {
            at_n = pred;
            const std::vector<double> g1 = gd_predict(p, n, 1, eta1), gL = gd_predict(p, n, L, etaL);
            for (int64_t m = 0; m < K; ++m) {
                const double model = mse_at(p, n, pred[size_t(m)]);
                out[size_t(m)].summaries = {{"mse_model", model, n},
                                            {"mse_zero", base[0], n},
                                            {"mse_gd1", base[1], n},
                                            {"mse_gd_layers", base[2], n},
                                            {"mse_ls", base[3], n},
                                            {"mse_knn", base[4], n},
                                            {"eta_gd1", eta1, n},
                                            {"eta_gd_layers", etaL, n},
                                            {"ratio_gd1", model / base[1], n},
                                            {"ratio_gd_layers", model / base[2], n},
                                            {"corr_gd1", correlation(pred[size_t(m)], g1), n},
                                            {"corr_gd_layers", correlation(pred[size_t(m)], gL), n},
                                            {"final_train_loss", curves[size_t(m)].loss.back(), o.steps},
                                            {"params", double(ps.numel_per_member()), n}};
            }
        }
    }
    return out;
}

std::vector<std::string> InContext::draw(const Store& store, const std::string& out_dir) const {
    // Per model label ("lsa 1 layer", "gpt 2 blocks"): mean over seeds of the error by k,
    // normalised by the zero predictor's; the baselines from any run (they depend only on data).
    using Curve = std::map<int64_t, std::pair<double, int>>;
    std::map<std::string, Curve> models, baselines;
    std::map<int64_t, std::pair<double, int>> lsa_by_layers, gd_by_layers, gpt_by_layers;
    std::map<std::string, Curve> training;
    std::string task;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete || !r.summaries.count("mse_model")) continue;
        const Json c = Json::parse(r.config_json);
        const std::string model = c["model"].get<std::string>();
        const int64_t L = c["layers"].get<int64_t>();
        const std::string label = model + " " + std::to_string(L) + (model == "lsa" ? " layer" : " block") + (L > 1 ? "s" : "");
        task = c["function"].get<std::string>() + ", d = " + c["d"].dump() + ", n = " + c["n"].dump();
        std::map<int64_t, double> zero;
        for (const Metric& m : store.metrics(r.run_id, "mse_zero")) zero[m.step] = m.value;
        auto add = [&](Curve& cv, const std::string& key) {
            for (const Metric& m : store.metrics(r.run_id, key)) {
                auto& p = cv[m.step];
                p.first += m.value / zero.at(m.step), p.second += 1;
            }
        };
        add(models[label], "mse_model");
        if (baselines.empty()) {
            add(baselines["gradient descent, 1 step (best step size)"], "mse_gd1");
            add(baselines["least squares"], "mse_ls");
            add(baselines["3-nearest neighbours"], "mse_knn");
        }
        const double z = r.summaries.at("mse_zero");
        auto& t = (model == "lsa" ? lsa_by_layers : gpt_by_layers)[L];
        t.first += r.summaries.at("mse_model") / z, t.second += 1;
        if (!gd_by_layers.count(L)) gd_by_layers[L] = {r.summaries.at("mse_gd_layers") / z, 1};
        Curve& tr = training[label];
        for (const Metric& m : store.metrics(r.run_id, "train_loss")) {
            auto& p = tr[m.step];
            p.first += m.value, p.second += 1;
        }
    }
    if (models.empty()) return {};
    auto series = [](const std::string& label, const Curve& cv, int color, bool dashed) {
        Series s{.label = label, .style = dashed ? Series::Style::Line : Series::Style::LinePoints, .color = color, .dashed = dashed};
        for (const auto& [x, p] : cv) s.x.push_back(double(x)), s.y.push_back(p.first / p.second);
        return s;
    };
    Panel pk{.title = "Error against in-context examples (" + task + ")", .xlabel = "examples in context",
             .ylabel = "squared error / zero predictor's", .yrange = std::make_pair(0.0, 1.3)};
    int color = 0;
    for (const auto& [label, cv] : models) pk.series.push_back(series(label, cv, color++, false));
    for (const auto& [label, cv] : baselines) pk.series.push_back(series(label, cv, color++, true));
    pk.key_position = "top right";
    Panel pl{.title = "K linear-attention layers against K steps of gradient descent", .xlabel = "K", .ylabel = "normalised error at n",
             .logy = true};
    pl.series.push_back(series("linear self-attention, K layers", lsa_by_layers, 0, false));
    pl.series.push_back(series("gradient descent, K steps (best step size)", gd_by_layers, 1, true));
    if (!gpt_by_layers.empty()) pl.series.push_back(series("gpt, K blocks", gpt_by_layers, 2, false));
    pl.key_position = "top right";
    Panel pt{.title = "Training loss", .xlabel = "step", .ylabel = "loss", .logy = true};
    color = 0;
    for (const auto& [label, cv] : training) pt.series.push_back(series(label, cv, color++, false));
    pt.key_position = "top right";
    const RenderedFigure rf = render_figure(Figure{.title = "In-context regression: attention as gradient descent", .panels = {pk, pl, pt}},
                                            out_dir + "/in-context");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& in_context_experiment() {
    static const InContext e;
    return e;
}

}  // namespace benchtop
