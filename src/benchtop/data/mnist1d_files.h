// Reader and writer of the frozen MNIST-1D raw files (shared/data/mnist1d/README.md):
// headerless little-endian row-major x_train.f64, y_train.u8, x_test.f64, y_test.u8, t.f64,
// templates_x.f64, templates_t.f64, templates_y.u8 (+ float32 copies *.f32 when saving).
// Sizes are inferred from file sizes and cross-checked; any mismatch throws benchtop::Error.
#pragma once

#include <filesystem>

#include "benchtop/data/mnist1d.h"

namespace benchtop {

// Loads the float64 files of `dir`: x_* [N, L] F64 with L = size(t.f64) / 8, labels I32.
Mnist1dData load_mnist1d(const std::filesystem::path& dir);

// Writes `data` (F32 or F64 tensors) in the same layout, creating `dir`: float64 files,
// float32 copies (x_train.f32, x_test.f32, t.f32, templates_x.f32, templates_t.f32) and
// uint8 labels. Labels must lie in 0..255.
void save_mnist1d(const Mnist1dData& data, const std::filesystem::path& dir);

}  // namespace benchtop
