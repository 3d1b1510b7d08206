// Experiment grokking.
// Claim: a network can generalise long after it has memorised its training set, and what decides
// when is the weight norm: with weight decay, a one-layer transformer trained on modular addition
// reaches 100% training accuracy early and 100% test accuracy thousands of steps later while its
// weight norm falls; without weight decay the test accuracy stays low (Power, Burda, Edwards,
// Babuschkin & Misra, "Grokking: generalization beyond overfitting on small algorithmic datasets",
// 2022; Nanda, Chan, Lieberum, Smith & Steinhardt, "Progress measures for grokking via mechanistic
// interpretability", ICLR 2023; Prince, Understanding Deep Learning, section 20.4.4). The second
// protocol follows Liu, Michaud & Tegmark ("Omnigrok: grokking beyond algorithmic data", ICLR 2023):
// an MLP on 1000 MNIST-1D examples, trained with MSE from weights scaled up at initialisation, fits
// its training set at once and generalises only as weight decay shrinks the weights.
//
// Members of a stack share the data and the architecture; each has its own seed, weight decay and
// (omnigrok) initial scale.
#include "benchtop/experiments/grokking.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/data/modular.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/nn/transformer.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"
#include "benchtop/train/token_classifier.h"

namespace benchtop {
namespace {

constexpr double kDefaultInitScale = 8.0;

// Per-evaluation values of one member, whichever trainer produced them.
struct Curve {
    std::vector<int64_t> steps;  // updates done
    std::vector<double> train_acc, test_acc, train_loss, test_loss, weight_norm;
    bool diverged = false;
};

class Grokking final : public Experiment {
public:
    Grokking() {
        schema_
            .choice("protocol", {"modular", "omnigrok"}, "modular",
                    "modular: a one-layer transformer on a op b mod p; omnigrok: an MLP on MNIST-1D with MSE and "
                    "a large initialisation")
            .integer("p", 59, 2, 4096, "modulus (protocol=modular)")
            .choice("op", {"add", "subtract", "multiply", "divide"}, "add", "operation mod p (divide needs a prime p)")
            .real("train_fraction", 0.4, 0.0, 1.0, "fraction of all equations used for training", true)
            .integer("split_seed", 0, 0, 4294967295.0, "seed of the shuffle that splits the equations")
            .integer("d_model", 128, 1, 8192, "transformer width")
            .integer("n_heads", 4, 1, 256, "attention heads (must divide d_model)")
            .integer("d_mlp", 512, 1, 65536, "hidden units of the transformer's MLP")
            .integer("n_layers", 1, 1, 64, "transformer blocks")
            .boolean("layer_norm", false, "pre-norm blocks and a final layer norm")
            .choice("embed_init", {"scaled", "torch"}, "scaled",
                    "token and position embeddings N(0, 1/d_model) (scaled, as Nanda et al.'s model) or N(0, 1) "
                    "(torch: nn.Embedding's default); every Linear keeps torch's default")
            .integer("steps", 4000, 1, 1e8, "full-batch AdamW updates (protocol=modular)")
            .real("lr", 1e-3, 0.0, 10.0, "AdamW learning rate (protocol=modular)", true)
            .real("beta2", 0.98, 0.0, 1.0, "AdamW beta2 (protocol=modular; beta1 = 0.9)")
            .integer("warmup", 10, 0, 1e8, "linear learning-rate warm-up updates (protocol=modular)")
            .add({.name = "weight_decay", .type = ParamType::Real, .default_value = Json::array({1.0, 0.0}),
                  .min = 0.0, .max = 1e3,
                  .help = "decoupled weight decay (protocol=modular; omnigrok: a factor of mlp_weight_decay); the "
                          "default runs grokking (1) and its control (0)"})
            .integer("eval_every", 10, 1, 1e8, "evaluate train and test sets every this many updates")
            .real("init_scale", kDefaultInitScale, 0.0, 1e4,
                  "protocol=omnigrok: multiplier of PyTorch's default initial weights and biases", true)
            .integer("mlp_width", 200, 1, 65536, "protocol=omnigrok: hidden units per layer")
            .integer("mlp_layers", 3, 2, 64, "protocol=omnigrok: Linear layers (mlp_layers - 1 hidden ReLU layers)")
            .integer("mlp_steps", 20000, 1, 1e9, "protocol=omnigrok: AdamW updates")
            .integer("mlp_batch", 200, 1, 1e6, "protocol=omnigrok: minibatch, reshuffled every epoch per seed")
            .integer("mlp_eval_every", 200, 1, 1e9, "protocol=omnigrok: evaluate every this many updates")
            .real("mlp_lr", 1e-3, 0.0, 10.0, "protocol=omnigrok: AdamW learning rate", true)
            .real("mlp_weight_decay", 0.1, 0.0, 1e3,
                  "protocol=omnigrok: decoupled weight decay, times weight_decay (so weight_decay=0 is the control "
                  "without decay in both protocols)")
            .integer("num_samples", 5000, 20, 1e7, "protocol=omnigrok: MNIST-1D examples generated")
            .integer("train_examples", 1000, 10, 1e7, "protocol=omnigrok: the first this many train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "protocol=omnigrok: seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = 0, .min = 0, .max = 9e15,
                  .help = "seed of the initialisation (and of the omnigrok batch order)"});
    }

