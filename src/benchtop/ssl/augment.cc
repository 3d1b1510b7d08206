#include "benchtop/ssl/augment.h"

#include "benchtop/core/error.h"

namespace benchtop::ssl {

Tensor augment_batch(const Tensor& x, std::span<const int64_t> rows, const AugmentOptions& o, Rng& rng) {
    BENCHTOP_CHECK(x.rank() == 2 && x.dtype() == DType::F32, "augment_batch: x must be float32 [N, L], got ", x.shape().str());
    BENCHTOP_CHECK(o.max_shift >= 0 && o.offset >= 0 && o.trend >= 0 && o.noise >= 0,
                   "augment_batch: augmentation parameters must be >= 0");
    const int64_t N = x.size(0), L = x.size(1), B = int64_t(rows.size());
    Tensor out = Tensor::empty({B, L}, DType::F32);
    const float* src = x.data<float>();
    float* dst = out.data<float>();
    for (int64_t b = 0; b < B; ++b) {
        const int64_t r = rows[size_t(b)];
        BENCHTOP_CHECK(r >= 0 && r < N, "augment_batch: row ", r, " outside [0, ", N, ")");
        const int64_t s = o.max_shift > 0 ? int64_t(rng.below(uint64_t(2 * o.max_shift + 1))) - o.max_shift : 0;
        const double c = o.offset > 0 ? rng.uniform(-o.offset, o.offset) : 0.0;
        const double a = o.trend > 0 ? rng.uniform(-o.trend, o.trend) : 0.0;
        for (int64_t t = 0; t < L; ++t) {
            const int64_t from = ((t - s) % L + L) % L;
            double v = double(src[r * L + from]) + c + a * (double(t) - double(L - 1) / 2) / double(L);
            if (o.noise > 0) v += o.noise * rng.normal();
            dst[b * L + t] = float(v);
        }
    }
    return out;
}

}  // namespace benchtop::ssl
