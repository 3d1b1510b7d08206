// Experiment adversarial.
// Claim: networks that classify MNIST-1D well are fooled by perturbations far smaller than the
// distance between examples of different classes; iterated attacks (PGD) are at least as strong
// as one step (FGSM); training on PGD examples raises the accuracy under attack (Szegedy et al.,
// "Intriguing properties of neural networks", ICLR 2014; Goodfellow, Shlens & Szegedy, ICLR 2015;
// Madry et al., "Towards deep learning models resistant to adversarial attacks", ICLR 2018;
// Prince, Understanding Deep Learning, section 20.4.6).
//
// One run trains one model of the MNIST-1D baselines (Adam 1e-2, batches of 100 in fixed order,
// steps 0..steps), optionally on PGD examples (L-inf, train_eps, 7 steps), then attacks the first
// attack_examples test signals: FGSM and PGD (L-inf and L2) at a grid of radii, and the minimal L2
// perturbation found by a battery: PGD with bisection, DeepFool, and a decision-based boundary
// attack. Radii are in units of
// sigma, the standard deviation of the training inputs: L-inf eps * sigma per feature, L2
// eps * sigma * sqrt(40) (the same root-mean-square change). The seeds of a pack train as one stack.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "benchtop/attacks/attacks.h"
#include "benchtop/core/rng.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/io/safetensors.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"
#include "benchtop/train/metrics.h"

namespace benchtop {
namespace {

// Attack radii, in units of sigma.
const std::vector<double> kEps = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
constexpr int64_t kTrainPgdSteps = 7;
constexpr int64_t kExamples = 3;  // signals kept per run for the figure

ClassifierSpec spec_of(const Json& c) {
    ClassifierSpec s;
    s.kind = model_kind_from_string(c["model"].get<std::string>());
    s.width = s.kind == ModelKind::Mlp ? 100 : s.kind == ModelKind::Cnn ? 25 : 0;
    return s;
}

// Median over examples of the L2 distance to the nearest training input of another class.
double median_class_gap(const Tensor& x, const Tensor& y, const Tensor& xt, const Tensor& yt) {
    const int64_t n = x.size(0), N = xt.size(0), D = x.size(1);
    std::vector<double> gaps;
    for (int64_t i = 0; i < n; ++i) {
        double best = kNotFound;
        for (int64_t j = 0; j < N; ++j) {
            if (yt.data<int32_t>()[j] == y.data<int32_t>()[i]) continue;
            double s = 0;
            for (int64_t d = 0; d < D; ++d) {
                const double v = double(x.data<float>()[i * D + d]) - double(xt.data<float>()[j * D + d]);
                s += v * v;
            }
            best = std::min(best, s);
        }
        gaps.push_back(std::sqrt(best));
    }
    return median(gaps);
}

class Adversarial final : public Experiment {
public:
    Adversarial() {
        schema_.choice("model", {"logistic", "mlp", "cnn"}, Json::array({"logistic", "mlp", "cnn"}),
                       "the MNIST-1D baseline trained and attacked")
            .boolean("adv_train", Json::array({false, true}),
                     "train on PGD examples (L-inf, radius train_eps, 7 steps; Madry et al. 2018)")
            .real("train_eps", 0.1, 0.0, 10.0, "radius of the adversarial training, in units of sigma (L-inf)")
            .text("init_from", "",
                  "safetensors file of a trained model to attack instead of training one (e.g. written by "
                  "mnist1d-baselines save_to=...); {model} and {seed} are replaced")
            .integer("steps", 6000, 0, 1e7, "last training step; steps 0..steps are taken (the reference loop)")
            .real("lr", 1e-2, 0.0, 10.0, "Adam learning rate")
            .integer("batch", 100, 1, 1e6, "minibatch size")
            .integer("attack_examples", 500, 1, 1e6, "the first this many test signals are attacked")
            .integer("pgd_steps", 20, 1, 10000, "PGD iterations per attack")
            .integer("bisections", 10, 0, 60, "bisection steps of the minimal-L2 search")
            .integer("boundary_examples", 200, 0, 1e6,
                     "the first this many attacked signals also get the decision-based boundary attack")
            .integer("boundary_steps", 300, 1, 1e6, "random-walk steps of the boundary attack")
            .integer("num_samples", 5000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation and of the attacks' random starts"});
    }

    std::string name() const override { return "adversarial"; }
    std::string claim() const override {
        return "trained networks are fooled by perturbations far smaller than the distance between classes; PGD is "
               "at least as strong as FGSM; adversarial training raises the accuracy under attack";
    }
    std::string reference() const override {
        return "Szegedy et al., Intriguing properties of neural networks, ICLR 2014; Goodfellow et al., Explaining "
               "and harnessing adversarial examples, ICLR 2015; Madry et al., Towards deep learning models resistant "
               "to adversarial attacks, ICLR 2018; Prince, Understanding Deep Learning, section 20.4.6";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"model", "adv_train", "seed"}; }

    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        const int64_t test = (c["num_samples"].get<int64_t>() / 10) * 10 - c["train_examples"].get<int64_t>();
        if (c["attack_examples"].get<int64_t>() > test)
            throw UsageError("adversarial: attack_examples must not exceed the " + std::to_string(test) +
                             " test examples");
        if (c["boundary_examples"].get<int64_t>() > c["attack_examples"].get<int64_t>())
            throw UsageError("adversarial: boundary_examples must not exceed attack_examples");
        if (!c["init_from"].get<std::string>().empty() && c["adv_train"].get<bool>())
            throw UsageError("adversarial: init_from loads a trained model, so adv_train must be false");
    }
    int64_t work_units(const Json& c) const override {
        const int64_t train = (c["steps"].get<int64_t>() + 1) * (c["adv_train"].get<bool>() ? 1 + kTrainPgdSteps : 1);
        return train + attack_units(c);
    }
    // The attacks in units of a training step's work (100 examples, forward and backward).
    static int64_t attack_units(const Json& c) {
        const double n = c["attack_examples"].get<double>() / 100.0, pgd = c["pgd_steps"].get<double>();
        const double passes =
            double(kEps.size()) * (1 + 2 * (pgd + 1)) + (c["bisections"].get<double>() + 1) * (pgd + 2) + 10;
        const double boundary = c["boundary_examples"].get<double>() / 100.0 * c["boundary_steps"].get<double>() * 0.5;
        return int64_t(std::ceil(n * passes + boundary));
    }
    double seconds_per_unit(const Json& c) const override {
        const std::string m = c["model"].get<std::string>();
        return m == "cnn" ? 6e-4 : m == "mlp" ? 1.5e-4 : 4e-5;
    }
    int64_t max_pack(const Json&) const override { return 8; }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<RunOutcome> Adversarial::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c);
    const ClassifierData cd{&data->x_train, &data->y_train, &data->x_test, &data->y_test};
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const ClassifierSpec spec = spec_of(c);
    const double sigma = value_sd(data->x_train);
    const double l2_unit = sigma * std::sqrt(double(data->x_train.size(1)));

