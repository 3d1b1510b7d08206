// Tests of SGD, Adam/AdamW and per-member gradient clipping: a few float64 steps against the
// update rules written out here independently, per-member hyper-parameters against stacks of
// one, schedules via set_lr, and clipping's scale and returned norms.
#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/optim/adam.h"
#include "benchtop/optim/clip.h"
#include "benchtop/optim/sgd.h"

namespace benchtop {
namespace {

// A ParamSet of K members with parameters "a" [3] and "b" [2, 2], values and grads filled from
// simple member-dependent formulas.
ParamSet make_set(int64_t k_n, DType dtype = DType::F64) {
    ParamSet ps(k_n, dtype);
    ps.add("a", {3});
    ps.add("b", {2, 2});
    for (auto& e : ps.entries()) {
        const int64_t n = e.value.numel() / k_n;
        for (int64_t i = 0; i < e.value.numel(); ++i) e.value.set(i, 0.1 * (i % n + 1) - 0.3);
    }
    return ps;
}

// Deterministic gradient for step s, element i of a member (the same in every member).
double grad_at(int s, int64_t i) {
    return std::sin(0.7 * i + 1.3 * s) + 0.05 * i;
}

void set_grads(ParamSet& ps, int s) {
    for (auto& e : ps.entries()) {
        const int64_t n = e.grad.numel() / ps.n_members();
        for (int64_t i = 0; i < e.grad.numel(); ++i) e.grad.set(i, grad_at(s, i % n));
    }
}

TEST(Sgd, MomentumNesterovWeightDecayMatchFormulas) {
    for (bool nesterov : {false, true}) {
        const double lr = 0.1, mom = 0.9, damp = nesterov ? 0.0 : 0.25, wd = 0.01;
        ParamSet ps = make_set(1);
        Sgd opt(ps, {.lr = lr,
                     .momentum = mom,
                     .dampening = damp,
                     .weight_decay = wd,
                     .nesterov = nesterov});
        std::vector<double> p = ps.value("b").to_vector(), buf(p.size());
        for (int s = 0; s < 4; ++s) {
            set_grads(ps, s);
            opt.step();
            for (size_t i = 0; i < p.size(); ++i) {
                double g = grad_at(s, static_cast<int64_t>(i)) + wd * p[i];
                buf[i] = s == 0 ? g : mom * buf[i] + (1 - damp) * g;
                double d = nesterov ? g + mom * buf[i] : buf[i];
                p[i] -= lr * d;
                EXPECT_NEAR(ps.value("b").at(static_cast<int64_t>(i)), p[i], 1e-14);
            }
        }
    }
}

TEST(Sgd, PlainStepAndSchedule) {
    ParamSet ps = make_set(1);
    Sgd opt(ps, {.lr = 0.5});
    double p0 = ps.value("a").at(1);
    set_grads(ps, 0);
    opt.step();
    EXPECT_DOUBLE_EQ(ps.value("a").at(1), p0 - 0.5 * grad_at(0, 1));
    opt.set_lr(0.0);
    opt.step();
    EXPECT_DOUBLE_EQ(ps.value("a").at(1), p0 - 0.5 * grad_at(0, 1));
}

TEST(Adam, MatchesFormulasAdamAndAdamW) {
    for (bool decoupled : {false, true}) {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        ParamSet ps = make_set(1);
        Adam opt(ps, {.lr = lr, .weight_decay = wd, .decoupled = decoupled});
        std::vector<double> p = ps.value("b").to_vector(), m(p.size()), v(p.size());
        for (int s = 0; s < 5; ++s) {
            set_grads(ps, s);
            opt.step();
            const int t = s + 1;
            for (size_t i = 0; i < p.size(); ++i) {
                double g = grad_at(s, static_cast<int64_t>(i));
                if (decoupled)
                    p[i] *= 1 - lr * wd;
                else
                    g += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mhat = m[i] / (1 - std::pow(b1, t));
                double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)) + eps;
                p[i] -= lr * mhat / denom;
                EXPECT_NEAR(ps.value("b").at(static_cast<int64_t>(i)), p[i], 1e-13);
            }
        }
        EXPECT_EQ(opt.steps(), 5);
    }
}

TEST(Adam, Float32StaysCloseToFloat64) {
    ParamSet p32 = make_set(2, DType::F32), p64 = make_set(2, DType::F64);
    Adam o32(p32, {.lr = 0.01}), o64(p64, {.lr = 0.01});
    for (int s = 0; s < 10; ++s) {
        set_grads(p32, s);
        set_grads(p64, s);
        o32.step();
        o64.step();
    }
    for (int64_t i = 0; i < p32.value("b").numel(); ++i)
        EXPECT_NEAR(p32.value("b").at(i), p64.value("b").at(i), 1e-5);
}

