// Experiment contrastive.
// Claim: self-supervised pre-training with augmentations learns a representation that a linear
// probe reads with few labels better than a network trained on those labels; the methods
// without negative pairs avoid collapse only by their asymmetry (stop-gradient, predictor,
// moving-average target), and without it the representation collapses (Chen, Kornblith,
// Norouzi & Hinton, SimCLR, ICML 2020; Grill et al., BYOL, NeurIPS 2020; Chen & He, SimSiam,
// CVPR 2021; Jing, Vincent, LeCun & Tian, ICLR 2022; Garrido et al., RankMe, ICML 2023).
//
// Library: ssl/ (augmentations, encoder and heads, losses, probe, collapse diagnostics). Per run:
// pre-training, then on the frozen representation a logistic-regression probe with all training
// labels and with `labels_per_class` labels (mean over `probe_draws` draws); as references, the
// same probes on the randomly initialised encoder, and the encoder trained with labels on each
// few-label draw (same augmentations). The seeds of a configuration train as one stack.
#include <cmath>
#include <map>

#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/report/plot.h"
#include "benchtop/ssl/contrastive.h"

namespace benchtop {
namespace {

using namespace ssl;

class Contrastive final : public Experiment {
public:
    Contrastive() {
        schema_.choice("method", {"simclr", "simsiam", "byol"}, Json::array({"simclr", "simsiam", "byol"}),
                       "simclr (NT-Xent), simsiam (stop-gradient and predictor) or byol (moving-average target)")
            .boolean("stop_gradient", true, "simsiam: stop the gradient through the target branch (false: collapse)")
            .boolean("predictor", true, "simsiam, byol: use the predictor head (false: p = z)")
            .real("ema", 0.99, 0.0, 1.0, "byol: target <- ema target + (1 - ema) online after each step (0: a copy)")
            .real("temperature", 0.1, 1e-3, 100.0, "simclr: softmax temperature")
            .integer("channels", 32, 1, 1024, "encoder channels (representation: 5 x this)")
            .integer("proj_dim", 64, 1, 4096, "projection dimension")
            .integer("proj_hidden", 128, 1, 4096, "projector hidden units")
            .integer("pred_hidden", 32, 1, 4096, "predictor hidden units")
            .integer("epochs", 50, 0, 1e6, "pre-training epochs")
            .integer("batch", 256, 2, 1e6, "signals per batch (two views each)")
            .real("lr", 1e-3, 0.0, 10.0, "Adam learning rate")
            .real("weight_decay", 1e-4, 0.0, 10.0, "decoupled weight decay")
            .integer("max_shift", 8, 0, 1000, "augmentation: largest circular shift")
            .real("offset", 0.3, 0.0, 100.0, "augmentation: largest constant offset")
            .real("trend", 0.5, 0.0, 100.0, "augmentation: largest linear-trend slope")
            .real("noise", 0.1, 0.0, 100.0, "augmentation: white-noise standard deviation")
            .integer("eval_every", 5, 1, 1e6, "epochs between collapse measurements")
            .integer("labels_per_class", 10, 1, 1e6, "labels per class of the few-label probe and the supervised reference")
            .integer("probe_draws", 5, 1, 1000, "draws of the few labels (results are means)")
            .integer("supervised_steps", 300, 0, 1e6, "full-batch Adam steps of the supervised reference (0: skip)")
            .real("probe_l2", 1e-3, 0.0, 1e6, "probe: l2 weight on the standardised features")
            .integer("num_samples", 5000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator, shuffles, augmentations and label draws")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation"});
    }

