// Generative classifiers and their linear algebra: the Jacobi eigendecomposition and Cholesky
// reproduce their matrices; Gaussian log densities equal the closed form; every model separates
// well-separated classes; naive Bayes equals its formula; a mixture fits a two-blob class better
// than one Gaussian; PPCA's covariance has the advertised spectrum; bad input is an error.
#include "benchtop/generative/gaussian.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {
namespace {

std::vector<double> random_spd(int64_t n, uint64_t seed) {
    Rng rng(seed);
    std::vector<double> b(size_t(n * n)), a(size_t(n * n), 0.0);
    for (double& v : b) v = rng.normal();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j)
            for (int64_t k = 0; k < n; ++k) a[size_t(i * n + j)] += b[size_t(i * n + k)] * b[size_t(j * n + k)];
    for (int64_t i = 0; i < n; ++i) a[size_t(i * n + i)] += 0.1;
    return a;
}

TEST(DenseAlgebra, JacobiEigendecompositionReproducesTheMatrix) {
    const int64_t n = 12;
    const std::vector<double> a = random_spd(n, 3);
    std::vector<double> values, vectors;
    symmetric_eigen(a, n, values, vectors);
    for (int64_t j = 1; j < n; ++j) EXPECT_LE(values[size_t(j - 1)], values[size_t(j)]);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) {
            double av = 0;
            for (int64_t k = 0; k < n; ++k) av += a[size_t(i * n + k)] * vectors[size_t(k * n + j)];
            EXPECT_NEAR(av, values[size_t(j)] * vectors[size_t(i * n + j)], 1e-9 * values.back());
        }
    for (int64_t p = 0; p < n; ++p)
        for (int64_t q = 0; q < n; ++q) {
            double dot = 0;
            for (int64_t k = 0; k < n; ++k) dot += vectors[size_t(k * n + p)] * vectors[size_t(k * n + q)];
            EXPECT_NEAR(dot, p == q ? 1.0 : 0.0, 1e-12);
        }
}

TEST(DenseAlgebra, CholeskyAndGaussianDensity) {
    const int64_t n = 6;
    const std::vector<double> a = random_spd(n, 4);
    const std::vector<double> l = cholesky(a, n);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (int64_t k = 0; k < n; ++k) s += l[size_t(i * n + k)] * l[size_t(j * n + k)];
            EXPECT_NEAR(s, a[size_t(i * n + j)], 1e-10);
        }
    EXPECT_THROW(cholesky({1, 2, 2, 1}, 2), Error);
    // A diagonal covariance: the density factorises.
    const Gaussian g = Gaussian::from({1.0, -2.0}, {4.0, 0.0, 0.0, 0.25}, 2);
    const double x[2] = {2.0, -1.0};
    const double expect = -0.5 * (0.25 + 4.0) - 0.5 * std::log(4.0 * 0.25) - std::log(2 * M_PI);
    EXPECT_NEAR(g.log_density(x), expect, 1e-12);
}

// Two or three Gaussian classes in D dimensions, means `sep` apart along the first axis.
void blobs(int64_t n_per, int64_t D, double sep, uint64_t seed, Tensor& x, Tensor& y, int64_t classes = 3) {
    x = Tensor::empty({n_per * classes, D}, DType::F32);
    y = Tensor::empty({n_per * classes}, DType::I32);
    Rng rng(seed);
    for (int64_t c = 0; c < classes; ++c)
        for (int64_t i = 0; i < n_per; ++i) {
            const int64_t r = c * n_per + i;
            y.data<int32_t>()[r] = int32_t(c);
            for (int64_t d = 0; d < D; ++d)
                x.data<float>()[r * D + d] = float(rng.normal() * (d == 1 ? 2.0 : 0.5) + (d == 0 ? sep * double(c) : 0.0));
        }
}