// Member k of a stack with per-member hyper-parameters follows the trajectory of a stack of one
// run with member k's values.
template <class MakeOpt>
void check_members_match_singletons(const std::vector<std::vector<double>>& hp,
                                    MakeOpt make,
                                    DType dtype) {
    const int64_t k_n = static_cast<int64_t>(hp[0].size());
    ParamSet stack = make_set(k_n, dtype);
    auto opt = make(stack, hp);
    for (int64_t k = 0; k < k_n; ++k) {
        ParamSet one = make_set(1, dtype);
        std::vector<std::vector<double>> hp1;
        for (const auto& h : hp) hp1.push_back({h[static_cast<size_t>(k)]});
        auto opt1 = make(one, hp1);
        ParamSet stack_k = make_set(k_n, dtype);
        auto opt_k = make(stack_k, hp);
        for (int s = 0; s < 4; ++s) {
            set_grads(one, s);
            set_grads(stack_k, s);
            opt1.step();
            opt_k.step();
        }
        for (const auto& e : one.entries()) {
            Tensor a = e.value.member(0), b = stack_k.value(e.name).member(k);
            for (int64_t i = 0; i < a.numel(); ++i)
                EXPECT_EQ(a.at(i), b.at(i)) << e.name << " member " << k;
        }
    }
    (void)opt;
}

TEST(Sgd, PerMemberHyperParametersMatchStacksOfOne) {
    for (DType dt : {DType::F32, DType::F64})
        check_members_match_singletons(
            {{0.1, 0.01, 0.3}, {0.9, 0.0, 0.5}, {0.0, 1e-3, 0.1}},
            [](ParamSet& ps, const std::vector<std::vector<double>>& h) {
                return Sgd(ps, {.lr = h[0], .momentum = h[1], .weight_decay = h[2]});
            },
            dt);
}

TEST(Adam, PerMemberHyperParametersMatchStacksOfOne) {
    for (DType dt : {DType::F32, DType::F64})
        for (bool decoupled : {false, true})
            check_members_match_singletons(
                {{1e-3, 1e-2, 3e-2}, {0.9, 0.8, 0.95}, {0.0, 1e-2, 0.1}},
                [decoupled](ParamSet& ps, const std::vector<std::vector<double>>& h) {
                    return Adam(
                        ps,
                        {.lr = h[0], .beta1 = h[1], .weight_decay = h[2], .decoupled = decoupled});
                },
                dt);
}

TEST(Adam, SetLrPerMemberAndRejectsWrongSizes) {
    ParamSet ps = make_set(2);
    Adam opt(ps, {.lr = 0.1});
    opt.set_lr(std::vector<double>{0.0, 0.1});
    std::vector<double> before = ps.value("a").to_vector();
    set_grads(ps, 0);
    opt.step();
    EXPECT_EQ(ps.value("a").at(1), before[1]);  // member 0 frozen
    EXPECT_NE(ps.value("a").at(4), before[4]);
    EXPECT_EQ(before[1], before[4]);
    EXPECT_THROW(opt.set_lr(std::vector<double>{0.1, 0.2, 0.3}), Error);
    EXPECT_THROW(Adam(ps, {.lr = std::vector<double>{0.1, 0.2, 0.3}}), Error);
}

TEST(Clip, ScalesOnlyMembersAboveMaxNorm) {
    ParamSet ps(2, DType::F64);
    ps.add("a", {2});
    ps.add("b", {1});
    // member 0: grads (3, 4 | 0) -> norm 5; member 1: (0.3, 0 | 0.4) -> norm 0.5
    double g[] = {3, 4, 0.3, 0};
    for (int i = 0; i < 4; ++i) ps.grad("a").set(i, g[i]);
    ps.grad("b").set(0, 0);
    ps.grad("b").set(1, 0.4);
    std::vector<double> norms = clip_grad_norm(ps, 1.0);
    EXPECT_NEAR(norms[0], 5.0, 1e-12);
    EXPECT_NEAR(norms[1], 0.5, 1e-12);
    const double coef = 1.0 / (5.0 + 1e-6);
    EXPECT_NEAR(ps.grad("a").at(0), 3 * coef, 1e-12);
    EXPECT_NEAR(ps.grad("a").at(1), 4 * coef, 1e-12);
    EXPECT_EQ(ps.grad("a").at(2), 0.3);  // member 1 untouched
    EXPECT_EQ(ps.grad("b").at(1), 0.4);
    // Per-member max norms.
    norms = clip_grad_norm(ps, std::vector<double>{10.0, 0.25});
    EXPECT_NEAR(norms[1], 0.5, 1e-12);
    EXPECT_NEAR(ps.grad("b").at(1), 0.4 * 0.25 / (0.5 + 1e-6), 1e-12);
}

}  // namespace
}  // namespace benchtop