    std::string name() const override { return "contrastive"; }
    std::string claim() const override {
        return "self-supervised pre-training beats training on few labels; SimSiam without its stop-gradient collapses";
    }
    std::string reference() const override {
        return "Chen et al., SimCLR, ICML 2020; Grill et al., BYOL, NeurIPS 2020; Chen & He, SimSiam, CVPR 2021; "
               "Garrido et al., RankMe, ICML 2023";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"method", "stop_gradient", "predictor", "seed"}; }
    void check(const Json& c) const override { check_mnist1d_split(name(), c); }
    int64_t work_units(const Json& c) const override {
        return c["epochs"].get<int64_t>() * std::max<int64_t>(1, c["train_examples"].get<int64_t>() / c["batch"].get<int64_t>());
    }
    double seconds_per_unit(const Json& c) const override {
        const double ch = c["channels"].get<double>();
        return 2.4e-11 * 2 * c["batch"].get<double>() * (ch * ch * 45 + 160 * ch * 128) * 3 + 1e-3;
    }
    int64_t max_pack(const Json&) const override { return 4; }
    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

std::vector<int32_t> labels_of(const Tensor& y) {
    BENCHTOP_CHECK(y.dtype() == DType::I32, "contrastive: labels must be int32");
    return {y.data<int32_t>(), y.data<int32_t>() + y.numel()};
}

// `per_class` random rows of each class (fewer when a class has fewer).
std::vector<int64_t> few_labels(const std::vector<int32_t>& y, int64_t per_class, int64_t classes, Rng& rng) {
    std::vector<int64_t> rows;
    for (int64_t c = 0; c < classes; ++c) {
        std::vector<int64_t> of;
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] == c) of.push_back(int64_t(i));
        const int64_t m = std::min<int64_t>(per_class, int64_t(of.size()));
        for (int64_t i = 0; i < m; ++i) {
            std::swap(of[size_t(i)], of[size_t(i + int64_t(rng.below(uint64_t(int64_t(of.size()) - i))))]);
            rows.push_back(of[size_t(i)]);
        }
    }
    return rows;
}

Features rows_of(const Features& f, const std::vector<int64_t>& rows) {
    Features o{int64_t(rows.size()), f.dim, {}};
    for (int64_t r : rows) o.f.insert(o.f.end(), f.f.begin() + r * f.dim, f.f.begin() + (r + 1) * f.dim);
    return o;
}

Tensor signal_rows(const Tensor& x, const std::vector<int64_t>& rows) {
    const int64_t L = x.size(1);
    Tensor o = Tensor::empty({int64_t(rows.size()), L}, DType::F32);
    for (size_t i = 0; i < rows.size(); ++i)
        std::copy(x.data<float>() + rows[i] * L, x.data<float>() + (rows[i] + 1) * L, o.data<float>() + int64_t(i) * L);
    return o;
}

// Probes of one representation: all labels, and the mean over the few-label draws.
std::pair<double, double> probes(const Features& tr, const std::vector<int32_t>& ytr, const Features& te,
                                 const std::vector<int32_t>& yte, const std::vector<std::vector<int64_t>>& draws, double l2) {
    const double all = linear_probe(tr, ytr, te, yte, 10, {.l2 = l2}).test_acc;
    double few = 0;
    for (const std::vector<int64_t>& rows : draws) {
        std::vector<int32_t> y;
        for (int64_t r : rows) y.push_back(ytr[size_t(r)]);
        few += linear_probe(rows_of(tr, rows), y, te, yte, 10, {.l2 = l2, .standardize_with = &tr}).test_acc / double(draws.size());
    }
    return {all, few};
}

