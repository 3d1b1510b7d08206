// Experiment invariance.
// Claim: a model that learns the causal mechanism (the shape of a signal) transfers to a new
// environment where a spurious correlation (its colour) reverses, while empirical risk
// minimisation latches onto the correlation; invariant risk minimisation (IRMv1) recovers the
// mechanism, but only while the model cannot memorise its training set (Arjovsky, Bottou,
// Gulrajani & Lopez-Paz, "Invariant risk minimization", 2019; Krueger et al., "Out-of-distribution
// generalization via risk extrapolation", ICML 2021; Gulrajani & Lopez-Paz, "In search of lost
// domain generalization", ICLR 2021; Lin, Zhu & Cui, "Bayesian invariant risk minimization",
// CVPR 2022, on IRM's failure when over-parameterised).
//
// Colored MNIST-1D (causal/invariance.h): binary label digit < 5 with 25% label noise; the signal
// in one of two channels chosen by the label, flipped with probability 0.2 and 0.1 in two training
// environments (the first and second half of the training split) and 0.9 in the test one.
// Methods: erm, irm, vrex, and the oracle (ERM on grayscale data, where colour carries nothing).
// The seeds of a configuration train as one stack; the data are the same for every run.
#include <cmath>
#include <map>

#include "benchtop/causal/invariance.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/report/plot.h"

namespace benchtop {
namespace {

using namespace causal;

class Invariance final : public Experiment {
public:
    Invariance() {
        schema_.choice("method", {"erm", "irm", "vrex", "oracle"}, Json::array({"erm", "irm", "vrex", "oracle"}),
                       "erm, irm (IRMv1), vrex (V-REx), or oracle (ERM on grayscale data)")
            .add({.name = "hidden", .type = ParamType::Int, .default_value = Json::array({16, 64, 256}), .min = 1,
                  .max = 65536, .help = "units per hidden layer"})
            .integer("layers", 2, 1, 8, "hidden layers")
            .add({.name = "l2", .type = ParamType::Real, .default_value = 1e-3, .min = 0, .max = 100,
                  .help = "weight of |theta|^2 in the loss"})
            .integer("steps", 501, 1, 1e7, "full-batch Adam steps")
            .integer("eval_every", 50, 1, 1e7, "steps between points of the curves")
            .real("lr", 1e-3, 0.0, 10.0, "Adam learning rate")
            .real("penalty_weight", 1e4, 0.0, 1e12, "lambda after the annealing (irm, vrex)")
            .integer("anneal_steps", 100, 0, 1e7, "steps with lambda = 1 first")
            .real("label_noise", 0.25, 0.0, 0.5, "probability that a label is flipped (the shape's ceiling is 1 - this)")
            .real("flip_env1", 0.2, 0.0, 1.0, "colour-flip probability of the first training environment")
            .real("flip_env2", 0.1, 0.0, 1.0, "colour-flip probability of the second training environment")
            .real("flip_test", 0.9, 0.0, 1.0, "colour-flip probability of the test environment")
            .integer("num_samples", 5000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator, the label noise and the colours")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation"});
    }

    std::string name() const override { return "invariance"; }
    std::string claim() const override {
        return "ERM follows a spurious colour that reverses at test time; IRM learns the shape instead, but not once the "
               "network can memorise its training set";
    }
    std::string reference() const override {
        return "Arjovsky, Bottou, Gulrajani & Lopez-Paz, Invariant risk minimization, 2019; Krueger et al., "
               "Out-of-distribution generalization via risk extrapolation, ICML 2021; Lin, Zhu & Cui, Bayesian invariant "
               "risk minimization, CVPR 2022";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"method", "hidden", "l2", "seed"}; }
    void check(const Json& c) const override { check_mnist1d_split(name(), c); }
    int64_t work_units(const Json& c) const override { return c["steps"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        const double h = c["hidden"].get<double>();
        return 2.6e-11 * 3 * 5000 * (80 * h + h * h) * double(c["layers"].get<int64_t>() > 1) + 2e-5;
    }
    int64_t max_pack(const Json& c) const override {
        return std::clamp<int64_t>(int64_t(65536 / std::max<int64_t>(1, c["hidden"].get<int64_t>())), 1, 8);
    }
    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<RunOutcome> Invariance::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c);
    const std::string method = c["method"].get<std::string>();
    const ColouredOptions co{.label_noise = c["label_noise"].get<double>(),
                             .train_flips = {c["flip_env1"].get<double>(), c["flip_env2"].get<double>()},
                             .test_flip = c["flip_test"].get<double>(),
                             .grayscale = method == "oracle",
                             .seed = c["data_seed"].get<uint64_t>()};
    const std::vector<Environment> envs = coloured_environments(data->x_train, data->y_train, data->x_test, data->y_test, co);
    InvarianceOptions o{.method = invariance_method_from_string(method == "oracle" ? "erm" : method),
                        .hidden = c["hidden"].get<int64_t>(),
                        .layers = c["layers"].get<int64_t>(),
                        .steps = c["steps"].get<int64_t>(),
                        .eval_every = c["eval_every"].get<int64_t>(),
                        .lr = c["lr"].get<double>(),
                        .l2 = c["l2"].get<double>(),
                        .penalty_weight = c["penalty_weight"].get<double>(),
                        .anneal_steps = c["anneal_steps"].get<int64_t>(),
                        .seeds = pack_values<uint64_t>(cfgs, "seed")};
    const std::vector<InvarianceCurve> curves = train_invariant(envs, o);
    ctx.check_stop();
    if (ctx.advance) ctx.advance(K * o.steps);
    std::vector<RunOutcome> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        const InvarianceCurve& cv = curves[size_t(k)];
        RunOutcome& r = out[size_t(k)];
        for (size_t i = 0; i < cv.steps.size(); ++i) {
            r.metrics.push_back({"train_acc", cv.steps[i], cv.train_acc[i]});
            r.metrics.push_back({"test_acc", cv.steps[i], cv.test_acc[i]});
            r.metrics.push_back({"train_risk", cv.steps[i], cv.train_risk[i]});
            r.metrics.push_back({"penalty", cv.steps[i], cv.penalty[i]});
        }
        const int64_t last = cv.steps.back();
        r.summaries = {{"train_acc", cv.train_acc.back(), last},
                       {"test_acc", cv.test_acc.back(), last},
                       {"train_risk", cv.train_risk.back(), last},
                       {"penalty", cv.penalty.back(), last},
                       {"ceiling", 1 - co.label_noise, last}};
        if (!std::isfinite(cv.train_risk.back())) r.state = RunState::Diverged;
    }
    return out;
}

