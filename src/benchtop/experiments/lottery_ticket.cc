// Experiment lottery-ticket.
// Claim: a dense network contains sparse subnetworks ("winning tickets") that, reset to their
// initial weights and trained alone, match the dense network's test accuracy; the same sparse
// structure with fresh weights, or a random structure of the same sparsity, does worse (Frankle &
// Carbin, "The lottery ticket hypothesis", ICLR 2019; rewinding to an early step: Frankle, Dziugaite,
// Roy & Carbin, "Linear mode connectivity and the lottery ticket hypothesis", ICML 2020; on MNIST-1D:
// Greydanus & Kobak 2024; Prince, Understanding Deep Learning, section 20.2.7).
//
// One run is one seed's whole iterative-magnitude-pruning sequence: train the dense MNIST-1D
// residual MLP, remove prune_rate of the surviving weights with the smallest trained magnitude,
// rewind the survivors to their values at rewind_step and train again, `rounds` times. At every
// sparsity two controls train too: the ticket's mask with freshly drawn weights, and a random mask
// with the ticket's per-layer counts and the rewound weights. The rounds are sequential; the seeds of
// a pack train as one stack, and the controls of all rounds and seeds train as stacks afterwards.
#include "benchtop/experiments/lottery_ticket.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "benchtop/core/rng.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/experiments/mnist1d_data.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/prune/prune.h"
#include "benchtop/report/plot.h"
#include "benchtop/train/classifier.h"

namespace benchtop {
namespace {

const std::vector<std::string> kPrunable = {"linear1.weight", "linear2.weight", "linear3.weight"};

// Member seeds of the controls, derived from the run's seed so that each is reproducible alone.
uint64_t reinit_seed(uint64_t seed, int64_t round) { return splitmix64(seed ^ (0x5eed0000ULL + uint64_t(round))); }
uint64_t random_mask_seed(uint64_t seed, int64_t round) {
    return splitmix64(seed ^ (0x3a5c0000ULL + uint64_t(round)));
}

struct Accuracy {
    double final_test = 0, best_test = 0, final_train = 0;
};

class LotteryTicket final : public Experiment {
public:
    LotteryTicket() {
        schema_.integer("hidden", 500, 1, 65536, "hidden units of the residual MLP 40-h-h-10")
            .integer("steps", 1500, 1, 1e8, "Adam steps per training (batches of `batch` in fixed order)")
            .integer("batch", 100, 1, 1e6, "minibatch size")
            .real("lr", 0.02, 0.0, 10.0, "Adam learning rate", true)
            .integer("eval_every", 250, 1, 1e8, "evaluate the test set every this many steps (for best_test_acc)")
            .integer("rounds", 8, 0, 200, "pruning rounds after the dense training")
            .real("prune_rate", 0.4, 0.0, 1.0, "fraction of the surviving weights removed per round", true)
            .choice("prune_scope", {"layer", "global"}, "layer",
                    "layer: every weight matrix loses prune_rate of its survivors; global: the smallest "
                    "magnitudes over all three matrices go")
            .integer("rewind_step", 0, 0, 1e8,
                     "survivors are reset to their values after this many steps of the dense training (0: the "
                     "initialisation, Frankle & Carbin 2019; k > 0: late rewinding, Frankle et al. 2020)")
            .boolean("controls", true, "also train the random re-initialisation and random-mask controls")
            .integer("num_samples", 5000, 20, 1e7, "MNIST-1D examples generated")
            .integer("train_examples", 4000, 10, 1e7, "the first this many examples train, the rest test")
            .integer("data_seed", 42, 0, 4294967295.0, "seed of the MNIST-1D generator")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0, 1, 2, 3}), .min = 0,
                  .max = 9e15, .help = "seed of the initialisation (and of the controls' draws)"});
    }

    std::string name() const override { return "lottery-ticket"; }
    std::string claim() const override {
        return "sparse subnetworks found by iterative magnitude pruning and reset to their initial weights train "
               "to the dense network's accuracy; re-initialised or randomly masked ones do not";
    }
    std::string reference() const override {
        return "Frankle & Carbin, The lottery ticket hypothesis, ICLR 2019; Frankle et al., Linear mode "
               "connectivity and the lottery ticket hypothesis, ICML 2020; Prince, Understanding Deep Learning, "
               "section 20.2.7";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"hidden", "rounds", "prune_rate", "seed"}; }

    void check(const Json& c) const override {
        check_mnist1d_split(name(), c);
        if (c["batch"].get<int64_t>() > c["train_examples"].get<int64_t>())
            throw UsageError("lottery-ticket: batch must not exceed train_examples");
        if (c["rewind_step"].get<int64_t>() >= c["steps"].get<int64_t>())
            throw UsageError("lottery-ticket: rewind_step must be smaller than steps");
    }
    static int64_t trainings(const Json& c) {
        const int64_t r = c["rounds"].get<int64_t>();
        return 1 + r + (c["controls"].get<bool>() ? 2 * r : 0);
    }
    int64_t work_units(const Json& c) const override { return trainings(c) * c["steps"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        // About 2.6e-11 s per multiply-add of a training step plus 12 us (the MLP measurement of
        // double-descent), and the periodic test evaluation.
        const double h = c["hidden"].get<double>(), b = c["batch"].get<double>();
        const double macs = 40 * h + h * h + 10 * h;
        const double eval = macs * c["num_samples"].get<double>() * 2.6e-11 / c["eval_every"].get<double>();
        return 3 * macs * b * 2.6e-11 + 1.2e-5 + eval;
    }
    std::string pack_key(const Json& config) const override {
        Json c = config;
        c.erase("seed");
        return c.dump();
    }
    int64_t max_pack(const Json& c) const override {
        // As memorization's MLPs: a member of batch x hidden >= 16384 activations trains no faster
        // in a stack, and separate packs of one seed use every core.
        return std::clamp<int64_t>(16384 / std::max<int64_t>(1, c["batch"].get<int64_t>() * c["hidden"].get<int64_t>()), 1, 8);
    }

    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    Schema schema_;
};

