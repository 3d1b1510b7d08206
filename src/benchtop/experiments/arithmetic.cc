// Experiment arithmetic.
// Claim: how numbers are written decides what a small transformer learns: answers written
// least-significant digit first (the order in which carries are computed) are learned from far
// fewer examples than plain ones, and what is learned does not extend to operand lengths never
// seen in training (Lee, Sreenivasan, Lee, Lee & Papailiopoulos, "Teaching arithmetic to small
// transformers", ICLR 2024; Nogueira, Jiang & Lin, 2021).
//
// Library: arith/ (formats, balanced sampling, answer-only loss, exact match). Per run: a
// training set of `train_examples` distinct problems with operand lengths `train_lengths`, a
// held-out test set of the same distribution, and one set per evaluation length (both operands
// of that many digits, none seen in training). The seeds of a configuration train as one stack.
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "benchtop/arith/addition.h"
#include "benchtop/arith/train.h"
#include "benchtop/experiments/experiment.h"
#include "benchtop/report/plot.h"

namespace benchtop {
namespace {

using namespace arith;

// "1,3" or "1-3" or "" (default) -> lengths.
std::vector<int64_t> parse_lengths(const std::string& s, std::vector<int64_t> fallback, const char* key) {
    if (s.empty()) return fallback;
    std::vector<int64_t> out;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ',')) {
        const size_t dash = part.find('-');
        try {
            if (dash == std::string::npos) {
                out.push_back(std::stoll(part));
            } else {
                for (int64_t l = std::stoll(part.substr(0, dash)); l <= std::stoll(part.substr(dash + 1)); ++l) out.push_back(l);
            }
        } catch (const std::exception&) {
            throw UsageError(std::string("arithmetic: ") + key + " '" + s + "' must be lengths like 1,3 or 1-7");
        }
    }
    for (int64_t l : out)
        if (l < 1 || l > 9) throw UsageError(std::string("arithmetic: ") + key + " '" + s + "' has a length outside 1..9");
    if (out.empty()) throw UsageError(std::string("arithmetic: ") + key + " is empty");
    return out;
}

std::vector<int64_t> range_lengths(int64_t lo, int64_t hi) {
    std::vector<int64_t> v;
    for (int64_t l = lo; l <= hi; ++l) v.push_back(l);
    return v;
}

class Arithmetic final : public Experiment {
public:
    Arithmetic() {
        schema_.choice("format", {"plain", "reverse", "pad", "scratchpad"}, Json::array({"plain", "reverse"}),
                       "how a + b = c is written (docs: arith/addition.h)")
            .add({.name = "train_examples", .type = ParamType::Int, .default_value = Json::array({2000, 5000, 10000, 20000}),
                  .min = 10, .max = 1e7, .help = "distinct training problems"})
            .integer("digits", 3, 1, 8, "operands of 1..digits digits (unless train_lengths is set)")
            .text("train_lengths", "", "operand lengths of the training problems, e.g. 1,3 or 1-7 (default 1-digits)")
            .text("test_lengths", "", "extra evaluation lengths, e.g. 2,4 (default digits + 1)")
            .integer("layers", 4, 1, 64, "transformer blocks")
            .integer("d_model", 64, 8, 4096, "model width")
            .integer("heads", 4, 1, 64, "attention heads (divide d_model)")
            .integer("d_mlp", 256, 1, 65536, "MLP hidden units")
            .choice("activation", {"gelu", "relu"}, "gelu", "the MLP's activation")
            .integer("steps", 2000, 1, 1e8, "AdamW steps")
            .integer("batch", 128, 1, 1e6, "problems per step")
            .real("lr", 1e-3, 0.0, 10.0, "peak learning rate (warm-up, then cosine to a tenth)")
            .integer("warmup", 100, 0, 1e8, "warm-up steps")
            .real("weight_decay", 0.1, 0.0, 10.0, "decoupled weight decay")
            .integer("eval_every", 500, 1, 1e8, "steps between test exact-match points")
            .integer("test_examples", 1000, 10, 1e7, "held-out problems of the training distribution")
            .integer("length_examples", 500, 10, 1e7, "problems per evaluation length")
            .boolean("balance_carries", true, "draw the number of carries uniformly before the operands")
            .integer("data_seed", 0, 0, 4294967295.0, "seed of the problems and the batch order")
            .add({.name = "seed", .type = ParamType::Int, .default_value = Json::array({0}), .min = 0, .max = 9e15,
                  .help = "seed of the initialisation"});
    }

