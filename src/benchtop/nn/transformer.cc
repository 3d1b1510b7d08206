// The decoder-only transformer of transformer.h, built from the ops: embedding, broadcasting
// add, linear / linear_relu, layer_norm, slice and attention (whose [K, B, T, D] layout with
// heads interleaved in D needs no permutes).
#include "benchtop/nn/transformer.h"

#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include "benchtop/nn/init.h"
#include "benchtop/ops/ops.h"

namespace benchtop {

namespace {

void check_spec(const TransformerSpec& s) {
    BENCHTOP_CHECK(s.vocab > 0 && s.max_seq > 0 && s.d_model > 0 && s.n_heads > 0 && s.d_mlp > 0 &&
                       s.n_layers >= 0 && s.out >= 0,
                   "TransformerSpec: vocab, max_seq, d_model, n_heads and d_mlp must be positive, "
                   "n_layers and out non-negative; got vocab=", s.vocab, " max_seq=", s.max_seq,
                   " d_model=", s.d_model, " n_heads=", s.n_heads, " d_mlp=", s.d_mlp,
                   " n_layers=", s.n_layers, " out=", s.out);
    BENCHTOP_CHECK(s.d_model % s.n_heads == 0, "TransformerSpec: n_heads=", s.n_heads,
                   " must divide d_model=", s.d_model);
}

// A Linear's parameters: name.weight [out, in], name.bias [out].
struct LinearDef {
    std::string name;
    int64_t in, out;
};

// Every Linear of the model, in order.
std::vector<LinearDef> linears(const TransformerSpec& s) {
    std::vector<LinearDef> ls;
    for (int64_t l = 0; l < s.n_layers; ++l) {
        const std::string p = transformer_block_prefix(l);
        for (const char* n : {"attn.q", "attn.k", "attn.v", "attn.out"})
            ls.push_back({p + n, s.d_model, s.d_model});
        ls.push_back({p + "mlp.fc1", s.d_model, s.d_mlp});
        ls.push_back({p + "mlp.fc2", s.d_mlp, s.d_model});
    }
    ls.push_back({"unembed", s.d_model, transformer_out_size(s)});
    return ls;
}

// Every layer norm of the model (prefixes of .weight and .bias), none without layer_norm.
std::vector<std::string> norms(const TransformerSpec& s) {
    std::vector<std::string> ns;
    if (!s.layer_norm) return ns;
    for (int64_t l = 0; l < s.n_layers; ++l) {
        ns.push_back(transformer_block_prefix(l) + "ln1");
        ns.push_back(transformer_block_prefix(l) + "ln2");
    }
    ns.push_back("ln_f");
    return ns;
}

// The ".weight" and ".bias" names of a Linear or a layer norm.
struct Pair {
    std::string w, b;
    explicit Pair(const std::string& prefix) : w(prefix + ".weight"), b(prefix + ".bias") {}
};

// Block l's parameter names, built once per thread: the forward pass runs every training step
// and makes no heap allocation of its own.
struct BlockNames {
    Pair ln1, q, k, v, out, ln2, fc1, fc2;
    explicit BlockNames(const std::string& p)
        : ln1(p + "ln1"), q(p + "attn.q"), k(p + "attn.k"), v(p + "attn.v"), out(p + "attn.out"),
          ln2(p + "ln2"), fc1(p + "mlp.fc1"), fc2(p + "mlp.fc2") {}
};

const BlockNames& block_names(int64_t l) {
    thread_local std::deque<BlockNames> cache;  // a deque keeps references valid as it grows
    while (static_cast<int64_t>(cache.size()) <= l)
        cache.emplace_back(transformer_block_prefix(static_cast<int64_t>(cache.size())));
    return cache[static_cast<size_t>(l)];
}

Var lin(Graph& g, ParamSet& ps, const Pair& names, Var x) {
    return linear(x, ps.var(g, names.w), ps.var(g, names.b));
}

Var norm(Graph& g, ParamSet& ps, const Pair& names, Var x) {
    return layer_norm(x, ps.var(g, names.w), ps.var(g, names.b));
}

}  // namespace

int64_t transformer_out_size(const TransformerSpec& spec) {
    return spec.out > 0 ? spec.out : spec.vocab;
}

std::string transformer_block_prefix(int64_t layer) {
    return "blocks." + std::to_string(layer) + ".";
}

void add_transformer_params(ParamSet& ps, const TransformerSpec& spec) {
    check_spec(spec);
    ps.add("embed.weight", {spec.vocab, spec.d_model});
    ps.add("pos_embed.weight", {spec.max_seq, spec.d_model});
    for (const LinearDef& l : linears(spec)) {
        ps.add(l.name + ".weight", {l.out, l.in});
        ps.add(l.name + ".bias", {l.out});
    }
    for (const std::string& n : norms(spec)) {
        ps.add(n + ".weight", {spec.d_model}).fill(1.0);
        ps.add(n + ".bias", {spec.d_model});
    }
}

void init_transformer(ParamSet& ps, const TransformerSpec& spec, std::span<const uint64_t> seeds,
                      std::span<const double> scale) {
    check_spec(spec);
    // N(0, 1): Kaiming normal's std = gain / sqrt(fan_in) with fan_in = d_model (the columns of
    // [rows, d_model]) and gain sqrt(d_model) is exactly 1.
    const double unit_gain = std::sqrt(static_cast<double>(spec.d_model));
    for (const char* n : {"embed.weight", "pos_embed.weight"}) {
        init_kaiming_normal(ps, n, seeds, scale, unit_gain, FanMode::FanIn);
        if (spec.embed_std == 1.0) continue;
        Tensor& w = ps.value(n);
        dispatch_float(w.dtype(), "init_transformer", [&](auto tag) {
            using T = decltype(tag);
            T* v = w.data<T>();
            for (int64_t i = 0; i < w.numel(); ++i) v[i] = static_cast<T>(double(v[i]) * spec.embed_std);
        });
    }
    for (const LinearDef& l : linears(spec)) {
        init_default(ps, l.name + ".weight", seeds, scale);
        init_default(ps, l.name + ".bias", seeds, scale, l.in);
    }
    for (const std::string& n : norms(spec)) {
        ps.value(n + ".weight").fill(1.0);
        ps.value(n + ".bias").zero();
    }
}

Var transformer_forward(Graph& g, ParamSet& ps, const TransformerSpec& spec, const Tensor& tokens,
                        int64_t n_last) {
    check_spec(spec);
    const int64_t K = ps.n_members(), d = spec.d_model;
    const Shape& ts = tokens.shape();
    BENCHTOP_CHECK(tokens.dtype() == DType::I32 && ts.rank() == 3 && (ts[0] == 1 || ts[0] == K),
                   "transformer_forward: tokens must be int32 [1, B, T] or [K, B, T] with K = ", K,
                   ", got ", dtype_name(tokens.dtype()), " ", ts.str());
    const int64_t T = ts[2];
    BENCHTOP_CHECK(T >= 1 && T <= spec.max_seq, "transformer_forward: sequence length T = ", T,
                   " of tokens ", ts.str(), " must be in [1, max_seq = ", spec.max_seq, "]");
    BENCHTOP_CHECK(n_last >= 0 && n_last <= T, "transformer_forward: n_last = ", n_last,
                   " must be in [0, T = ", T, "] (0: every position)");
    const bool tail = n_last > 0 && n_last < T;  // only the last n_last positions leave
    static const std::string embed_name("embed.weight"), pos_name("pos_embed.weight");
    Var pos = ps.var(g, pos_name);  // [K, max_seq, d]
    if (T < spec.max_seq) pos = slice(pos, 1, 0, T);
    const int64_t V = spec.vocab;
    const bool use_table = spec.token_table && spec.n_layers > 0 && ts[1] > V;
    Var x, table;
    Tensor rows;  // with the table: row token * T + t of each position, int32 [1 or K, B, T]
    if (use_table) {
        Var e = reshape(ps.var(g, embed_name), {K, V, 1, d});
        table = reshape(add(e, reshape(pos, {K, 1, T, d})), {K, V * T, d});  // E[v] + pos[t]
        rows = Tensor::empty(ts, DType::I32);
        const int32_t* tok = tokens.data<int32_t>();
        int32_t* r = rows.data<int32_t>();
        for (int64_t i = 0, n = tokens.numel(); i < n; ++i) {
            BENCHTOP_CHECK(tok[i] >= 0 && tok[i] < V, "transformer_forward: token ", tok[i], " outside [0, ", V, ")");
            r[i] = static_cast<int32_t>(int64_t(tok[i]) * T + i % T);
        }
        x = embedding(rows, table);  // [K, B, T, d]
    } else {
        x = add(embedding(tokens, ps.var(g, embed_name)), reshape(pos, {K, 1, T, d}));
    }
    if (tail && spec.n_layers == 0) x = slice(x, 2, T - n_last, T);
    for (int64_t l = 0; l < spec.n_layers; ++l) {
        const BlockNames& p = block_names(l);
        const bool last_only = tail && l + 1 == spec.n_layers;
        Var q, k, v;
        if (use_table && l == 0) {
            Var h = spec.layer_norm ? norm(g, ps, p.ln1, table) : table;
            k = embedding(rows, lin(g, ps, p.k, h));
            v = embedding(rows, lin(g, ps, p.v, h));
            Tensor q_rows = rows;
            if (last_only) {
                q_rows = Tensor::empty({ts[0], ts[1], n_last}, DType::I32);
                const int32_t* r = rows.data<int32_t>();
                int32_t* qr = q_rows.data<int32_t>();
                for (int64_t i = 0; i < ts[0] * ts[1]; ++i)
                    for (int64_t t = 0; t < n_last; ++t) qr[i * n_last + t] = r[i * T + T - n_last + t];
            }
            q = embedding(q_rows, lin(g, ps, p.q, h));
            if (last_only) x = slice(x, 2, T - n_last, T);
        } else {
            Var h = spec.layer_norm ? norm(g, ps, p.ln1, x) : x;
            k = lin(g, ps, p.k, h);
            v = lin(g, ps, p.v, h);
            if (last_only) {  // queries and the rest for the last positions
                h = slice(h, 2, T - n_last, T);
                x = slice(x, 2, T - n_last, T);
            }
            q = lin(g, ps, p.q, h);
        }
        Var a = attention(q, k, v, spec.n_heads, /*causal=*/true);
        x = add(x, lin(g, ps, p.out, a));
        Var h2 = spec.layer_norm ? norm(g, ps, p.ln2, x) : x;
        Var m = spec.gelu ? gelu(lin(g, ps, p.fc1, h2)) : linear_relu(h2, ps.var(g, p.fc1.w), ps.var(g, p.fc1.b));
        x = add(x, lin(g, ps, p.fc2, m));
    }
    static const Pair ln_f("ln_f"), unembed("unembed");
    if (spec.layer_norm) x = norm(g, ps, ln_f, x);
    return lin(g, ps, unembed, x);  // [K, B, n_last or T, out]
}

int64_t transformer_param_count(const TransformerSpec& spec) {
    check_spec(spec);
    int64_t n = (spec.vocab + spec.max_seq) * spec.d_model;
    for (const LinearDef& l : linears(spec)) n += l.out * l.in + l.out;
    n += static_cast<int64_t>(norms(spec).size()) * 2 * spec.d_model;
    return n;
}

}  // namespace benchtop
