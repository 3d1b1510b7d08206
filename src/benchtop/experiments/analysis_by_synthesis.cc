// Experiment analysis-by-synthesis.
// Claim (the critique of discriminative deep learning; Schott, Rauber, Bethge & Brendel, "Towards
// the first adversarially robust neural network model on MNIST", ICLR 2019): classifiers that
// explain the input with a generative model of each class ("analysis by synthesis") learn from
// fewer examples, need larger perturbations to be fooled, are less confident on inputs unlike the
// data, and classify better the longer they search for the best explanation.
//
// protocol=accuracy: one run trains one model on a balanced subset of train_size MNIST-1D signals
// (train_size / 10 per class) and reports its test accuracy and its mean top probability on
// Gaussian-noise signals. The models: generative classifiers (shrinkage LDA, Gaussian naive Bayes,
// per-class PPCA, per-class Gaussian mixtures; generative/gaussian.h), discriminative ones
// (logistic regression, the residual MLP, the CNN of the MNIST-1D baselines) and ABS-1D: ten VAEs,
// one per class, trained as one stack (generative/vae.h). ABS runs also report the accuracy for
// a grid of search budgets (fixed latent draws x gradient steps on the latent).
// protocol=robustness: ABS-1D and the MLP on the full training set, attacked by the battery of
// attacks/attacks.h (PGD search, DeepFool, the decision-based boundary attack).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "benchtop/attacks/attacks.h"
#include "benchtop/core/rng.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/generative/gaussian.h"
#include "benchtop/generative/vae.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"
#include "benchtop/train/metrics.h"

