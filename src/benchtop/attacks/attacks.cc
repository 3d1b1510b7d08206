#include "benchtop/attacks/attacks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "benchtop/autograd/graph.h"
#include "benchtop/core/rng.h"
#include "benchtop/ops/loss.h"

namespace benchtop {

namespace {

struct Dims {
    int64_t K, B, D;
};

// x [B, D] or [K, B, D] -> a fresh [K, B, D] copy.
Tensor expand_members(const Tensor& x, int64_t K) {
    BENCHTOP_CHECK(x.dtype() == DType::F32, "attack: inputs must be float32");
    if (x.rank() == 3) {
        BENCHTOP_CHECK(x.size(0) == K, "attack: inputs of ", x.size(0), " members for a stack of ", K);
        return x.clone();
    }
    BENCHTOP_CHECK(x.rank() == 2, "attack: inputs must be [B, D] or [K, B, D], got rank ", x.rank());
    const int64_t B = x.size(0), D = x.size(1);
    Tensor out = Tensor::empty({K, B, D}, DType::F32);
    for (int64_t k = 0; k < K; ++k)
        std::memcpy(out.data<float>() + k * B * D, x.data<float>(), size_t(B * D) * sizeof(float));
    return out;
}

Dims dims_of(const Tensor& x3) { return {x3.size(0), x3.size(1), x3.size(2)}; }

int32_t label_of(const Tensor& y, int64_t k, int64_t b, int64_t B) {
    return y.rank() == 1 ? y.data<int32_t>()[b] : y.data<int32_t>()[k * B + b];
}

// 1 where member k's prediction of example b (logits [K, B, C]) is not y.
std::vector<uint8_t> fooled_by(const Tensor& logits, const Tensor& y) {
    const int64_t K = logits.size(0), B = logits.size(1), C = logits.size(2);
    std::vector<uint8_t> out(size_t(K * B));
    const float* l = logits.data<float>();
    for (int64_t k = 0; k < K; ++k)
        for (int64_t b = 0; b < B; ++b) {
            const float* row = l + (k * B + b) * C;
            const int64_t pred = std::max_element(row, row + C) - row;
            out[size_t(k * B + b)] = pred != label_of(y, k, b, B) ? 1 : 0;
        }
    return out;
}

double l2(const float* a, const float* b, int64_t D) {
    double s = 0;
    for (int64_t i = 0; i < D; ++i) {
        const double d = double(a[i]) - double(b[i]);
        s += d * d;
    }
    return std::sqrt(s);
}

// Moves adv's row into the ball of radius eps around x's row.
void project(float* adv, const float* x, int64_t D, Norm norm, double eps) {
    if (norm == Norm::Linf) {
        for (int64_t i = 0; i < D; ++i) {
            const double d = std::clamp(double(adv[i]) - double(x[i]), -eps, eps);
            adv[i] = float(double(x[i]) + d);
            // Rounding to float may step just outside; pull back by one ulp.
            if (std::abs(double(adv[i]) - double(x[i])) > eps)
                adv[i] = std::nextafter(adv[i], x[i]);
        }
    } else {
        const double n = l2(adv, x, D);
        if (n <= eps) return;
        // Rounding to float may leave the point a hair outside: aim inside, by more each time.
        for (int attempt = 0; attempt < 30; ++attempt) {
            const double target = eps * (1 - 1e-6 * std::pow(4.0, attempt));
            const double scale = target / l2(adv, x, D);
            for (int64_t i = 0; i < D; ++i) adv[i] = float(double(x[i]) + (double(adv[i]) - double(x[i])) * scale);
            if (l2(adv, x, D) <= eps) return;
        }
        std::memcpy(adv, x, size_t(D) * sizeof(float));  // (never reached in practice)
    }
}

Rng member_rng(const std::vector<uint64_t>& seeds, int64_t k, uint64_t stream) {
    BENCHTOP_CHECK(k < int64_t(seeds.size()), "attack: ", seeds.size(), " seeds for member ", k);
    return Rng(stream_key(seeds[size_t(k)], stream, Purpose::Other));
}

}  // namespace

Tensor ClassifierTarget::logits(const Tensor& x) {
    Graph g;
    NoGradScope ng(g);
    Var out = classifier_forward(ps_, spec_, g.input(x));
    return out.value().clone();
}

Tensor ClassifierTarget::loss_gradient(const Tensor& x, const Tensor& y, Tensor* logits) {
    Graph g;
    Var xv = g.variable(x);
    Var out = classifier_forward(ps_, spec_, xv);
    Var loss = cross_entropy(out, y, Reduction::Sum);
    g.backward(loss);
    Tensor grad = g.grad(xv).clone();
    if (logits) *logits = out.value().clone();
    ps_.zero_grad();
    return grad;
}

Tensor ClassifierTarget::logit_gradients(const Tensor& x, Tensor* logits) {
    // One backward pass per class, each from a graph of its own.
    const int64_t C = spec_.out;
    Tensor out = Tensor::empty({C, x.size(0), x.size(1), x.size(2)}, x.dtype());
    for (int64_t c = 0; c < C; ++c) {
        Graph g;
        Var xv = g.variable(x);
        Var z = classifier_forward(ps_, spec_, xv);
        if (c == 0 && logits) *logits = z.value().clone();
        Tensor seed = Tensor::zeros(z.shape(), z.dtype());
        for (int64_t r = 0; r < x.size(0) * x.size(1); ++r) seed.set(r * C + c, 1.0);
        g.backward(z, seed);
        Tensor dst = out.member(c);
        dst.copy_from(g.grad(xv).reshape(dst.shape()));
        ps_.zero_grad();
    }
    return out;
}

std::vector<uint8_t> correct_mask(AttackTarget& target, const Tensor& x, const Tensor& y) {
    const Tensor x3 = expand_members(x, target.members());
    std::vector<uint8_t> f = fooled_by(target.logits(x3), y);
    for (uint8_t& v : f) v = v ? 0 : 1;
    return f;
}

std::vector<double> attacked_accuracy(AttackTarget& target, const Tensor& x, const Tensor& y) {
    const Tensor x3 = expand_members(x, target.members());
    const Dims d = dims_of(x3);
    const std::vector<uint8_t> ok = correct_mask(target, x3, y);
    std::vector<double> acc(size_t(d.K), 0.0);
    for (int64_t k = 0; k < d.K; ++k) {
        int64_t n = 0;
        for (int64_t b = 0; b < d.B; ++b) n += ok[size_t(k * d.B + b)];
        acc[size_t(k)] = double(n) / double(d.B);
    }
    return acc;
}

Tensor fgsm(AttackTarget& target, const Tensor& x, const Tensor& y, double eps) {
    const Tensor x0 = expand_members(x, target.members());
    const Tensor g = target.loss_gradient(x0, y);
    Tensor adv = x0.clone();
    float* a = adv.data<float>();
    const float* gp = g.data<float>();
    const Dims d = dims_of(x0);
    for (int64_t r = 0; r < d.K * d.B; ++r) {
        for (int64_t i = 0; i < d.D; ++i) {
            const float s = gp[r * d.D + i] > 0 ? 1.f : (gp[r * d.D + i] < 0 ? -1.f : 0.f);
            a[r * d.D + i] = float(double(a[r * d.D + i]) + eps * s);
        }
        project(a + r * d.D, x0.data<float>() + r * d.D, d.D, Norm::Linf, eps);
    }
    return adv;
}

Tensor pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const PgdOptions& o,
           const std::vector<uint64_t>& seeds) {
    const int64_t K = target.members();
    const int64_t B = x.rank() == 3 ? x.size(1) : x.size(0);
    return pgd(target, x, y, o, std::vector<double>(size_t(K * B), o.eps), seeds);
}

