// Tests of the element-wise ops: forward values against naive references (with NumPy-style
// broadcasting), float32 against float64, float64 gradient checks including a member axis
// K > 1 and broadcast operands, and errors for mismatched dtypes and shapes.
#include "benchtop/ops/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "support/grad_check.h"

namespace benchtop {
namespace {

using testing::check_gradients;
using testing::GraphFn;
using testing::random_tensor;

// Random entries c + s * (0.1 + u) with random sign s and u in [0, 1): kept 0.1 away from c.
Tensor away_from(const Shape& shape, uint64_t seed, double c) {
    Tensor t = random_tensor(shape, seed, -1.0, 1.0);
    for (int64_t i = 0; i < t.numel(); ++i) {
        double u = t.at(i);
        t.set(i, c + (u >= 0 ? 0.1 + u : -0.1 + u));
    }
    return t;
}

// Naive broadcast read: element of `t` at output multi-index of flat `o` in shape `out`.
double bread(const Tensor& t, const Shape& out, int64_t o) {
    int r = out.rank(), off = r - t.rank();
    int64_t idx = 0, stride = 1;
    for (int d = r - 1; d >= 0; --d) {
        int64_t i = o % out[d];
        o /= out[d];
        int dt = d - off;
        if (dt < 0) continue;
        if (t.shape()[dt] != 1) idx += i * stride;
        stride *= t.shape()[dt];
    }
    return t.at(idx);
}

void expect_binary_matches(Var (*op)(Var, Var),
                           double (*ref)(double, double),
                           const Tensor& a,
                           const Tensor& b) {
    Graph g;
    Var y = op(g.input(a), g.input(b));
    Shape os = broadcast_shapes(a.shape(), b.shape(), "test");
    ASSERT_EQ(y.shape(), os);
    for (int64_t o = 0; o < os.numel(); ++o)
        EXPECT_NEAR(y.value().at(o), ref(bread(a, os, o), bread(b, os, o)), 1e-12) << o;
}

const Shape kShapePairs[][2] = {
    {{3, 4, 5}, {3, 4, 5}},                    // same shape
    {{3, 4, 5}, {3, 1, 5}},                    // per-member bias [K, 1, H]
    {{1, 4, 5}, {3, 4, 5}},                    // shared input [1, B, D]
    {{3, 4, 5}, {1}},                          // scalar-like
    {{1}, {3, 4, 5}},       {{5}, {3, 4, 1}},  // both broadcast, different ranks
};

TEST(Elementwise, BinaryForwardMatchesNaiveBroadcast) {
    uint64_t seed = 1;
    for (const auto& sp : kShapePairs) {
        Tensor a = random_tensor(sp[0], seed++), b = away_from(sp[1], seed++, 0.0);
        expect_binary_matches(
            add, [](double x, double y) { return x + y; }, a, b);
        expect_binary_matches(
            sub, [](double x, double y) { return x - y; }, a, b);
        expect_binary_matches(
            mul, [](double x, double y) { return x * y; }, a, b);
        expect_binary_matches(
            div, [](double x, double y) { return x / y; }, a, b);
    }
}

TEST(Elementwise, BinaryGradCheckBroadcast) {
    const GraphFn fns[] = {
        [](Graph&, const std::vector<Var>& v) { return v[0] + v[1]; },
        [](Graph&, const std::vector<Var>& v) { return v[0] - v[1]; },
        [](Graph&, const std::vector<Var>& v) { return v[0] * v[1]; },
        [](Graph&, const std::vector<Var>& v) { return v[0] / v[1]; },
    };
    uint64_t seed = 100;
    for (const GraphFn& f : fns)
        for (const auto& sp : kShapePairs)
            check_gradients(f, {random_tensor(sp[0], seed++), away_from(sp[1], seed++, 0.0)});
}

TEST(Elementwise, SameInputTwiceAccumulates) {
    Graph g;
    Var x = g.variable(Tensor::from<double>({3}, {1, 2, 3}));
    Var y = x * x + x;  // dy/dx = 2x + 1
    g.backward(y);
    EXPECT_EQ(g.grad(x).to_vector(), (std::vector<double>{3, 5, 7}));
}

struct UnaryCase {
    const char* name;
    Var (*op)(Var);
    double (*ref)(double);
    double center;       // inputs kept 0.1 away from this (kinks, domain edges)
    double lo_positive;  // > 0: inputs drawn from [lo, lo + 2] instead
};

double sigmoid_ref(double x) {
    return 1 / (1 + std::exp(-x));
}
double gelu_ref(double x) {
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

const UnaryCase kUnary[] = {
    {"relu", [](Var x) { return relu(x); }, [](double x) { return x > 0 ? x : 0; }, 0, 0},
    {"leaky_relu", [](Var x) { return leaky_relu(x, 0.2); },
     [](double x) { return x > 0 ? x : 0.2 * x; }, 0, 0},
    {"elu", [](Var x) { return elu(x, 1.5); },
     [](double x) { return x > 0 ? x : 1.5 * (std::exp(x) - 1); }, 0, 0},
    {"gelu", [](Var x) { return gelu(x); }, gelu_ref, 0, 0},
    {"tanh", [](Var x) { return tanh(x); }, [](double x) { return std::tanh(x); }, 0, 0},
    {"sigmoid", [](Var x) { return sigmoid(x); }, sigmoid_ref, 0, 0},
    {"softplus", [](Var x) { return softplus(x, 2.0, 1.0); },
     [](double x) { return 2 * x > 1 ? x : std::log(1 + std::exp(2 * x)) / 2; }, 0.5, 0},
    {"softplus_default", [](Var x) { return softplus(x); },
     [](double x) { return std::log(1 + std::exp(x)); }, 0, 0},
    {"exp", [](Var x) { return exp(x); }, [](double x) { return std::exp(x); }, 0, 0},
    {"log", [](Var x) { return log(x); }, [](double x) { return std::log(x); }, 0, 0.3},
    {"sqrt", [](Var x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 0.3},
    {"pow", [](Var x) { return pow(x, 2.5); }, [](double x) { return std::pow(x, 2.5); }, 0, 0.3},
    {"pow_neg", [](Var x) { return pow(x, -1.5); }, [](double x) { return std::pow(x, -1.5); }, 0,
     0.3},
    {"abs", [](Var x) { return abs(x); }, [](double x) { return std::abs(x); }, 0, 0},
    {"neg", [](Var x) { return -x; }, [](double x) { return -x; }, 0, 0},
    {"add_scalar", [](Var x) { return x + 2.5; }, [](double x) { return x + 2.5; }, 0, 0},
    {"sub_scalar", [](Var x) { return x - 2.5; }, [](double x) { return x - 2.5; }, 0, 0},
    {"mul_scalar", [](Var x) { return 3.0 * x; }, [](double x) { return 3 * x; }, 0, 0},
};

Tensor unary_input(const UnaryCase& c, const Shape& s, uint64_t seed) {
    if (c.lo_positive > 0) return random_tensor(s, seed, c.lo_positive, c.lo_positive + 2);
    Tensor t = away_from(s, seed, c.center);
    for (int64_t i = 0; i < t.numel(); ++i) t.set(i, c.center + 2 * (t.at(i) - c.center));
    return t;
}

TEST(Elementwise, UnaryForwardMatchesReference) {
    for (const UnaryCase& c : kUnary) {
        Tensor x = unary_input(c, {2, 3, 7}, 7);
        Graph g;
        Var y = c.op(g.input(x));
        ASSERT_EQ(y.shape(), x.shape()) << c.name;
        for (int64_t i = 0; i < x.numel(); ++i)
            EXPECT_NEAR(y.value().at(i), c.ref(x.at(i)), 1e-12) << c.name << " at " << x.at(i);
        // float32 agrees with float64.
        Graph g32;
        Var y32 = c.op(g32.input(x.to(DType::F32)));
        ASSERT_EQ(y32.dtype(), DType::F32);
        for (int64_t i = 0; i < x.numel(); ++i)
            EXPECT_NEAR(y32.value().at(i), y.value().at(i), 1e-5 * (1 + std::abs(y.value().at(i))))
                << c.name;
    }
}

TEST(Elementwise, UnaryGradCheck) {
    for (const UnaryCase& c : kUnary) {
        SCOPED_TRACE(c.name);
        auto f = [&c](Graph&, const std::vector<Var>& v) { return c.op(v[0]); };
        check_gradients(f, {unary_input(c, {3, 4, 5}, 11)});
        check_gradients(f, {unary_input(c, {1}, 12)});
    }
}

TEST(Elementwise, SpecialValues) {
    Graph g;
    Var x = g.variable(Tensor::from<double>({5}, {-100, -1, 0, 1, 100}));
    // sigmoid saturates without NaN; softplus is linear above the threshold.
    Var s = sigmoid(x);
    EXPECT_NEAR(s.value().at(0), 0, 1e-40);
    EXPECT_NEAR(s.value().at(4), 1, 1e-15);
    Var sp = softplus(x);
    EXPECT_EQ(sp.value().at(4), 100);
    EXPECT_NEAR(sp.value().at(0), std::exp(-100.0), 1e-50);
    // abs and relu gradient at exactly 0 is 0.
    Var a = abs(x);
    g.backward(a);
    EXPECT_EQ(g.grad(x).to_vector(), (std::vector<double>{-1, -1, 0, 1, 1}));
    Graph g2;
    Var x2 = g2.variable(Tensor::from<double>({3}, {-1, 0, 2}));
    g2.backward(relu(x2));
    EXPECT_EQ(g2.grad(x2).to_vector(), (std::vector<double>{0, 0, 1}));
    // NaN propagates through relu (as torch).
    Graph g3;
    Var r = relu(g3.input(Tensor::from<float>({2}, {std::nanf(""), -1.f})));
    EXPECT_TRUE(std::isnan(r.value().at(0)));
    EXPECT_EQ(r.value().at(1), 0);
}

TEST(Elementwise, Float32BroadcastGradMatchesFloat64) {
    Tensor a = random_tensor({3, 4, 5}, 1), b = random_tensor({3, 1, 5}, 2);
    std::vector<double> grads[2][2];
    int slot = 0;
    for (DType dt : {DType::F64, DType::F32}) {
        Graph g;
        Var va = g.variable(a.to(dt)), vb = g.variable(b.to(dt));
        g.backward(relu(va * vb + vb));
        grads[slot][0] = g.grad(va).to_vector();
        grads[slot][1] = g.grad(vb).to_vector();
        ++slot;
    }
    for (int j = 0; j < 2; ++j)
        for (size_t i = 0; i < grads[0][j].size(); ++i)
            EXPECT_NEAR(grads[1][j][i], grads[0][j][i], 1e-5);
}

TEST(Elementwise, RejectsMismatchedDtypes) {
    Graph g;
    Var a = g.input(Tensor::zeros({2, 3}, DType::F32));
    Var b = g.input(Tensor::zeros({1, 3}, DType::F64));
    try {
        add(a, b);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("float32"), std::string::npos) << m;
        EXPECT_NE(m.find("float64"), std::string::npos) << m;
        EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
        EXPECT_NE(m.find("[1, 3]"), std::string::npos) << m;
    }
}

TEST(Elementwise, RejectsIncompatibleShapesAndIntTensors) {
    Graph g;
    Var a = g.input(Tensor::zeros({2, 3})), b = g.input(Tensor::zeros({2, 4}));
    EXPECT_THROW(mul(a, b), Error);
    Var i = g.input(Tensor::zeros({2, 3}, DType::I32));
    EXPECT_THROW(relu(i), Error);
    EXPECT_THROW(add(i, i), Error);
}

TEST(Elementwise, NoRecordingWithoutGrad) {
    Graph g;
    Var x = g.variable(Tensor::from<double>({2}, {1, -1}));
    NoGradScope ng(g);
    Var y = relu(x) + x;
    EXPECT_FALSE(y.records());
    EXPECT_EQ(y.value().to_vector(), (std::vector<double>{2, -1}));
}

}  // namespace
}  // namespace benchtop