MlpSpec spec_of(const Json& c) {
    return {.in = 40, .hidden = c["hidden"].get<int64_t>(), .out = 10, .residual = true};
}

// Trains every member of ps (initialised, masks set) and returns its accuracies. `capture_at` >= 0:
// calls capture() once that many steps are done.
std::vector<Accuracy> train_members(ParamSet& ps, const Json& c, const ClassifierData& data, RunContext& ctx,
                                    int64_t capture_at = -1, const std::function<void()>& capture = {}) {
    ClassifierSpec spec;
    spec.kind = ModelKind::Mlp;
    spec.width = c["hidden"].get<int64_t>();
    spec.residual = true;
    TrainOptions o;
    o.steps = c["steps"].get<int64_t>() - 1;
    o.batch = c["batch"].get<int64_t>();
    o.eval_every = c["eval_every"].get<int64_t>();
    o.optimizer = OptimizerKind::Adam;
    o.lr = c["lr"].get<double>();
    o.seeds.assign(size_t(ps.n_members()), 0);  // fixed batch order: the seeds draw nothing
    o.on_step = [report = step_reporter(ctx, ps.n_members()), capture_at, &capture](int64_t done) {
        report(done);
        if (done == capture_at && capture) capture();
    };
    std::vector<MemberCurve> curves = train_classifier(ps, spec, data, o);
    std::vector<Accuracy> out;
    for (const MemberCurve& mc : curves) {
        Accuracy a;
        a.final_test = mc.test_acc.back();
        a.final_train = mc.train_acc.back();
        a.best_test = *std::max_element(mc.test_acc.begin(), mc.test_acc.end());
        out.push_back(a);
    }
    return out;
}

// Copies member `from` of each tensor into member `to` of the matching tensor of dst.
void copy_masks(const std::vector<Tensor>& src, int64_t from, std::vector<Tensor>& dst, int64_t to) {
    for (size_t t = 0; t < src.size(); ++t) {
        Tensor d = dst[t].member(to);
        d.copy_from(src[t].member(from));
    }
}