TEST(GenerativeClassifiers, SeparateSeparatedClasses) {
    Tensor x, y, xt, yt;
    blobs(200, 6, 4.0, 1, x, y);
    blobs(100, 6, 4.0, 2, xt, yt);
    for (const char* name : {"lda", "naive_bayes", "ppca", "gmm"}) {
        auto m = make_generative(name, {.components = 2});
        m->fit(x, y, 3, 7);
        const std::vector<double> lj = m->log_joint(xt);
        ASSERT_EQ(lj.size(), 900u);
        EXPECT_GT(joint_accuracy(lj, yt, 3), 0.97) << name;
        EXPECT_GT(mean_max_probability(lj, 3), 0.9) << name;
        EXPECT_LE(mean_max_probability(lj, 3), 1.0) << name;
    }
    EXPECT_THROW(make_generative("svm", {}), Error);
}

TEST(GenerativeClassifiers, NaiveBayesIsItsFormula) {
    Tensor x, y;
    blobs(50, 3, 1.0, 5, x, y, 2);
    auto nb = make_generative("naive_bayes", {});
    nb->fit(x, y, 2, 0);
    const Tensor probe = Tensor::from<float>({1, 3}, {0.3f, -1.0f, 0.2f});
    const std::vector<double> lj = nb->log_joint(probe);
    for (int32_t c = 0; c < 2; ++c) {
        double s = std::log(0.5);
        for (int64_t d = 0; d < 3; ++d) {
            double m = 0, v = 0;
            for (int64_t i = 0; i < 50; ++i) m += x.data<float>()[(c * 50 + i) * 3 + d];
            m /= 50;
            for (int64_t i = 0; i < 50; ++i) v += std::pow(x.data<float>()[(c * 50 + i) * 3 + d] - m, 2);
            v /= 50;  // (the 1e-9 floor is far below these variances)
            s += -0.5 * std::log(2 * M_PI * v) - std::pow(probe.data<float>()[d] - m, 2) / (2 * v);
        }
        EXPECT_NEAR(lj[size_t(c)], s, 1e-6 * std::abs(s)) << c;
    }
}

TEST(GenerativeClassifiers, AMixtureFitsTwoBlobsBetterThanOneGaussian) {
    // One class made of two blobs far apart: the 2-component mixture gives held-out points a
    // higher likelihood than the single Gaussian of PPCA with all but one component.
    Tensor x = Tensor::empty({400, 4}, DType::F32), y = Tensor::zeros({400}, DType::I32);
    Rng rng(9);
    for (int64_t i = 0; i < 400; ++i)
        for (int64_t d = 0; d < 4; ++d) x.data<float>()[i * 4 + d] = float(rng.normal() * 0.3 + (d == 0 ? (i % 2 ? 5 : -5) : 0));
    auto gmm = make_generative("gmm", {.components = 2});
    auto one = make_generative("ppca", {.components = 3});
    gmm->fit(x, y, 1, 1);
    one->fit(x, y, 1, 1);
    const Tensor probe = Tensor::from<float>({2, 4}, {5.1f, 0.1f, -0.2f, 0.0f, -4.9f, 0.0f, 0.3f, 0.1f});
    const std::vector<double> a = gmm->log_joint(probe), b = one->log_joint(probe);
    EXPECT_GT(a[0], b[0] + 2);  // about 0.1 against -2.5 nats
    EXPECT_GT(a[1], b[1] + 2);
}

TEST(GenerativeClassifiers, BadInputIsAnError) {
    Tensor x, y;
    blobs(10, 3, 1.0, 5, x, y, 2);
    auto lda = make_generative("lda", {});
    EXPECT_THROW(lda->fit(x, y, 3, 0), Error);  // class 2 has no examples
    auto ppca = make_generative("ppca", {.components = 3});
    EXPECT_THROW(ppca->fit(x, y, 2, 0), Error);  // rank must be below D = 3
}

}  // namespace
}  // namespace benchtop