    ParamSet ps(K);
    add_classifier_params(ps, spec);
    init_torch_default(ps, seeds);
    ClassifierTarget target(ps, spec);

    TrainOptions o;
    o.steps = c["steps"].get<int64_t>();
    o.batch = c["batch"].get<int64_t>();
    o.eval_every = std::max<int64_t>(1, o.steps);
    o.lr = c["lr"].get<double>();
    o.seeds.assign(size_t(K), 0);  // fixed batch order
    const bool adv_train = c["adv_train"].get<bool>();
    const int64_t units_per_step = adv_train ? 1 + kTrainPgdSteps : 1;
    o.on_step = [report = step_reporter(ctx, K * units_per_step)](int64_t done) { report(done); };
    int64_t batch_no = 0;
    if (adv_train) {
        const PgdOptions po{.norm = Norm::Linf, .eps = c["train_eps"].get<double>() * sigma, .steps = kTrainPgdSteps};
        o.perturb_batch = [&, po](const Tensor& x, const Tensor& y) {  // po by value: it dies with this block
            // Fresh random starts every batch; each member's from its own seed.
            std::vector<uint64_t> s;
            for (uint64_t seed : seeds) s.push_back(splitmix64(seed ^ (0xad70000000ULL + uint64_t(batch_no))));
            ++batch_no;
            const Tensor x2 = x.rank() == 3 && x.size(0) == 1 ? x.reshape({x.size(1), x.size(2)}) : x;
            return pgd(target, x2, y, po, s);
        };
    }
    // A loaded model is attacked as it is; otherwise the stack trains.
    const bool loaded = !c["init_from"].get<std::string>().empty();
    std::vector<MemberCurve> curves;
    if (loaded) {
        for (int64_t k = 0; k < K; ++k) load_params(expand_weights_path(cfgs[size_t(k)]["init_from"].get<std::string>(), cfgs[size_t(k)]), ps, k);
        const EvalResult tr = evaluate_classifier(ps, spec, data->x_train, data->y_train);
        const EvalResult te = evaluate_classifier(ps, spec, data->x_test, data->y_test);
        for (int64_t k = 0; k < K; ++k) {
            MemberCurve mc;
            mc.steps = {0};
            mc.train_acc = {tr.acc[size_t(k)]};
            mc.test_acc = {te.acc[size_t(k)]};
            curves.push_back(mc);
        }
        if (ctx.advance) ctx.advance(K * (o.steps + 1));
    } else {
        curves = train_classifier(ps, spec, cd, o);
    }