std::vector<RunOutcome> LotteryTicket::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c0 = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    std::shared_ptr<const Mnist1dData> data = mnist1d_split(c0);
    const ClassifierData cd{&data->x_train, &data->y_train, &data->x_test, &data->y_test};
    const std::vector<uint64_t> seeds = pack_values<uint64_t>(cfgs, "seed");
    const MlpSpec spec = spec_of(c0);
    const int64_t rounds = c0["rounds"].get<int64_t>(), rewind = c0["rewind_step"].get<int64_t>();
    const double rate = c0["prune_rate"].get<double>();
    const PruneScope scope = prune_scope_from_string(c0["prune_scope"].get<std::string>());

    // Phase 1: iterative magnitude pruning, all seeds as one stack.
    ParamSet ps(K);
    add_mlp_params(ps, spec);
    init_torch_default(ps, seeds);
    ParamSet start(K);  // the weights survivors are rewound to
    add_mlp_params(start, spec);
    auto snapshot = [&] {
        for (auto& e : start.entries()) e.value.copy_from(ps.value(e.name));
    };
    snapshot();
    std::vector<std::vector<Accuracy>> ticket;  // [round][member]
    std::vector<std::vector<Tensor>> masks;     // [round][tensor] ([K, ...]); round 0 dense
    std::vector<std::vector<double>> sparsity;  // [round][member]
    for (int64_t r = 0; r <= rounds; ++r) {
        if (r > 0) {
            masks.push_back(magnitude_prune_masks(ps, kPrunable, rate, scope));
            for (auto& e : ps.entries()) e.value.copy_from(start.value(e.name));
            for (size_t t = 0; t < kPrunable.size(); ++t) ps.set_mask(kPrunable[t], masks.back()[t]);
        } else {
            std::vector<Tensor> dense;
            for (const std::string& n : kPrunable) dense.push_back(Tensor::full(ps.value(n).shape(), 1.0));
            masks.push_back(std::move(dense));
        }
        std::vector<double> sp;
        for (int64_t k = 0; k < K; ++k) sp.push_back(mask_sparsity(masks.back(), k));
        sparsity.push_back(sp);
        ticket.push_back(train_members(ps, c0, cd, ctx, r == 0 && rewind > 0 ? rewind : -1, snapshot));
    }

    // Phase 2: the controls of every round and seed, in stacks of up to 8 members.
    std::vector<std::vector<Accuracy>> reinit(size_t(rounds + 1), std::vector<Accuracy>(size_t(K)));
    std::vector<std::vector<Accuracy>> random(size_t(rounds + 1), std::vector<Accuracy>(size_t(K)));
    if (c0["controls"].get<bool>() && rounds > 0) {
        struct Job {
            int64_t round, member;
            bool reinit;
        };
        std::vector<Job> jobs;
        for (int64_t r = 1; r <= rounds; ++r)
            for (int64_t k = 0; k < K; ++k)
                for (bool re : {true, false}) jobs.push_back({r, k, re});
        for (size_t j0 = 0; j0 < jobs.size(); j0 += 8) {
            const size_t n = std::min<size_t>(8, jobs.size() - j0);
            const auto M = static_cast<int64_t>(n);
            ParamSet cp(M);
            add_mlp_params(cp, spec);
            std::vector<uint64_t> init_seeds, mask_seeds;
            for (size_t j = j0; j < j0 + n; ++j) {
                init_seeds.push_back(reinit_seed(seeds[size_t(jobs[j].member)], jobs[j].round));
                mask_seeds.push_back(random_mask_seed(seeds[size_t(jobs[j].member)], jobs[j].round));
            }
            init_torch_default(cp, init_seeds);  // the re-initialised members keep these
            std::vector<Tensor> ticket_masks, chunk_masks;
            for (const std::string& nm : kPrunable) {
                ticket_masks.push_back(Tensor::zeros(cp.value(nm).shape()));
                chunk_masks.push_back(Tensor::zeros(cp.value(nm).shape()));
            }
            for (size_t j = 0; j < n; ++j)
                copy_masks(masks[size_t(jobs[j0 + j].round)], jobs[j0 + j].member, ticket_masks, int64_t(j));
            std::vector<Tensor> random_masks = random_masks_like(ticket_masks, mask_seeds);
            for (size_t j = 0; j < n; ++j) {
                const Job& job = jobs[j0 + j];
                if (job.reinit) {
                    copy_masks(ticket_masks, int64_t(j), chunk_masks, int64_t(j));
                } else {
                    cp.copy_member(start, job.member, int64_t(j));
                    copy_masks(random_masks, int64_t(j), chunk_masks, int64_t(j));
                }
            }
            for (size_t t = 0; t < kPrunable.size(); ++t) cp.set_mask(kPrunable[t], chunk_masks[t]);
            std::vector<Accuracy> acc = train_members(cp, c0, cd, ctx);
            for (size_t j = 0; j < n; ++j) {
                const Job& job = jobs[j0 + j];
                (job.reinit ? reinit : random)[size_t(job.round)][size_t(job.member)] = acc[j];
            }
        }
    }

    std::vector<RunOutcome> out;
    for (int64_t k = 0; k < K; ++k) {
        RunOutcome o;
        for (int64_t r = 0; r <= rounds; ++r) {
            const Accuracy& t = ticket[size_t(r)][size_t(k)];
            o.metrics.push_back({"sparsity", r, sparsity[size_t(r)][size_t(k)]});
            o.metrics.push_back({"ticket_test_acc", r, t.final_test});
            o.metrics.push_back({"ticket_best_test_acc", r, t.best_test});
            o.metrics.push_back({"ticket_train_acc", r, t.final_train});
            if (r > 0 && c0["controls"].get<bool>()) {
                const Accuracy& re = reinit[size_t(r)][size_t(k)];
                const Accuracy& ra = random[size_t(r)][size_t(k)];
                o.metrics.push_back({"reinit_test_acc", r, re.final_test});
                o.metrics.push_back({"reinit_best_test_acc", r, re.best_test});
                o.metrics.push_back({"random_test_acc", r, ra.final_test});
                o.metrics.push_back({"random_best_test_acc", r, ra.best_test});
            }
        }
        o.summaries.push_back({"dense_test_acc", ticket[0][size_t(k)].final_test});
        o.summaries.push_back({"final_sparsity", sparsity.back()[size_t(k)], rounds});
        o.summaries.push_back({"final_ticket_test_acc", ticket.back()[size_t(k)].final_test, rounds});
        double best = 0;
        int64_t best_round = 0;
        for (int64_t r = 0; r <= rounds; ++r)
            if (ticket[size_t(r)][size_t(k)].final_test > best) {
                best = ticket[size_t(r)][size_t(k)].final_test;
                best_round = r;
            }
        o.summaries.push_back({"best_ticket_test_acc", best, best_round});
        out.push_back(std::move(o));
    }
    return out;
}

