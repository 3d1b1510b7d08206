// Tests of the MNIST-1D generator, NumPy RNG replica, raw-file I/O and dataset options.
// Vectors come from shared/specs/mnist1d.md; the full comparison against the frozen files in
// $BENCHTOP_SHARED_DATA/mnist1d is skipped (with a message) when that directory is missing.
#include "benchtop/data/mnist1d.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "benchtop/core/error.h"
#include "benchtop/data/mnist1d_files.h"
#include "benchtop/data/numpy_random.h"

namespace benchtop {
namespace {

namespace fs = std::filesystem;

const Mnist1dData& default_data() {
    static const Mnist1dData d = make_mnist1d();
    return d;
}

fs::path frozen_dir() {
    const char* env = std::getenv("BENCHTOP_SHARED_DATA");
    fs::path base = env ? fs::path(env) : fs::path(BENCHTOP_SOURCE_DIR) / ".." / "shared" / "data";
    return base / "mnist1d";
}

fs::path temp_dir(const std::string& name) {
    fs::path p =
        fs::temp_directory_path() / ("benchtop_mnist1d_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(p);
    return p;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    EXPECT_EQ(a.shape(), b.shape());
    double m = 0;
    for (int64_t i = 0; i < std::min(a.numel(), b.numel()); ++i)
        m = std::max(m, std::abs(a.at(i) - b.at(i)));
    return m;
}

TEST(Mnist1dRng, MtAndUniformAndNormalVectors) {
    NumpyRandomState rs(42);
    const uint32_t words[] = {1608637542u, 3421126067u, 4083286876u, 787846414u, 3143890026u};
    for (uint32_t w : words) EXPECT_EQ(rs.next_u32(), w);
    rs.seed(42);
    const double u[] = {0.3745401188473625, 0.9507143064099162, 0.7319939418114051,
                        0.5986584841970366};
    for (double v : u) EXPECT_EQ(rs.uniform(), v);
    rs.seed(42);
    const double z[] = {0.4967141530112327, -0.13826430117118466, 0.6476885381006925,
                        1.5230298564080254};
    for (double v : z) EXPECT_NEAR(rs.normal(), v, 1e-15);
}

TEST(Mnist1dRng, NormalCacheClearedBySeed) {
    NumpyRandomState rs(42);
    rs.normal();  // leaves a cached spare
    rs.seed(42);
    EXPECT_NEAR(rs.normal(), 0.4967141530112327, 1e-15);
}

TEST(Mnist1dRng, PerExampleParametersOfFirstExamples) {
    // Replays the draws of examples 0-2 (class 0) in the reference order.
    NumpyRandomState rs(42);
    struct Ex {
        int64_t p;
        double scale;
        int64_t k;
        double c;
        uint64_t words;
    };
    const Ex want[] = {{45, 1.1802857225639665, 42, -0.20981921432583878, 343},
                       {53, 1.123800418455886, 19, -0.3220734394496776, 710},
                       {52, 0.8106045242166487, 31, -0.2744885786620195, 1114}};
    for (int e = 0; e < 3; ++e) {
        double u1 = rs.uniform();
        if (e == 0) {
            EXPECT_EQ(u1, 0.3745401188473625);
        }
        if (e == 1) {
            EXPECT_EQ(u1, 0.7111495324380178);
        }
        auto p = 36 + static_cast<int64_t>(u1 * 25);
        double scale = 1 + 0.4 * (rs.uniform() - 0.5);
        int64_t k = rs.randint(48);
        double first_corr = 0, first_white = 0;
        for (int i = 0; i < 72; ++i) {
            double v = rs.normal();
            if (i == 0) first_corr = v;
        }
        for (int i = 0; i < 72; ++i) {
            double v = rs.normal();
            if (i == 0) first_white = v;
        }
        double c = 0.75 * (rs.uniform() - 0.5);
        EXPECT_EQ(p, want[e].p) << "example " << e;
        EXPECT_NEAR(scale, want[e].scale, 1e-15) << "example " << e;
        EXPECT_EQ(k, want[e].k) << "example " << e;
        EXPECT_NEAR(c, want[e].c, 1e-15) << "example " << e;
        EXPECT_EQ(rs.words_used(), want[e].words) << "example " << e;
        if (e == 0) {
            EXPECT_NEAR(first_corr, 0.473860833744823, 1e-14);
            EXPECT_NEAR(first_white, -0.93376284091205, 1e-14);
        }
    }
}

TEST(Mnist1dRng, FeaturePermutationMatchesReference) {
    const std::vector<int64_t> want = {19, 16, 15, 26, 4,  12, 37, 27, 39, 6,  25, 9, 13, 31,
                                       34, 8,  17, 24, 0,  33, 5,  11, 1,  29, 21, 2, 30, 36,
                                       3,  35, 23, 32, 10, 22, 18, 20, 7,  14, 28, 38};
    EXPECT_EQ(feature_permutation(40, 42), want);
}

TEST(Mnist1dRng, PairwiseSumMatchesExactForSmallIntegers) {
    std::vector<double> v(1000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
    EXPECT_EQ(numpy_pairwise_sum(v.data(), 1000), 499500.0);
    EXPECT_EQ(numpy_pairwise_sum(v.data(), 5), 10.0);
}

TEST(Mnist1dGenerator, GaussianTapsAndTemplates) {
    std::vector<double> delta(72, 0.0);
    delta[36] = 1.0;
    std::vector<double> out = mnist1d_detail::gaussian_filter_sigma2(delta);
    const double taps[] = {0.199474647864745,    0.17603575888479037,   0.12098748976534904,
                           0.06475993660472744,  0.026995957967298846,  0.00876430436278587,
                           0.002215963172596555, 0.0004363490205067883, 6.691628957263553e-05};
    for (int j = 0; j <= 8; ++j) {
        EXPECT_NEAR(out[static_cast<size_t>(36 + j)], taps[j], 1e-17) << "tap " << j;
        EXPECT_NEAR(out[static_cast<size_t>(36 - j)], taps[j], 1e-17) << "tap " << j;
    }
    Mnist1dData t = mnist1d_templates();
    EXPECT_EQ(t.templates_x.at(1), 0.23693955110363696);
    EXPECT_EQ(t.templates_x.at(12 + 3), -0.2958906885821237);
    EXPECT_EQ(t.templates_x.at(7 * 12 + 3), 0.2958906885821236);
    EXPECT_EQ(t.templates_x.at(9 * 12 + 10), -0.20008168266626036);
    EXPECT_EQ(t.templates_t.at(0), -0.8333333333333334);
    EXPECT_EQ(t.templates_t.at(3), -0.37878787878787884);
    EXPECT_EQ(t.templates_t.at(11), 0.8333333333333334);
}

TEST(Mnist1dGenerator, DefaultTestVectors) {
    const Mnist1dData& d = default_data();
    ASSERT_EQ(d.x_train.shape(), Shape({4000, 40}));
    ASSERT_EQ(d.x_test.shape(), Shape({1000, 40}));
    ASSERT_EQ(d.y_train.dtype(), DType::I32);
    const int train_labels[] = {2, 6, 4, 5, 6, 6, 6, 0, 3, 1};
    const int test_labels[] = {2, 6, 3, 9, 4, 3, 1, 9, 5, 2};
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(d.y_train.at(i), train_labels[i]);
        EXPECT_EQ(d.y_test.at(i), test_labels[i]);
    }
    const double x0[] = {-0.3320056673693902, -0.4719103656557236, -0.778697076293495,
                         -1.0097408265367047, -0.8823525654053074, 0.10393481264623418,
                         1.643284346437359,   1.6525071095153063};
    const double xt0[] = {-0.07877078047732886, -0.21073170588642925, -0.09175138109239452,
                          0.28267111736736455,  0.3260581534953046,   0.0384286688979637,
                          -0.5307975753612996,  -0.44891797010721};
    for (int i = 0; i < 8; ++i) {
        EXPECT_NEAR(d.x_train.at(i), x0[i], 1e-14);
        EXPECT_NEAR(d.x_test.at(i), xt0[i], 1e-14);
    }
    EXPECT_NEAR(d.t.at(0), -5.38753506670427, 1e-13);
    EXPECT_NEAR(d.t.at(39), 5.38753506670427, 1e-13);
}

TEST(Mnist1dGenerator, Seed43TestRow) {
    Mnist1dArgs args;
    args.seed = 43;
    Mnist1dData d = make_mnist1d(args);
    const double head[] = {0.79027827,  0.81387517, 0.96495485, 0.72122595, -0.03240748,
                           -0.28947403, 0.38705837, 0.73723783, 0.38279205, -0.16746251};
    const double tail[] = {-0.94110542, -0.34693864, -0.3011403, -0.95394325, -1.39942009};
    for (int i = 0; i < 10; ++i) EXPECT_NEAR(d.x_test.at(i), head[i], 5e-9) << i;
    for (int i = 0; i < 5; ++i) EXPECT_NEAR(d.x_test.at(35 + i), tail[i], 5e-9) << i;
}

TEST(Mnist1dGenerator, ShuffleSeqPermutesColumns) {
    Mnist1dArgs args;
    args.num_samples = 200;
    Mnist1dData plain = make_mnist1d(args);
    args.shuffle_seq = true;
    Mnist1dData shuf = make_mnist1d(args);
    // Same examples; the columns of the shuffled run are a permutation of the plain ones.
    std::vector<double> a(40), b(40);
    for (int j = 0; j < 40; ++j) {
        a[static_cast<size_t>(j)] = plain.x_train.at(j);
        b[static_cast<size_t>(j)] = shuf.x_train.at(j);
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    for (int j = 0; j < 40; ++j)
        EXPECT_NEAR(a[static_cast<size_t>(j)], b[static_cast<size_t>(j)], 1e-12);
    EXPECT_EQ(plain.y_train.to_vector(), shuf.y_train.to_vector());
}

TEST(Mnist1dGenerator, DefaultShuffleSeqPermutation) {
    // Spec 2.4 step 12: for seed 42 and defaults q starts 19, 22, 4, 32.
    Mnist1dArgs args;
    args.shuffle_seq = true;
    Mnist1dData shuf = make_mnist1d(args);
    const Mnist1dData& plain = default_data();
    const int64_t q[] = {19, 22, 4, 32, 17, 18, 28, 31};
    for (int j = 0; j < 8; ++j) EXPECT_NEAR(shuf.x_train.at(j), plain.x_train.at(q[j]), 1e-12) << j;
}

TEST(Mnist1dGenerator, OddSizesAndSplit) {
    Mnist1dArgs args;
    args.num_samples = 11005;  // -> 11000 examples
    args.train_split = 1 - 1000.0 / 11000.0;
    args.max_translation = 5;
    Mnist1dData d = make_mnist1d(args);
    EXPECT_EQ(d.x_train.size(0), 10000);
    EXPECT_EQ(d.x_test.size(0), 1000);
    args = {};
    args.num_samples = 3;
    EXPECT_THROW(make_mnist1d(args), Error);
}

TEST(Mnist1dGenerator, DefaultIsFast) {
    auto t0 = std::chrono::steady_clock::now();
    Mnist1dData d = make_mnist1d();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(d.x_train.size(0), 4000);
    EXPECT_LT(s, 2.0);  // well under a second in Release; generous for shared/debug machines
    std::printf("[ info ] make_mnist1d() default: %.3f s\n", s);
}

TEST(Mnist1dFrozen, MatchesSharedFiles) {
    fs::path dir = frozen_dir();
    if (!fs::exists(dir / "x_train.f64"))
        GTEST_SKIP() << "frozen MNIST-1D files not found in " << dir.string();
    Mnist1dData ref = load_mnist1d(dir);
    const Mnist1dData& d = default_data();
    EXPECT_EQ(ref.y_train.to_vector(), d.y_train.to_vector());
    EXPECT_EQ(ref.y_test.to_vector(), d.y_test.to_vector());
    EXPECT_EQ(ref.templates_y.to_vector(), d.templates_y.to_vector());
    double dx = max_abs_diff(ref.x_train, d.x_train);
    double dxt = max_abs_diff(ref.x_test, d.x_test);
    double dt = max_abs_diff(ref.t, d.t);
    double dtx = max_abs_diff(ref.templates_x, d.templates_x);
    double dtt = max_abs_diff(ref.templates_t, d.templates_t);
    // Measured 2.2e-16 (t bit-exact) with glibc; 1e-13 still catches FMA contraction (3e-15).
    EXPECT_LE(dx, 1e-13);
    EXPECT_LE(dxt, 1e-13);
    EXPECT_LE(dt, 1e-13);
    EXPECT_EQ(dtx, 0.0);
    EXPECT_EQ(dtt, 0.0);
    std::printf("[ info ] max |diff| vs frozen: x_train %.3g x_test %.3g t %.3g templates %.3g\n",
                dx, dxt, dt, dtx);
    // Sanity values of the README.
    EXPECT_NEAR(ref.x_train.at(3999 * 40 + 39), -1.650993, 1e-6);
}

TEST(Mnist1dFiles, RoundTrip) {
    fs::path dir = temp_dir("roundtrip") / "nested";
    Mnist1dArgs args;
    args.num_samples = 100;
    Mnist1dData d = make_mnist1d(args);
    save_mnist1d(d, dir);
    Mnist1dData r = load_mnist1d(dir);
    EXPECT_EQ(max_abs_diff(d.x_train, r.x_train), 0.0);
    EXPECT_EQ(max_abs_diff(d.x_test, r.x_test), 0.0);
    EXPECT_EQ(max_abs_diff(d.t, r.t), 0.0);
    EXPECT_EQ(max_abs_diff(d.templates_x, r.templates_x), 0.0);
    EXPECT_EQ(max_abs_diff(d.templates_t, r.templates_t), 0.0);
    EXPECT_EQ(d.y_train.to_vector(), r.y_train.to_vector());
    EXPECT_EQ(d.y_test.to_vector(), r.y_test.to_vector());
    EXPECT_EQ(d.templates_y.to_vector(), r.templates_y.to_vector());
    EXPECT_EQ(fs::file_size(dir / "x_train.f32"), 80u * 40u * 4u);
    Mnist1dData f = to_float32(d);
    EXPECT_EQ(f.x_train.dtype(), DType::F32);
    EXPECT_EQ(f.y_train.dtype(), DType::I32);
    EXPECT_NEAR(f.x_train.at(5), d.x_train.at(5), 1e-6);
    fs::remove_all(dir.parent_path());
}

void write_file(const fs::path& p, size_t bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    std::string zeros(bytes, '\0');
    out.write(zeros.data(), static_cast<std::streamsize>(bytes));
}

std::string load_error(const fs::path& dir) {
    try {
        load_mnist1d(dir);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Mnist1dFiles, ReaderErrors) {
    fs::path dir = temp_dir("errors");
    Mnist1dArgs args;
    args.num_samples = 20;
    save_mnist1d(make_mnist1d(args), dir);
    ASSERT_EQ(load_error(dir), "");
    // Truncated x file: not a multiple of 40 * 8.
    write_file(dir / "x_train.f64", 16 * 320 - 3);
    std::string msg = load_error(dir);
    EXPECT_NE(msg.find("x_train.f64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("320"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(16 * 320 - 3)), std::string::npos) << msg;
    // Whole rows, but disagreeing with the label count.
    write_file(dir / "x_train.f64", 15 * 320);
    msg = load_error(dir);
    EXPECT_NE(msg.find("x_train.f64"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(16 * 320)), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(15 * 320)), std::string::npos) << msg;
    write_file(dir / "x_train.f64", 16 * 320);
    EXPECT_EQ(load_error(dir), "");
    // Mis-sized templates and a missing file.
    write_file(dir / "templates_x.f64", 100);
    msg = load_error(dir);
    EXPECT_NE(msg.find("templates_x.f64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("960"), std::string::npos) << msg;
    fs::remove(dir / "y_test.u8");
    msg = load_error(dir);
    EXPECT_NE(msg.find("y_test.u8"), std::string::npos) << msg;
    EXPECT_THROW(load_mnist1d(dir / "does_not_exist"), Error);
    fs::remove_all(dir);
}

TEST(Mnist1dOptions, LabelNoiseFractionAndDeterminism) {
    const Mnist1dData& d = default_data();
    std::vector<int64_t> idx, idx2;
    Tensor noisy = apply_label_noise(d.y_train, 0.15, 7, 10, &idx);
    Tensor again = apply_label_noise(d.y_train, 0.15, 7, 10, &idx2);
    EXPECT_EQ(noisy.to_vector(), again.to_vector());
    EXPECT_EQ(idx, idx2);
    ASSERT_EQ(idx.size(), 600u);
    std::vector<int64_t> sorted = idx;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
    int64_t changed = 0;
    std::vector<bool> chosen(4000, false);
    for (int64_t i : idx) chosen[static_cast<size_t>(i)] = true;
    for (int64_t i = 0; i < 4000; ++i) {
        double a = noisy.at(i), b = d.y_train.at(i);
        EXPECT_GE(a, 0);
        EXPECT_LT(a, 10);
        if (a != b) {
            ++changed;
            EXPECT_TRUE(chosen[static_cast<size_t>(i)]) << i;
        }
    }
    // About 9/10 of the replaced labels differ from the original.
    EXPECT_GT(changed, 480);
    EXPECT_LT(changed, 600);
    Tensor other = apply_label_noise(d.y_train, 0.15, 8);
    EXPECT_NE(other.to_vector(), noisy.to_vector());
    EXPECT_EQ(apply_label_noise(d.y_train, 0.0, 7).to_vector(), d.y_train.to_vector());
    EXPECT_THROW(apply_label_noise(d.y_train, 1.5, 7), Error);
}

TEST(Mnist1dOptions, ShuffleFeatures) {
    Tensor x = Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6});
    std::vector<int64_t> perm = {2, 0, 1};
    Tensor y = shuffle_features(x, perm);
    EXPECT_EQ(y.to_vector(), (std::vector<double>{3, 1, 2, 6, 4, 5}));
    std::vector<int64_t> bad = {0, 0, 1};
    EXPECT_THROW(shuffle_features(x, bad), Error);
}

}  // namespace
}  // namespace benchtop
