#include "benchtop/analysis/sharpness.h"

#include <cmath>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {

namespace {

// Per-member view of entry e: K slices of `per` values.
template <class F>
void for_members(const Tensor& t, int64_t K, F&& f) {
    const int64_t per = t.numel() / K;
    for (int64_t k = 0; k < K; ++k) f(k, k * per, per);
}

Direction grads_of(ParamSet& ps) {
    Direction g;
    for (const ParamSet::Entry& e : ps.entries()) g.push_back(e.grad.clone());
    return g;
}

// ps values = base + s * v (s per member).
void set_shifted(ParamSet& ps, const Direction& base, const Direction& v, const std::vector<double>& s) {
    std::vector<ParamSet::Entry>& es = ps.entries();
    const int64_t K = ps.n_members();
    for (size_t i = 0; i < es.size(); ++i) {
        dispatch_float(es[i].value.dtype(), "hessian_vector_product", [&](auto tag) {
            using T = decltype(tag);
            T* out = es[i].value.template data<T>();
            const T* b = base[i].template data<T>();
            const T* d = v[i].template data<T>();
            for_members(es[i].value, K, [&](int64_t k, int64_t off, int64_t n) {
                const auto sk = static_cast<T>(s[size_t(k)]);
                for (int64_t j = off; j < off + n; ++j) out[j] = b[j] + sk * d[j];
            });
        });
    }
}

}  // namespace

std::vector<double> member_dot(const Direction& a, const Direction& b) {
    BENCHTOP_CHECK(a.size() == b.size() && !a.empty(), "member_dot: directions of ", a.size(), " and ", b.size(),
                   " tensors");
    const int64_t K = a[0].size(0);
    std::vector<double> out(static_cast<size_t>(K), 0.0);
    for (size_t i = 0; i < a.size(); ++i) {
        BENCHTOP_CHECK(a[i].shape() == b[i].shape(), "member_dot: tensor ", i, " shapes differ");
        for_members(a[i], K, [&](int64_t k, int64_t off, int64_t n) {
            double s = 0;
            for (int64_t j = off; j < off + n; ++j) s += a[i].at(j) * b[i].at(j);
            out[size_t(k)] += s;
        });
    }
    return out;
}

Direction hessian_vector_product(ParamSet& ps, const GradientOracle& grad, const Direction& v, double eps) {
    BENCHTOP_CHECK(eps > 0, "hessian_vector_product: eps must be positive, got ", eps);
    const int64_t K = ps.n_members();
    BENCHTOP_CHECK(v.size() == ps.entries().size(), "hessian_vector_product: direction has ", v.size(),
                   " tensors for ", ps.entries().size(), " parameters");
    Direction base;
    for (const ParamSet::Entry& e : ps.entries()) base.push_back(e.value.clone());
    set_shifted(ps, base, v, std::vector<double>(size_t(K), eps));
    ps.zero_grad();
    grad(ps);
    Direction plus = grads_of(ps);
    set_shifted(ps, base, v, std::vector<double>(size_t(K), -eps));
    ps.zero_grad();
    grad(ps);
    std::vector<ParamSet::Entry>& es = ps.entries();
    for (size_t i = 0; i < es.size(); ++i) {
        es[i].value.copy_from(base[i]);
        dispatch_float(plus[i].dtype(), "hessian_vector_product", [&](auto tag) {
            using T = decltype(tag);
            T* p = plus[i].template data<T>();
            const T* m = es[i].grad.template data<T>();
            for (int64_t j = 0; j < plus[i].numel(); ++j) p[j] = (p[j] - m[j]) / static_cast<T>(2 * eps);
        });
    }
    return plus;
}