    const int64_t n = c["attack_examples"].get<int64_t>();
    const Tensor xa = batch_rows(data->x_test, 0, n, false), ya = batch_rows(data->y_test, 0, n, false);
    std::vector<std::vector<Summary>> sums(static_cast<size_t>(K));
    auto put = [&](int64_t k, const std::string& key, double v) { sums[size_t(k)].push_back({key, v, o.steps}); };
    const std::vector<double> clean = attacked_accuracy(target, xa, ya);
    const double gap = median_class_gap(xa, ya, data->x_train, data->y_train);
    for (int64_t k = 0; k < K; ++k) {
        put(k, "test_acc", curves[size_t(k)].test_acc.back());
        put(k, "train_acc", curves[size_t(k)].train_acc.back());
        put(k, "clean_acc", clean[size_t(k)]);
        put(k, "sigma", sigma);
        put(k, "median_class_gap_l2", gap);
    }
    const double unit_pass = std::max(1.0, double(n) / 100.0);
    auto advance = [&](double passes) {
        ctx.check_stop();
        if (ctx.advance) ctx.advance(K * int64_t(std::ceil(passes * unit_pass)));
    };
    const int64_t pgd_steps = c["pgd_steps"].get<int64_t>();
    for (double e : kEps) {
        const std::vector<double> f = attacked_accuracy(target, fgsm(target, xa, ya, e * sigma), ya);
        const std::vector<double> pi = attacked_accuracy(
            target, pgd(target, xa, ya, {.norm = Norm::Linf, .eps = e * sigma, .steps = pgd_steps}, seeds), ya);
        const std::vector<double> p2 = attacked_accuracy(
            target, pgd(target, xa, ya, {.norm = Norm::L2, .eps = e * l2_unit, .steps = pgd_steps}, seeds), ya);
        for (int64_t k = 0; k < K; ++k) {
            put(k, radius_key("fgsm_acc", e), f[size_t(k)]);
            put(k, radius_key("pgd_linf_acc", e), pi[size_t(k)]);
            put(k, radius_key("pgd_l2_acc", e), p2[size_t(k)]);
        }
        advance(1 + 2 * (double(pgd_steps) + 1));
    }