std::vector<RunOutcome> Contrastive::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c);
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const uint64_t data_seed = c["data_seed"].get<uint64_t>();
    const SslMethod method = ssl_method_from_string(c["method"].get<std::string>());
    const EncoderSpec spec{.length = data->x_train.size(1),
                           .channels = c["channels"].get<int64_t>(),
                           .proj_hidden = c["proj_hidden"].get<int64_t>(),
                           .proj_dim = c["proj_dim"].get<int64_t>(),
                           .pred_hidden = c["pred_hidden"].get<int64_t>(),
                           .predictor = method != SslMethod::SimClr && c["predictor"].get<bool>()};
    const AugmentOptions aug{.max_shift = c["max_shift"].get<int64_t>(),
                             .offset = c["offset"].get<double>(),
                             .trend = c["trend"].get<double>(),
                             .noise = c["noise"].get<double>()};
    const std::vector<int32_t> ytr = labels_of(data->y_train), yte = labels_of(data->y_test);
    std::vector<std::vector<int64_t>> draws;
    for (int64_t d = 0; d < c["probe_draws"].get<int64_t>(); ++d) {
        Rng rng(stream_key(data_seed, uint64_t(d), Purpose::LabelNoise));
        draws.push_back(few_labels(ytr, c["labels_per_class"].get<int64_t>(), 10, rng));
    }
    const double l2 = c["probe_l2"].get<double>();

    ParamSet ps = make_ssl_params(spec, seeds);
    // The randomly initialised encoder's probes (before any training).
    const std::vector<Features> r0tr = encode(ps, spec, data->x_train), r0te = encode(ps, spec, data->x_test);
    const SslOptions o{.method = method,
                       .augment = aug,
                       .epochs = c["epochs"].get<int64_t>(),
                       .batch = c["batch"].get<int64_t>(),
                       .lr = c["lr"].get<double>(),
                       .weight_decay = c["weight_decay"].get<double>(),
                       .temperature = c["temperature"].get<double>(),
                       .stop_gradient = c["stop_gradient"].get<bool>(),
                       .ema = c["ema"].get<double>(),
                       .data_seed = data_seed,
                       .eval_every = c["eval_every"].get<int64_t>(),
                       .on_step = step_reporter(ctx, K)};
    const std::vector<SslCurve> curves = pretrain(ps, spec, data->x_train, data->x_test, o);
    ctx.check_stop();
    const std::vector<Features> rtr = encode(ps, spec, data->x_train), rte = encode(ps, spec, data->x_test);
    const std::vector<Features> zte = project(ps, spec, data->x_test);

    // The supervised reference on each draw's labelled signals.
    std::vector<double> supervised(static_cast<size_t>(K), NAN);
    if (c["supervised_steps"].get<int64_t>() > 0) {
        std::fill(supervised.begin(), supervised.end(), 0.0);
        for (size_t d = 0; d < draws.size(); ++d) {
            ctx.check_stop();
            std::vector<int32_t> y;
            for (int64_t r : draws[d]) y.push_back(ytr[size_t(r)]);
            const std::vector<double> acc =
                train_supervised(spec, seeds, signal_rows(data->x_train, draws[d]), y, data->x_test, yte, 10,
                                 {.augment = aug, .steps = c["supervised_steps"].get<int64_t>(), .lr = c["lr"].get<double>(),
                                  .data_seed = splitmix64(data_seed + d)});
            for (int64_t k = 0; k < K; ++k) supervised[size_t(k)] += acc[size_t(k)] / double(draws.size());
        }
    }

    std::vector<RunOutcome> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        ctx.check_stop();
        RunOutcome& r = out[size_t(k)];
        const SslCurve& cv = curves[size_t(k)];
        for (size_t i = 0; i < cv.loss.size(); ++i) r.metrics.push_back({"loss", cv.loss_epochs[i], cv.loss[i]});
        for (size_t i = 0; i < cv.eval_epochs.size(); ++i) {
            r.metrics.push_back({"proj_std", cv.eval_epochs[i], cv.proj_std[i]});
            r.metrics.push_back({"proj_rank", cv.eval_epochs[i], cv.proj_rank[i]});
        }
        const std::vector<double> sv_rep = singular_values(rte[size_t(k)]), sv_proj = singular_values(zte[size_t(k)]);
        for (size_t i = 0; i < sv_rep.size(); ++i) r.metrics.push_back({"sv_rep", int64_t(i), sv_rep[i]});
        for (size_t i = 0; i < sv_proj.size(); ++i) r.metrics.push_back({"sv_proj", int64_t(i), sv_proj[i]});
        const auto [all, few] = probes(rtr[size_t(k)], ytr, rte[size_t(k)], yte, draws, l2);
        const auto [rand_all, rand_few] = probes(r0tr[size_t(k)], ytr, r0te[size_t(k)], yte, draws, l2);
        const double proj_std = normalized_std(zte[size_t(k)]), proj_rank = effective_rank(sv_proj),
                     rep_rank = effective_rank(sv_rep);
        const double D = double(spec.proj_dim);
        // Collapsed: the normalised projections have (almost) no spread, or span (almost) one direction.
        const bool collapsed = proj_std < 0.1 / std::sqrt(D) || proj_rank < 2.0;
        const int64_t E = o.epochs;
        r.summaries = {{"probe_acc", all, E},
                       {"probe_few_acc", few, E},
                       {"random_probe_acc", rand_all, E},
                       {"random_probe_few_acc", rand_few, E},
                       {"supervised_few_acc", supervised[size_t(k)], E},
                       {"final_loss", cv.loss.empty() ? NAN : cv.loss.back(), E},
                       {"proj_std", proj_std, E},
                       {"proj_std_healthy", 1 / std::sqrt(D), E},
                       {"proj_rank", proj_rank, E},
                       {"rep_rank", rep_rank, E},
                       {"collapsed", collapsed ? 1.0 : 0.0, E}};
        if (!cv.loss.empty() && !std::isfinite(cv.loss.back())) r.state = RunState::Diverged;
    }
    return out;
}

std::string run_label(const Json& c) {
    std::string l = c["method"].get<std::string>();
    if (l == "simsiam" && !c["stop_gradient"].get<bool>()) l += ", no stop-grad";
    if (l != "simclr" && !c["predictor"].get<bool>()) l += ", no predictor";
    if (l.rfind("byol", 0) == 0 && c["ema"].get<double>() != 0.99) l += ", ema " + c["ema"].dump();
    return l;
}