void accumulate(std::map<int64_t, std::vector<double>>& into, const std::vector<Metric>& ms) {
    for (const Metric& m : ms) into[m.step].push_back(m.value);
}

MeanSd mean_sd(const std::vector<double>& v) {
    MeanSd s;
    s.n = static_cast<int64_t>(v.size());
    if (v.empty()) return s;
    for (double x : v) s.mean += x;
    s.mean /= double(v.size());
    if (v.size() > 1) {
        double ss = 0;
        for (double x : v) ss += (x - s.mean) * (x - s.mean);
        s.sd = std::sqrt(ss / double(v.size() - 1));
    }
    return s;
}

}  // namespace

std::vector<LotteryCurve> lottery_curves(const Store& store) {
    struct Acc {
        LotteryCurve curve;
        std::map<std::string, std::map<int64_t, std::vector<double>>> by_key;
    };
    std::map<std::string, Acc> groups;
    const std::vector<std::string> keys = {"sparsity",        "ticket_test_acc",     "ticket_best_test_acc",
                                           "reinit_test_acc", "reinit_best_test_acc", "random_test_acc",
                                           "random_best_test_acc"};
    for (const RunRow& r : store.runs("lottery-ticket")) {
        if (r.state != RunState::Complete) continue;
        Json c = Json::parse(r.config_json);
        Acc& a = groups[r.group_key];
        a.curve.group_key = r.group_key;
        a.curve.prune_scope = c["prune_scope"].get<std::string>();
        a.curve.hidden = c["hidden"].get<int64_t>();
        a.curve.rewind_step = c["rewind_step"].get<int64_t>();
        for (const std::string& key : keys) accumulate(a.by_key[key], store.metrics(r.run_id, key));
    }
    std::vector<LotteryCurve> out;
    for (auto& [gk, a] : groups) {
        auto& bk = a.by_key;
        a.curve.dense = mean_sd(bk["ticket_test_acc"][0]);
        for (auto& [round, sp] : bk["sparsity"]) {
            if (round == 0) continue;
            LotteryRound lr;
            lr.round = round;
            lr.sparsity = mean_sd(sp).mean;
            lr.ticket = mean_sd(bk["ticket_test_acc"][round]);
            lr.ticket_best = mean_sd(bk["ticket_best_test_acc"][round]);
            lr.reinit = mean_sd(bk["reinit_test_acc"][round]);
            lr.reinit_best = mean_sd(bk["reinit_best_test_acc"][round]);
            lr.random_mask = mean_sd(bk["random_test_acc"][round]);
            lr.random_best = mean_sd(bk["random_best_test_acc"][round]);
            a.curve.rounds.push_back(lr);
        }
        out.push_back(std::move(a.curve));
    }
    return out;
}

