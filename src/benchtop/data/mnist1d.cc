// MNIST-1D generator and dataset options: see mnist1d.h and shared/specs/mnist1d.md.
// Written from the spec's description; every operation keeps the reference's evaluation
// order so the output matches the frozen float64 data to a few ULPs.
#include "benchtop/data/mnist1d.h"

#include "benchtop/data/exact_fp.h"  // first: no FMA contraction in this file

#include <array>
#include <cmath>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"
#include "benchtop/data/numpy_random.h"

namespace benchtop {
namespace mnist1d_detail {

double linspace01(int64_t i, int64_t n) {
    if (n == 1) return 0.0;
    if (i == n - 1) return 1.0;
    double step = 1.0 / static_cast<double>(n - 1);
    return static_cast<double>(i) * step;
}

std::vector<double> interp_linspace(const std::vector<double>& v, int64_t out_len) {
    auto n = static_cast<int64_t>(v.size());
    BENCHTOP_CHECK(n >= 2, "mnist1d interp: need at least 2 input points, got ", n);
    std::vector<double> xp(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) xp[static_cast<size_t>(i)] = linspace01(i, n);
    std::vector<double> out(static_cast<size_t>(out_len));
    int64_t j = 0;
    for (int64_t o = 0; o < out_len; ++o) {
        double s = linspace01(o, out_len);
        if (s >= xp[static_cast<size_t>(n - 1)]) {
            out[static_cast<size_t>(o)] = v[static_cast<size_t>(n - 1)];
            continue;
        }
        while (j + 1 < n - 1 && xp[static_cast<size_t>(j + 1)] <= s) ++j;
        auto ju = static_cast<size_t>(j);
        if (s == xp[ju]) {
            out[static_cast<size_t>(o)] = v[ju];
        } else {
            double slope = (v[ju + 1] - v[ju]) / (xp[ju + 1] - xp[ju]);
            out[static_cast<size_t>(o)] = slope * (s - xp[ju]) + v[ju];
        }
    }
    return out;
}

namespace {
constexpr int kRadius = 8;

std::array<double, kRadius + 1> gaussian_weights() {
    // phi_j = exp(-0.5 / sigma^2 * j^2), j = -8..8, normalised by NumPy's pairwise sum.
    std::array<double, 2 * kRadius + 1> phi{};
    for (int j = -kRadius; j <= kRadius; ++j)
        phi[static_cast<size_t>(j + kRadius)] = std::exp(-0.5 / 4.0 * static_cast<double>(j * j));
    double sum = numpy_pairwise_sum(phi.data(), 2 * kRadius + 1);
    std::array<double, kRadius + 1> w{};
    for (int j = 0; j <= kRadius; ++j)
        w[static_cast<size_t>(j)] = phi[static_cast<size_t>(j + kRadius)] / sum;
    return w;
}
}  // namespace

std::vector<double> gaussian_filter_sigma2(const std::vector<double>& x) {
    static const std::array<double, kRadius + 1> w = gaussian_weights();
    auto n = static_cast<int64_t>(x.size());
    auto at = [&](int64_t i) {
        // Half-sample symmetric reflection (scipy mode 'reflect'), possibly repeated.
        while (i < 0 || i >= n) {
            if (i < 0) i = -i - 1;
            if (i >= n) i = 2 * n - 1 - i;
        }
        return x[static_cast<size_t>(i)];
    };
    std::vector<double> out(x.size());
    for (int64_t l = 0; l < n; ++l) {
        double acc = x[static_cast<size_t>(l)] * w[0];
        for (int j = kRadius; j >= 1; --j)
            acc += (at(l - j) + at(l + j)) * w[static_cast<size_t>(j)];
        out[static_cast<size_t>(l)] = acc;
    }
    return out;
}

}  // namespace mnist1d_detail

using namespace mnist1d_detail;

namespace {

constexpr int kTemplateLen = 12;
constexpr double kRawTemplates[10][kTemplateLen] = {
    {5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5},
    {5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5},
    {5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5},
    {5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5},
    {5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5},
    {5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5},
    {5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5},
    {5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5},
    {5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5},
    {5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5},
};

// NumPy's x.mean() and x.std() (ddof 0, re-centring) of a contiguous float64 array.
double np_mean(const double* a, int64_t n) {
    return numpy_pairwise_sum(a, n) / static_cast<double>(n);
}
double np_std(const double* a, int64_t n) {
    double mu = np_mean(a, n);
    std::vector<double> sq(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        double d = a[i] - mu;
        sq[static_cast<size_t>(i)] = d * d;
    }
    return std::sqrt(numpy_pairwise_sum(sq.data(), n) / static_cast<double>(n));
}

}  // namespace

Mnist1dData mnist1d_templates() {
    Mnist1dData d;
    d.templates_x = Tensor::empty({10, kTemplateLen}, DType::F64);
    d.templates_t = Tensor::empty({kTemplateLen}, DType::F64);
    d.templates_y = Tensor::empty({10}, DType::I32);
    double* tx = d.templates_x.data<double>();
    for (int c = 0; c < 10; ++c) {
        double row[kTemplateLen];
        for (int i = 0; i < kTemplateLen; ++i) row[i] = kRawTemplates[c][i];
        double mu = np_mean(row, kTemplateLen);
        for (double& v : row) v -= mu;
        double sd = np_std(row, kTemplateLen);
        for (double& v : row) v /= sd;
        double first = row[0];
        for (double& v : row) v -= first;
        for (int i = 0; i < kTemplateLen; ++i) tx[c * kTemplateLen + i] = row[i] / 6.;
        d.templates_y.data<int32_t>()[c] = c;
    }
    // linspace(-5, 5, 12) / 6: i * (10 / 11) + (-5), last point exactly 5.
    double step = 10.0 / static_cast<double>(kTemplateLen - 1);
    for (int i = 0; i < kTemplateLen; ++i) {
        double v = i == kTemplateLen - 1 ? 5.0 : static_cast<double>(i) * step + -5.0;
        d.templates_t.data<double>()[i] = v / 6.;
    }
    return d;
}

Mnist1dData make_mnist1d(const Mnist1dArgs& a) {
    BENCHTOP_CHECK(a.num_samples >= 10, "make_mnist1d: num_samples must be >= 10, got ",
                   a.num_samples);
    BENCHTOP_CHECK(a.train_split >= 0 && a.train_split <= 1,
                   "make_mnist1d: train_split must be in [0, 1], got ", a.train_split);
    BENCHTOP_CHECK(a.padding_lo >= 0 && a.padding_hi >= a.padding_lo, "make_mnist1d: bad padding [",
                   a.padding_lo, ", ", a.padding_hi, "]");
    BENCHTOP_CHECK(a.template_len + a.padding_hi >= 2,
                   "make_mnist1d: working length template_len + padding_hi = ",
                   a.template_len + a.padding_hi, " is too short");
    BENCHTOP_CHECK(a.max_translation >= 1, "make_mnist1d: max_translation must be >= 1, got ",
                   a.max_translation);
    BENCHTOP_CHECK(a.final_seq_length >= 2, "make_mnist1d: final_seq_length must be >= 2, got ",
                   a.final_seq_length);

    Mnist1dData d = mnist1d_templates();
    const double* tx = d.templates_x.data<double>();
    const int64_t W = a.template_len + a.padding_hi;  // working length
    const int64_t L = a.final_seq_length;
    const int64_t per_class = a.num_samples / 10;
    const int64_t N = per_class * 10;

    NumpyRandomState rs(a.seed);

    std::vector<double> shear_s(static_cast<size_t>(W));
    for (int64_t i = 0; i < W; ++i) {
        // linspace(-0.5, 0.5, W): i * (1 / (W - 1)) + (-0.5), last point exactly 0.5.
        shear_s[static_cast<size_t>(i)] =
            i == W - 1 ? 0.5 : static_cast<double>(i) * (1.0 / static_cast<double>(W - 1)) + -0.5;
    }

    std::vector<double> gen_x(static_cast<size_t>(N * L));
    std::vector<int32_t> gen_y(static_cast<size_t>(N));
    std::vector<double> padded, shifted(static_cast<size_t>(W)), noise(static_cast<size_t>(W));
    for (int c = 0; c < 10; ++c) {
        for (int64_t e = 0; e < per_class; ++e) {
            // 1-2. lift off zero, pad with p zeros.
            auto p = a.padding_lo +
                     static_cast<int64_t>(rs.uniform() *
                                          static_cast<double>(a.padding_hi - a.padding_lo + 1));
            padded.assign(static_cast<size_t>(kTemplateLen + p), 0.0);
            for (int i = 0; i < kTemplateLen; ++i)
                padded[static_cast<size_t>(i)] = tx[c * kTemplateLen + i] + 1e-8;
            // 3. dilate to W points.
            std::vector<double> x = interp_linspace(padded, W);
            // 4. scale.
            double scale = 1 + a.scale_coeff * (rs.uniform() - 0.5);
            for (double& v : x) v *= scale;
            // 5. circular shift right by k.
            int64_t k = rs.randint(a.max_translation);
            for (int64_t i = 0; i < W; ++i)
                shifted[static_cast<size_t>(((i + k) % W + W) % W)] = x[static_cast<size_t>(i)];
            // 6. correlated background noise where the signal is exactly zero.
            for (double& v : noise) v = a.corr_noise_scale * rs.normal();
            std::vector<double> smooth = gaussian_filter_sigma2(noise);
            for (int64_t i = 0; i < W; ++i)
                if (shifted[static_cast<size_t>(i)] == 0.0)
                    shifted[static_cast<size_t>(i)] = smooth[static_cast<size_t>(i)];
            // 7. white noise.
            for (int64_t i = 0; i < W; ++i)
                shifted[static_cast<size_t>(i)] += a.iid_noise_scale * rs.normal();
            // 8. shear.
            double coeff = a.shear_scale * (rs.uniform() - 0.5);
            for (int64_t i = 0; i < W; ++i)
                shifted[static_cast<size_t>(i)] -= coeff * shear_s[static_cast<size_t>(i)];
            // 9. subsample to L points.
            std::vector<double> out = interp_linspace(shifted, L);
            int64_t row = c * per_class + e;
            std::copy(out.begin(), out.end(), gen_x.begin() + row * L);
            gen_y[static_cast<size_t>(row)] = c;
        }
    }

    // 10-12. shuffle examples, optionally features.
    std::vector<int64_t> perm = rs.permutation(N);
    std::vector<int64_t> q(static_cast<size_t>(L));
    for (int64_t j = 0; j < L; ++j) q[static_cast<size_t>(j)] = j;
    if (a.shuffle_seq) q = rs.permutation(L);
    std::vector<double> xs(static_cast<size_t>(N * L));
    std::vector<int32_t> ys(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; ++i) {
        int64_t src = perm[static_cast<size_t>(i)];
        ys[static_cast<size_t>(i)] = gen_y[static_cast<size_t>(src)];
        for (int64_t j = 0; j < L; ++j)
            xs[static_cast<size_t>(i * L + j)] =
                gen_x[static_cast<size_t>(src * L + q[static_cast<size_t>(j)])];
    }

    // 13. global standardisation (train and test together); t scaled by the same sigma.
    double mu = np_mean(xs.data(), N * L);
    double sd = np_std(xs.data(), N * L);
    for (double& v : xs) v = (v - mu) / sd;
    std::vector<double> tt(d.templates_t.data<double>(),
                           d.templates_t.data<double>() + kTemplateLen);
    std::vector<double> t = interp_linspace(interp_linspace(tt, W), L);
    d.t = Tensor::empty({L}, DType::F64);
    for (int64_t j = 0; j < L; ++j) d.t.data<double>()[j] = t[static_cast<size_t>(j)] / sd;

    // 14. split.
    auto n_train = static_cast<int64_t>(static_cast<double>(N) * a.train_split);
    int64_t n_test = N - n_train;
    d.x_train = Tensor::empty({n_train, L}, DType::F64);
    d.x_test = Tensor::empty({n_test, L}, DType::F64);
    d.y_train = Tensor::empty({n_train}, DType::I32);
    d.y_test = Tensor::empty({n_test}, DType::I32);
    std::copy(xs.begin(), xs.begin() + n_train * L, d.x_train.data<double>());
    std::copy(xs.begin() + n_train * L, xs.end(), d.x_test.data<double>());
    std::copy(ys.begin(), ys.begin() + n_train, d.y_train.data<int32_t>());
    std::copy(ys.begin() + n_train, ys.end(), d.y_test.data<int32_t>());
    return d;
}

Mnist1dData to_float32(const Mnist1dData& d) {
    auto f32 = [](const Tensor& t) { return t.defined() && t.numel() > 0 ? t.to(DType::F32) : t; };
    Mnist1dData r = d;
    r.x_train = f32(d.x_train);
    r.x_test = f32(d.x_test);
    r.t = f32(d.t);
    r.templates_x = f32(d.templates_x);
    r.templates_t = f32(d.templates_t);
    r.y_train = d.y_train.clone();
    r.y_test = d.y_test.clone();
    r.templates_y = d.templates_y.clone();
    return r;
}

Tensor apply_label_noise(const Tensor& y,
                         double fraction,
                         uint64_t seed,
                         int n_classes,
                         std::vector<int64_t>* noisy_indices) {
    BENCHTOP_CHECK(y.rank() == 1 && y.dtype() == DType::I32,
                   "apply_label_noise: expected labels of shape [N] and dtype i32, got ",
                   y.shape().str(), " ", dtype_name(y.dtype()));
    BENCHTOP_CHECK(fraction >= 0 && fraction <= 1,
                   "apply_label_noise: fraction must be in [0, 1], got ", fraction);
    BENCHTOP_CHECK(n_classes >= 1, "apply_label_noise: n_classes must be >= 1, got ", n_classes);
    int64_t n = y.numel();
    auto count = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
    Rng rng(stream_key(seed, 0, Purpose::LabelNoise));
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
    // Partial Fisher-Yates from the front: the first `count` entries are a uniform subset.
    for (int64_t i = 0; i < count; ++i) {
        auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
        std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(j)]);
    }
    idx.resize(static_cast<size_t>(count));
    Tensor out = y.clone();
    int32_t* o = out.data<int32_t>();
    for (int64_t i : idx) o[i] = static_cast<int32_t>(rng.below(static_cast<uint64_t>(n_classes)));
    if (noisy_indices) *noisy_indices = std::move(idx);
    return out;
}

