// The scientific outcome of double-descent on a CI-sized run (1000 training examples, 300
// epochs, widths 8..256, two seeds): with label noise the test error peaks within one grid step
// of the interpolation threshold (the smallest width that fits the noisy training set exactly)
// and the widest model is clearly below the peak; without label noise there is no such peak.
#include "benchtop/experiments/double_descent.h"

#include <gtest/gtest.h>


#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(DoubleDescent, PeakAtTheInterpolationThresholdOnlyWithLabelNoise) {
    test::ExperimentRun run("double-descent", {"num_samples=3000", "train_examples=1000", "epochs=300", "eval_every=100",
                                              "width=8,16,24,32,48,64,128,256", "seed=0,1", "label_noise=0,0.3"});
    ASSERT_EQ(run.grid_size, 32u);
    EXPECT_EQ(run.complete, 32);
    const Store& store = run.store();
    auto groups = double_descent_points(store);
    const auto& noisy = groups.at({"mlp", 0.3});
    const auto& clean = groups.at({"mlp", 0.0});
    ASSERT_EQ(noisy.size(), 8u);
    ASSERT_EQ(clean.size(), 8u);
    for (const auto* pts : {&clean, &noisy})
        for (const DoubleDescentPoint& p : *pts)
            std::printf("noise %s width %3ld: train error %.4f test error %.4f\n", pts == &noisy ? "0.3" : "0  ",
                        static_cast<long>(p.width), p.train_mean, p.test_mean);

    auto index_of = [](const std::vector<DoubleDescentPoint>& pts, int64_t width) {
        for (size_t i = 0; i < pts.size(); ++i)
            if (pts[i].width == width) return static_cast<int64_t>(i);
        return int64_t{-1};
    };
    // Test error of the peak: the maximum over widths from one step below the threshold on.
    auto peak = [&](const std::vector<DoubleDescentPoint>& pts, int64_t* at) {
        int64_t thr = index_of(pts, interpolation_threshold(pts));
        EXPECT_GE(thr, 1) << "the widest models must interpolate, the narrowest must not";
        double best = -1;
        for (int64_t i = std::max<int64_t>(0, thr - 1); i < static_cast<int64_t>(pts.size()); ++i)
            if (pts[size_t(i)].test_mean > best) best = pts[size_t(i)].test_mean, *at = i;
        return best;
    };

    int64_t at_noisy = -1, at_clean = -1;
    double peak_noisy = peak(noisy, &at_noisy);
    double peak_clean = peak(clean, &at_clean);
    int64_t thr_noisy = index_of(noisy, interpolation_threshold(noisy));
    // The global maximum of the noisy curve lies within one grid step of the threshold ...
    int64_t argmax = 0;
    for (size_t i = 0; i < noisy.size(); ++i)
        if (noisy[i].test_mean > noisy[size_t(argmax)].test_mean) argmax = static_cast<int64_t>(i);
    EXPECT_LE(std::abs(argmax - thr_noisy), 1) << "peak at width " << noisy[size_t(argmax)].width
                                               << ", threshold at width " << noisy[size_t(thr_noisy)].width;
    // ... rises above the error of the smallest model (a second ascent) ...
    EXPECT_GT(peak_noisy, noisy.front().test_mean + 0.01);
    // ... and the widest model descends clearly below it.
    EXPECT_LT(noisy.back().test_mean, peak_noisy - 0.04);
    // Without label noise, nothing near the threshold rises above the smallest model's error.
    EXPECT_LT(peak_clean, clean.front().test_mean);

    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