namespace {

std::vector<std::string> LotteryTicket::draw(const Store& store, const std::string& out_dir) const {
    std::vector<LotteryCurve> curves = lottery_curves(store);
    if (curves.empty()) return {};
    Figure fig;
    fig.title = "Lottery tickets on MNIST-1D (residual MLP, iterative magnitude pruning)";
    for (const LotteryCurve& c : curves) {
        Panel p;
        char title[200];
        std::snprintf(title, sizeof title, "hidden %d, %s pruning, rewind to step %d", int(c.hidden),
                      c.prune_scope.c_str(), int(c.rewind_step));
        p.title = title;
        p.xlabel = "weights remaining (%)";
        p.ylabel = "test accuracy (final; mean and band of +-1 sd over seeds)";
        p.logx = true;
        p.key_position = "bottom right";
        auto series = [&](const char* label, int color, auto pick) {
            Series s;
            s.label = label;
            s.color = color;
            for (const LotteryRound& r : c.rounds) {
                const MeanSd m = pick(r);
                if (m.n == 0) continue;
                s.x.push_back(100.0 * (1.0 - r.sparsity));
                s.y.push_back(m.mean);
                s.y_lo.push_back(m.mean - m.sd);
                s.y_hi.push_back(m.mean + m.sd);
            }
            return s;
        };
        p.series.push_back(series("ticket (rewound weights)", 0, [](const LotteryRound& r) { return r.ticket; }));
        p.series.push_back(series("same mask, re-initialised", 1, [](const LotteryRound& r) { return r.reinit; }));
        p.series.push_back(series("random mask, rewound weights", 2,
                                  [](const LotteryRound& r) { return r.random_mask; }));
        Series dense;
        dense.label = "dense network";
        dense.style = Series::Style::Line;
        dense.dashed = true;
        dense.color = 3;
        dense.x = {c.rounds.empty() ? 1.0 : 100.0 * (1.0 - c.rounds.back().sparsity), 100.0};
        dense.y = {c.dense.mean, c.dense.mean};
        p.series.push_back(dense);
        std::erase_if(p.series, [](const Series& s) { return s.x.empty(); });
        fig.panels.push_back(std::move(p));
    }
    RenderedFigure rf = render_figure(fig, out_dir + "/lottery-ticket");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& lottery_ticket_experiment() {
    static const LotteryTicket e;
    return e;
}

}  // namespace benchtop
