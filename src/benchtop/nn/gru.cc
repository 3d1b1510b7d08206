#include "benchtop/nn/gru.h"

#include <string>
#include <vector>

#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/rnn.h"
#include "benchtop/ops/shape_ops.h"

namespace benchtop {

void add_gru_params(ParamSet& ps, const GruSpec& spec) {
    int64_t h = spec.hidden;
    for (const char* sfx : {"", "_reverse"}) {
        std::string s = sfx;
        ps.add("gru.weight_ih_l0" + s, {3 * h, spec.input});
        ps.add("gru.weight_hh_l0" + s, {3 * h, h});
        ps.add("gru.bias_ih_l0" + s, {3 * h});
        ps.add("gru.bias_hh_l0" + s, {3 * h});
    }
    ps.add("linear.weight", {spec.out, spec.length * 2 * h});
    ps.add("linear.bias", {spec.out});
}

Var gru_cell(Var x_t, Var h, Var w_ih, Var w_hh, Var b_ih, Var b_hh) {
    int64_t H = h.shape().back();
    Var gi = linear(x_t, w_ih, b_ih);  // [K, B, 3H]
    Var gh = linear(h, w_hh, b_hh);
    Var r = sigmoid(slice(gi, -1, 0, H) + slice(gh, -1, 0, H));
    Var z = sigmoid(slice(gi, -1, H, 2 * H) + slice(gh, -1, H, 2 * H));
    Var n = tanh(slice(gi, -1, 2 * H, 3 * H) + r * slice(gh, -1, 2 * H, 3 * H));
    return n + z * (h - n);  // (1 - z) * n + z * h
}

namespace {

void check_input(const GruSpec& spec, const Shape& s) {
    BENCHTOP_CHECK(s.rank() == 3 && s[2] == spec.length * spec.input, "gru: input must be [K, B, ",
                   spec.length * spec.input, "], got ", s.str());
}

}  // namespace

Var gru_forward_composed(ParamSet& ps, const GruSpec& spec, Var x) {
    Graph& g = *x.g;
    const Shape& s = x.shape();
    check_input(spec, s);
    int64_t K = ps.n_members(), B = s[1], L = spec.length, I = spec.input;
    Var h0 = g.input(g.make_zeros({K, B, spec.hidden}, x.dtype()));
    std::vector<Var> fwd(static_cast<size_t>(L)), bwd(static_cast<size_t>(L));
    for (int dir = 0; dir < 2; ++dir) {
        std::string sfx = dir ? "_reverse" : "";
        Var w_ih = ps.var(g, "gru.weight_ih_l0" + sfx), w_hh = ps.var(g, "gru.weight_hh_l0" + sfx);
        Var b_ih = ps.var(g, "gru.bias_ih_l0" + sfx), b_hh = ps.var(g, "gru.bias_hh_l0" + sfx);
        Var h = h0;
        for (int64_t step = 0; step < L; ++step) {
            int64_t t = dir ? L - 1 - step : step;
            h = gru_cell(slice(x, 2, t * I, (t + 1) * I), h, w_ih, w_hh, b_ih, b_hh);
            (dir ? bwd : fwd)[static_cast<size_t>(t)] = h;
        }
    }
    std::vector<Var> outs;
    outs.reserve(static_cast<size_t>(2 * L));
    for (int64_t t = 0; t < L; ++t) {
        outs.push_back(fwd[static_cast<size_t>(t)]);
        outs.push_back(bwd[static_cast<size_t>(t)]);
    }
    Var flat = concat(outs, -1);  // [K, B, L * 2H]
    return linear(flat, ps.var(g, "linear.weight"), ps.var(g, "linear.bias"));
}

Var gru_forward(ParamSet& ps, const GruSpec& spec, Var x) {
    Graph& g = *x.g;
    const Shape& s = x.shape();
    check_input(spec, s);
    int64_t K = ps.n_members(), B = s[1], L = spec.length, H = spec.hidden;
    // One fused node per direction (ops/rnn.h), each [K, B, L, H]; gru_cell above is the
    // composed reference the fused op is tested against.
    Var dirs[2];
    for (int dir = 0; dir < 2; ++dir) {
        std::string sfx = dir ? "_reverse" : "";
        dirs[dir] = gru_sequence(
            x, ps.var(g, "gru.weight_ih_l0" + sfx), ps.var(g, "gru.weight_hh_l0" + sfx),
            ps.var(g, "gru.bias_ih_l0" + sfx), ps.var(g, "gru.bias_hh_l0" + sfx), L, dir == 1);
    }
    // Per step: forward state then backward state, flattened time-major.
    Var flat = reshape(concat({dirs[0], dirs[1]}, -1), {K, B, L * 2 * H});  // [K, B, L * 2H]
    return linear(flat, ps.var(g, "linear.weight"), ps.var(g, "linear.bias"));
}

}  // namespace benchtop
