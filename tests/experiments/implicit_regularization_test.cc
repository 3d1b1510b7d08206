// The scientific outcome of implicit-regularization on a CI-sized run (2000 training and 2000
// test examples, width 100, distance 300, seeds 0 and 1): with full-batch gradient descent the
// largest learning rate reaches lower test error than the smallest; at lr 0.1 batch 10 reaches
// lower test error than the full batch; both sit in flatter minima (smaller top Hessian
// eigenvalue); and over all runs that fit the training set, sharpness and test error rise
// together.
#include "benchtop/experiments/implicit_regularization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "benchtop/experiments/experiment.h"
#include "support/experiment_run.h"

namespace benchtop {
namespace {

std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size(); ++i) r[idx[i]] = double(i);
    return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> ra = ranks(a), rb = ranks(b);
    const double n = double(a.size()), mean = (n - 1) / 2;
    double num = 0, da = 0, db = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (ra[i] - mean) * (rb[i] - mean);
        da += (ra[i] - mean) * (ra[i] - mean);
        db += (rb[i] - mean) * (rb[i] - mean);
    }
    return num / std::sqrt(da * db);
}

TEST(ImplicitRegularization, LargeStepsAndSmallBatchesFindFlatterMinimaThatGeneraliseBetter) {
    test::ExperimentRun run("implicit-regularization",
                            {"width=100", "num_samples=4000", "train_examples=2000", "lr=0.05,0.1,0.5",
                             "batch=10,2000", "distance=300", "seed=0,1"});
    ASSERT_EQ(run.complete, 12);
    std::vector<ImplicitRegPoint> pts = implicit_regularization_points(run.store());
    auto at = [&](double lr, int64_t batch) {
        for (const ImplicitRegPoint& p : pts)
            if (p.lr == lr && p.batch == batch) return p;
        ADD_FAILURE() << "no point lr " << lr << " batch " << batch;
        return ImplicitRegPoint{};
    };
    for (const ImplicitRegPoint& p : pts)
        std::printf("lr %.2f batch %4ld: train error %.4f test error %.4f sharpness %.3f grad-variance term %.3g\n",
                    p.lr, long(p.batch), p.train_error, p.test_error, p.sharpness, p.grad_variance_term);
    const ImplicitRegPoint slow = at(0.05, 2000), fast = at(0.5, 2000), full = at(0.1, 2000), small = at(0.1, 10);
    EXPECT_LT(fast.test_error, slow.test_error);
    EXPECT_LT(fast.sharpness, slow.sharpness);
    EXPECT_LT(small.test_error, full.test_error);
    EXPECT_LT(small.sharpness, full.sharpness);
    EXPECT_EQ(full.grad_variance_term, 0.0);
    EXPECT_GT(small.grad_variance_term, 0.0);
    // Over the runs that fit the training set (train error below 1%), rank correlation of
    // sharpness and test error.
    std::vector<double> sharp, test;
    for (const RunRow& r : run.store().runs("implicit-regularization"))
        if (r.state == RunState::Complete && r.summaries.at("train_error") < 0.01) {
            sharp.push_back(r.summaries.at("sharpness"));
            test.push_back(r.summaries.at("test_error"));
        }
    ASSERT_GE(sharp.size(), 8u);
    const double rho = spearman(sharp, test);
    std::printf("%zu fitted runs: Spearman correlation of sharpness and test error %.3f\n", sharp.size(), rho);
    EXPECT_GT(rho, 0.5);
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
