// Experiment trainability.
// Claim: how far from He's scale the initial weights may be and still train shrinks as plain
// ReLU networks get deeper (signals explode or vanish by the scale squared per layer, see the
// init-scale experiment), and residual connections and normalisation (layer or batch) widen
// that band again (Prince, Understanding Deep Learning, 2023, sections 7.5, 11.2-11.4; Fort &
// Scherlis, "The Goldilocks zone: towards better understanding of neural network loss
// landscapes", AAAI 2019). A map over init scale x depth x optimiser x normalisation x residual:
// the first slice of an atlas of trainability.
#include "benchtop/experiments/trainability.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/block_mlp.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"
#include "benchtop/optim/sgd.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/metrics.h"

namespace benchtop {

TrainabilityMap trainability_map(const Store& store) {
    TrainabilityMap out;
    for (const RunRow& r : store.runs("trainability")) {
        if (r.state != RunState::Complete && r.state != RunState::Diverged) continue;
        Json c = Json::parse(r.config_json);
        TrainabilityCell& cell = out[{c["optimizer"].get<std::string>(), c["norm"].get<std::string>(),
                                      c["residual"].get<bool>()}][c["depth"].get<int64_t>()]
                                   [c["init_scale"].get<double>()];
        cell.runs += 1;
        if (r.state == RunState::Diverged || !r.summaries.count("final_loss")) {
            cell.diverged += 1;
            cell.final_loss = std::numeric_limits<double>::quiet_NaN();
        } else {
            cell.final_loss += r.summaries.at("final_loss");
        }
    }
    for (auto& [v, by_depth] : out)
        for (auto& [d, by_scale] : by_depth)
            for (auto& [s, cell] : by_scale)
                if (cell.diverged == 0) cell.final_loss /= double(cell.runs);
    return out;
}

bool trainable(const TrainabilityCell& c, double threshold) {
    return c.runs > 0 && c.diverged == 0 && c.final_loss < threshold;
}

double band_decades(const std::map<double, TrainabilityCell>& by_scale, double threshold) {
    double lo = 0, hi = 0, step = 0;
    bool any = false;
    double prev = 0;
    for (const auto& [s, cell] : by_scale) {
        if (prev > 0 && step == 0) step = std::log10(s / prev);
        prev = s;
        if (!trainable(cell, threshold)) continue;
        if (!any) lo = s;
        hi = s;
        any = true;
    }
    return any ? std::log10(hi / lo) + step : 0.0;
}

namespace {

class Trainability final : public Experiment {
public:
    Trainability() {
        Json scales = Json::array(), depths = Json::array();
        for (int i = 0; i <= 8; ++i) scales.push_back(std::pow(10.0, -2.0 + 0.5 * i));
        for (int d : {1, 2, 4, 8, 16, 32}) depths.push_back(d);
        schema_
            .add({.name = "init_scale", .type = ParamType::Real, .default_value = scales, .min = 0.0, .max = 1e6,
                  .min_exclusive = true, .help = "multiplier of He's standard deviation sqrt(2 / fan-in) for every "
                                                 "weight matrix"})
            .add({.name = "depth", .type = ParamType::Int, .default_value = depths, .min = 1, .max = 1000,
                  .help = "hidden blocks (Linear, norm, ReLU)"})
            .choice("optimizer", {"sgd", "adam"}, Json::array({"sgd", "adam"}), "optimiser")
            .choice("norm", {"none", "layer", "batch"}, Json::array({"none", "layer", "batch"}),
                    "normalisation of each block's pre-activations")
            .boolean("residual", Json::array({false, true}), "skip connection around every block but the first")
            .integer("width", 64, 1, 4096, "units per hidden block")
            .integer("steps", 400, 1, 1e7, "training budget in steps (batch 100: 10 epochs of 4000 examples)")
            .integer("batch", 100, 1, 1e6, "minibatch size; batches in the data's fixed order")
            .real("sgd_lr", 0.05, 0.0, 10.0, "SGD learning rate (momentum 0.9)", true)
            .real("adam_lr", 1e-3, 0.0, 10.0, "Adam learning rate", true)
            .integer("train_examples", 4000, 10, 1e7, "MNIST-1D training examples")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = 0, .min = 0, .max = 9e15,
                  .help = "seed of the initialisation"});
    }

