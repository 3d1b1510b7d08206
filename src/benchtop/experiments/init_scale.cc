// Experiment init-scale.
// Claim: at initialisation each layer of a ReLU network multiplies the variance of the forward
// activations and of the backward gradients by width * sigma2 / 2, so over many layers they
// explode for larger weight variances and vanish for smaller ones; only He's sigma2 = 2 / fan-in
// keeps both flat (Prince, Understanding Deep Learning, 2023, section 7.5 and fig. 7.7; He et al.,
// "Delving deep into rectifiers", ICCV 2015). What this does to training is the trainability
// experiment's map.
#include "benchtop/experiments/init_scale.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/analysis/signal_propagation.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"

namespace benchtop {
namespace {

class InitScale final : public Experiment {
public:
    InitScale() {
        Json scales = Json::array();
        for (double s : {0.25, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0, 4.0}) scales.push_back(s);
        schema_
            .add({.name = "sigma2_scale", .type = ParamType::Real, .default_value = scales, .min = 0.0, .max = 1e6,
                  .min_exclusive = true,
                  .help = "weight variance as a multiple of He's 2 / fan-in (sigma2 = scale * 2 / width)"})
            .integer("depth", 50, 1, 10000, "hidden ReLU layers")
            .integer("width", 100, 1, 100000, "units per layer (and input dimension)")
            .integer("inputs", 1000, 1, 1e7, "standard-normal inputs in the batch")
            .integer("outputs", 1, 1, 100000,
                     "units of the linear output (least-squares loss to 0); a wide output keeps the gradient aligned "
                     "with the activations, which breaks the backward prediction")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2}), .min = 0,
                  .max = 9e15, .help = "seed of weights and inputs"});
    }

    std::string name() const override { return "init-scale"; }
    std::string claim() const override {
        return "activations and gradients explode or vanish by width*sigma2/2 per layer; only He's init keeps "
               "them flat";
    }
    std::string reference() const override {
        return "Prince, Understanding Deep Learning, 7.5 and fig 7.7; He et al., ICCV 2015";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"sigma2_scale", "depth", "width", "seed"}; }
    int64_t work_units(const Json& c) const override { return c["depth"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        // Three float64 GEMMs of inputs x width x width per layer at about 5e9 multiply-adds a second.
        double w = c["width"].get<double>();
        return 3 * c["inputs"].get<double>() * w * w / 5e9 + 1e-5;
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        std::vector<RunOutcome> out;
        for (const Json& c : cfgs) {
            ctx.check_stop();
            SignalPropagationSpec s;
            s.depth = c["depth"].get<int64_t>();
            s.width = c["width"].get<int64_t>();
            s.inputs = c["inputs"].get<int64_t>();
            s.outputs = c["outputs"].get<int64_t>();
            s.sigma2 = c["sigma2_scale"].get<double>() * 2.0 / double(s.width);
            s.seed = c["seed"].get<uint64_t>();
            SignalPropagation sp = measure_signal_propagation(s);
            RunOutcome r;
            for (int64_t l = 0; l < s.depth; ++l) {
                r.metrics.push_back({"forward_var", l + 1, sp.forward_var[size_t(l)]});
                r.metrics.push_back({"backward_var", l + 1, sp.backward_var[size_t(l)]});
            }
            auto span = [](const std::vector<double>& v) {
                auto [lo, hi] = std::minmax_element(v.begin(), v.end());
                return *hi / *lo;
            };
            r.summaries.push_back({"sigma2", s.sigma2});
            r.summaries.push_back({"expected_factor", double(s.width) * s.sigma2 / 2});
            r.summaries.push_back({"forward_factor", std::pow(10.0, log10_slope(sp.forward_var))});
            r.summaries.push_back({"backward_factor", std::pow(10.0, -log10_slope(sp.backward_var))});
            r.summaries.push_back({"forward_span", span(sp.forward_var)});
            r.summaries.push_back({"backward_span", span(sp.backward_var)});
            r.summaries.push_back({"forward_var_last", sp.forward_var.back()});
            r.summaries.push_back({"backward_var_first", sp.backward_var.front()});
            if (ctx.advance) ctx.advance(s.depth);
            out.push_back(std::move(r));
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override {
        std::map<double, InitScaleCurve> by_scale = init_scale_curves(store);
        if (by_scale.empty()) return {};
        Panel fwd, bwd, factors;
        fwd.title = "Forward: variance of pre-activations";
        bwd.title = "Backward: variance of loss gradients";
        fwd.xlabel = bwd.xlabel = "layer";
        fwd.ylabel = "variance of f_l (mean over seeds)";
        bwd.ylabel = "variance of dL/df_l (mean over seeds)";
        fwd.logy = bwd.logy = true;
        // The lines start together at the left of the forward panel, so its key fits there; the
        // backward panel uses the same colours (dashed: sigma2 below He's).
        fwd.key_position = "top left";
        bwd.key_position = "off";
        bwd.title += " (colours as left)";
        factors.title = "Per-layer factor: measured against width sigma2 / 2";
        factors.xlabel = "width * sigma2 / 2";
        factors.ylabel = "measured per-layer factor";
        factors.logx = factors.logy = true;
        factors.key_position = "top left";
        Series f_meas, b_meas, ideal;
        f_meas.label = "forward";
        f_meas.style = b_meas.style = Series::Style::Points;
        b_meas.label = "backward";
        ideal.label = "prediction";
        ideal.style = Series::Style::Line;
        ideal.dashed = true;
        for (const auto& [scale, a] : by_scale) {
            Series sf, sb;
            char label[64];
            std::snprintf(label, sizeof label, "sigma2 = %g x 2/fan-in", scale);
            sf.label = sb.label = label;
            sf.style = sb.style = Series::Style::Line;
            sf.dashed = sb.dashed = scale < 1;
            for (size_t l = 0; l < a.forward_var.size(); ++l) {
                sf.x.push_back(double(l + 1)), sf.y.push_back(a.forward_var[l]);
                sb.x.push_back(double(l + 1)), sb.y.push_back(a.backward_var[l]);
            }
            fwd.series.push_back(std::move(sf));
            bwd.series.push_back(std::move(sb));
            f_meas.x.push_back(a.expected_factor), f_meas.y.push_back(a.forward_factor);
            b_meas.x.push_back(a.expected_factor), b_meas.y.push_back(a.backward_factor);
            ideal.x.push_back(a.expected_factor), ideal.y.push_back(a.expected_factor);
        }
        factors.series = {ideal, f_meas, b_meas};
        Figure fig;
        fig.title = "Exploding and vanishing signals at initialisation (ReLU MLP, biases 0)";
        fig.panels = {fwd, bwd, factors};
        RenderedFigure rf = render_figure(fig, out_dir + "/init-scale");
        return {rf.svg, rf.png};
    }

private:
    Schema schema_;
};

}  // namespace

namespace {
double span_of(const std::vector<double>& v) {
    if (v.empty()) return 0;
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *hi / *lo;
}
}  // namespace

double InitScaleCurve::forward_span() const { return span_of(forward_var); }
double InitScaleCurve::backward_span() const { return span_of(backward_var); }

std::map<double, InitScaleCurve> init_scale_curves(const Store& store) {
    std::map<double, InitScaleCurve> out;
    for (const RunRow& r : store.runs("init-scale")) {
        if (r.state != RunState::Complete) continue;
        InitScaleCurve& c = out[Json::parse(r.config_json)["sigma2_scale"].get<double>()];
        c.runs += 1;
        c.expected_factor = r.summaries.at("expected_factor");
        c.forward_factor += r.summaries.at("forward_factor");
        c.backward_factor += r.summaries.at("backward_factor");
        std::vector<Metric> f = store.metrics(r.run_id, "forward_var"), b = store.metrics(r.run_id, "backward_var");
        c.forward_var.resize(std::max(c.forward_var.size(), f.size()));
        c.backward_var.resize(std::max(c.backward_var.size(), b.size()));
        for (size_t i = 0; i < f.size(); ++i) c.forward_var[i] += f[i].value;
        for (size_t i = 0; i < b.size(); ++i) c.backward_var[i] += b[i].value;
    }
    for (auto& [scale, c] : out) {
        c.forward_factor /= c.runs;
        c.backward_factor /= c.runs;
        for (double& v : c.forward_var) v /= c.runs;
        for (double& v : c.backward_var) v /= c.runs;
    }
    return out;
}

const Experiment& init_scale_experiment() {
    static const InitScale e;
    return e;
}

}  // namespace benchtop
