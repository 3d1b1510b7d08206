#include "benchtop/arith/train.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "benchtop/core/error.h"
#include "benchtop/ops/ops.h"
#include "benchtop/optim/adam.h"

namespace benchtop::arith {

namespace {

// Rows [rows] of an [N, T] tensor -> [n, T] (or [1, n, T] with lead).
Tensor gather_rows(const Tensor& x, const int64_t* rows, int64_t n, bool lead) {
    const int64_t T = x.size(1), bytes = T * int64_t(dtype_size(x.dtype()));
    Tensor out = Tensor::empty(lead ? Shape{1, n, T} : Shape{n, T}, x.dtype());
    for (int64_t i = 0; i < n; ++i)
        std::memcpy(static_cast<char*>(out.raw()) + i * bytes, static_cast<const char*>(x.raw()) + rows[i] * bytes,
                    size_t(bytes));
    return out;
}

// Masked mean cross-entropy per member [K].
Var answer_loss(Graph& g, ParamSet& ps, const TransformerSpec& spec, const Tensor& inputs, const Tensor& targets,
                const Tensor& mask) {
    const int64_t K = ps.n_members(), B = targets.size(0), T = targets.size(1);
    Var logits = transformer_forward(g, ps, spec, inputs);  // [K, B, T, V]
    Var ce = cross_entropy(logits, targets, Reduction::None);  // [K, B, T]
    double count = 0;
    for (int64_t i = 0; i < mask.numel(); ++i) count += mask.data<float>()[i];
    return mul_scalar(sum(reshape(mul(ce, g.input(mask)), {K, B * T}), 1), 1.0 / std::max(count, 1.0));
}

}  // namespace

std::vector<double> exact_match(ParamSet& ps, const TransformerSpec& spec, const Encoded& e) {
    const int64_t K = ps.n_members(), N = e.inputs.size(0), T = e.T, V = transformer_out_size(spec);
    std::vector<int64_t> right(static_cast<size_t>(K), 0);
    std::vector<int64_t> rows(static_cast<size_t>(N));
    std::iota(rows.begin(), rows.end(), 0);
    for (int64_t s = 0; s < N; s += 512) {
        const int64_t n = std::min<int64_t>(512, N - s);
        Graph g;
        NoGradScope ng(g);
        const Tensor logits = transformer_forward(g, ps, spec, gather_rows(e.inputs, rows.data() + s, n, true)).value();
        for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < n; ++i) {
                bool ok = true;
                for (int64_t t = 0; t < T && ok; ++t) {
                    if (e.mask.data<float>()[(s + i) * T + t] == 0) continue;
                    const float* l = logits.data<float>() + ((k * n + i) * T + t) * V;
                    ok = std::max_element(l, l + V) - l == e.targets.data<int32_t>()[(s + i) * T + t];
                }
                right[size_t(k)] += ok;
            }
    }
    std::vector<double> out(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) out[size_t(k)] = N > 0 ? double(right[size_t(k)]) / double(N) : 0.0;
    return out;
}

std::vector<ArithCurve> train_addition(ParamSet& ps, const TransformerSpec& spec, const Encoded& train, const Encoded& test,
                                       const ArithTrainOptions& o) {
    const int64_t K = ps.n_members(), N = train.inputs.size(0);
    BENCHTOP_CHECK(N >= 1 && o.steps >= 0 && o.batch >= 1 && o.eval_every >= 1 && o.warmup >= 0,
                   "train_addition: needs training problems, steps >= 0, batch >= 1, eval_every >= 1");
    BENCHTOP_CHECK(train.T <= spec.max_seq && test.T <= spec.max_seq, "train_addition: sequences of ", std::max(train.T, test.T),
                   " tokens exceed the model's max_seq ", spec.max_seq);
    Adam adam(ps, AdamOptions{.lr = o.lr, .beta1 = 0.9, .beta2 = o.beta2, .weight_decay = o.weight_decay, .decoupled = true});
    const int64_t B = std::min(o.batch, N);
    std::vector<int64_t> perm(static_cast<size_t>(N));
    int64_t pos = N;  // next row of the permutation; N: draw a new one
    uint64_t epoch = 0;
    std::vector<ArithCurve> curves(static_cast<size_t>(K));
    std::vector<double> loss_sum(static_cast<size_t>(K), 0.0);
    int64_t loss_n = 0;
    auto record = [&](int64_t step) {
        const std::vector<double> acc = exact_match(ps, spec, test);
        for (int64_t k = 0; k < K; ++k) {
            ArithCurve& c = curves[size_t(k)];
            c.steps.push_back(step);
            c.train_loss.push_back(loss_n > 0 ? loss_sum[size_t(k)] / double(loss_n) : NAN);
            c.test_exact.push_back(acc[size_t(k)]);
            loss_sum[size_t(k)] = 0;
        }
        loss_n = 0;
    };
    Graph g;
    std::vector<int64_t> rows(static_cast<size_t>(B));
    for (int64_t step = 0; step < o.steps; ++step) {
        for (int64_t i = 0; i < B; ++i) {
            if (pos == N) {
                std::iota(perm.begin(), perm.end(), 0);
                Rng rng(stream_key(o.data_seed, epoch++, Purpose::Shuffle));
                for (int64_t j = N - 1; j > 0; --j) std::swap(perm[size_t(j)], perm[size_t(rng.below(uint64_t(j + 1)))]);
                pos = 0;
            }
            rows[size_t(i)] = perm[size_t(pos++)];
        }
        const double frac = double(step + 1);
        double lr = o.lr;
        if (o.warmup > 0 && frac <= double(o.warmup)) lr = o.lr * frac / double(o.warmup);
        else if (o.steps > o.warmup) {
            const double t = (frac - double(o.warmup)) / double(o.steps - o.warmup);
            lr = o.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(t, 1.0))));
        }
        adam.set_lr(lr);
        Var loss = answer_loss(g, ps, spec, gather_rows(train.inputs, rows.data(), B, true),
                               gather_rows(train.targets, rows.data(), B, false), gather_rows(train.mask, rows.data(), B, false));
        for (int64_t k = 0; k < K; ++k) loss_sum[size_t(k)] += loss.value().at(k);
        ++loss_n;
        if (step == 0) record(0);
        ps.zero_grad();
        g.backward(loss);
        adam.step();
        g.reset();
        if (o.on_step) o.on_step(step + 1);
        if ((step + 1) % o.eval_every == 0 || step + 1 == o.steps) record(step + 1);
    }
    if (o.steps == 0) record(0);
    return curves;
}

}  // namespace benchtop::arith
