// The scientific outcome of arithmetic on a CI-sized run (2-digit addition, a 2-block transformer
// of width 32, 1500 steps, 1000 and 2000 training problems): answers written in reverse are
// learned better than plain ones from the same number of examples, and from 1000 examples better
// than plain ones from 2000; no model adds 3-digit numbers, a length it never saw.
#include <gtest/gtest.h>

#include <map>

#include "support/experiment_run.h"

namespace benchtop {
namespace {

TEST(ArithmeticExperiment, ReversedAnswersNeedFewerExamplesAndNothingCarriesToNewLengths) {
    test::ExperimentRun run("arithmetic", {"format=plain,reverse", "digits=2", "layers=2", "d_model=32", "heads=2", "d_mlp=128",
                                           "train_examples=1000,2000", "steps=1500", "batch=64", "eval_every=500",
                                           "test_examples=500", "length_examples=200"});
    ASSERT_EQ(run.complete, 4);
    std::map<std::pair<std::string, int64_t>, std::map<std::string, double>> by;
    for (const RunRow& r : run.store().runs("arithmetic")) {
        const Json c = Json::parse(r.config_json);
        by[{c["format"].get<std::string>(), c["train_examples"].get<int64_t>()}] = r.summaries;
    }
    for (const auto& [key, s] : by)
        std::printf("%-8s %5lld: test exact %.3f, unseen length %.3f\n", key.first.c_str(), (long long)key.second,
                    s.at("test_exact"), s.at("unseen_length_exact"));
    auto exact = [&](const char* f, int64_t n) { return by.at({f, n}).at("test_exact"); };
    for (int64_t n : {1000, 2000}) EXPECT_GT(exact("reverse", n), exact("plain", n) + 0.1) << n;
    EXPECT_GT(exact("reverse", 1000), exact("plain", 2000));
    EXPECT_GT(exact("reverse", 2000), 0.4);  // it does learn
    for (const auto& [key, s] : by) EXPECT_LT(s.at("unseen_length_exact"), 0.02) << key.first << " " << key.second;
    run.expect_figures();
}

}  // namespace
}  // namespace benchtop
