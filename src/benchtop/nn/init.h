// Parameter initialisers over one ParamSet entry, applied member by member.
// Member k draws from Rng(stream_key(seeds[k], fnv1a_64(name), Purpose::Init)), so its values
// depend only on (seeds[k], parameter name): never on K or on k's position in the stack.
// Fan-in/fan-out follow PyTorch: per-member shape [out, in, *kernel]; fan_in = in * prod(kernel).
// `scale` multiplies member k's values by scale[k] (empty = 1); `seeds` must have K entries.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "benchtop/nn/params.h"

namespace benchtop {

// 64-bit FNV-1a hash of a string (stable across platforms and runs).
uint64_t fnv1a_64(std::string_view s);

enum class FanMode { FanIn, FanOut };

struct Fans {
    int64_t fan_in = 0;
    int64_t fan_out = 0;
};
// Fans of a per-member shape, PyTorch's _calculate_fan_in_and_fan_out (rank >= 2).
Fans compute_fans(const Shape& per_member_shape);

// PyTorch's default Linear/Conv init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)). For a bias pass
// the weight's fan_in explicitly (bias_fan_in > 0); for a weight leave it 0.
void init_default(ParamSet& ps,
                  const std::string& name,
                  std::span<const uint64_t> seeds,
                  std::span<const double> scale = {},
                  int64_t bias_fan_in = 0);
// Kaiming (He) normal: std = gain / sqrt(fan); gain defaults to sqrt(2) (relu).
void init_kaiming_normal(ParamSet& ps,
                         const std::string& name,
                         std::span<const uint64_t> seeds,
                         std::span<const double> scale = {},
                         double gain = 1.4142135623730951,
                         FanMode mode = FanMode::FanIn);
// Kaiming uniform: bound = gain * sqrt(3 / fan).
void init_kaiming_uniform(ParamSet& ps,
                          const std::string& name,
                          std::span<const uint64_t> seeds,
                          std::span<const double> scale = {},
                          double gain = 1.4142135623730951,
                          FanMode mode = FanMode::FanIn);
// Xavier (Glorot) normal: std = gain * sqrt(2 / (fan_in + fan_out)).
void init_xavier_normal(ParamSet& ps,
                        const std::string& name,
                        std::span<const uint64_t> seeds,
                        std::span<const double> scale = {},
                        double gain = 1.0);
// Xavier uniform: bound = gain * sqrt(6 / (fan_in + fan_out)).
void init_xavier_uniform(ParamSet& ps,
                         const std::string& name,
                         std::span<const uint64_t> seeds,
                         std::span<const double> scale = {},
                         double gain = 1.0);
// Zeros (seeds and scale are not needed).
void init_zeros(ParamSet& ps, const std::string& name);

}  // namespace benchtop