    // Minimal L2 perturbations: PGD with bisection and DeepFool on every attacked signal, the
    // decision-based boundary attack on the first boundary_examples; a signal's battery distance is
    // the smallest any of them found.
    const MinimalL2 m = minimal_l2_pgd(
        target, xa, ya,
        {.max_eps = 4 * gap, .bisections = c["bisections"].get<int64_t>(),
         .pgd = {.norm = Norm::L2, .eps = 0, .steps = pgd_steps, .random_start = false}},
        seeds);
    advance((c["bisections"].get<double>() + 1) * (double(pgd_steps) + 2));
    const MinimalL2 df = deepfool(target, xa, ya, {});
    advance(10);
    const int64_t nb = c["boundary_examples"].get<int64_t>();
    MinimalL2 b;
    if (nb > 0) {
        b = boundary_attack(target, batch_rows(xa, 0, nb, false), batch_rows(ya, 0, nb, false), batch_rows(data->x_train, 0, std::min<int64_t>(1000, data->x_train.size(0)), false),
                            {.steps = c["boundary_steps"].get<int64_t>()}, seeds);
        advance(double(nb) / double(n) * c["boundary_steps"].get<double>() * 0.5);
    }
    const int64_t D = xa.size(1);
    std::vector<RunOutcome> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        std::vector<double> pgd_d, df_d, bd, battery;
        std::vector<const float*> smallest;  // the battery's adversarial signal of each example
        for (int64_t i = 0; i < n; ++i) {
            const size_t r = size_t(k * n + i);
            pgd_d.push_back(m.distance[r]);
            df_d.push_back(df.distance[r]);
            double best = std::min(m.distance[r], df.distance[r]);
            const float* adv = (m.distance[r] <= df.distance[r] ? m.adversarial : df.adversarial).data<float>() + int64_t(r) * D;
            if (i < nb) {
                const size_t rb = size_t(k * nb + i);
                bd.push_back(b.distance[rb]);
                if (b.distance[rb] < best) best = b.distance[rb], adv = b.adversarial.data<float>() + int64_t(rb) * D;
            }
            battery.push_back(best);
            smallest.push_back(adv);
        }
        put(k, "median_min_l2_pgd", median(pgd_d) / l2_unit);
        put(k, "median_min_l2_deepfool", median(df_d) / l2_unit);
        if (nb > 0) put(k, "median_min_l2_boundary", median(bd) / l2_unit);
        put(k, "median_min_l2_battery", median(battery) / l2_unit);
        // Over the correctly classified signals only (the rest count 0 above).
        std::vector<double> correct;
        for (double d : battery)
            if (d > 0) correct.push_back(d);
        put(k, "median_min_l2_battery_correct", correct.empty() ? std::nan("") : median(correct) / l2_unit);
        put(k, "median_min_l2_over_class_gap", median(battery) / gap);
        // Robust accuracy under the whole battery at each L2 radius: correct, and no attack of the
        // battery found an adversarial signal within the radius.
        for (double e : kEps) {
            put(k, radius_key("battery_l2_acc", e), robust_fraction(battery, e * l2_unit));
        }
        // A few signals and their smallest adversarial versions, for the figure.
        RunOutcome& r = out[size_t(k)];
        int64_t kept = 0;
        for (int64_t i = 0; i < n && kept < kExamples; ++i) {
            const double d = battery[size_t(i)];
            if (d == 0 || d == kNotFound) continue;
            const std::string p = "example" + std::to_string(kept);
            for (int64_t t = 0; t < D; ++t) {
                r.metrics.push_back({p + "_clean", t, double(xa.data<float>()[i * D + t])});
                r.metrics.push_back({p + "_adversarial", t, double(smallest[size_t(i)][t])});
            }
            put(k, p + "_label", double(ya.data<int32_t>()[i]));
            put(k, p + "_l2", d / l2_unit);
            ++kept;
        }
        for (size_t i = 0; i < curves[size_t(k)].steps.size(); ++i) {
            r.metrics.push_back({"train_acc", curves[size_t(k)].steps[i], curves[size_t(k)].train_acc[i]});
            r.metrics.push_back({"test_acc", curves[size_t(k)].steps[i], curves[size_t(k)].test_acc[i]});
        }
        r.summaries = std::move(sums[size_t(k)]);
        if (curves[size_t(k)].diverged_at >= 0) r.state = RunState::Diverged;
    }
    return out;
}

std::string label_of(const std::string& model, bool adv) {
    return (model == "logistic" ? std::string("logistic") : model == "mlp" ? "MLP" : "CNN") + (adv ? " (PGD-trained)" : "");
}

// For categorical axes: "MLP", "MLP+AT" (adversarially trained).
std::string short_label(const std::string& model, bool adv) {
    return (model == "logistic" ? std::string("logistic") : model == "mlp" ? "MLP" : "CNN") + (adv ? "+AT" : "");
}