    std::string name() const override { return "grokking"; }
    std::string claim() const override {
        return "with weight decay a network generalises long after memorising its training set, as its weight norm "
               "falls; without weight decay it does not";
    }
    std::string reference() const override {
        return "Power et al., Grokking, 2022; Nanda et al., Progress measures for grokking, ICLR 2023; Liu et al., "
               "Omnigrok, ICLR 2023; Prince, Understanding Deep Learning, section 20.4.4";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override {
        return {"protocol", "weight_decay", "init_scale", "seed"};
    }

    static bool omnigrok(const Json& c) { return c["protocol"] == "omnigrok"; }

    void check(const Json& c) const override {
        if (omnigrok(c)) {
            check_mnist1d_split(name(), c);
            if (c["mlp_batch"].get<int64_t>() > c["train_examples"].get<int64_t>())
                throw UsageError("grokking: mlp_batch must not exceed train_examples");
            return;
        }
        if (c["d_model"].get<int64_t>() % c["n_heads"].get<int64_t>() != 0)
            throw UsageError("grokking: n_heads must divide d_model");
        if (c["op"] == "divide" && !is_prime(c["p"].get<int64_t>()))
            throw UsageError("grokking: op=divide needs a prime p");
        if (c["init_scale"].get<double>() != kDefaultInitScale)
            throw UsageError("grokking: init_scale applies to protocol=omnigrok only");
        const double n = double(c["p"].get<int64_t>()) * double(c["p"].get<int64_t>());
        const double n_train = std::round(c["train_fraction"].get<double>() * n);
        if (n_train < 1 || n_train >= n) throw UsageError("grokking: train_fraction leaves no training or test data");
    }
    int64_t work_units(const Json& c) const override {
        return omnigrok(c) ? c["mlp_steps"].get<int64_t>() : c["steps"].get<int64_t>();
    }
    double seconds_per_unit(const Json& c) const override {
        if (omnigrok(c)) {
            const double w = c["mlp_width"].get<double>(), L = c["mlp_layers"].get<double>();
            const double macs = 40 * w + (L - 2) * w * w + 10 * w;
            return 3 * macs * c["mlp_batch"].get<double>() * 2.6e-11 + 1.2e-5 +
                   macs * c["num_samples"].get<double>() * 2.6e-11 / c["mlp_eval_every"].get<double>();
        }
        // Multiply-adds per training example of a one-block step (keys and values at every
        // position, the rest at the last), at the MLP's measured 2.6e-11 s each, fwd + bwd.
        const double p = c["p"].get<double>(), d = c["d_model"].get<double>(), m = c["d_mlp"].get<double>();
        const double L = c["n_layers"].get<double>();
        const double per_example = L * (3 * (2 * d * d) + 2 * d * d + 2 * d * m) + d * p;
        const double n_train = c["train_fraction"].get<double>() * p * p;
        return 3 * per_example * n_train * 2.6e-11 * (1 + 1.0 / c["eval_every"].get<double>());
    }
    int64_t max_pack(const Json& c) const override {
        // A full batch of ~1400 sequences keeps a member's GEMMs large: stacking saves nothing and
        // separate packs use every core. The small omnigrok MLPs stack.
        return omnigrok(c) ? 8 : 1;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        for (const char* k : {"seed", "weight_decay", "init_scale", "mlp_weight_decay"}) c.erase(k);
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        std::vector<Curve> curves = omnigrok(cfgs.at(0)) ? run_omnigrok(cfgs, ctx) : run_modular(cfgs, ctx);
        std::vector<RunOutcome> out;
        for (const Curve& c : curves) out.push_back(outcome(c));
        return out;
    }
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    static std::vector<Curve> run_modular(const std::vector<Json>& cfgs, RunContext& ctx);
    static std::vector<Curve> run_omnigrok(const std::vector<Json>& cfgs, RunContext& ctx);
    static RunOutcome outcome(const Curve& c);

    Schema schema_;
};

std::vector<Curve> Grokking::run_modular(const std::vector<Json>& cfgs, RunContext& ctx) {
    const Json& c0 = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    const int64_t p = c0["p"].get<int64_t>();
    ModularData data = make_modular({.p = p,
                                     .op = modular_op_from_string(c0["op"].get<std::string>()),
                                     .train_fraction = c0["train_fraction"].get<double>(),
                                     .seed = c0["split_seed"].get<uint64_t>()});
    TransformerSpec spec{.vocab = data.vocab,
                         .max_seq = 3,
                         .d_model = c0["d_model"].get<int64_t>(),
                         .n_heads = c0["n_heads"].get<int64_t>(),
                         .d_mlp = c0["d_mlp"].get<int64_t>(),
                         .n_layers = c0["n_layers"].get<int64_t>(),
                         .layer_norm = c0["layer_norm"].get<bool>(),
                         .out = p,
                         .embed_std = c0["embed_init"] == "scaled" ? 1.0 / std::sqrt(double(c0["d_model"].get<int64_t>()))
                                                                   : 1.0};
    ParamSet ps(K);
    add_transformer_params(ps, spec);
    init_transformer(ps, spec, pack_values<uint64_t>(cfgs, "seed"));
    TokenTrainOptions o;
    o.steps = c0["steps"].get<int64_t>();
    o.lr = c0["lr"].get<double>();
    o.beta2 = c0["beta2"].get<double>();
    o.weight_decay = pack_values<double>(cfgs, "weight_decay");
    o.warmup_steps = c0["warmup"].get<int64_t>();
    o.eval_every = c0["eval_every"].get<int64_t>();
    o.on_step = step_reporter(ctx, K);
    std::vector<TokenCurve> tc = train_token_classifier(
        ps, spec, {&data.train_tokens, &data.train_labels, &data.test_tokens, &data.test_labels}, o);
    std::vector<Curve> out;
    for (const TokenCurve& t : tc)
        out.push_back({t.steps, t.train_acc, t.test_acc, t.train_loss, t.test_loss, t.weight_norm, t.diverged_at >= 0});
    return out;
}

std::vector<Curve> Grokking::run_omnigrok(const std::vector<Json>& cfgs, RunContext& ctx) {
    const Json& c0 = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c0);
    ClassifierSpec spec;
    spec.kind = ModelKind::DeepMlp;
    spec.in = data->x_train.size(1);
    spec.width = c0["mlp_width"].get<int64_t>();
    spec.depth = c0["mlp_layers"].get<int64_t>() - 1;
    ParamSet ps(K);
    add_classifier_params(ps, spec);
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const std::vector<double> scales = pack_values<double>(cfgs, "init_scale");
    init_torch_default(ps, seeds, scales);
    TrainOptions o;
    o.steps = c0["mlp_steps"].get<int64_t>() - 1;
    o.batch = c0["mlp_batch"].get<int64_t>();
    o.eval_every = c0["mlp_eval_every"].get<int64_t>();
    o.eval_at_period_end = true;
    o.optimizer = OptimizerKind::Adam;
    o.lr = c0["mlp_lr"].get<double>();
    std::vector<double> wd;
    for (const Json& c : cfgs) wd.push_back(c["mlp_weight_decay"].get<double>() * c["weight_decay"].get<double>());
    o.weight_decay = wd;
    o.decoupled_weight_decay = true;
    o.mse_one_hot = true;
    o.record_weight_norm = true;
    o.shuffle_each_epoch = true;
    o.seeds = seeds;
    o.on_step = step_reporter(ctx, K);
    std::vector<MemberCurve> mc = train_classifier(ps, spec, {&data->x_train, &data->y_train, &data->x_test, &data->y_test}, o);
    std::vector<Curve> out;
    for (const MemberCurve& m : mc) {
        Curve c;
        for (int64_t s : m.steps) c.steps.push_back(s + 1);  // evaluated after step s: s + 1 updates
        c.train_acc = m.train_acc;
        c.test_acc = m.test_acc;
        c.train_loss = m.train_loss;
        c.test_loss = m.test_loss;
        c.weight_norm = m.weight_norm;
        c.diverged = m.diverged_at >= 0;
        out.push_back(std::move(c));
    }
    return out;
}

RunOutcome Grokking::outcome(const Curve& c) {
    RunOutcome r;
    for (size_t i = 0; i < c.steps.size(); ++i) {
        const int64_t s = c.steps[i];
        r.metrics.push_back({"train_acc", s, c.train_acc[i]});
        r.metrics.push_back({"test_acc", s, c.test_acc[i]});
        r.metrics.push_back({"train_loss", s, c.train_loss[i]});
        r.metrics.push_back({"test_loss", s, c.test_loss[i]});
        r.metrics.push_back({"weight_norm", s, c.weight_norm[i]});
    }
    if (c.diverged || c.steps.empty()) {
        r.state = RunState::Diverged;
        return r;
    }
    auto first_at = [&](const std::vector<double>& v, double level) -> int64_t {
        for (size_t i = 0; i < v.size(); ++i)
            if (v[i] >= level) return c.steps[i];
        return -1;
    };
    const int64_t tr = first_at(c.train_acc, 0.99), te = first_at(c.test_acc, 0.99);
    const int64_t last = c.steps.back();
    if (tr >= 0) r.summaries.push_back({"steps_to_train_99", double(tr)});
    if (te >= 0) r.summaries.push_back({"steps_to_test_99", double(te)});
    r.summaries.push_back({"test_99_reached", te >= 0 ? 1.0 : 0.0});
    if (tr >= 0 && te >= 0) r.summaries.push_back({"grok_gap", double(te - tr)});
    if (tr >= 0) {
        const auto i = static_cast<size_t>(std::find(c.steps.begin(), c.steps.end(), tr) - c.steps.begin());
        r.summaries.push_back({"test_acc_at_train_99", c.test_acc[i], tr});
        r.summaries.push_back({"weight_norm_at_train_99", c.weight_norm[i], tr});
    }
    const auto best = std::max_element(c.test_acc.begin(), c.test_acc.end()) - c.test_acc.begin();
    r.summaries.push_back({"max_test_acc", c.test_acc[size_t(best)], c.steps[size_t(best)]});
    r.summaries.push_back({"final_train_acc", c.train_acc.back(), last});
    r.summaries.push_back({"final_test_acc", c.test_acc.back(), last});
    r.summaries.push_back({"weight_norm_start", c.weight_norm.front(), c.steps.front()});
    r.summaries.push_back({"weight_norm_final", c.weight_norm.back(), last});
    return r;
}

}  // namespace