    std::string name() const override { return "trainability"; }
    std::string claim() const override {
        return "the band of trainable init scales narrows with depth; residual connections and normalisation "
               "widen it";
    }
    std::string reference() const override {
        return "Prince, Understanding Deep Learning, 7.5 and 11; Fort & Scherlis, AAAI 2019";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override {
        return {"init_scale", "depth", "optimizer", "norm", "residual", "seed"};
    }
    void check(const Json& c) const override {
        if (c["batch"].get<int64_t>() > c["train_examples"].get<int64_t>())
            throw UsageError("trainability: batch must not exceed train_examples");
    }
    int64_t work_units(const Json& c) const override { return c["steps"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        double w = c["width"].get<double>(), d = c["depth"].get<double>();
        double macs = c["batch"].get<double>() * (40 * w + (d - 1) * w * w + 10 * w);
        // Measured on the default map (per member-step, one core): 0.03 ms at depth 1 to 3.1 ms at
        // depth 32 without norm; batch norm adds about 0.05 ms per block, layer norm 0.005 ms.
        const double per_block = c["norm"] == "batch" ? 6e-5 : c["norm"] == "layer" ? 1.5e-5 : 1e-5;
        return 3 * macs * 4e-11 + per_block * d;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("init_scale");
        return c.dump();
    }
    int64_t max_pack(const Json& c) const override {
        (void)c;
        return 9;
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        const int64_t n_train = c0["train_examples"].get<int64_t>();
        Mnist1dSource src;
        src.args.num_samples = n_train + 10;  // the generator needs a test split; it is not used
        src.args.train_split = double(n_train) / double(src.args.num_samples);
        src.args.seed = c0["data_seed"].get<uint32_t>();
        std::shared_ptr<const Mnist1dData> data = mnist1d_dataset(src);
        const Tensor& x = data->x_train;
        const Tensor& y = data->y_train;
        const int64_t N = x.size(0);

        BlockMlpSpec spec;
        spec.in = x.size(1);
        spec.width = c0["width"].get<int64_t>();
        spec.depth = c0["depth"].get<int64_t>();
        spec.norm = norm_kind_from_string(c0["norm"].get<std::string>());
        spec.residual = c0["residual"].get<bool>();
        ParamSet ps(K);
        add_block_mlp_params(ps, spec);
        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
        const std::vector<double> scales = pack_values<double>(cfgs, "init_scale");
        init_block_mlp(ps, spec, seeds, scales);
        BlockMlpState state = make_block_mlp_state(spec, K);

        std::optional<Adam> adam;
        std::optional<Sgd> sgd;
        if (c0["optimizer"] == "adam")
            adam.emplace(ps, AdamOptions{.lr = c0["adam_lr"].get<double>()});
        else
            sgd.emplace(ps, SgdOptions{.lr = c0["sgd_lr"].get<double>(), .momentum = 0.9});

        const int64_t steps = c0["steps"].get<int64_t>(), batch = c0["batch"].get<int64_t>();
        const int64_t window = std::min(steps, (N + batch - 1) / batch);  // the last epoch
        const int64_t curve_every = std::max<int64_t>(1, steps / 40);
        std::vector<int64_t> diverged_at(static_cast<size_t>(K), -1);
        const auto Ks = static_cast<size_t>(K);
        std::vector<double> final_loss(Ks, 0.0), final_acc(Ks, 0.0), first_loss(Ks);
        std::vector<double> curve_sum(Ks, 0.0);
        std::vector<RunOutcome> out(Ks);
        Graph g;
        for (int64_t s = 0; s < steps; ++s) {
            const int64_t start = (batch * s) % N, n = std::min(batch, N - start);
            Tensor yb = batch_rows(y, start, n, false);
            Var logits = block_mlp_forward(ps, spec, state, g.input(batch_rows(x, start, n)), true);
            Var loss = cross_entropy(logits, yb);
            const bool last_epoch = s >= steps - window;
            std::vector<double> acc = last_epoch ? accuracy(logits.value(), yb) : std::vector<double>();
            for (int64_t k = 0; k < K; ++k) {
                const double l = loss.value().at(k);
                if (s == 0) first_loss[size_t(k)] = l;
                if (diverged_at[size_t(k)] < 0 && !std::isfinite(l)) diverged_at[size_t(k)] = s;
                if (diverged_at[size_t(k)] >= 0) continue;
                curve_sum[size_t(k)] += l;
                if ((s + 1) % curve_every == 0) {
                    out[size_t(k)].metrics.push_back({"train_loss", s + 1, curve_sum[size_t(k)] / double(curve_every)});
                    curve_sum[size_t(k)] = 0;
                }
                if (last_epoch) {
                    final_loss[size_t(k)] += l / double(window);
                    final_acc[size_t(k)] += acc[size_t(k)] / double(window);
                }
            }
            ps.zero_grad();
            g.backward(loss);
            if (adam) adam->step();
            else sgd->step();
            g.reset();
            ctx.check_stop();
            if (ctx.advance) ctx.advance(K);
        }
        for (int64_t k = 0; k < K; ++k) {
            RunOutcome& r = out[size_t(k)];
            r.summaries.push_back({"params", double(ps.numel_per_member())});
            r.summaries.push_back({"initial_loss", first_loss[size_t(k)]});
            if (diverged_at[size_t(k)] >= 0) {
                r.state = RunState::Diverged;
                r.summaries.push_back({"diverged_at", double(diverged_at[size_t(k)]), diverged_at[size_t(k)]});
            } else {
                r.summaries.push_back({"final_loss", final_loss[size_t(k)], steps});
                r.summaries.push_back({"final_error", 1 - final_acc[size_t(k)], steps});
            }
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

// Loss at which the heat map saturates: chance level, ln 10.
constexpr double kChanceLoss = 2.302585092994046;

std::vector<std::string> Trainability::draw(const Store& store, const std::string& out_dir) const {
    TrainabilityMap map = trainability_map(store);
    if (map.empty()) return {};
    Figure fig;
    fig.title = "Trainability on MNIST-1D: final training loss (dark 0 .. light ln 10 = chance or worse; red: "
                "diverged)";
    fig.columns = 4;
    fig.panel_width = 420;
    fig.panel_height = 340;
    std::map<std::string, Panel> bands;
    // Heat maps in reading order: per optimiser, plain, residual, then each norm without and with.
    std::vector<TrainabilityVariant> order;
    for (const std::string opt : {"sgd", "adam"})
        for (const std::string norm : {"none", "layer", "batch"})
            for (bool residual : {false, true})
                if (map.count({opt, norm, residual})) order.push_back({opt, norm, residual});
    for (const TrainabilityVariant& variant : order) {
        const auto& by_depth = map.at(variant);
        const auto& [opt, norm, residual] = variant;
        char title[128];
        std::snprintf(title, sizeof title, "%s, norm %s%s", opt.c_str(), norm.c_str(), residual ? ", residual" : "");
        Panel& band_panel = bands[opt];
        band_panel.title = "Trainable band, " + opt + " (final loss < 0.8 ln 10)";
        band_panel.xlabel = "depth (hidden blocks)";
        band_panel.ylabel = "decades of init scale";
        band_panel.logx = true;
        band_panel.key_position = "bottom left";
        band_panel.yrange = std::make_pair(0.0, 5.0);
        Series band;
        char label[64];
        std::snprintf(label, sizeof label, "norm %s%s", norm.c_str(), residual ? ", residual" : "");
        band.label = label;
        band.dashed = !residual;
        for (const auto& [d, by_scale] : by_depth) {
            band.x.push_back(double(d));
            band.y.push_back(band_decades(by_scale, kTrainableLoss));
        }
        band_panel.series.push_back(band);
        // Heat map: x = log10 init scale, y = depth index.
        std::vector<double> scales;
        std::vector<int64_t> depths;
        for (const auto& [d, by_scale] : by_depth) {
            depths.push_back(d);
            for (const auto& [sc, cell] : by_scale) scales.push_back(sc);
        }
        std::sort(scales.begin(), scales.end());
        scales.erase(std::unique(scales.begin(), scales.end()), scales.end());
        if (scales.size() < 2 || depths.size() < 2) continue;
        Panel p;
        p.title = title;
        p.xlabel = "log10 init scale (x He)";
        Image im;
        im.nx = int64_t(scales.size());
        im.ny = int64_t(depths.size());
        const double lo = std::log10(scales.front()), hi = std::log10(scales.back());
        const double half = (hi - lo) / double(scales.size() - 1) / 2;
        im.x0 = lo - half;
        im.x1 = hi + half;
        im.y0 = -0.5;
        im.y1 = double(depths.size()) - 0.5;
        for (int64_t d : depths)
            for (double sc : scales) {
                auto it = by_depth.at(d).find(sc);
                if (it == by_depth.at(d).end()) im.rgb.push_back(0xdddddd);
                else if (it->second.diverged > 0) im.rgb.push_back(0xd62728);
                else im.rgb.push_back(heat_color(it->second.final_loss / kChanceLoss));
            }
        p.image = im;
        std::string ylabel = "depth index (";
        for (size_t i = 0; i < depths.size(); ++i) ylabel += (i ? ", " : "") + std::to_string(depths[i]);
        p.ylabel = ylabel + ")";
        p.key_position = "off";
        fig.panels.push_back(std::move(p));
    }
    for (const std::string opt : {"sgd", "adam"})
        if (bands.count(opt)) fig.panels.push_back(bands.at(opt));
    RenderedFigure rf = render_figure(fig, out_dir + "/trainability");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& trainability_experiment() {
    static const Trainability e;
    return e;
}

}  // namespace benchtop