std::vector<std::string> Adversarial::draw(const Store& store, const std::string& out_dir) const {
    // Mean over seeds of every summary, per (model, adv_train).
    struct Group {
        std::string model;
        bool adv = false;
        std::map<std::string, std::pair<double, int>> sums;
        int64_t example_run = -1;
    };
    std::map<std::pair<std::string, bool>, Group> groups;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete) continue;
        const Json c = Json::parse(r.config_json);
        Group& g = groups[{c["model"].get<std::string>(), c["adv_train"].get<bool>()}];
        g.model = c["model"].get<std::string>();
        g.adv = c["adv_train"].get<bool>();
        for (const auto& [k, v] : r.summaries) {
            if (!std::isfinite(v)) continue;
            g.sums[k].first += v;
            g.sums[k].second += 1;
        }
        if (g.example_run < 0) g.example_run = r.run_id;
    }
    if (groups.empty()) return {};
    auto mean = [](const Group& g, const std::string& k) {
        auto it = g.sums.find(k);
        return it == g.sums.end() ? std::nan("") : it->second.first / it->second.second;
    };
    const std::map<std::string, int> color = {{"logistic", 0}, {"mlp", 1}, {"cnn", 2}};
    Panel linf{.title = "PGD (lines) and FGSM (points, standard training), L-inf", .xlabel = "radius (units of sigma per feature)",
               .ylabel = "test accuracy under attack", .logx = true};
    Panel l2{.title = "PGD, L2", .xlabel = "radius (units of sigma x sqrt(40))", .ylabel = "test accuracy under attack",
             .logx = true};
    Panel dist{.title = "Median minimal L2 perturbation (+AT: PGD-trained)", .xlabel = "", .ylabel = "units of sigma x sqrt(40)"};
    Series all_bars{.label = "all attacked signals (misclassified: 0)", .style = Series::Style::Bars},
        correct_bars{.label = "correctly classified ones", .style = Series::Style::Bars};
    double gap = 0, sigma_unit = 0;
    for (const auto& [key, g] : groups) {
        Series p{.label = label_of(g.model, g.adv), .style = Series::Style::LinePoints, .color = color.at(g.model), .dashed = g.adv};
        Series f{.label = "", .style = Series::Style::Points, .color = color.at(g.model)};
        Series q{.label = label_of(g.model, g.adv), .style = Series::Style::LinePoints, .color = color.at(g.model), .dashed = g.adv};
        for (double e : kEps) {
            p.x.push_back(e), p.y.push_back(mean(g, radius_key("pgd_linf_acc", e)));
            q.x.push_back(e), q.y.push_back(mean(g, radius_key("pgd_l2_acc", e)));
            if (!g.adv) f.x.push_back(e), f.y.push_back(mean(g, radius_key("fgsm_acc", e)));
        }
        linf.series.push_back(p);
        if (!g.adv) linf.series.push_back(f);
        l2.series.push_back(q);
        dist.xtics.push_back(short_label(g.model, g.adv));
        all_bars.x.push_back(double(dist.xtics.size() - 1));
        all_bars.y.push_back(mean(g, "median_min_l2_battery"));
        correct_bars.x.push_back(double(dist.xtics.size() - 1));
        correct_bars.y.push_back(mean(g, "median_min_l2_battery_correct"));
        gap = mean(g, "median_class_gap_l2");
        sigma_unit = mean(g, "sigma") * std::sqrt(40.0);
    }
    linf.yrange = l2.yrange = std::make_pair(0.0, 1.0);
    dist.series = {all_bars, correct_bars};
    if (sigma_unit > 0 && std::isfinite(gap)) {
        char label[96];
        std::snprintf(label, sizeof label, " (class gap %.2f)", gap / sigma_unit);
        dist.title += label;
    }
    Figure fig{.title = "Adversarial examples on MNIST-1D", .panels = {linf, l2, dist}, .columns = 3};
    RenderedFigure rf = render_figure(fig, out_dir + "/adversarial");
    std::vector<std::string> files = {rf.svg, rf.png};

    // Signals: the MLP's (or the first model's) smallest adversarial perturbations.
    const Group* shown = nullptr;
    for (const auto& [key, g] : groups)
        if (!g.adv && (!shown || g.model == "mlp")) shown = &g;
    if (shown && shown->example_run >= 0) {
        Figure sig{.title = "Signals and their smallest adversarial versions (" + label_of(shown->model, false) + ")",
                   .columns = int(kExamples)};
        const std::optional<RunRow> run = store.run(shown->example_run);
        for (int64_t i = 0; i < kExamples; ++i) {
            const std::string p = "example" + std::to_string(i);
            Series clean{.label = "clean", .style = Series::Style::Line, .color = 0},
                adv{.label = "adversarial", .style = Series::Style::Line, .color = 1};
            for (const Metric& mt : store.metrics(shown->example_run, p + "_clean")) clean.x.push_back(double(mt.step)), clean.y.push_back(mt.value);
            for (const Metric& mt : store.metrics(shown->example_run, p + "_adversarial")) adv.x.push_back(double(mt.step)), adv.y.push_back(mt.value);
            if (clean.x.empty()) continue;
            char title[96];
            std::snprintf(title, sizeof title, "label %d, L2 change %.3f", int(run->summaries.count(p + "_label") ? run->summaries.at(p + "_label") : -1),
                          run->summaries.count(p + "_l2") ? run->summaries.at(p + "_l2") : std::nan(""));
            sig.panels.push_back(Panel{.title = title, .xlabel = "feature", .ylabel = "value", .series = {clean, adv}});
        }
        if (!sig.panels.empty()) {
            RenderedFigure rs = render_figure(sig, out_dir + "/adversarial-signals");
            files.push_back(rs.svg);
            files.push_back(rs.png);
        }
    }
    return files;
}

}  // namespace

const Experiment& adversarial_experiment() {
    static const Adversarial e;
    return e;
}

}  // namespace benchtop