std::vector<GrokkingRun> grokking_runs(const Store& store) {
    std::vector<GrokkingRun> out;
    for (const RunRow& r : store.runs("grokking")) {
        if (r.state != RunState::Complete) continue;
        Json c = Json::parse(r.config_json);
        GrokkingRun g;
        g.protocol = c["protocol"].get<std::string>();
        g.weight_decay = c["weight_decay"].get<double>();
        if (g.protocol == "omnigrok") g.weight_decay *= c["mlp_weight_decay"].get<double>();
        g.init_scale = g.protocol == "omnigrok" ? c["init_scale"].get<double>() : 1.0;
        g.seed = c["seed"].get<int64_t>();
        std::map<std::string, std::vector<double>*> into = {{"train_acc", &g.train_acc},   {"test_acc", &g.test_acc},
                                                            {"train_loss", &g.train_loss}, {"test_loss", &g.test_loss},
                                                            {"weight_norm", &g.weight_norm}};
        for (const Metric& m : store.metrics(r.run_id)) {
            auto it = into.find(m.key);
            if (it == into.end()) continue;
            it->second->push_back(m.value);
            if (m.key == "train_acc") g.steps.push_back(double(m.step));
        }
        if (r.summaries.count("steps_to_train_99")) g.steps_to_train_99 = int64_t(r.summaries.at("steps_to_train_99"));
        if (r.summaries.count("steps_to_test_99")) g.steps_to_test_99 = int64_t(r.summaries.at("steps_to_test_99"));
        out.push_back(std::move(g));
    }
    std::sort(out.begin(), out.end(), [](const GrokkingRun& a, const GrokkingRun& b) {
        return std::tie(a.protocol, b.weight_decay, a.init_scale, a.seed) <
               std::tie(b.protocol, a.weight_decay, b.init_scale, b.seed);
    });
    return out;
}

