// Parameter initialisers: see init.h. Each member is filled from its own Rng stream keyed by
// (seed, hash of the parameter name); values are drawn in double and stored in the set's dtype.
#include "benchtop/nn/init.h"

#include <cmath>

#include "benchtop/core/rng.h"

namespace benchtop {

uint64_t fnv1a_64(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

Fans compute_fans(const Shape& shape) {
    BENCHTOP_CHECK(shape.rank() >= 2,
                   "init: fan in and fan out need a parameter of rank >= 2, got ", shape.str());
    int64_t receptive = 1;
    for (int i = 2; i < shape.rank(); ++i) receptive *= shape[i];
    return {shape[1] * receptive, shape[0] * receptive};
}

namespace {

Shape per_member_shape(const Tensor& t) {
    std::vector<int64_t> d = t.shape().vec();
    d.erase(d.begin());
    return Shape(d);
}

enum class Dist { Uniform, Normal };

// Fills every member of `name`: uniform(-a, a) or normal(0, a), times scale[k].
void fill(ParamSet& ps,
          const std::string& name,
          std::span<const uint64_t> seeds,
          std::span<const double> scale,
          Dist dist,
          double a,
          const char* what) {
    const int64_t k_n = ps.n_members();
    BENCHTOP_CHECK(static_cast<int64_t>(seeds.size()) == k_n, what, ": parameter '", name,
                   "' needs one seed per member (", k_n, "), got ", seeds.size());
    BENCHTOP_CHECK(scale.empty() || static_cast<int64_t>(scale.size()) == k_n, what,
                   ": parameter '", name, "' needs one scale per member (", k_n, ") or none, got ",
                   scale.size());
    Tensor& v = ps.value(name);
    const uint64_t name_hash = fnv1a_64(name);
    for (int64_t k = 0; k < k_n; ++k) {
        Rng rng(stream_key(seeds[static_cast<size_t>(k)], name_hash, Purpose::Init));
        const double s = scale.empty() ? 1.0 : scale[static_cast<size_t>(k)];
        Tensor m = v.member(k);
        dispatch_float(m.dtype(), what, [&](auto tag) {
            using T = decltype(tag);
            T* p = m.data<T>();
            for (int64_t i = 0; i < m.numel(); ++i) {
                double x = dist == Dist::Uniform ? rng.uniform(-a, a) : a * rng.normal();
                p[i] = static_cast<T>(s * x);
            }
        });
    }
}

int64_t pick_fan(const Fans& f, FanMode mode) {
    return mode == FanMode::FanIn ? f.fan_in : f.fan_out;
}

}  // namespace

void init_default(ParamSet& ps,
                  const std::string& name,
                  std::span<const uint64_t> seeds,
                  std::span<const double> scale,
                  int64_t bias_fan_in) {
    int64_t fan_in =
        bias_fan_in > 0 ? bias_fan_in : compute_fans(per_member_shape(ps.value(name))).fan_in;
    double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    fill(ps, name, seeds, scale, Dist::Uniform, bound, "init_default");
}

void init_kaiming_normal(ParamSet& ps,
                         const std::string& name,
                         std::span<const uint64_t> seeds,
                         std::span<const double> scale,
                         double gain,
                         FanMode mode) {
    int64_t fan = pick_fan(compute_fans(per_member_shape(ps.value(name))), mode);
    BENCHTOP_CHECK(fan > 0, "init_kaiming_normal: parameter '", name, "' has zero fan");
    fill(ps, name, seeds, scale, Dist::Normal, gain / std::sqrt(static_cast<double>(fan)),
         "init_kaiming_normal");
}

void init_kaiming_uniform(ParamSet& ps,
                          const std::string& name,
                          std::span<const uint64_t> seeds,
                          std::span<const double> scale,
                          double gain,
                          FanMode mode) {
    int64_t fan = pick_fan(compute_fans(per_member_shape(ps.value(name))), mode);
    BENCHTOP_CHECK(fan > 0, "init_kaiming_uniform: parameter '", name, "' has zero fan");
    fill(ps, name, seeds, scale, Dist::Uniform, gain * std::sqrt(3.0 / static_cast<double>(fan)),
         "init_kaiming_uniform");
}

void init_xavier_normal(ParamSet& ps,
                        const std::string& name,
                        std::span<const uint64_t> seeds,
                        std::span<const double> scale,
                        double gain) {
    Fans f = compute_fans(per_member_shape(ps.value(name)));
    BENCHTOP_CHECK(f.fan_in + f.fan_out > 0, "init_xavier_normal: parameter '", name,
                   "' has zero fans");
    fill(ps, name, seeds, scale, Dist::Normal,
         gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out)), "init_xavier_normal");
}

void init_xavier_uniform(ParamSet& ps,
                         const std::string& name,
                         std::span<const uint64_t> seeds,
                         std::span<const double> scale,
                         double gain) {
    Fans f = compute_fans(per_member_shape(ps.value(name)));
    BENCHTOP_CHECK(f.fan_in + f.fan_out > 0, "init_xavier_uniform: parameter '", name,
                   "' has zero fans");
    fill(ps, name, seeds, scale, Dist::Uniform,
         gain * std::sqrt(6.0 / static_cast<double>(f.fan_in + f.fan_out)), "init_xavier_uniform");
}

void init_zeros(ParamSet& ps, const std::string& name) {
    ps.value(name).zero();
}

}  // namespace benchtop