std::vector<std::string> Contrastive::draw(const Store& store, const std::string& out_dir) const {
    using Mean = std::pair<double, int>;
    std::map<std::string, std::map<std::string, Mean>> acc;  // label -> summary -> mean
    std::map<std::string, std::map<int64_t, Mean>> sv, loss, pstd;
    std::map<std::string, Mean> reference;
    for (const RunRow& r : store.runs(name())) {
        if (r.state != RunState::Complete || !r.summaries.count("probe_acc")) continue;
        const std::string label = run_label(Json::parse(r.config_json));
        for (const char* k : {"probe_acc", "probe_few_acc"}) {
            auto& m = acc[label][k];
            m.first += r.summaries.at(k), m.second += 1;
        }
        for (const char* k : {"random_probe_acc", "random_probe_few_acc", "supervised_few_acc"})
            if (std::isfinite(r.summaries.at(k))) reference[k].first += r.summaries.at(k), reference[k].second += 1;
        const std::vector<Metric> s = store.metrics(r.run_id, "sv_rep");
        for (const Metric& m : s) {
            auto& p = sv[label][m.step];
            p.first += m.value / std::max(s.front().value, 1e-30), p.second += 1;
        }
        for (const Metric& m : store.metrics(r.run_id, "loss")) loss[label][m.step].first += m.value, loss[label][m.step].second += 1;
        for (const Metric& m : store.metrics(r.run_id, "proj_std")) pstd[label][m.step].first += m.value, pstd[label][m.step].second += 1;
    }
    if (acc.empty()) return {};
    auto mean = [](const Mean& m) { return m.first / m.second; };
    Panel pa{.title = "Linear probe (test accuracy)", .xlabel = "", .ylabel = "accuracy", .yrange = std::make_pair(0.0, 1.4)};
    Series all{.label = "all labels", .style = Series::Style::Bars, .color = 0}, few{.label = "10 labels per class",
                                                                                      .style = Series::Style::Bars, .color = 1};
    std::vector<std::string> names;
    double x = 0;
    for (const auto& [label, m] : acc) {
        names.push_back(label);
        all.x.push_back(x), all.y.push_back(mean(m.at("probe_acc")));
        few.x.push_back(x), few.y.push_back(mean(m.at("probe_few_acc")));
        x += 1;
    }
    pa.xtics = names;
    pa.series = {all, few};
    const std::pair<const char*, const char*> refs[] = {{"random_probe_acc", "random encoder, all labels"},
                                                         {"random_probe_few_acc", "random encoder, few labels"},
                                                         {"supervised_few_acc", "supervised on the few labels"}};
    int color = 2;
    for (const auto& [key, text] : refs) {
        if (!reference.count(key)) continue;
        Series s{.label = text, .style = Series::Style::Line, .color = color++, .dashed = true};
        s.x = {-0.5, x - 0.5};
        s.y = {mean(reference.at(key)), mean(reference.at(key))};
        pa.series.push_back(s);
    }
    pa.key_position = "top left";
    Panel ps{.title = "Singular values of the test representations", .xlabel = "index", .ylabel = "s_i / s_0", .logy = true};
    Panel pl{.title = "Training loss; normalised projection std (right)", .xlabel = "epoch", .ylabel = "loss",
             .y2label = "std of l2-normalised projections"};
    color = 0;
    for (const auto& [label, by] : sv) {
        Series s{.label = label, .style = Series::Style::Line, .color = color};
        for (const auto& [i, m] : by) s.x.push_back(double(i)), s.y.push_back(std::max(mean(m), 1e-12));
        ps.series.push_back(s);
        Series l{.label = label + " loss", .style = Series::Style::Line, .color = color};
        for (const auto& [e, m] : loss[label]) l.x.push_back(double(e)), l.y.push_back(mean(m));
        Series d{.label = label + " std", .style = Series::Style::Line, .color = color, .dashed = true, .y2 = true};
        for (const auto& [e, m] : pstd[label]) d.x.push_back(double(e)), d.y.push_back(mean(m));
        pl.series.push_back(l);
        pl.series.push_back(d);
        ++color;
    }
    ps.key_position = "bottom left";
    pl.key_position = "center right";
    const RenderedFigure rf = render_figure(Figure{.title = "Self-supervised MNIST-1D: probes, spectra and collapse", .panels = {pa, ps, pl}},
                                            out_dir + "/contrastive");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& contrastive_experiment() {
    static const Contrastive e;
    return e;
}

}  // namespace benchtop
