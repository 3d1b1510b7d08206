// Experiment linear-regions.
// Claim: a ReLU network is a piecewise-linear function. The number of linear pieces it could
// have grows exponentially with depth (Telgarsky 2016; Montufar et al. 2014), but in practice,
// at initialisation and after training, the density of regions along a line or over a plane
// through input space grows with the number of neurons, not exponentially with depth, and stays
// far below the theoretical maximum (Hanin & Rolnick, "Complexity of linear regions in deep
// networks", ICML 2019; "Deep ReLU networks have surprisingly few activation patterns",
// NeurIPS 2019). Counts here are exact (analysis/linear_regions.h), not sampled.
#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/analysis/linear_regions.h"
#include "benchtop/core/rng.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/deep_mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"

namespace benchtop {
namespace {

std::vector<double> row(const Tensor& x, int64_t i) {
    std::vector<double> r(static_cast<size_t>(x.size(1)));
    for (int64_t j = 0; j < x.size(1); ++j) r[size_t(j)] = x.data<float>()[i * x.size(1) + j];
    return r;
}

class LinearRegions final : public Experiment {
public:
    LinearRegions() {
        schema_
            .add({.name = "width", .type = ParamType::Int, .default_value = Json::array({8, 16, 32, 64}), .min = 1,
                  .max = 1024, .help = "hidden units per layer"})
            .add({.name = "depth", .type = ParamType::Int, .default_value = Json::array({1, 2, 3, 4}), .min = 1,
                  .max = 16, .help = "hidden layers"})
            .boolean("trained", Json::array({false, true}),
                     "false: count at initialisation; true: after training on MNIST-1D")
            .integer("steps", 3000, 0, 1e7, "training steps (Adam, batch 100, fixed order) when trained=true")
            .real("lr", 1e-3, 0.0, 10.0, "Adam learning rate", true)
            .integer("lines", 20, 1, 10000, "segments between random pairs of training examples for the density")
            .integer("resolution", 120, 8, 1024, "pixels per side of the stored region map of the plane")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .integer("seed", 0, 0, 9e15, "seed of initialisation and of the chosen lines");
    }