namespace benchtop {
namespace {

const std::vector<int64_t> kBudgetSamples = {1, 10, 100, 1000};
const std::vector<int64_t> kBudgetSteps = {0, 20};
const std::vector<double> kEps = {0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
const std::vector<std::string> kModels = {"lda", "naive_bayes", "ppca", "gmm", "logistic", "mlp", "cnn", "abs"};

bool is_generative(const std::string& m) { return m == "lda" || m == "naive_bayes" || m == "ppca" || m == "gmm"; }

std::string budget_key(int64_t n, int64_t s) { return "abs_acc_n" + std::to_string(n) + "_s" + std::to_string(s); }

// The first per_class examples of each class, in training order (all of a class that has fewer:
// train_size = train_examples is the whole training set, whose classes are not exactly balanced).
void balanced_subset(const Tensor& x, const Tensor& y, int64_t per_class, Tensor& xs, Tensor& ys) {
    const int64_t N = x.size(0), D = x.size(1);
    std::vector<int64_t> rows;
    std::vector<int64_t> taken(10, 0);
    for (int64_t i = 0; i < N; ++i) {
        const int32_t c = y.data<int32_t>()[i];
        if (taken[size_t(c)] < per_class) {
            ++taken[size_t(c)];
            rows.push_back(i);
        }
    }
    for (int64_t c = 0; c < 10; ++c)
        BENCHTOP_CHECK(taken[size_t(c)] > 0, "analysis-by-synthesis: class ", c, " has no training examples");
    xs = Tensor::empty({int64_t(rows.size()), D}, DType::F32);
    ys = Tensor::empty({int64_t(rows.size())}, DType::I32);
    for (size_t r = 0; r < rows.size(); ++r) {
        std::memcpy(xs.data<float>() + int64_t(r) * D, x.data<float>() + rows[r] * D, size_t(D) * sizeof(float));
        ys.data<int32_t>()[r] = y.data<int32_t>()[rows[r]];
    }
}

// Gaussian noise signals with the data's scale (per seed).
Tensor noise_signals(int64_t n, int64_t D, double sd, uint64_t seed) {
    Tensor t = Tensor::empty({n, D}, DType::F32);
    Rng rng(stream_key(seed, 0, Purpose::Data));
    for (int64_t i = 0; i < n * D; ++i) t.data<float>()[i] = float(sd * rng.normal());
    return t;
}

std::vector<double> logits_vector(const Tensor& logits) {  // [1, M, C] -> [M * C]
    std::vector<double> v(size_t(logits.numel()));
    for (int64_t i = 0; i < logits.numel(); ++i) v[size_t(i)] = logits.at(i);
    return v;
}

class AnalysisBySynthesis final : public Experiment {
public:
    AnalysisBySynthesis() {
        schema_.choice("protocol", {"accuracy", "robustness"}, "accuracy",
                       "accuracy: test accuracy, confidence on noise and (ABS) search budgets against training-set "
                       "size; robustness: minimal adversarial perturbations of ABS-1D and the MLP")
            .choice("model", kModels, Json(kModels),
                    "classifier: lda, naive_bayes, ppca, gmm (generative); logistic, mlp, cnn (discriminative); abs "
                    "(ten class VAEs)")
            .add({.name = "train_size", .type = ParamType::Int,
                  .default_value = Json::array({50, 100, 200, 500, 1000, 4000}), .min = 10, .max = 4000,
                  .help = "balanced training subset (train_size / 10 signals per class; a multiple of 10)"})
            .integer("components", 5, 1, 39, "ppca: rank; gmm: mixture components per class")
            .integer("steps", 2000, 1, 1e7, "discriminative models: Adam steps (lr 0.01, batches of up to 100)")
            .integer("vae_steps", 3000, 1, 1e7, "abs: Adam steps of the class VAEs (lr 1e-3, batches of 64)")
            .integer("latent", 8, 1, 64, "abs: latent dimensions")
            .integer("vae_hidden", 100, 1, 4096, "abs: hidden units of encoder and decoder")
            .integer("samples", 100, 1, 100000, "abs: fixed latent draws tried per class")
            .integer("search_steps", 20, 0, 10000, "abs: Adam steps on the best draw's latent")
            .integer("noise_examples", 500, 1, 100000, "Gaussian-noise signals for the confidence measurement")
            .integer("attack_examples", 100, 1, 1000, "robustness: the first this many test signals are attacked")
            .integer("boundary_steps", 300, 1, 1e6, "robustness: random-walk steps of the boundary attack")
            .integer("num_samples", 5000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples are the training pool, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation (and of ABS's fixed latent draws)"});
    }

    std::string name() const override { return "analysis-by-synthesis"; }
    std::string claim() const override {
        return "classifiers that explain the input with a generative model per class learn from fewer examples, are "
               "more robust, less confident off the data, and better the longer they search";
    }
    std::string reference() const override {
        return "Schott, Rauber, Bethge & Brendel, Towards the first adversarially robust neural network model on "
               "MNIST, ICLR 2019; Kingma & Welling, Auto-encoding variational Bayes, ICLR 2014; Ng & Jordan, On "
               "discriminative vs. generative classifiers, NeurIPS 2001";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"protocol", "model", "train_size", "seed"}; }

    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        if (c["train_size"].get<int64_t>() % 10 != 0)
            throw UsageError("analysis-by-synthesis: train_size must be a multiple of 10 (balanced classes)");
        if (c["train_size"].get<int64_t>() > c["train_examples"].get<int64_t>())
            throw UsageError("analysis-by-synthesis: train_size must not exceed train_examples");
        if (c["protocol"] == "robustness" && c["model"] != "abs" && c["model"] != "mlp")
            throw UsageError("analysis-by-synthesis: protocol=robustness compares model=abs and model=mlp (pass "
                             "model=abs,mlp), not " + c["model"].get<std::string>());
    }
    int64_t work_units(const Json& c) const override {
        const std::string m = c["model"].get<std::string>();
        if (m == "abs") return c["vae_steps"].get<int64_t>() + 2000;
        if (is_generative(m)) return 100;
        return c["steps"].get<int64_t>() + (c["protocol"] == "robustness" ? 2000 : 0);
    }
    double seconds_per_unit(const Json& c) const override {
        const std::string m = c["model"].get<std::string>();
        return m == "abs" ? 1.5e-3 : m == "cnn" ? 6e-4 : m == "mlp" ? 1.5e-4 : is_generative(m) ? 1e-3 : 4e-5;
    }
    int64_t max_pack(const Json& c) const override {
        const std::string m = c["model"].get<std::string>();
        return (m == "abs" || is_generative(m) || c["protocol"] == "robustness") ? 1 : 8;
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<RunOutcome> AnalysisBySynthesis::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    const std::string model = c["model"].get<std::string>();
    const bool robustness = c["protocol"] == "robustness";
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c);
    Tensor xs, ys;
    balanced_subset(data->x_train, data->y_train, c["train_size"].get<int64_t>() / 10, xs, ys);
    const Tensor& xt = data->x_test;
    const Tensor& yt = data->y_test;
    const int64_t D = xs.size(1);
    const double sigma = value_sd(data->x_train);
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const Tensor noise = noise_signals(c["noise_examples"].get<int64_t>(), D, sigma, seeds[0]);
    std::vector<RunOutcome> out(static_cast<size_t>(K));
    auto put = [&](int64_t k, const std::string& key, double v) { out[size_t(k)].summaries.push_back({key, v, -1}); };
    auto advance = [&](int64_t units) {
        ctx.check_stop();
        if (ctx.advance) ctx.advance(units);
    };

    if (is_generative(model)) {
        BENCHTOP_CHECK(K == 1, "analysis-by-synthesis: generative models run one per pack");
        auto m = make_generative(model, {.components = c["components"].get<int64_t>()});
        m->fit(xs, ys, 10, seeds[0]);
        put(0, "test_acc", joint_accuracy(m->log_joint(xt), yt, 10));
        put(0, "train_acc", joint_accuracy(m->log_joint(xs), ys, 10));
        put(0, "noise_confidence", mean_max_probability(m->log_joint(noise), 10));
        put(0, "test_confidence", mean_max_probability(m->log_joint(xt), 10));
        advance(work_units(c));
        return out;
    }

    // The model as an attack target (also the way to its logits).
    std::unique_ptr<ParamSet> ps;
    std::unique_ptr<AttackTarget> target;
    VaeSpec vspec{.in = D, .hidden = c["vae_hidden"].get<int64_t>(), .latent = c["latent"].get<int64_t>()};
    const AbsOptions search{.samples = c["samples"].get<int64_t>(), .steps = c["search_steps"].get<int64_t>(),
                            .lr = 0.05, .seed = seeds[0]};
    if (model == "abs") {
        BENCHTOP_CHECK(K == 1, "analysis-by-synthesis: ABS runs one per pack (its ten VAEs are the stack)");
        ps = std::make_unique<ParamSet>(10);
        add_vae_params(*ps, vspec);
        std::vector<uint64_t> member_seeds;
        for (int64_t k = 0; k < 10; ++k) member_seeds.push_back(splitmix64(seeds[0] * 16 + uint64_t(k)));
        init_vae(*ps, member_seeds);
        VaeTrainOptions vo{.steps = c["vae_steps"].get<int64_t>(), .batch = 64, .lr = 1e-3, .seeds = member_seeds};
        vo.on_step = [&](int64_t) { advance(1); };
        train_class_vaes(*ps, vspec, xs, ys, vo);
        target = std::make_unique<AbsTarget>(*ps, vspec, search);
    } else {
        ClassifierSpec spec;
        spec.kind = model_kind_from_string(model);
        spec.width = spec.kind == ModelKind::Mlp ? 100 : spec.kind == ModelKind::Cnn ? 25 : 0;
        ps = std::make_unique<ParamSet>(K);
        add_classifier_params(*ps, spec);
        init_torch_default(*ps, seeds);
        TrainOptions o;
        o.steps = c["steps"].get<int64_t>() - 1;
        o.batch = std::min<int64_t>(100, xs.size(0));
        o.eval_every = std::max<int64_t>(1, o.steps);
        o.lr = 1e-2;
        o.seeds.assign(size_t(K), 0);
        o.on_step = [report = step_reporter(ctx, K)](int64_t done) { report(done); };
        const ClassifierData cd{&xs, &ys, &xt, &yt};
        train_classifier(*ps, spec, cd, o);
        target = std::make_unique<ClassifierTarget>(*ps, spec);
    }
    auto scores = [&](const Tensor& x) {  // [K, M, 10] logits or bounds
        if (model == "abs") return target->logits(x);
        return target->logits(x.reshape({1, x.size(0), x.size(1)}));
    };
    auto member_scores = [&](const Tensor& s, int64_t k) {
        const int64_t M = s.size(1);
        const std::vector<double> all = logits_vector(s);
        return std::vector<double>(all.begin() + k * M * 10, all.begin() + (k + 1) * M * 10);
    };
    const Tensor st = scores(xt), sn = scores(noise), ss = scores(xs);
    for (int64_t k = 0; k < K; ++k) {
        put(k, "test_acc", joint_accuracy(member_scores(st, k), yt, 10));
        put(k, "train_acc", joint_accuracy(member_scores(ss, k), ys, 10));
        put(k, "noise_confidence", mean_max_probability(member_scores(sn, k), 10));
        put(k, "test_confidence", mean_max_probability(member_scores(st, k), 10));
    }
    if (model == "abs" && !robustness) {
        // Accuracy against the search budget.
        for (int64_t n : kBudgetSamples)
            for (int64_t s : kBudgetSteps) {
                const AbsResult r = abs_infer(*ps, vspec, xt, {.samples = n, .steps = s, .lr = 0.05, .seed = seeds[0]});
                put(0, budget_key(n, s), joint_accuracy(r.bound, yt, 10));
            }
        advance(1000);
    }
    if (robustness) {
        const int64_t n = c["attack_examples"].get<int64_t>();
        const Tensor xa = batch_rows(xt, 0, n, false), ya = batch_rows(yt, 0, n, false);
        const double l2_unit = sigma * std::sqrt(double(D));
        const MinimalL2 pg = minimal_l2_pgd(*target, xa, ya, {.max_eps = 4 * l2_unit, .bisections = 8,
                                                              .pgd = {.norm = Norm::L2, .eps = 0, .steps = 10, .random_start = false}},
                                            seeds);
        advance(500);
        const MinimalL2 df = deepfool(*target, xa, ya, {});
        advance(200);
        const MinimalL2 bd = boundary_attack(*target, xa, ya, batch_rows(data->x_train, 0, std::min<int64_t>(1000, data->x_train.size(0)), false),
                                             {.steps = c["boundary_steps"].get<int64_t>()}, seeds);
        advance(1300);
        for (int64_t k = 0; k < K; ++k) {
            std::vector<double> p, d, b, battery, correct;
            for (int64_t i = 0; i < n; ++i) {
                const size_t r = size_t(k * n + i);
                p.push_back(pg.distance[r]), d.push_back(df.distance[r]), b.push_back(bd.distance[r]);
                battery.push_back(std::min({pg.distance[r], df.distance[r], bd.distance[r]}));
                if (battery.back() > 0) correct.push_back(battery.back());
            }
            put(k, "median_min_l2_pgd", median(p) / l2_unit);
            put(k, "median_min_l2_deepfool", median(d) / l2_unit);
            put(k, "median_min_l2_boundary", median(b) / l2_unit);
            put(k, "median_min_l2_battery", median(battery) / l2_unit);
            put(k, "median_min_l2_battery_correct", correct.empty() ? std::nan("") : median(correct) / l2_unit);
            for (double e : kEps) {
                put(k, radius_key("battery_l2_acc", e), robust_fraction(battery, e * l2_unit));
            }
        }
    }
    return out;
}

const char* label_of(const std::string& m) {
    static const std::map<std::string, const char*> names = {
        {"lda", "LDA (shrinkage)"}, {"naive_bayes", "naive Bayes"}, {"ppca", "PPCA per class"},
        {"gmm", "GMM per class"},   {"logistic", "logistic"},       {"mlp", "MLP"},
        {"cnn", "CNN"},             {"abs", "ABS-1D (class VAEs)"}};
    auto it = names.find(m);
    return it == names.end() ? m.c_str() : it->second;
}

// For categorical axes.
std::string short_label(const std::string& m) {
    static const std::map<std::string, const char*> names = {{"lda", "LDA"}, {"naive_bayes", "NB"}, {"ppca", "PPCA"},
                                                               {"gmm", "GMM"}, {"logistic", "logistic"}, {"mlp", "MLP"},
                                                               {"cnn", "CNN"}, {"abs", "ABS-1D"}};
    auto it = names.find(m);
    return it == names.end() ? m : it->second;
}

std::vector<std::string> AnalysisBySynthesis::draw(const Store& store, const std::string& out_dir) const {
    // Means over seeds per (protocol, model, train_size).
    std::map<std::tuple<std::string, std::string, int64_t>, std::map<std::string, std::pair<double, int>>> groups;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete) continue;
        const Json c = Json::parse(r.config_json);
        auto& g = groups[{c["protocol"].get<std::string>(), c["model"].get<std::string>(), c["train_size"].get<int64_t>()}];
        for (const auto& [k, v] : r.summaries)
            if (std::isfinite(v)) g[k].first += v, g[k].second += 1;
    }
    if (groups.empty()) return {};
    auto mean = [](const std::map<std::string, std::pair<double, int>>& g, const std::string& k) {
        auto it = g.find(k);
        return it == g.end() ? std::nan("") : it->second.first / it->second.second;
    };
    Panel acc{.title = "Sample efficiency", .xlabel = "training signals (balanced)", .ylabel = "test accuracy",
              .logx = true};
    Panel conf{.title = "Mean top probability on Gaussian noise (largest training set)", .xlabel = "",
               .ylabel = "mean max probability"};
    Panel budget{.title = "ABS-1D: accuracy against search budget (largest training set)", .xlabel = "fixed latent draws per class",
                 .ylabel = "test accuracy", .logx = true};
    Panel robust{.title = "Median minimal L2 perturbation (battery)", .xlabel = "", .ylabel = "units of sigma x sqrt(40)"};
    Series conf_bars{.label = "", .style = Series::Style::Bars};
    std::map<std::string, int64_t> largest;
    for (const auto& [key, g] : groups)
        if (std::get<0>(key) == "accuracy") largest[std::get<1>(key)] = std::max(largest[std::get<1>(key)], std::get<2>(key));
    int color = 0;
    for (const std::string& m : kModels) {
        Series s{.label = label_of(m), .style = Series::Style::LinePoints, .color = color++, .dashed = is_generative(m)};
        for (const auto& [key, g] : groups)
            if (std::get<0>(key) == "accuracy" && std::get<1>(key) == m)
                s.x.push_back(double(std::get<2>(key))), s.y.push_back(mean(g, "test_acc"));
        if (s.x.empty()) continue;
        acc.series.push_back(s);
        conf.xtics.push_back(short_label(m));
        conf_bars.x.push_back(double(conf.xtics.size() - 1));
        conf_bars.y.push_back(mean(groups[{"accuracy", m, largest[m]}], "noise_confidence"));
    }
    conf.series = {conf_bars};
    if (largest.count("abs")) {
        const auto& g = groups[{"accuracy", "abs", largest["abs"]}];
        for (int64_t s : kBudgetSteps) {
            Series b{.label = std::to_string(s) + " gradient steps", .style = Series::Style::LinePoints, .dashed = s == 0};
            for (int64_t n : kBudgetSamples) b.x.push_back(double(n)), b.y.push_back(mean(g, budget_key(n, s)));
            budget.series.push_back(b);
        }
    }
    Series rb{.label = "all attacked signals (misclassified: 0)", .style = Series::Style::Bars},
        rc{.label = "correctly classified ones", .style = Series::Style::Bars};
    for (const auto& [key, g] : groups)
        if (std::get<0>(key) == "robustness") {
            robust.xtics.push_back(short_label(std::get<1>(key)));
            rb.x.push_back(double(robust.xtics.size() - 1)), rb.y.push_back(mean(g, "median_min_l2_battery"));
            rc.x.push_back(double(robust.xtics.size() - 1)), rc.y.push_back(mean(g, "median_min_l2_battery_correct"));
        }
    robust.series = {rb, rc};
    Figure fig{.title = "Analysis by synthesis on MNIST-1D", .columns = 2};
    if (!acc.series.empty()) fig.panels.push_back(acc);
    if (!conf.xtics.empty()) fig.panels.push_back(conf);
    if (!budget.series.empty()) fig.panels.push_back(budget);
    if (!robust.xtics.empty()) fig.panels.push_back(robust);
    if (fig.panels.empty()) return {};
    RenderedFigure rf = render_figure(fig, out_dir + "/analysis-by-synthesis");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& analysis_by_synthesis_experiment() {
    static const AnalysisBySynthesis e;
    return e;
}

}  // namespace benchtop