SharpnessResult top_hessian_eigenvalue(ParamSet& ps, const GradientOracle& grad, const SharpnessOptions& o) {
    BENCHTOP_CHECK(o.iterations >= 1, "top_hessian_eigenvalue: iterations must be >= 1");
    const int64_t K = ps.n_members();
    // Start: a Gaussian vector per member, normalised.
    Direction v;
    std::vector<Rng> rngs;
    for (int64_t k = 0; k < K; ++k) rngs.emplace_back(stream_key(o.seed, uint64_t(k), Purpose::Other));
    for (const ParamSet::Entry& e : ps.entries()) {
        Tensor t = Tensor::empty(e.value.shape(), e.value.dtype());
        dispatch_float(t.dtype(), "top_hessian_eigenvalue", [&](auto tag) {
            using T = decltype(tag);
            T* p = t.template data<T>();
            for_members(t, K, [&](int64_t k, int64_t off, int64_t n) {
                for (int64_t j = off; j < off + n; ++j) p[j] = static_cast<T>(rngs[size_t(k)].normal());
            });
        });
        v.push_back(t);
    }
    auto normalise = [&](Direction& d) {
        std::vector<double> n2 = member_dot(d, d);
        for (Tensor& t : d)
            dispatch_float(t.dtype(), "top_hessian_eigenvalue", [&](auto tag) {
                using T = decltype(tag);
                T* p = t.template data<T>();
                for_members(t, K, [&](int64_t k, int64_t off, int64_t n) {
                    const double inv = n2[size_t(k)] > 0 ? 1.0 / std::sqrt(n2[size_t(k)]) : 0.0;
                    for (int64_t j = off; j < off + n; ++j) p[j] = static_cast<T>(p[j] * inv);
                });
            });
    };
    normalise(v);
    const Direction start = v;
    SharpnessResult r;
    r.eigenvalue.assign(size_t(K), 0.0);
    r.last_change.assign(size_t(K), 0.0);
    std::vector<double> shift(static_cast<size_t>(K), 0.0);
    // v <- (H - shift) v, and the Rayleigh quotient of H - shift.
    auto iterate = [&]() {
    for (int it = 0; it < o.iterations; ++it) {
        Direction hv = hessian_vector_product(ps, grad, v, o.eps);
        for (size_t i = 0; i < hv.size(); ++i)
            dispatch_float(hv[i].dtype(), "top_hessian_eigenvalue", [&](auto tag) {
                using T = decltype(tag);
                T* p = hv[i].template data<T>();
                const T* q = v[i].template data<T>();
                for_members(hv[i], K, [&](int64_t k, int64_t off, int64_t n) {
                    const auto sk = static_cast<T>(shift[size_t(k)]);
                    if (sk != 0)
                        for (int64_t j = off; j < off + n; ++j) p[j] -= sk * q[j];
                });
            });
        std::vector<double> lambda = member_dot(v, hv);
        for (int64_t k = 0; k < K; ++k) {
            const double prev = r.eigenvalue[size_t(k)];
            r.last_change[size_t(k)] = std::abs(lambda[size_t(k)] - prev) / std::max(1e-300, std::abs(lambda[size_t(k)]));
            r.eigenvalue[size_t(k)] = lambda[size_t(k)];
        }
        v = std::move(hv);
        normalise(v);
    }
    };
    iterate();
    if (o.largest_algebraic) {
        bool any_negative = false;
        for (int64_t k = 0; k < K; ++k) {
            shift[size_t(k)] = std::min(0.0, r.eigenvalue[size_t(k)]);
            any_negative = any_negative || shift[size_t(k)] < 0;
        }
        if (any_negative) {
            std::vector<double> first = r.eigenvalue, first_change = r.last_change;
            v = start;
            iterate();
            for (int64_t k = 0; k < K; ++k) {
                if (shift[size_t(k)] == 0) {  // already positive: keep the first run's result
                    r.eigenvalue[size_t(k)] = first[size_t(k)];
                    r.last_change[size_t(k)] = first_change[size_t(k)];
                } else {
                    r.eigenvalue[size_t(k)] += shift[size_t(k)];
                }
            }
        }
    }
    return r;
}

ParamSet convert_params(const ParamSet& ps, DType dtype) {
    ParamSet out(ps.n_members(), dtype);
    for (const ParamSet::Entry& e : ps.entries()) {
        std::vector<int64_t> dims = e.value.shape().vec();
        dims.erase(dims.begin());
        out.add(e.name, Shape(dims)).copy_from(e.value);
    }
    return out;
}

}  // namespace benchtop