    std::string name() const override { return "linear-regions"; }
    std::string claim() const override {
        return "ReLU nets cut input space into linear regions whose density grows with neurons, not "
               "exponentially with depth";
    }
    std::string reference() const override {
        return "Hanin & Rolnick, Complexity of linear regions in deep networks, ICML 2019";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"width", "depth", "trained", "seed"}; }
    int64_t work_units(const Json& c) const override {
        return (c["trained"].get<bool>() ? c["steps"].get<int64_t>() : 0) + 100;
    }
    double seconds_per_unit(const Json& c) const override {
        double n = static_cast<double>(c["width"].get<int64_t>() * c["depth"].get<int64_t>());
        return 2e-5 + 1e-7 * n;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        c.erase("lr");
        return c.dump();
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override {
        const Json& c0 = cfgs.at(0);
        const auto K = static_cast<int64_t>(cfgs.size());
        Mnist1dSource src;
        src.args.seed = c0["data_seed"].get<uint32_t>();
        std::shared_ptr<const Mnist1dData> data = mnist1d_dataset(src);
        const int64_t width = c0["width"].get<int64_t>(), depth = c0["depth"].get<int64_t>();

        ClassifierSpec spec;
        spec.kind = ModelKind::DeepMlp;
        spec.in = data->x_train.size(1);
        spec.width = width;
        spec.depth = depth;
        DeepMlpSpec dspec{.in = spec.in, .hidden = std::vector<int64_t>(size_t(depth), width), .out = spec.out};
        ParamSet ps(K);
        add_classifier_params(ps, spec);
        const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
        init_torch_default(ps, seeds);
        std::vector<MemberCurve> curves;
        if (c0["trained"].get<bool>() && c0["steps"].get<int64_t>() > 0) {
            TrainOptions o;
            o.steps = c0["steps"].get<int64_t>() - 1;
            o.batch = 100;
            o.eval_every = o.steps + 1;
            o.lr = pack_values<double>(cfgs, "lr");
            o.seeds = seeds;
            o.on_step = step_reporter(ctx, K);
            curves = train_classifier(ps, spec, {&data->x_train, &data->y_train, &data->x_test, &data->y_test}, o);
        }

        const Tensor& x = data->x_train;
        const int64_t N = x.size(0);
        std::vector<RunOutcome> out;
        for (int64_t k = 0; k < K; ++k) {
            ctx.check_stop();
            const Json& c = cfgs[size_t(k)];
            ReluNet net = relu_net_from_params(ps, dspec, k);
            RunOutcome r;
            // Density along segments between random pairs of training examples.
            Rng rng(stream_key(seeds[size_t(k)], 0, Purpose::Other));
            const int64_t lines = c["lines"].get<int64_t>();
            double count_sum = 0, length_sum = 0;
            for (int64_t i = 0; i < lines; ++i) {
                int64_t a = static_cast<int64_t>(rng.below(uint64_t(N)));
                int64_t b = static_cast<int64_t>(rng.below(uint64_t(N - 1)));
                if (b >= a) ++b;
                SegmentRegions s = regions_on_segment(net, row(x, a), row(x, b));
                r.metrics.push_back({"line_regions", i, static_cast<double>(s.count)});
                r.metrics.push_back({"line_length", i, s.length});
                count_sum += static_cast<double>(s.count);
                length_sum += s.length;
            }
            // A plane through three training examples of different classes.
            std::vector<int64_t> pick;
            for (int64_t i = 0; i < N && pick.size() < 3; ++i) {
                int32_t y = data->y_train.data<int32_t>()[i];
                bool fresh = std::none_of(pick.begin(), pick.end(),
                                          [&](int64_t j) { return data->y_train.data<int32_t>()[j] == y; });
                if (fresh) pick.push_back(i);
            }
            PlaneThroughPoints plane = regions_through_points(net, row(x, pick[0]), row(x, pick[1]), row(x, pick[2]));
            const int64_t res = c["resolution"].get<int64_t>();
            std::vector<int64_t> raster = rasterize_regions(plane.regions, res, res);
            for (size_t p = 0; p < raster.size(); ++p)
                r.metrics.push_back({"plane_region_id", static_cast<int64_t>(p), static_cast<double>(raster[p])});
            const double neurons = static_cast<double>(width * depth);
            double plane_area = (plane.regions.u1 - plane.regions.u0) * (plane.regions.v1 - plane.regions.v0);
            r.summaries = {
                {"neurons", neurons},
                {"params", static_cast<double>(ps.numel_per_member())},
                {"regions_per_length", count_sum / length_sum},
                {"regions_per_line", count_sum / static_cast<double>(lines)},
                {"plane_regions", static_cast<double>(plane.regions.count)},
                {"plane_regions_per_area", static_cast<double>(plane.regions.count) / plane_area},
                // Zaslavsky's bound for the same number of lines in general position: what one
                // hidden layer of `neurons` units could reach on this plane.
                {"plane_shallow_max", 1 + neurons + neurons * (neurons - 1) / 2},
                {"plane_u0", plane.regions.u0},
                {"plane_u1", plane.regions.u1},
                {"plane_v0", plane.regions.v0},
                {"plane_v1", plane.regions.v1},
                {"resolution", static_cast<double>(res)},
            };
            for (int p = 0; p < 3; ++p) {
                r.summaries.push_back({"point" + std::to_string(p) + "_u", plane.points_uv[size_t(p)][0]});
                r.summaries.push_back({"point" + std::to_string(p) + "_v", plane.points_uv[size_t(p)][1]});
            }
            if (!curves.empty()) {
                const MemberCurve& mc = curves[size_t(k)];
                if (mc.diverged_at >= 0) r.state = RunState::Diverged;
                else if (!mc.test_acc.empty()) {
                    r.summaries.push_back({"train_acc", mc.train_acc.back()});
                    r.summaries.push_back({"test_acc", mc.test_acc.back()});
                }
            }
            if (ctx.advance) ctx.advance(100);
            out.push_back(std::move(r));
        }
        return out;
    }

    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override {
        // (depth, trained) -> neurons -> densities over seeds.
        std::map<std::pair<int64_t, bool>, std::map<double, std::vector<double>>> dens;
        const RunRow* widest_init = nullptr;
        const RunRow* widest_trained = nullptr;
        std::vector<RunRow> runs = store.runs(name());
        for (const RunRow& r : runs) {
            if (r.state != RunState::Complete || !r.summaries.count("regions_per_length")) continue;
            Json c = Json::parse(r.config_json);
            bool trained = c["trained"].get<bool>();
            dens[{c["depth"].get<int64_t>(), trained}][r.summaries.at("neurons")].push_back(
                r.summaries.at("regions_per_length"));
            // The region maps show a small deep net (about 32 neurons in 2+ layers), whose regions
            // are large enough to see at the stored resolution.
            auto score = [](const RunRow& x) {
                Json cx = Json::parse(x.config_json);
                return std::abs(x.summaries.at("neurons") - 32) + (cx["depth"].get<int64_t>() >= 2 ? 0 : 1000);
            };
            const RunRow*& best = trained ? widest_trained : widest_init;
            if (!best || score(r) < score(*best)) best = &r;
        }
        if (dens.empty()) return {};
        Panel density;
        density.title = "Regions per unit length along lines between training examples";
        density.xlabel = "hidden neurons (width x depth)";
        density.ylabel = "regions per unit length";
        density.logx = density.logy = true;
        density.key_position = "top left";
        std::map<int64_t, int> color;
        for (const auto& [key, by_n] : dens) {
            if (!color.count(key.first)) color[key.first] = static_cast<int>(color.size());
            Series s;
            s.label = "depth " + std::to_string(key.first) + (key.second ? ", trained" : ", at init");
            s.color = color[key.first];
            s.dashed = key.second;
            for (const auto& [n, v] : by_n) {
                double m = 0;
                for (double d : v) m += d / static_cast<double>(v.size());
                s.x.push_back(n);
                s.y.push_back(m);
                s.y_lo.push_back(*std::min_element(v.begin(), v.end()));
                s.y_hi.push_back(*std::max_element(v.begin(), v.end()));
            }
            density.series.push_back(std::move(s));
        }
        std::vector<Panel> panels{density};
        for (const RunRow* r : {widest_init, widest_trained}) {
            if (!r) continue;
            Json c = Json::parse(r->config_json);
            const auto& s = r->summaries;
            Panel p;
            char title[160];
            std::snprintf(title, sizeof title, "Plane through 3 training examples: width %ld, depth %ld, %s: %.0f regions",
                          static_cast<long>(c["width"].get<int64_t>()), static_cast<long>(c["depth"].get<int64_t>()),
                          c["trained"].get<bool>() ? "trained" : "at init", s.at("plane_regions"));
            p.title = title;
            p.xlabel = "u (input-space distance along the plane)";
            p.ylabel = "v";
            p.key_position = "off";
            Image img;
            img.nx = img.ny = static_cast<int64_t>(s.at("resolution"));
            img.x0 = s.at("plane_u0");
            img.x1 = s.at("plane_u1");
            img.y0 = s.at("plane_v0");
            img.y1 = s.at("plane_v1");
            img.ids.assign(size_t(img.nx * img.ny), -1);
            for (const Metric& m : store.metrics(r->run_id, "plane_region_id"))
                if (m.step >= 0 && m.step < img.nx * img.ny) img.ids[size_t(m.step)] = static_cast<int64_t>(m.value);
            p.image = img;
            Series pts;
            pts.label = "training examples";
            pts.style = Series::Style::Points;
            for (int i = 0; i < 3; ++i) {
                pts.x.push_back(s.at("point" + std::to_string(i) + "_u"));
                pts.y.push_back(s.at("point" + std::to_string(i) + "_v"));
            }
            p.series.push_back(pts);
            panels.push_back(std::move(p));
        }
        Figure fig;
        fig.title = "Linear regions of ReLU MLPs on MNIST-1D (exact counts)";
        fig.panels = panels;
        RenderedFigure rf = render_figure(fig, out_dir + "/linear-regions");
        return {rf.svg, rf.png};
    }

private:
    Schema schema_;
};

}  // namespace

const Experiment& linear_regions_experiment() {
    static const LinearRegions e;
    return e;
}

}  // namespace benchtop
