// Augmentations of 1-D signals for self-supervised learning on MNIST-1D: each view of a signal
// x[0..L) is, in this order,
//   circular shift   x[t] <- x[(t - s) mod L], s uniform in [-max_shift, max_shift]
//   offset           + c, c ~ U(-offset, offset)
//   linear trend     + a (t - (L-1)/2) / L, a ~ U(-trend, trend)
//   white noise      + N(0, noise^2) per sample
// (a zero parameter switches its augmentation off).
//
//   Rng rng(stream_key(seed, step, Purpose::Data));
//   Tensor view = augment_batch(x, rows, {.max_shift = 8}, rng);   // [rows.size(), L]
#pragma once

#include <cstdint>
#include <span>

#include "benchtop/core/rng.h"
#include "benchtop/tensor/tensor.h"

namespace benchtop::ssl {

struct AugmentOptions {
    int64_t max_shift = 8;
    double offset = 0.3;
    double trend = 0.5;
    double noise = 0.1;
};

// One augmented view of rows `rows` of x (float32 [N, L]) -> float32 [rows.size(), L].
Tensor augment_batch(const Tensor& x, std::span<const int64_t> rows, const AugmentOptions& o, Rng& rng);

}  // namespace benchtop::ssl