std::vector<std::string> Invariance::draw(const Store& store, const std::string& out_dir) const {
    // Mean test and train accuracy over seeds per (method, hidden).
    std::map<std::string, std::map<int64_t, std::pair<double, int>>> test, train;
    double ceiling = 0.75;
    int64_t narrowest = INT64_MAX;
    for (const RunRow& r : store.runs(name()))
        if (r.state == RunState::Complete) narrowest = std::min(narrowest, Json::parse(r.config_json)["hidden"].get<int64_t>());
    // Test accuracy and penalty during training at the narrowest width, mean over seeds.
    std::map<std::string, std::map<int64_t, std::pair<double, int>>> during, penalty;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete || !r.summaries.count("test_acc")) continue;
        const Json c = Json::parse(r.config_json);
        const std::string m = c["method"].get<std::string>();
        const int64_t h = c["hidden"].get<int64_t>();
        auto& t = test[m][h];
        t.first += r.summaries.at("test_acc"), t.second += 1;
        auto& u = train[m][h];
        u.first += r.summaries.at("train_acc"), u.second += 1;
        ceiling = r.summaries.at("ceiling");
        if (h != narrowest) continue;
        for (const Metric& mt : store.metrics(r.run_id, "test_acc")) {
            auto& p = during[m][mt.step];
            p.first += mt.value, p.second += 1;
        }
        if (m == "irm" || m == "vrex")
            for (const Metric& mt : store.metrics(r.run_id, "penalty")) {
                auto& p = penalty[m][mt.step];
                p.first += mt.value, p.second += 1;
            }
    }
    if (test.empty()) return {};
    const std::map<std::string, int> color = {{"erm", 1}, {"irm", 0}, {"vrex", 2}, {"oracle", 3}};
    Panel pt{.title = "Test environment (colour flipped)", .xlabel = "hidden units", .ylabel = "accuracy", .logx = true,
             .yrange = std::make_pair(0.0, 1.0)};
    Panel pr{.title = "Training environments", .xlabel = "hidden units", .ylabel = "accuracy", .logx = true,
             .yrange = std::make_pair(0.0, 1.0)};
    double xmin = INFINITY, xmax = 0;
    for (const auto& [m, by] : test) {
        Series s{.label = m == "oracle" ? "oracle (grayscale ERM)" : m, .style = Series::Style::LinePoints, .color = color.at(m)};
        Series u = s;
        for (const auto& [h, p] : by) {
            s.x.push_back(double(h)), s.y.push_back(p.first / p.second);
            xmin = std::min(xmin, double(h)), xmax = std::max(xmax, double(h));
        }
        for (const auto& [h, p] : train.at(m)) u.x.push_back(double(h)), u.y.push_back(p.first / p.second);
        pt.series.push_back(s);
        pr.series.push_back(u);
    }
    Series ceil{.label = "ceiling of the shape (1 - label noise)", .style = Series::Style::Line, .color = 4, .dashed = true},
        chance{.label = "chance", .style = Series::Style::Line, .color = 5, .dashed = true};
    ceil.x = chance.x = {xmin, xmax};
    ceil.y = {ceiling, ceiling};
    chance.y = {0.5, 0.5};
    pt.series.push_back(ceil);
    pt.series.push_back(chance);
    pr.series.push_back(ceil);
    pt.key_position = "top right";
    pr.key_position = "bottom right";
    Panel pd{.title = "During training (hidden " + std::to_string(narrowest) + "); penalty on the right",
             .xlabel = "step", .ylabel = "test accuracy", .y2label = "penalty (irm, vrex)", .logy2 = true,
             .yrange = std::make_pair(0.0, 1.0)};
    for (const auto& [m, by] : during) {
        Series s{.label = m, .style = Series::Style::Line, .color = color.at(m)};
        for (const auto& [step, p] : by) s.x.push_back(double(step)), s.y.push_back(p.first / p.second);
        pd.series.push_back(s);
    }
    for (const auto& [m, by] : penalty) {
        Series s{.label = m + " penalty", .style = Series::Style::Line, .color = color.at(m), .dashed = true, .y2 = true};
        for (const auto& [step, p] : by) s.x.push_back(double(step)), s.y.push_back(p.first / p.second);
        pd.series.push_back(s);
    }
    pd.key_position = "center right";
    const RenderedFigure rf = render_figure(Figure{.title = "Colored MNIST-1D: invariance under a reversed spurious colour",
                                                   .panels = {pt, pr, pd}},
                                            out_dir + "/invariance");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& invariance_experiment() {
    static const Invariance e;
    return e;
}

}  // namespace benchtop