    std::string name() const override { return "arithmetic"; }
    std::string claim() const override {
        return "reversed answers are learned from far fewer examples than plain ones; nothing carries over to unseen "
               "operand lengths";
    }
    std::string reference() const override {
        return "Lee, Sreenivasan, Lee, Lee & Papailiopoulos, Teaching arithmetic to small transformers, ICLR 2024; "
               "Nogueira, Jiang & Lin, Investigating the limitations of transformers with simple arithmetic tasks, 2021";
    }
    const Schema& schema() const override { return schema_; }
    std::vector<std::string> show_keys() const override { return {"format", "train_examples", "seed"}; }
    void check(const Json& c) const override {
        if (c["d_model"].get<int64_t>() % c["heads"].get<int64_t>() != 0)
            throw UsageError("arithmetic: heads (" + c["heads"].dump() + ") must divide d_model (" + c["d_model"].dump() + ")");
        (void)lengths(c);
    }
    int64_t work_units(const Json& c) const override { return c["steps"].get<int64_t>(); }
    double seconds_per_unit(const Json& c) const override {
        const double d = c["d_model"].get<double>(), L = c["layers"].get<double>(), m = c["d_mlp"].get<double>();
        const double T = 3.0 * double(c["digits"].get<int64_t>()) + 4;
        return 3e-11 * 6 * c["batch"].get<double>() * T * L * (4 * d * d + 2 * d * m) + 1e-3;
    }
    int64_t max_pack(const Json&) const override { return 4; }
    std::vector<RunOutcome> run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const override;
    std::vector<std::string> draw(const Store& store, const std::string& out_dir) const override;

private:
    // Training lengths and evaluation lengths (training ones first, then the others).
    static std::pair<std::vector<int64_t>, std::vector<int64_t>> lengths(const Json& c) {
        const int64_t digits = c["digits"].get<int64_t>();
        const std::vector<int64_t> train =
            parse_lengths(c["train_lengths"].get<std::string>(), range_lengths(1, digits), "train_lengths");
        const std::vector<int64_t> extra =
            parse_lengths(c["test_lengths"].get<std::string>(), {std::min<int64_t>(digits + 1, 9)}, "test_lengths");
        std::set<int64_t> all(train.begin(), train.end());
        all.insert(extra.begin(), extra.end());
        return {train, {all.begin(), all.end()}};
    }
    Schema schema_;
};

std::vector<RunOutcome> Arithmetic::run_pack(const std::vector<Json>& cfgs, RunContext& ctx) const {
    const Json& c = cfgs.at(0);
    const auto K = static_cast<int64_t>(cfgs.size());
    const Format format = format_from_string(c["format"].get<std::string>());
    const auto [train_lengths, eval_lengths] = lengths(c);
    const int64_t pad = *std::max_element(eval_lengths.begin(), eval_lengths.end());
    const uint64_t data_seed = c["data_seed"].get<uint64_t>();
    const bool balance = c["balance_carries"].get<bool>();
    Rng rng(stream_key(data_seed, 0, Purpose::Data));
    const AdditionSet train = sample_additions({.lengths = train_lengths, .balance_carries = balance},
                                               c["train_examples"].get<int64_t>(), rng);
    std::unordered_set<uint64_t> seen;
    for (const Problem& p : train.problems) seen.insert(problem_key(p));
    Rng trng(stream_key(data_seed, 1, Purpose::Data));
    const AdditionSet test = sample_additions({.lengths = train_lengths, .balance_carries = balance},
                                              c["test_examples"].get<int64_t>(), trng, &seen);
    std::vector<Encoded> by_length;
    for (int64_t L : eval_lengths) {
        Rng lrng(stream_key(data_seed, 100 + uint64_t(L), Purpose::Data));
        by_length.push_back(encode_additions(
            sample_additions({.lengths = {L}, .balance_carries = balance, .allow_fewer = true}, c["length_examples"].get<int64_t>(),
                             lrng, &seen),
            format,
            pad));
    }
    const Encoded tr = encode_additions(train, format, pad), te = encode_additions(test, format, pad);
    int64_t max_seq = std::max(tr.T, te.T);
    for (const Encoded& e : by_length) max_seq = std::max(max_seq, e.T);
    const TransformerSpec spec{.vocab = kVocab,
                               .max_seq = max_seq,
                               .d_model = c["d_model"].get<int64_t>(),
                               .n_heads = c["heads"].get<int64_t>(),
                               .d_mlp = c["d_mlp"].get<int64_t>(),
                               .n_layers = c["layers"].get<int64_t>(),
                               .layer_norm = true,
                               .gelu = c["activation"] == "gelu"};
    ParamSet ps(K);
    add_transformer_params(ps, spec);
    init_transformer(ps, spec, pack_values<uint64_t>(cfgs, "seed"));
    const ArithTrainOptions o{.steps = c["steps"].get<int64_t>(),
                              .batch = c["batch"].get<int64_t>(),
                              .lr = c["lr"].get<double>(),
                              .warmup = c["warmup"].get<int64_t>(),
                              .weight_decay = c["weight_decay"].get<double>(),
                              .data_seed = data_seed,
                              .eval_every = c["eval_every"].get<int64_t>(),
                              .on_step = step_reporter(ctx, K)};
    const std::vector<ArithCurve> curves = train_addition(ps, spec, tr, te, o);
    std::vector<std::vector<double>> acc_len;
    for (const Encoded& e : by_length) {
        ctx.check_stop();
        acc_len.push_back(exact_match(ps, spec, e));
    }
    const std::set<int64_t> trained(train_lengths.begin(), train_lengths.end());
    std::vector<RunOutcome> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) {
        RunOutcome& r = out[size_t(k)];
        const ArithCurve& cv = curves[size_t(k)];
        for (size_t i = 0; i < cv.steps.size(); ++i) {
            r.metrics.push_back({"test_exact", cv.steps[i], cv.test_exact[i]});
            if (std::isfinite(cv.train_loss[i])) r.metrics.push_back({"train_loss", cv.steps[i], cv.train_loss[i]});
        }
        double seen_sum = 0, unseen_sum = 0;
        int seen_n = 0, unseen_n = 0;
        for (size_t i = 0; i < eval_lengths.size(); ++i) {
            if (by_length[i].inputs.size(0) == 0) continue;  // every problem of this length was a training one
            const double a = acc_len[i][size_t(k)];
            r.metrics.push_back({"exact_by_length", eval_lengths[i], a});
            if (trained.count(eval_lengths[i])) seen_sum += a, ++seen_n;
            else unseen_sum += a, ++unseen_n;
        }
        r.summaries = {{"test_exact", cv.test_exact.back(), o.steps},
                       {"final_train_loss", cv.train_loss.back(), o.steps},
                       {"seen_length_exact", seen_n ? seen_sum / seen_n : NAN, o.steps},
                       {"unseen_length_exact", unseen_n ? unseen_sum / unseen_n : NAN, o.steps},
                       {"params", double(transformer_param_count(spec)), o.steps},
                       {"train_problems", double(train.problems.size()), o.steps}};
        if (!std::isfinite(cv.train_loss.back())) r.state = RunState::Diverged;
    }
    return out;
}

