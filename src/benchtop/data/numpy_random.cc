// NumpyRandomState and numpy_pairwise_sum: see numpy_random.h. Every formula follows the
// description in shared/specs/mnist1d.md section 2.5-2.6 (NumPy legacy RandomState).
#include "benchtop/data/numpy_random.h"

#include "benchtop/data/exact_fp.h"  // first: no FMA contraction in this file

#include <cmath>

#include "benchtop/core/error.h"

namespace benchtop {

void NumpyRandomState::seed(uint32_t seed) {
    mt_.seed(seed);  // std::mt19937 seeding = MT19937 init_genrand, as NumPy's legacy seed(int)
    words_ = 0;
    has_gauss_ = false;
    gauss_ = 0;
}

double NumpyRandomState::uniform() {
    uint32_t a = next_u32() >> 5, b = next_u32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double NumpyRandomState::normal() {
    if (has_gauss_) {
        has_gauss_ = false;
        double g = gauss_;
        gauss_ = 0;
        return g;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * uniform() - 1.0;
        x2 = 2.0 * uniform() - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
}

uint64_t NumpyRandomState::bounded(uint64_t max) {
    if (max == 0) return 0;
    BENCHTOP_CHECK(max <= 0xffffffffull, "NumpyRandomState::bounded: range ", max,
                   " exceeds 32 bits (not supported)");
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint64_t v;
    do {
        v = next_u32() & mask;
    } while (v > max);
    return v;
}

std::vector<int64_t> NumpyRandomState::permutation(int64_t n) {
    BENCHTOP_CHECK(n >= 0, "NumpyRandomState::permutation: negative size ", n);
    std::vector<int64_t> p(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
    for (int64_t i = n - 1; i >= 1; --i) {
        auto j = static_cast<int64_t>(bounded(static_cast<uint64_t>(i)));
        std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
    }
    return p;
}

double numpy_pairwise_sum(const double* a, int64_t n) {
    if (n < 8) {
        double res = 0.;
        for (int64_t i = 0; i < n; ++i) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int k = 0; k < 8; ++k) r[k] = a[k];
        int64_t i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; ++k) r[k] += a[i + k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) res += a[i];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

}  // namespace benchtop