Tensor pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const PgdOptions& o,
           const std::vector<double>& eps, const std::vector<uint64_t>& seeds) {
    const Tensor x0 = expand_members(x, target.members());
    const Dims d = dims_of(x0);
    BENCHTOP_CHECK(int64_t(eps.size()) == d.K * d.B, "pgd: ", eps.size(), " radii for ", d.K * d.B, " examples");
    BENCHTOP_CHECK(o.steps >= 1, "pgd: steps must be at least 1");
    const float* xc = x0.data<float>();
    Tensor adv = x0.clone();
    float* a = adv.data<float>();
    if (o.random_start) {
        for (int64_t k = 0; k < d.K; ++k) {
            Rng rng = member_rng(seeds, k, 1);
            for (int64_t b = 0; b < d.B; ++b) {
                const int64_t r = k * d.B + b;
                const double e = eps[size_t(r)];
                float* row = a + r * d.D;
                if (o.norm == Norm::Linf) {
                    for (int64_t i = 0; i < d.D; ++i) row[i] = float(double(row[i]) + rng.uniform(-e, e));
                } else {
                    std::vector<double> z(size_t(d.D));
                    double n = 0;
                    for (double& v : z) {
                        v = rng.normal();
                        n += v * v;
                    }
                    n = std::sqrt(n);
                    const double radius = e * std::pow(rng.uniform(), 1.0 / double(d.D));
                    for (int64_t i = 0; i < d.D; ++i) row[i] = float(double(row[i]) + radius * z[size_t(i)] / n);
                }
                project(row, xc + r * d.D, d.D, o.norm, e);
            }
        }
    }
    // The first misclassified iterate of each example is its result.
    Tensor best = adv.clone();
    std::vector<uint8_t> found(size_t(d.K * d.B), 0);
    auto keep = [&](const Tensor& logits) {
        const std::vector<uint8_t> f = fooled_by(logits, y);
        for (int64_t r = 0; r < d.K * d.B; ++r)
            if (f[size_t(r)] && !found[size_t(r)]) {
                found[size_t(r)] = 1;
                std::memcpy(best.data<float>() + r * d.D, a + r * d.D, size_t(d.D) * sizeof(float));
            }
    };
    for (int64_t t = 0; t < o.steps; ++t) {
        Tensor logits;
        const Tensor g = target.loss_gradient(adv, y, &logits);
        keep(logits);
        const float* gp = g.data<float>();
        for (int64_t r = 0; r < d.K * d.B; ++r) {
            if (found[size_t(r)]) continue;
            const double e = eps[size_t(r)];
            const double alpha = o.step_size > 0 ? o.step_size : 2.5 * e / double(o.steps);
            float* row = a + r * d.D;
            const float* gr = gp + r * d.D;
            if (o.norm == Norm::Linf) {
                for (int64_t i = 0; i < d.D; ++i)
                    row[i] = float(double(row[i]) + alpha * (gr[i] > 0 ? 1.0 : (gr[i] < 0 ? -1.0 : 0.0)));
            } else {
                double n = 0;
                for (int64_t i = 0; i < d.D; ++i) n += double(gr[i]) * double(gr[i]);
                n = std::sqrt(n);
                if (n > 0)
                    for (int64_t i = 0; i < d.D; ++i) row[i] = float(double(row[i]) + alpha * double(gr[i]) / n);
            }
            project(row, xc + r * d.D, d.D, o.norm, e);
        }
    }
    keep(target.logits(adv));
    for (int64_t r = 0; r < d.K * d.B; ++r)
        if (!found[size_t(r)]) std::memcpy(best.data<float>() + r * d.D, a + r * d.D, size_t(d.D) * sizeof(float));
    return best;
}

