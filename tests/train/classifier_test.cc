// Training classifiers as stacks: a member's result must not depend on the stack it ran in
// (bit for bit), for every architecture, with fixed-order and with per-member shuffled batches.
#include "benchtop/train/classifier.h"

#include <gtest/gtest.h>

#include <cstring>

#include "benchtop/core/rng.h"
#include "benchtop/kernels/dispatch.h"
#include "benchtop/nn/model_init.h"

namespace benchtop {
namespace {

struct Toy {
    Tensor x_train, y_train, x_test, y_test;
};

Toy toy_data(int64_t n_train, int64_t n_test, int64_t d) {
    Rng rng(stream_key(7, 0, Purpose::Data));
    auto make = [&](int64_t n, Tensor& x, Tensor& y) {
        x = Tensor::empty({n, d}, DType::F32);
        y = Tensor::empty({n}, DType::I32);
        for (int64_t i = 0; i < n; ++i) {
            int32_t label = static_cast<int32_t>(rng.below(10));
            y.data<int32_t>()[i] = label;
            for (int64_t j = 0; j < d; ++j)
                x.data<float>()[i * d + j] = static_cast<float>(rng.normal() + (j % 10 == label ? 1.5 : 0.0));
        }
    };
    Toy t;
    make(n_train, t.x_train, t.y_train);
    make(n_test, t.x_test, t.y_test);
    return t;
}

std::vector<MemberCurve> train(const ClassifierSpec& spec, const Toy& d, std::vector<uint64_t> seeds,
                               std::vector<double> lrs, bool shuffle, OptimizerKind opt) {
    ParamSet ps(static_cast<int64_t>(seeds.size()));
    add_classifier_params(ps, spec);
    init_torch_default(ps, seeds);
    TrainOptions o;
    o.steps = 12;
    o.batch = 16;
    o.eval_every = 5;
    o.lr = lrs;
    o.optimizer = opt;
    o.momentum = 0.9;
    o.seeds = seeds;
    o.shuffle_each_epoch = shuffle;
    return train_classifier(ps, spec, {&d.x_train, &d.y_train, &d.x_test, &d.y_test}, o);
}

void expect_same(const MemberCurve& a, const MemberCurve& b) {
    ASSERT_EQ(a.steps, b.steps);
    for (size_t i = 0; i < a.steps.size(); ++i) {
        EXPECT_EQ(a.train_loss[i], b.train_loss[i]) << "eval " << i;
        EXPECT_EQ(a.test_loss[i], b.test_loss[i]) << "eval " << i;
        EXPECT_EQ(a.test_acc[i], b.test_acc[i]) << "eval " << i;
    }
}

// Every model, with fixed-order and shuffled batches, on every kernel path this CPU executes.
using StackCase = std::tuple<ModelKind, bool, Isa>;

std::string stack_test_name(const ::testing::TestParamInfo<StackCase>& info) {
    static const char* const kModels[] = {"logistic", "mlp", "cnn", "gru", "deep_mlp"};
    return std::string(kModels[static_cast<int>(std::get<0>(info.param))]) +
           (std::get<1>(info.param) ? "_shuffled_" : "_fixed_") + isa_name(std::get<2>(info.param));
}

class ClassifierStack : public ::testing::TestWithParam<StackCase> {};

TEST_P(ClassifierStack, MemberResultsDoNotDependOnTheStack) {
    auto [kind, shuffle, isa] = GetParam();
    if (!isa_supported(isa))
        GTEST_SKIP() << "kernel path " << isa_name(isa) << " skipped: " << isa_unsupported_reason(isa);
    const kernels::ScopedIsa path(isa);
    ClassifierSpec spec;
    spec.kind = kind;
    spec.in = 40;
    spec.width = kind == ModelKind::Gru ? 4 : kind == ModelKind::Cnn ? 5 : 24;
    Toy d = toy_data(40, 30, 40);
    OptimizerKind opt = shuffle ? OptimizerKind::Sgd : OptimizerKind::Adam;
    std::vector<MemberCurve> stack = train(spec, d, {3, 11, 5}, {1e-2, 3e-3, 2e-2}, shuffle, opt);
    std::vector<MemberCurve> alone = train(spec, d, {11}, {3e-3}, shuffle, opt);
    std::vector<MemberCurve> pair = train(spec, d, {5, 3}, {2e-2, 1e-2}, shuffle, opt);
    expect_same(stack[1], alone[0]);
    expect_same(stack[2], pair[0]);
    expect_same(stack[0], pair[1]);
    // Training did something: the loss moved.
    EXPECT_NE(stack[0].train_loss.front(), stack[0].train_loss.back());
}

INSTANTIATE_TEST_SUITE_P(AllModels, ClassifierStack,
                         ::testing::Combine(::testing::Values(ModelKind::Logistic, ModelKind::Mlp, ModelKind::Cnn,
                                                              ModelKind::Gru, ModelKind::DeepMlp),
                                            ::testing::Bool(), ::testing::ValuesIn(kAllIsas)),
                         stack_test_name);

// A member that fits its training set stops there (stop_member_when_fit): its curve ends at the
// fit and is the same alone as in a stack with a member that keeps training; step decay halves
// the learning rate on schedule (the decayed run differs from the undecayed one only after it).
TEST(Classifier, StopWhenFitAndStepDecayArePerMember) {
    ClassifierSpec spec;
    spec.kind = ModelKind::DeepMlp;
    spec.width = 64;
    spec.depth = 2;
    Toy d = toy_data(40, 20, 40);
    auto run = [&](std::vector<uint64_t> seeds, std::vector<double> lrs, int64_t decay_every) {
        ParamSet ps(static_cast<int64_t>(seeds.size()));
        add_classifier_params(ps, spec);
        init_torch_default(ps, seeds);
        TrainOptions o;
        o.steps = 400;
        o.batch = 40;
        o.eval_every = 1;
        o.optimizer = OptimizerKind::Sgd;
        o.lr = lrs;
        o.seeds = seeds;
        o.stop_member_when_fit = decay_every == 0;
        o.lr_decay_every = decay_every;
        o.lr_decay = 0.5;
        return train_classifier(ps, spec, {&d.x_train, &d.y_train, &d.x_test, &d.y_test}, o);
    };
    std::vector<MemberCurve> pair = run({4, 9}, {0.05, 1e-4}, 0), alone = run({4}, {0.05}, 0);
    ASSERT_GE(pair[0].fit_at, 1);
    EXPECT_EQ(pair[1].fit_at, -1) << "a tiny learning rate cannot fit in 400 steps";
    EXPECT_EQ(pair[0].steps.back(), pair[0].fit_at);
    EXPECT_EQ(pair[0].train_acc.back(), 1.0);
    EXPECT_EQ(pair[1].steps.back(), 400);
    expect_same(pair[0], alone[0]);
    EXPECT_EQ(alone[0].fit_at, pair[0].fit_at);

    std::vector<MemberCurve> decayed = run({4}, {0.05}, 10), plain = run({4}, {0.05}, 1000);
    // Steps 0..9 use the full rate, step 10 the halved one (evaluations follow each step).
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(decayed[0].train_loss[i], plain[0].train_loss[i]) << "step " << i;
    EXPECT_NE(decayed[0].train_loss[10], plain[0].train_loss[10]);
}

TEST(Classifier, DivergenceIsRecordedPerMember) {
    ClassifierSpec spec;
    spec.kind = ModelKind::Mlp;
    spec.width = 16;
    Toy d = toy_data(40, 20, 40);
    ParamSet ps(2);
    add_classifier_params(ps, spec);
    std::vector<uint64_t> seeds{1, 2};
    init_torch_default(ps, seeds);
    TrainOptions o;
    o.steps = 30;
    o.batch = 20;
    o.eval_every = 10;
    o.optimizer = OptimizerKind::Sgd;
    o.lr = std::vector<double>{1e-2, 1e6};
    o.seeds = seeds;
    std::vector<MemberCurve> c = train_classifier(ps, spec, {&d.x_train, &d.y_train, &d.x_test, &d.y_test}, o);
    EXPECT_EQ(c[0].diverged_at, -1);
    EXPECT_GE(c[1].diverged_at, 1);
    EXPECT_EQ(c[0].steps.size(), 4u);
    EXPECT_LT(c[1].steps.size(), 4u);
}

TEST(Classifier, BadDataIsAnError) {
    ClassifierSpec spec;
    Toy d = toy_data(10, 10, 40);
    ParamSet ps(1);
    add_classifier_params(ps, spec);
    TrainOptions o;
    o.batch = 11;
    EXPECT_THROW(train_classifier(ps, spec, {&d.x_train, &d.y_train, &d.x_test, &d.y_test}, o), Error);
}

}  // namespace
}  // namespace benchtop
