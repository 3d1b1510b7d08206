#include "benchtop/data/randomize.h"

#include <cmath>
#include <utility>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {

Tensor gaussian_inputs_like(const Tensor& x, uint64_t seed) {
    BENCHTOP_CHECK(x.rank() == 2 && x.dtype() == DType::F32,
                   "gaussian_inputs_like: expected x of shape [N, D] float32, got ", x.shape().str(), " ",
                   dtype_name(x.dtype()));
    const int64_t n = x.numel();
    BENCHTOP_CHECK(n > 0, "gaussian_inputs_like: x is empty");
    const float* px = x.data<float>();
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += px[i];
    mean /= static_cast<double>(n);
    double var = 0;
    for (int64_t i = 0; i < n; ++i) var += (px[i] - mean) * (px[i] - mean);
    var /= static_cast<double>(n);
    const double sd = std::sqrt(var);
    Tensor out = Tensor::empty(x.shape(), DType::F32);
    float* po = out.data<float>();
    Rng rng(stream_key(seed, 1, Purpose::Data));
    for (int64_t i = 0; i < n; ++i) po[i] = static_cast<float>(mean + sd * rng.normal());
    return out;
}

Tensor permute_labels(const Tensor& y, uint64_t seed) {
    BENCHTOP_CHECK(y.rank() == 1 && y.dtype() == DType::I32,
                   "permute_labels: expected labels of shape [N] and dtype i32, got ", y.shape().str(), " ",
                   dtype_name(y.dtype()));
    Tensor out = y.clone();
    int32_t* p = out.data<int32_t>();
    Rng rng(stream_key(seed, 1, Purpose::LabelNoise));
    for (int64_t i = y.numel() - 1; i > 0; --i)
        std::swap(p[i], p[static_cast<int64_t>(rng.below(static_cast<uint64_t>(i + 1)))]);
    return out;
}

}  // namespace benchtop