MinimalL2 minimal_l2_pgd(AttackTarget& target, const Tensor& x, const Tensor& y, const MinimalL2Options& o,
                         const std::vector<uint64_t>& seeds) {
    const Tensor x0 = expand_members(x, target.members());
    const Dims d = dims_of(x0);
    const size_t n = size_t(d.K * d.B);
    PgdOptions po = o.pgd;
    po.norm = Norm::L2;
    MinimalL2 out{std::vector<double>(n, kNotFound), x0.clone()};
    const std::vector<uint8_t> wrong = fooled_by(target.logits(x0), y);
    std::vector<double> lo(n, 0.0), hi(n, o.max_eps);
    auto attempt = [&](const std::vector<double>& eps) {
        const Tensor adv = pgd(target, x0, y, po, eps, seeds);
        const std::vector<uint8_t> f = fooled_by(target.logits(adv), y);
        return std::make_pair(adv, f);
    };
    auto take = [&](const Tensor& adv, size_t r) {
        std::memcpy(out.adversarial.data<float>() + r * size_t(d.D), adv.data<float>() + r * size_t(d.D),
                    size_t(d.D) * sizeof(float));
        out.distance[r] = l2(adv.data<float>() + r * size_t(d.D), x0.data<float>() + r * size_t(d.D), d.D);
    };
    {
        auto [adv, f] = attempt(hi);
        for (size_t r = 0; r < n; ++r) {
            if (wrong[r]) out.distance[r] = 0;
            else if (f[r]) take(adv, r);
        }
    }
    for (int64_t i = 0; i < o.bisections; ++i) {
        std::vector<double> mid(n);
        for (size_t r = 0; r < n; ++r) mid[r] = 0.5 * (lo[r] + hi[r]);
        auto [adv, f] = attempt(mid);
        for (size_t r = 0; r < n; ++r) {
            if (wrong[r] || out.distance[r] == kNotFound) continue;
            if (f[r]) {
                hi[r] = mid[r];
                if (l2(adv.data<float>() + r * size_t(d.D), x0.data<float>() + r * size_t(d.D), d.D) < out.distance[r])
                    take(adv, r);
            } else {
                lo[r] = mid[r];
            }
        }
    }
    return out;
}