namespace {

Series curve_series(const GrokkingRun& r, const std::vector<double>& y, std::string label, int color, bool dashed,
                    bool y2 = false) {
    Series s;
    s.label = std::move(label);
    s.style = Series::Style::Line;
    s.color = color;
    s.dashed = dashed;
    s.y2 = y2;
    s.x = r.steps;
    s.y = y;
    return s;
}

std::vector<std::string> Grokking::draw(const Store& store, const std::string& out_dir) const {
    std::vector<GrokkingRun> runs = grokking_runs(store);
    std::vector<std::string> files;
    char buf[200];
    // Modular: one panel per run (weight decay on, then off), accuracy with the weight norm.
    Figure mod;
    mod.title = "Grokking: one-layer transformer on modular arithmetic (full-batch AdamW)";
    mod.columns = 2;
    Figure omni;
    omni.title = "Omnigrok: MLP on 1000 MNIST-1D examples, MSE loss, scaled-up initialisation";
    Panel acc, norm;
    acc.title = "accuracy (dashed: train)";
    acc.xlabel = norm.xlabel = "update (log scale)";
    acc.ylabel = "accuracy";
    acc.logx = norm.logx = true;
    acc.key_position = "top left";
    norm.title = "weight norm";
    norm.ylabel = "L2 norm of all parameters";
    int color = 0;
    for (const GrokkingRun& r : runs) {
        if (r.protocol == "modular") {
            if (mod.panels.size() >= 4) continue;
            Panel p;
            std::snprintf(buf, sizeof buf, "weight decay %g, seed %d", r.weight_decay, int(r.seed));
            p.title = buf;
            p.xlabel = "update (log scale)";
            p.ylabel = "accuracy";
            p.y2label = "weight norm";
            p.logx = true;
            p.yrange = std::make_pair(0.0, 1.02);
            p.key_position = "center left";
            p.series.push_back(curve_series(r, r.train_acc, "train accuracy", 0, true));
            p.series.push_back(curve_series(r, r.test_acc, "test accuracy", 1, false));
            p.series.push_back(curve_series(r, r.weight_norm, "weight norm (right axis)", 2, false, true));
            if (r.steps_to_train_99 > 0) p.vlines.push_back({double(r.steps_to_train_99), "train 99%"});
            if (r.steps_to_test_99 > 0) p.vlines.push_back({double(r.steps_to_test_99), "test 99%"});
            mod.panels.push_back(std::move(p));
        } else {
            std::snprintf(buf, sizeof buf, "init x%g, wd %g, seed %d", r.init_scale, r.weight_decay, int(r.seed));
            acc.series.push_back(curve_series(r, r.test_acc, buf, color, false));
            acc.series.push_back(curve_series(r, r.train_acc, "", color, true));
            norm.series.push_back(curve_series(r, r.weight_norm, buf, color, false));
            ++color;
        }
    }
    if (!mod.panels.empty()) {
        RenderedFigure rf = render_figure(mod, out_dir + "/grokking");
        files.push_back(rf.svg);
        files.push_back(rf.png);
    }
    if (!acc.series.empty()) {
        omni.panels = {acc, norm};
        RenderedFigure rf = render_figure(omni, out_dir + "/omnigrok");
        files.push_back(rf.svg);
        files.push_back(rf.png);
    }
    return files;
}

}  // namespace

const Experiment& grokking_experiment() {
    static const Grokking e;
    return e;
}

}  // namespace benchtop
