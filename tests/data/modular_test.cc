// Tests of the modular-arithmetic datasets: each operation against arithmetic written out here
// (division through the multiplicative inverse found by search), the split sizes and disjointness,
// the token layout [a, b, =], determinism from the seed, and clear errors.
#include "benchtop/data/modular.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace benchtop {
namespace {

TEST(Modular, OperationsMatchSchoolArithmetic) {
    const int64_t p = 13;
    for (int64_t a = 0; a < p; ++a)
        for (int64_t b = 0; b < p; ++b) {
            EXPECT_EQ(modular_apply(ModularOp::Add, a, b, p), (a + b) % p);
            EXPECT_EQ((modular_apply(ModularOp::Subtract, a, b, p) + b) % p, a);
            EXPECT_EQ(modular_apply(ModularOp::Multiply, a, b, p), (a * b) % p);
            if (b == 0) continue;
            const int64_t c = modular_apply(ModularOp::Divide, a, b, p);
            EXPECT_EQ(c * b % p, a) << a << " / " << b;
        }
    EXPECT_TRUE(is_prime(59));
    EXPECT_FALSE(is_prime(57));
    EXPECT_FALSE(is_prime(1));
}

TEST(Modular, SplitCoversEveryEquationOnceWithTheRightLabels) {
    for (ModularOp op : {ModularOp::Add, ModularOp::Divide}) {
        ModularData d = make_modular({.p = 11, .op = op, .train_fraction = 0.3, .seed = 4});
        const int64_t n = op == ModularOp::Divide ? 11 * 10 : 11 * 11;
        EXPECT_EQ(d.vocab, 12);
        EXPECT_EQ(d.train_tokens.size(0), std::llround(0.3 * double(n)));
        EXPECT_EQ(d.train_tokens.size(0) + d.test_tokens.size(0), n);
        std::set<std::pair<int, int>> seen;
        for (const auto* part : {&d.train_tokens, &d.test_tokens}) {
            const Tensor& t = *part;
            const Tensor& y = part == &d.train_tokens ? d.train_labels : d.test_labels;
            ASSERT_EQ(t.size(1), 3);
            for (int64_t i = 0; i < t.size(0); ++i) {
                const int a = int(t.at(i * 3)), b = int(t.at(i * 3 + 1));
                EXPECT_EQ(t.at(i * 3 + 2), 11.0) << "third token is '='";
                EXPECT_TRUE(seen.insert({a, b}).second) << "equation " << a << ", " << b << " twice";
                EXPECT_EQ(y.at(i), double(modular_apply(op, a, b, 11)));
            }
        }
        EXPECT_EQ(int64_t(seen.size()), n);
    }
}

TEST(Modular, SeedDecidesTheSplit) {
    ModularData a = make_modular({.p = 17, .seed = 1}), b = make_modular({.p = 17, .seed = 1}),
                c = make_modular({.p = 17, .seed = 2});
    EXPECT_EQ(a.train_tokens.to_vector(), b.train_tokens.to_vector());
    EXPECT_NE(a.train_tokens.to_vector(), c.train_tokens.to_vector());
}

TEST(Modular, RejectsBadArguments) {
    EXPECT_THROW(make_modular({.p = 1}), Error);
    EXPECT_THROW(make_modular({.p = 15, .op = ModularOp::Divide}), Error);
    EXPECT_THROW(make_modular({.p = 7, .train_fraction = 0.0}), Error);
    EXPECT_THROW(make_modular({.p = 7, .train_fraction = 1.0}), Error);
    EXPECT_THROW(modular_op_from_string("pow"), Error);
}

}  // namespace
}  // namespace benchtop