MinimalL2 deepfool(AttackTarget& target, const Tensor& x, const Tensor& y, const DeepFoolOptions& o) {
    const Tensor x0 = expand_members(x, target.members());
    const Dims d = dims_of(x0);
    const size_t n = size_t(d.K * d.B);
    MinimalL2 out{std::vector<double>(n, kNotFound), x0.clone()};
    float* a = out.adversarial.data<float>();
    for (int64_t it = 0; it <= o.max_iterations; ++it) {
        Tensor logits;
        const Tensor grads = target.logit_gradients(out.adversarial, &logits);
        const std::vector<uint8_t> f = fooled_by(logits, y);
        const int64_t C = logits.size(2);
        bool any = false;
        for (int64_t k = 0; k < d.K; ++k)
            for (int64_t b = 0; b < d.B; ++b) {
                const size_t row = size_t(k * d.B + b);
                if (out.distance[row] != kNotFound) continue;
                if (f[row]) {
                    out.distance[row] = l2(a + row * size_t(d.D), x0.data<float>() + row * size_t(d.D), d.D);
                    continue;
                }
                if (it == o.max_iterations) continue;
                any = true;
                const int32_t label = label_of(y, k, b, d.B);
                const float* z = logits.data<float>() + int64_t(row) * C;
                auto grad = [&](int64_t c) { return grads.data<float>() + ((c * d.K + k) * d.B + b) * d.D; };
                double best = kNotFound, best_f = 0, best_nn = 1;
                int64_t best_c = -1;
                for (int64_t c = 0; c < C; ++c) {
                    if (c == label) continue;
                    const double fc = double(z[c]) - double(z[label]);
                    double nn = 0;
                    for (int64_t i = 0; i < d.D; ++i) {
                        const double w = double(grad(c)[i]) - double(grad(label)[i]);
                        nn += w * w;
                    }
                    if (nn <= 0) continue;
                    const double dist = std::abs(fc) / std::sqrt(nn);
                    if (dist < best) best = dist, best_f = fc, best_nn = nn, best_c = c;
                }
                if (best_c < 0) continue;
                const double step = (std::abs(best_f) + 1e-6) / best_nn * (1 + o.overshoot);
                float* row_a = a + row * size_t(d.D);
                for (int64_t i = 0; i < d.D; ++i)
                    row_a[i] = float(double(row_a[i]) + step * (double(grad(best_c)[i]) - double(grad(label)[i])));
            }
        if (!any) break;
    }
    for (size_t row = 0; row < n; ++row)
        if (out.distance[row] == kNotFound)  // not fooled: leave the clean input
            std::memcpy(a + row * size_t(d.D), x0.data<float>() + row * size_t(d.D), size_t(d.D) * sizeof(float));
    return out;
}

