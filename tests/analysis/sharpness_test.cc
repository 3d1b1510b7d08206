// Hessian-vector products and the top eigenvalue against the exact Hessian of a tiny model:
// softmax regression, whose Hessian of the mean cross-entropy is
// (1/N) sum_i J_i^T (diag(p_i) - p_i p_i^T) J_i with J_i the Jacobian of the logits in the
// parameters (x_i for the weights of each class, 1 for its bias).
#include "benchtop/analysis/sharpness.h"

#include <gtest/gtest.h>

#include <cmath>

#include "benchtop/autograd/graph.h"
#include "benchtop/core/rng.h"
#include "benchtop/nn/deep_mlp.h"
#include "benchtop/nn/model_init.h"
#include "benchtop/ops/ops.h"

namespace benchtop {
namespace {

constexpr int64_t kN = 30, kD = 4, kC = 3, kP = kC * kD + kC, kK = 2;

struct Problem {
    Tensor x, y;
    ParamSet ps{kK, DType::F64};
    Problem() {
        Rng rng(stream_key(5, 0, Purpose::Other));
        x = Tensor::empty({kN, kD}, DType::F64);
        y = Tensor::empty({kN}, DType::I32);
        for (int64_t i = 0; i < kN * kD; ++i) x.data<double>()[i] = rng.normal();
        for (int64_t i = 0; i < kN; ++i) y.data<int32_t>()[i] = int32_t(rng.below(kC));
        ps.add("linear.weight", {kC, kD});
        ps.add("linear.bias", {kC});
        // References after both adds: adding may move the entries.
        Tensor& w = ps.value("linear.weight");
        Tensor& b = ps.value("linear.bias");
        for (int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = 0.7 * rng.normal();
        for (int64_t i = 0; i < b.numel(); ++i) b.data<double>()[i] = 0.3 * rng.normal();
    }
    GradientOracle oracle() {
        return [this](ParamSet& p) {
            Graph g;
            Var xb = g.input(x.reshape({1, kN, kD}));
            Var l = cross_entropy(linear(xb, p.var(g, "linear.weight"), p.var(g, "linear.bias")), y);
            std::vector<double> out{l.value().at(0), l.value().at(1)};
            g.backward(l);
            return out;
        };
    }
    // Exact Hessian of member k, parameters ordered (W row-major, b).
    std::vector<double> hessian(int64_t k) {
        std::vector<double> H(size_t(kP * kP), 0.0);
        const double* w = ps.value("linear.weight").data<double>() + k * kC * kD;
        const double* b = ps.value("linear.bias").data<double>() + k * kC;
        for (int64_t i = 0; i < kN; ++i) {
            const double* xi = x.data<double>() + i * kD;
            double z[kC], p[kC], mx = -1e300, s = 0;
            for (int64_t c = 0; c < kC; ++c) {
                z[c] = b[c];
                for (int64_t d = 0; d < kD; ++d) z[c] += w[c * kD + d] * xi[d];
                mx = std::max(mx, z[c]);
            }
            for (int64_t c = 0; c < kC; ++c) s += p[c] = std::exp(z[c] - mx);
            for (double& v : p) v /= s;
            auto feat = [&](int64_t q, int64_t* cls) {  // parameter q -> (class, d logit / d param)
                if (q < kC * kD) { *cls = q / kD; return xi[q % kD]; }
                *cls = q - kC * kD;
                return 1.0;
            };
            for (int64_t q = 0; q < kP; ++q)
                for (int64_t r = 0; r < kP; ++r) {
                    int64_t cq = 0, cr = 0;
                    const double fq = feat(q, &cq), fr = feat(r, &cr);
                    const double a = (cq == cr ? p[cq] : 0.0) - p[cq] * p[cr];
                    H[size_t(q * kP + r)] += a * fq * fr / kN;
                }
        }
        return H;
    }
};

Direction random_direction(const ParamSet& ps, uint64_t seed, std::vector<std::vector<double>>* flat) {
    Rng rng(seed);
    Direction v;
    flat->assign(kK, {});
    for (const ParamSet::Entry& e : ps.entries()) {
        Tensor t = Tensor::empty(e.value.shape(), DType::F64);
        const int64_t per = t.numel() / kK;
        for (int64_t k = 0; k < kK; ++k)
            for (int64_t j = 0; j < per; ++j) {
                t.data<double>()[k * per + j] = rng.normal();
                (*flat)[size_t(k)].push_back(t.data<double>()[k * per + j]);
            }
        v.push_back(t);
    }
    return v;
}

TEST(Sharpness, HessianVectorProductMatchesTheExactHessian) {
    Problem pr;
    std::vector<std::vector<double>> flat;
    Direction v = random_direction(pr.ps, 9, &flat);
    const Tensor w_before = pr.ps.value("linear.weight").clone();
    Direction hv = hessian_vector_product(pr.ps, pr.oracle(), v, 1e-4);
    // Values restored exactly.
    for (int64_t i = 0; i < w_before.numel(); ++i)
        EXPECT_EQ(pr.ps.value("linear.weight").data<double>()[i], w_before.data<double>()[i]);
    for (int64_t k = 0; k < kK; ++k) {
        std::vector<double> H = pr.hessian(k), got;
        for (const Tensor& t : hv)
            for (int64_t j = 0; j < t.numel() / kK; ++j) got.push_back(t.data<double>()[k * (t.numel() / kK) + j]);
        ASSERT_EQ(got.size(), size_t(kP));
        for (int64_t q = 0; q < kP; ++q) {
            double want = 0;
            for (int64_t r = 0; r < kP; ++r) want += H[size_t(q * kP + r)] * flat[size_t(k)][size_t(r)];
            EXPECT_NEAR(got[size_t(q)], want, 1e-7 + 1e-6 * std::abs(want)) << "member " << k << " entry " << q;
        }
    }
}

TEST(Sharpness, PowerIterationFindsTheLargestEigenvalue) {
    Problem pr;
    SharpnessResult r = top_hessian_eigenvalue(pr.ps, pr.oracle(), {.iterations = 200, .eps = 1e-4, .seed = 1});
    for (int64_t k = 0; k < kK; ++k) {
        // Reference: many power iterations on the exact matrix (symmetric positive semi-definite).
        std::vector<double> H = pr.hessian(k), v(kP, 1.0), hv(kP);
        double lambda = 0;
        for (int it = 0; it < 20000; ++it) {
            double n = 0;
            for (int64_t q = 0; q < kP; ++q) {
                hv[size_t(q)] = 0;
                for (int64_t s = 0; s < kP; ++s) hv[size_t(q)] += H[size_t(q * kP + s)] * v[size_t(s)];
            }
            lambda = 0;
            for (int64_t q = 0; q < kP; ++q) lambda += v[size_t(q)] * hv[size_t(q)], n += hv[size_t(q)] * hv[size_t(q)];
            for (int64_t q = 0; q < kP; ++q) v[size_t(q)] = hv[size_t(q)] / std::sqrt(n);
        }
        std::printf("member %ld: power iteration %.10f, exact %.10f\n", long(k), r.eigenvalue[size_t(k)], lambda);
        // Central differences with eps 1e-4 err by O(eps^2) times the third derivative: about 1e-6 here.
        EXPECT_NEAR(r.eigenvalue[size_t(k)], lambda, 1e-5 * lambda);
        EXPECT_LT(r.last_change[size_t(k)], 1e-6);
    }
}

// Away from a minimum the largest-magnitude eigenvalue can be negative: the shifted second run
// still returns the largest one. Loss -CE (maximising the likelihood's negative) has Hessian -H,
// whose largest eigenvalue is minus the smallest of H.
TEST(Sharpness, LargestAlgebraicEigenvalueOfAnIndefiniteOrNegativeHessian) {
    Problem pr;
    GradientOracle base = pr.oracle();
    GradientOracle negated = [&](ParamSet& p) {
        std::vector<double> l = base(p);
        for (ParamSet::Entry& e : p.entries())
            for (int64_t j = 0; j < e.grad.numel(); ++j) e.grad.data<double>()[j] = -e.grad.data<double>()[j];
        return l;
    };
    SharpnessResult r = top_hessian_eigenvalue(pr.ps, negated, {.iterations = 400, .eps = 1e-4, .seed = 1});
    SharpnessResult magnitude =
        top_hessian_eigenvalue(pr.ps, negated, {.iterations = 400, .eps = 1e-4, .seed = 1, .largest_algebraic = false});
    for (int64_t k = 0; k < kK; ++k) {
        // The softmax-regression Hessian is singular (the logits' sum is free): its smallest
        // eigenvalue is 0, so -H's largest is 0, and its largest-magnitude one is -lambda_max(H).
        EXPECT_LT(magnitude.eigenvalue[size_t(k)], -0.4);
        EXPECT_NEAR(r.eigenvalue[size_t(k)], 0.0, 1e-5);
    }
}

// A ReLU network: finite differences of its own gradients jump where units cross their kinks;
// with the activation pattern frozen at the base point the products are those of the a.e.
// Hessian: the same for every eps (to O(eps^2)) and symmetric (u.Hv = v.Hu).
TEST(Sharpness, FrozenReluPatternGivesStableSymmetricProducts) {
    const DeepMlpSpec spec{.in = 4, .hidden = {16, 12}, .out = 3};
    ParamSet ps(kK, DType::F64);
    add_deep_mlp_params(ps, spec);
    std::vector<uint64_t> seeds{3, 4};
    ParamSet ps32(kK);
    add_deep_mlp_params(ps32, spec);
    init_torch_default(ps32, seeds);
    ps = convert_params(ps32, DType::F64);
    Rng rng(stream_key(8, 0, Purpose::Other));
    const int64_t n = 200;
    Tensor x = Tensor::empty({1, n, spec.in}, DType::F64), y = Tensor::empty({n}, DType::I32);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = rng.normal();
    for (int64_t i = 0; i < n; ++i) y.data<int32_t>()[i] = int32_t(rng.below(3));

    // Own pattern: the masked forward is the network.
    std::vector<Tensor> masks = deep_mlp_relu_masks(ps, spec, x);
    {
        Graph g;
        Tensor a = deep_mlp_forward(ps, spec, g.input(x)).value();
        Tensor b = deep_mlp_forward_masked(ps, spec, g.input(x), masks).value();
        for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<double>()[i], b.data<double>()[i]);
    }
    auto oracle = [&](bool frozen) -> GradientOracle {
        return [&, frozen](ParamSet& p) {
            Graph g;
            Var logits = frozen ? deep_mlp_forward_masked(p, spec, g.input(x), masks) : deep_mlp_forward(p, spec, g.input(x));
            Var l = cross_entropy(logits, y);
            std::vector<double> out{l.value().at(0), l.value().at(1)};
            g.backward(l);
            return out;
        };
    };
    std::vector<std::vector<double>> flat;
    Direction u = random_direction(ps, 11, &flat), v = random_direction(ps, 12, &flat);
    // Unit directions, so eps is the step length.
    for (Direction* d : {&u, &v}) {
        std::vector<double> n2 = member_dot(*d, *d);
        for (Tensor& t : *d)
            for (int64_t k = 0; k < kK; ++k)
                for (int64_t j = 0; j < t.numel() / kK; ++j) t.data<double>()[k * (t.numel() / kK) + j] /= std::sqrt(n2[size_t(k)]);
    }
    auto spread = [&](bool frozen) {
        double worst = 0;
        Direction ref = hessian_vector_product(ps, oracle(frozen), v, 1e-5);
        std::vector<double> ref2 = member_dot(ref, ref);
        for (double eps : {1e-2, 1e-3, 1e-4}) {
            Direction hv = hessian_vector_product(ps, oracle(frozen), v, eps);
            for (size_t i = 0; i < hv.size(); ++i)
                for (int64_t j = 0; j < hv[i].numel(); ++j) hv[i].data<double>()[j] -= ref[i].data<double>()[j];
            std::vector<double> d2 = member_dot(hv, hv);
            for (int64_t k = 0; k < kK; ++k) worst = std::max(worst, std::sqrt(d2[size_t(k)] / ref2[size_t(k)]));
        }
        return worst;
    };
    const double frozen_spread = spread(true), raw_spread = spread(false);
    std::printf("relative spread of Hv over eps 1e-2..1e-5: frozen pattern %.2e, own ReLUs %.2e\n", frozen_spread,
                raw_spread);
    EXPECT_LT(frozen_spread, 1e-3);
    EXPECT_GT(raw_spread, 10 * frozen_spread);
    Direction hu = hessian_vector_product(ps, oracle(true), u, 1e-4);
    Direction hv = hessian_vector_product(ps, oracle(true), v, 1e-4);
    std::vector<double> uhv = member_dot(u, hv), vhu = member_dot(v, hu);
    for (int64_t k = 0; k < kK; ++k) EXPECT_NEAR(uhv[size_t(k)], vhu[size_t(k)], 1e-7 * (1 + std::abs(uhv[size_t(k)])));
}

TEST(Sharpness, ConvertParamsKeepsNamesShapesAndValues) {
    ParamSet ps(3);
    Tensor& w = ps.add("a", {2, 5});
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = 0.25f * float(i);
    ParamSet d = convert_params(ps, DType::F64);
    ASSERT_EQ(d.value("a").shape(), w.shape());
    EXPECT_EQ(d.dtype(), DType::F64);
    for (int64_t i = 0; i < w.numel(); ++i) EXPECT_EQ(d.value("a").data<double>()[i], 0.25 * double(i));
}

}  // namespace
}  // namespace benchtop
