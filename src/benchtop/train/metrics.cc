#include "benchtop/train/metrics.h"

#include <cmath>

namespace benchtop {

std::vector<double> accuracy(const Tensor& logits, const Tensor& labels) {
    BENCHTOP_CHECK(logits.rank() == 3, "accuracy: logits must be [K, N, C], got ",
                   logits.shape().str());
    int64_t K = logits.size(0), N = logits.size(1), C = logits.size(2);
    BENCHTOP_CHECK(labels.dtype() == DType::I32, "accuracy: labels must be int32");
    bool shared = labels.rank() == 1;
    BENCHTOP_CHECK((shared && labels.size(0) == N) ||
                       (labels.rank() == 2 && labels.size(0) == K && labels.size(1) == N),
                   "accuracy: labels of shape ", labels.shape().str(),
                   " do not fit logits of shape ", logits.shape().str());
    const int32_t* y = labels.data<int32_t>();
    std::vector<double> acc(static_cast<size_t>(K));
    dispatch_float(logits.dtype(), "accuracy", [&](auto t) {
        using T = decltype(t);
        const T* p = logits.data<T>();
        for (int64_t k = 0; k < K; ++k) {
            int64_t correct = 0;
            for (int64_t i = 0; i < N; ++i) {
                const T* row = p + (k * N + i) * C;
                int64_t best = 0;
                for (int64_t c = 1; c < C; ++c)
                    if (row[c] > row[best]) best = c;
                correct += best == y[shared ? i : k * N + i];
            }
            acc[static_cast<size_t>(k)] = N ? static_cast<double>(correct) / N : 0.0;
        }
    });
    return acc;
}

Tensor batch_rows(const Tensor& data, int64_t start, int64_t n, bool add_member_axis) {
    BENCHTOP_CHECK(data.rank() >= 1 && start >= 0 && n >= 0 && start + n <= data.size(0),
                   "batch_rows: rows [", start, ", ", start + n, ") out of range for shape ",
                   data.shape().str());
    const Shape& ds = data.shape();
    int64_t row = data.numel() / (ds[0] ? ds[0] : 1);
    Shape dims;  // built in place, no heap: this runs every training step
    if (add_member_axis && data.rank() > 1) dims.push_back(1);
    dims.push_back(n);
    for (int d = 1; d < ds.rank(); ++d) dims.push_back(ds[d]);
    auto* base = static_cast<std::byte*>(const_cast<void*>(data.raw()));
    return Tensor::view(base + static_cast<size_t>(start * row) * dtype_size(data.dtype()), dims,
                        data.dtype());
}

double value_sd(const Tensor& x) {
    double s = 0, ss = 0;
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
        const double v = x.at(i);
        s += v;
        ss += v * v;
    }
    const double m = s / double(x.numel());
    return std::sqrt(ss / double(x.numel()) - m * m);
}

}  // namespace benchtop