MinimalL2 boundary_attack(AttackTarget& target, const Tensor& x, const Tensor& y, const Tensor& starts,
                          const BoundaryOptions& o, const std::vector<uint64_t>& seeds) {
    const Tensor x0 = expand_members(x, target.members());
    const Dims d = dims_of(x0);
    const size_t n = size_t(d.K * d.B);
    BENCHTOP_CHECK(starts.rank() == 2 && starts.size(1) == d.D, "boundary_attack: starts must be [S, ", d.D, "]");
    const float* xc = x0.data<float>();
    MinimalL2 out{std::vector<double>(n, kNotFound), x0.clone()};
    float* cur = out.adversarial.data<float>();
    const std::vector<uint8_t> wrong = fooled_by(target.logits(x0), y);

    // Start: the nearest of `starts` the member does not classify as y.
    const int64_t S = starts.size(0);
    const Tensor start_logits = target.logits(expand_members(starts, d.K));
    std::vector<uint8_t> has_start(n, 0);
    for (int64_t k = 0; k < d.K; ++k) {
        for (int64_t b = 0; b < d.B; ++b) {
            const size_t r = size_t(k * d.B + b);
            if (wrong[r]) {
                out.distance[r] = 0;
                continue;
            }
            const int32_t label = label_of(y, k, b, d.B);
            double best = kNotFound;
            int64_t best_s = -1;
            for (int64_t s = 0; s < S; ++s) {
                const float* lr = start_logits.data<float>() + (k * S + s) * start_logits.size(2);
                const int64_t pred = std::max_element(lr, lr + start_logits.size(2)) - lr;
                if (pred == label) continue;
                const double dist = l2(starts.data<float>() + s * d.D, xc + r * size_t(d.D), d.D);
                if (dist < best) best = dist, best_s = s;
            }
            if (best_s >= 0) {
                std::memcpy(cur + r * size_t(d.D), starts.data<float>() + best_s * d.D, size_t(d.D) * sizeof(float));
                has_start[r] = 1;
            }
        }
    }
    // Otherwise noise of growing size.
    {
        std::vector<Rng> rngs;
        for (int64_t k = 0; k < d.K; ++k) rngs.push_back(member_rng(seeds, k, 2));
        Tensor trial = x0.clone();
        for (int64_t t = 0; t < o.init_tries; ++t) {
            bool any = false;
            for (int64_t k = 0; k < d.K; ++k)
                for (int64_t b = 0; b < d.B; ++b) {
                    const size_t r = size_t(k * d.B + b);
                    float* row = trial.data<float>() + r * size_t(d.D);
                    if (wrong[r] || has_start[r]) continue;
                    any = true;
                    const double scale = 0.5 * double(t + 1);
                    for (int64_t i = 0; i < d.D; ++i) row[i] = float(double(xc[r * size_t(d.D) + size_t(i)]) + scale * rngs[size_t(k)].normal());
                }
            if (!any) break;
            const std::vector<uint8_t> f = fooled_by(target.logits(trial), y);
            for (size_t r = 0; r < n; ++r)
                if (!wrong[r] && !has_start[r] && f[r]) {
                    std::memcpy(cur + r * size_t(d.D), trial.data<float>() + r * size_t(d.D), size_t(d.D) * sizeof(float));
                    has_start[r] = 1;
                }
        }
    }
    // Bisection on the segment from x to the start: the boundary point nearest the start's side.
    {
        std::vector<double> lo(n, 0.0), hi(n, 1.0);
        const Tensor far = out.adversarial.clone();
        Tensor trial = x0.clone();
        auto point = [&](size_t r, double lam, float* dst) {
            for (int64_t i = 0; i < d.D; ++i) {
                const size_t j = r * size_t(d.D) + size_t(i);
                dst[i] = float(double(xc[j]) + lam * (double(far.data<float>()[j]) - double(xc[j])));
            }
        };
        for (int it = 0; it < 20; ++it) {
            for (size_t r = 0; r < n; ++r)
                if (has_start[r]) point(r, 0.5 * (lo[r] + hi[r]), trial.data<float>() + r * size_t(d.D));
            const std::vector<uint8_t> f = fooled_by(target.logits(trial), y);
            for (size_t r = 0; r < n; ++r) {
                if (!has_start[r]) continue;
                (f[r] ? hi[r] : lo[r]) = 0.5 * (lo[r] + hi[r]);
            }
        }
        for (size_t r = 0; r < n; ++r)
            if (has_start[r]) point(r, hi[r], cur + r * size_t(d.D));
        // hi is adversarial by construction, except hi = 1 (the start itself), which is too.
    }
    // Random walk along the boundary towards x.
    std::vector<double> spherical(n, o.spherical), source(n, o.source);
    std::vector<int> tries(n, 0), wins(n, 0);
    std::vector<Rng> rngs;
    for (int64_t k = 0; k < d.K; ++k) rngs.push_back(member_rng(seeds, k, 3));
    Tensor cand = out.adversarial.clone();
    std::vector<double> z(size_t(d.D));
    for (int64_t t = 0; t < o.steps; ++t) {
        for (int64_t k = 0; k < d.K; ++k)
            for (int64_t b = 0; b < d.B; ++b) {
                const size_t r = size_t(k * d.B + b);
                float* c = cand.data<float>() + r * size_t(d.D);
                const float* p = cur + r * size_t(d.D);
                const float* xr = xc + r * size_t(d.D);
                if (!has_start[r]) continue;
                const double dist = l2(p, xr, d.D);
                // A Gaussian step orthogonal to (p - x), of size spherical * dist; back onto the
                // sphere of radius dist around x; then a step of source * dist towards x.
                double dot = 0, uu = 0;
                for (int64_t i = 0; i < d.D; ++i) {
                    z[size_t(i)] = rngs[size_t(k)].normal();
                    dot += z[size_t(i)] * (double(p[i]) - double(xr[i]));
                }
                for (int64_t i = 0; i < d.D; ++i) {
                    z[size_t(i)] -= dot / (dist * dist) * (double(p[i]) - double(xr[i]));
                    uu += z[size_t(i)] * z[size_t(i)];
                }
                const double step = spherical[r] * dist / std::sqrt(std::max(uu, 1e-300));
                double nn = 0;
                for (int64_t i = 0; i < d.D; ++i) {
                    const double v = double(p[i]) - double(xr[i]) + step * z[size_t(i)];
                    z[size_t(i)] = v;
                    nn += v * v;
                }
                const double scale = dist / std::sqrt(nn) * (1 - source[r]);
                for (int64_t i = 0; i < d.D; ++i) c[i] = float(double(xr[i]) + scale * z[size_t(i)]);
            }
        const std::vector<uint8_t> f = fooled_by(target.logits(cand), y);
        for (size_t r = 0; r < n; ++r) {
            if (!has_start[r]) continue;
            float* c = cand.data<float>() + r * size_t(d.D);
            const bool better = f[r] && l2(c, xc + r * size_t(d.D), d.D) < l2(cur + r * size_t(d.D), xc + r * size_t(d.D), d.D);
            ++tries[r];
            if (better) {
                ++wins[r];
                std::memcpy(cur + r * size_t(d.D), c, size_t(d.D) * sizeof(float));
            }
            if (tries[r] == 10) {  // aim at about a third of the proposals accepted
                const double rate = wins[r] / 10.0;
                const double f_up = rate > 0.3 ? 1.5 : 1 / 1.5;
                source[r] = std::clamp(source[r] * f_up, 1e-5, 0.5);
                spherical[r] = std::clamp(spherical[r] * (rate > 0.3 ? 1.1 : 1 / 1.1), 1e-4, 1.0);
                tries[r] = wins[r] = 0;
            }
        }
    }
    for (size_t r = 0; r < n; ++r)
        if (has_start[r]) out.distance[r] = l2(cur + r * size_t(d.D), xc + r * size_t(d.D), d.D);
    return out;
}

std::vector<uint8_t> robust_mask(const std::vector<uint8_t>& clean_correct,
                                 const std::vector<std::vector<uint8_t>>& fooled) {
    std::vector<uint8_t> out = clean_correct;
    for (const std::vector<uint8_t>& f : fooled) {
        BENCHTOP_CHECK(f.size() == out.size(), "robust_mask: an attack's result has ", f.size(), " entries, not ",
                       out.size());
        for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] && !f[i];
    }
    return out;
}

double robust_fraction(const std::vector<double>& distances, double radius) {
    BENCHTOP_CHECK(!distances.empty(), "robust_fraction of no examples");
    int64_t robust = 0;
    for (double d : distances) robust += d > radius ? 1 : 0;
    return double(robust) / double(distances.size());
}

std::string radius_key(const std::string& what, double radius) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s_eps%g", what.c_str(), radius);
    return buf;
}

double median(std::vector<double> v) {
    BENCHTOP_CHECK(!v.empty(), "median of no values");
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    if (v.size() % 2) return v[m];
    if (std::isinf(v[m]) || std::isinf(v[m - 1])) return v[m];
    return 0.5 * (v[m - 1] + v[m]);
}

}  // namespace benchtop