std::vector<std::string> Arithmetic::draw(const Store& store, const std::string& out_dir) const {
    using Mean = std::pair<double, int>;
    std::map<std::string, std::map<int64_t, Mean>> by_n, by_len;  // format -> x -> mean
    std::map<std::string, std::map<int64_t, Mean>> during;          // format at its largest n -> step
    std::map<std::string, int64_t> largest;
    std::vector<RunRow> rows = store.runs(name());
    for (const RunRow& r : rows) {
        if (r.state != RunState::Complete || !r.summaries.count("test_exact")) continue;
        const Json c = Json::parse(r.config_json);
        const std::string f = c["format"].get<std::string>();
        largest[f] = std::max(largest[f], c["train_examples"].get<int64_t>());
    }
    for (const RunRow& r : rows) {
        if (r.state != RunState::Complete || !r.summaries.count("test_exact")) continue;
        const Json c = Json::parse(r.config_json);
        const std::string f = c["format"].get<std::string>();
        const int64_t n = c["train_examples"].get<int64_t>();
        auto& m = by_n[f][n];
        m.first += r.summaries.at("test_exact"), m.second += 1;
        if (n != largest[f]) continue;
        for (const Metric& mt : store.metrics(r.run_id, "exact_by_length")) by_len[f][mt.step].first += mt.value, by_len[f][mt.step].second += 1;
        for (const Metric& mt : store.metrics(r.run_id, "test_exact")) during[f][mt.step].first += mt.value, during[f][mt.step].second += 1;
    }
    if (by_n.empty()) return {};
    const std::map<std::string, int> color = {{"plain", 0}, {"reverse", 1}, {"pad", 2}, {"scratchpad", 3}};
    auto series = [&](const std::string& label, const std::map<int64_t, Mean>& m, const std::string& f) {
        Series s{.label = label, .style = Series::Style::LinePoints, .color = color.at(f)};
        for (const auto& [x, v] : m) s.x.push_back(double(x)), s.y.push_back(v.first / v.second);
        return s;
    };
    Panel pn{.title = "Exact match against training examples", .xlabel = "training problems", .ylabel = "test exact match",
             .logx = true, .yrange = std::make_pair(0.0, 1.05)};
    Panel pl{.title = "By operand length (largest training set)", .xlabel = "digits of both operands", .ylabel = "exact match",
             .yrange = std::make_pair(0.0, 1.05)};
    Panel pd{.title = "During training (largest training set)", .xlabel = "step", .ylabel = "test exact match",
             .yrange = std::make_pair(0.0, 1.05)};
    for (const auto& [f, m] : by_n) pn.series.push_back(series(f, m, f));
    for (const auto& [f, m] : by_len) pl.series.push_back(series(f + " (" + std::to_string(largest[f]) + ")", m, f));
    for (const auto& [f, m] : during) pd.series.push_back(series(f, m, f));
    pn.key_position = "top left";
    pl.key_position = "top right";
    pd.key_position = "bottom right";
    const RenderedFigure rf = render_figure(Figure{.title = "Addition: the format decides what a small transformer learns",
                                                   .panels = {pn, pl, pd}},
                                            out_dir + "/arithmetic");
    return {rf.svg, rf.png};
}

}  // namespace

const Experiment& arithmetic_experiment() {
    static const Arithmetic e;
    return e;
}

}  // namespace benchtop