Tensor shuffle_features(const Tensor& x, std::span<const int64_t> perm) {
    BENCHTOP_CHECK(x.rank() == 2, "shuffle_features: expected x of shape [N, L], got ",
                   x.shape().str());
    int64_t n = x.size(0), L = x.size(1);
    BENCHTOP_CHECK(static_cast<int64_t>(perm.size()) == L, "shuffle_features: permutation has ",
                   perm.size(), " entries for ", L, " features");
    std::vector<bool> seen(static_cast<size_t>(L), false);
    for (int64_t p : perm) {
        BENCHTOP_CHECK(p >= 0 && p < L && !seen[static_cast<size_t>(p)],
                       "shuffle_features: not a permutation of 0..", L - 1, " (entry ", p, ")");
        seen[static_cast<size_t>(p)] = true;
    }
    Tensor out = Tensor::empty(x.shape(), x.dtype());
    dispatch_float(x.dtype(), "shuffle_features", [&](auto tag) {
        using T = decltype(tag);
        const T* src = x.data<T>();
        T* dst = out.data<T>();
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < L; ++j)
                dst[i * L + j] = src[i * L + perm[static_cast<size_t>(j)]];
    });
    return out;
}

std::vector<int64_t> feature_permutation(int64_t n, uint32_t seed) {
    NumpyRandomState rs(seed);
    return rs.permutation(n);
}

}  // namespace benchtop
