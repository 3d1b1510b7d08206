// MNIST-1D generator (Greydanus & Kobak 2020/2024), reproducing the reference Python
// implementation bit-for-bit up to libm ULPs; spec: shared/specs/mnist1d.md.
// Rules: float64 throughout, NumPy legacy RNG draws in the reference order, statistics with
// NumPy pairwise sums. Dataset options (label noise, feature shuffles) live here too.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "benchtop/tensor/tensor.h"

namespace benchtop {

// Every argument of the reference get_dataset_args(), with its defaults.
struct Mnist1dArgs {
    int64_t num_samples = 5000;  // 10 * (num_samples / 10) examples are made
    double train_split = 0.8;    // first int(N * train_split) shuffled rows are train
    int64_t template_len = 12;   // working length = template_len + padding_hi
    int64_t padding_lo = 36;     // zeros appended: uniform integer in [lo, hi]
    int64_t padding_hi = 60;
    double scale_coeff = 0.4;        // amplitude factor 1 + scale_coeff * (u - 0.5)
    int64_t max_translation = 48;    // circular right shift in {0, ..., max_translation - 1}
    double corr_noise_scale = 0.25;  // std of white noise before Gaussian smoothing (sigma 2)
    double iid_noise_scale = 0.02;   // std of white noise added everywhere
    double shear_scale = 0.75;       // slope coefficient shear_scale * (u - 0.5)
    bool shuffle_seq = false;        // one fixed permutation of the features for all examples
    int64_t final_seq_length = 40;   // output length
    uint32_t seed = 42;              // seed of the NumPy legacy MT19937
};

// Generated or loaded data. x_* are [N, L] F64 (or F32 after to_float32), labels [N] I32.
struct Mnist1dData {
    Tensor x_train, y_train, x_test, y_test;
    Tensor t;            // [L] plotting coordinate (not a feature)
    Tensor templates_x;  // [10, 12] normalised digit templates
    Tensor templates_t;  // [12]
    Tensor templates_y;  // [10] I32
};

// The ten normalised templates (computed from the raw table with NumPy's pairwise mean/std).
// Fills templates_x, templates_t, templates_y only.
Mnist1dData mnist1d_templates();

// Runs the reference make_dataset(args). Throws benchtop::Error for invalid arguments.
Mnist1dData make_mnist1d(const Mnist1dArgs& args = {});

// Copy with every float tensor (x_*, t, templates_x/t) converted to F32; labels unchanged.
Mnist1dData to_float32(const Mnist1dData& data);

// Label noise (double-descent protocol): round(fraction * N) indices, the first entries of a
// Fisher-Yates permutation drawn from Rng(stream_key(seed, 0, Purpose::LabelNoise)), each get
// a label drawn uniformly from {0..n_classes-1} from the same stream; the new label may equal
// the old one ("replaced by a uniform random label"). y is [N] I32; returns a new tensor.
// If noisy_indices is given it receives the chosen indices in draw order.
Tensor apply_label_noise(const Tensor& y,
                         double fraction,
                         uint64_t seed,
                         int n_classes = 10,
                         std::vector<int64_t>* noisy_indices = nullptr);

// Columns reordered: new column j = old column perm[j]. x is [N, L] F32 or F64.
Tensor shuffle_features(const Tensor& x, std::span<const int64_t> perm);

// The reference's fixed feature permutation: np.random.seed(seed); np.random.permutation(n)
// (seed 42, n 40 gives the classification notebook's permutation).
std::vector<int64_t> feature_permutation(int64_t n, uint32_t seed = 42);

namespace mnist1d_detail {
// numpy.interp(linspace(0,1,out_len), linspace(0,1,n), v): spec section 2.6.
std::vector<double> interp_linspace(const std::vector<double>& v, int64_t out_len);
// scipy.ndimage.gaussian_filter1d(x, sigma=2, truncate=4, mode='reflect').
std::vector<double> gaussian_filter_sigma2(const std::vector<double>& x);
// linspace(0, 1, n) element i, as NumPy computes it.
double linspace01(int64_t i, int64_t n);
}  // namespace mnist1d_detail

}  // namespace benchtop
