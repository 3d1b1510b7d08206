#include "benchtop/tensor/fma_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "benchtop/tensor/gemm.h"
#include "support/isa.h"

namespace benchtop {
namespace {

struct Problem {
    bool trans_a, trans_b;
    int64_t batch, m, n, k;
    bool shared_a, shared_b;
    bool accumulate, bias, relu, residual;
    bool addend = false;
    bool skip_c = false;  // with residual: C is not written, only the sum
};

// The kernel's contract, written as plainly as possible: per element one std::fma chain over
// the inner dimension in order from zero, then + old C, + addend, + bias, ReLU (NaN kept), and
// the residual sum.
void reference(const Problem& p,
               const std::vector<float>& a,
               const std::vector<float>& b,
               const std::vector<float>& addend,
               const std::vector<float>& bias,
               const std::vector<float>& res,
               std::vector<float>& c,
               std::vector<float>& sum) {
    const int64_t lda = p.trans_a ? p.m : p.k, ldb = p.trans_b ? p.k : p.n;
    for (int64_t i = 0; i < p.batch; ++i) {
        const float* ai = a.data() + (p.shared_a ? 0 : i * p.m * p.k);
        const float* bi = b.data() + (p.shared_b ? 0 : i * p.k * p.n);
        for (int64_t r = 0; r < p.m; ++r)
            for (int64_t j = 0; j < p.n; ++j) {
                float acc = 0.0f;
                for (int64_t q = 0; q < p.k; ++q) {
                    const float x = p.trans_a ? ai[q * lda + r] : ai[r * lda + q];
                    const float y = p.trans_b ? bi[j * ldb + q] : bi[q * ldb + j];
                    acc = std::fma(x, y, acc);
                }
                const size_t o = size_t(i * p.m * p.n + r * p.n + j);
                float v = p.accumulate ? c[o] + acc : acc;
                if (p.addend) v = addend[o] + v;
                if (p.bias) v = v + bias[size_t(i * p.n + j)];
                if (p.relu) v = v < 0.0f ? 0.0f : v;
                c[o] = v;
                if (p.residual) sum[o] = res[o] + v;
            }
    }
}

void check(const Problem& p, std::mt19937& rng) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    auto fill = [&](size_t n) {
        std::vector<float> v(n);
        for (auto& x : v) x = u(rng);
        return v;
    };
    std::vector<float> a = fill(size_t((p.shared_a ? 1 : p.batch) * p.m * p.k));
    std::vector<float> b = fill(size_t((p.shared_b ? 1 : p.batch) * p.k * p.n));
    if (p.relu && !a.empty()) a[0] = std::numeric_limits<float>::quiet_NaN();  // must stay NaN
    const std::vector<float> bias = fill(size_t(p.batch * p.n));
    const std::vector<float> res = fill(size_t(p.batch * p.m * p.n));
    const std::vector<float> addend = fill(size_t(p.batch * p.m * p.n));
    std::vector<float> want = fill(size_t(p.batch * p.m * p.n)), got = want;
    std::vector<float> want_sum(want.size(), 7.0f), got_sum = want_sum;
    reference(p, a, b, addend, bias, res, want, want_sum);
    FmaEpilogue ep;
    ep.accumulate = p.accumulate;
    if (p.addend) {
        ep.addend = addend.data();
        ep.stride_addend = p.m * p.n;
    }
    if (p.bias) {
        ep.bias = bias.data();
        ep.stride_bias = p.n;
    }
    ep.relu = p.relu;
    if (p.residual) {
        ep.residual = res.data();
        ep.stride_residual = p.m * p.n;
        ep.sum = got_sum.data();
        ep.stride_sum = p.m * p.n;
    }
    // With ReLU, the gradient mask as bits too (filled with a pattern it must overwrite).
    const int64_t words = relu_mask_words(p.n);
    std::vector<uint16_t> bits;
    if (p.relu) {
        bits.assign(size_t(p.batch * p.m * words), 0xAAAA);
        ep.relu_bits = bits.data();
        ep.stride_bits = p.m * words;
    }
    const std::vector<float> c_before = got;
    ep.store_c = !(p.residual && p.skip_c);
    fma_gemm_batched(p.trans_a, p.trans_b, p.batch, p.m, p.n, p.k, a.data(), p.trans_a ? p.m : p.k,
                     p.shared_a ? 0 : p.m * p.k, b.data(), p.trans_b ? p.k : p.n,
                     p.shared_b ? 0 : p.k * p.n, got.data(), p.n, p.m * p.n, ep);
    const auto where = [&] {
        return ::testing::Message()
               << "batch=" << p.batch << " m=" << p.m << " n=" << p.n << " k=" << p.k
               << " ta=" << p.trans_a << " tb=" << p.trans_b << " shared_a=" << p.shared_a
               << " shared_b=" << p.shared_b << " accumulate=" << p.accumulate << " bias=" << p.bias
               << " relu=" << p.relu << " residual=" << p.residual;
    };
    if (ep.store_c)
        ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << where();
    else
        ASSERT_EQ(std::memcmp(got.data(), c_before.data(), got.size() * sizeof(float)), 0)
            << where() << " (C must not be written)";
    if (p.relu) {
        // Bit j of a row is set exactly where the ReLU output is > 0 (not for NaN, not past n),
        // and relu_mask_backward turns it into dz = y > 0 ? dout : 0.
        const std::vector<float> dout = fill(want.size());
        std::vector<float> dz(want.size(), 9.0f), dz2(want.size(), 9.0f);
        // With column sums (the bias gradient), accumulated into old values or assigned.
        const bool assign = (p.m + p.n) % 2 == 0;
        std::vector<float> sums = fill(size_t(p.batch * p.n)), old_sums = sums;
        for (int64_t i = 0; i < p.batch; ++i) {
            relu_mask_backward(bits.data() + i * p.m * words, dout.data() + i * p.m * p.n,
                               dz.data() + i * p.m * p.n, p.m, p.n);
            relu_mask_backward(bits.data() + i * p.m * words, dout.data() + i * p.m * p.n,
                               dz2.data() + i * p.m * p.n, p.m, p.n, sums.data() + i * p.n, assign);
        }
        ASSERT_EQ(std::memcmp(dz.data(), dz2.data(), dz.size() * sizeof(float)), 0) << where();
        // The sums' order: row r to partial r % 4 (rows after the last group of four to
        // partial 0), then (p0 + p1) + (p2 + p3), then old + that.
        for (int64_t i = 0; i < p.batch; ++i)
            for (int64_t j = 0; j < p.n; ++j) {
                float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                const int64_t full = p.m - p.m % 4;
                for (int64_t r = 0; r < p.m; ++r)
                    part[r < full ? r % 4 : 0] += dz[size_t((i * p.m + r) * p.n + j)];
                const float s = (part[0] + part[1]) + (part[2] + part[3]);
                const float want_col = assign ? s : old_sums[size_t(i * p.n + j)] + s;
                ASSERT_EQ(std::memcmp(&sums[size_t(i * p.n + j)], &want_col, sizeof(float)), 0)
                    << where() << " column sum " << j;
            }
        for (int64_t row = 0; row < p.batch * p.m; ++row)
            for (int64_t j = 0; j < words * 16; ++j) {
                const bool bit = ((bits[size_t(row * words + j / 16)] >> (j % 16)) & 1) != 0;
                if (j >= p.n) {
                    ASSERT_FALSE(bit) << where() << " padding bit " << j;
                    continue;
                }
                const size_t o = size_t(row * p.n + j);
                ASSERT_EQ(bit, want[o] > 0.0f) << where() << " row " << row << " column " << j;
                const float want_dz = want[o] > 0.0f ? dout[o] : 0.0f;
                ASSERT_EQ(std::memcmp(&dz[o], &want_dz, sizeof(float)), 0) << where();
            }
    }
    ASSERT_EQ(std::memcmp(got_sum.data(), want_sum.data(), got_sum.size() * sizeof(float)), 0)
        << where();
    if (p.relu && p.m > 0 && p.n > 0 && p.k > 0) {
        // a[0] = NaN poisons row 0 of every member using it (all columns when A is shared).
        EXPECT_TRUE(std::isnan(ep.store_c ? got[0] : got_sum[0])) << where();
    }
}

// Each test runs on every kernel path this CPU executes (support/isa.h).
class FmaGemmPerIsa : public PerIsa {};

// Bit for bit equal to the scalar chains, on the MLP shapes of a stack and on random shapes
// that cover every column-block width (1 to 4 vectors, blocks beyond 64 columns), row tiles of
// every height, both transposes, shared operands and each epilogue.
TEST_P(FmaGemmPerIsa, EqualsScalarFmaChains) {
    std::mt19937 rng(11);
    const Problem mlp[] = {
        {false, true, 8, 100, 64, 40, true, false, false, true, true, false},     // layer 1
        {false, true, 8, 100, 64, 64, false, false, false, true, true, true},     // residual
        {false, true, 8, 100, 10, 64, false, false, false, true, false, false},   // output
        {false, false, 8, 100, 64, 64, false, false, true, false, false, false},  // dx
        {false, false, 8, 100, 64, 10, false, false, false, false, false, false},
        {true, false, 8, 64, 40, 100, false, true, true, false, false, false},  // dW, shared x
        {true, false, 8, 64, 64, 100, false, false, true, false, false, false},
        {true, false, 8, 10, 64, 100, false, false, true, false, false, false},
    };
    for (const Problem& p : mlp) check(p, rng);
    std::uniform_int_distribution<int64_t> size(1, 90), wide(1, 300), flag(0, 1), batch(1, 4);
    for (int i = 0; i < 96; ++i) {
        Problem p{(i & 1) != 0,
                  (i & 2) != 0,
                  batch(rng),
                  size(rng),
                  i % 3 == 0 ? wide(rng) : size(rng),
                  size(rng),
                  flag(rng) != 0,
                  flag(rng) != 0,
                  flag(rng) != 0,
                  flag(rng) != 0,
                  flag(rng) != 0,
                  flag(rng) != 0};
        p.addend = flag(rng) != 0;
        p.skip_c = flag(rng) != 0;
        check(p, rng);
    }
}

// Blocks of 10 columns (n = 10, 26, 42) have their own tile when the epilogue is at most a
// bias: every row count around its 8- and 4-row steps, both transposes, and the other
// epilogues (served by the general tiles).
TEST_P(FmaGemmPerIsa, TenColumnBlocksEqualScalarFmaChains) {
    std::mt19937 rng(17);
    for (int64_t n : {10, 26, 42})
        for (int64_t m : {1, 3, 4, 5, 7, 8, 9, 12, 13, 100})
            for (int t = 0; t < 4; ++t)
                for (bool bias : {false, true}) {
                    const int64_t k = m % 3 == 0 ? 64 : m + 1;
                    check({(t & 1) != 0, (t & 2) != 0, 2, m, n, k, t == 1, t == 2, false, bias,
                           false, false},
                          rng);
                }
    check({false, true, 3, 100, 10, 64, false, false, true, true, false, false}, rng);
    check({false, true, 3, 100, 10, 64, false, false, false, true, true, false}, rng);
    check({true, false, 3, 20, 10, 30, false, false, false, false, false, true}, rng);
}

TEST_P(FmaGemmPerIsa, EmptyInnerDimensionGivesTheEpilogueOfZero) {
    std::mt19937 rng(3);
    check({false, false, 2, 5, 17, 0, false, false, true, true, true, true}, rng);
    check({true, true, 2, 5, 17, 0, false, false, false, true, false, false}, rng);
}

// gemm_batched serves float32 from this kernel when it is available; the GEMM library's own
// batched product (oneDNN's matmul, or a loop of sgemm) agrees within rounding. On the MLP
// shapes oneDNN 2.6.3 computes the very same chains, bit for bit
// (bench/micro/bm_batched_matmul.cc checks and prints it); that is not asserted here, because
// it is a property of the library's kernel for this CPU, not of benchtop.
TEST_P(FmaGemmPerIsa, AgreesWithTheGemmLibrary) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const int64_t batch = 3, m = 100, n = 64, k = 64;
    std::vector<float> a(size_t(batch * m * k)), b(size_t(batch * k * n));
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            std::vector<float> got(size_t(batch * m * n)), lib(got.size());
            const int64_t lda = ta ? m : k, ldb = tb ? k : n;
            gemm_batched(ta, tb, batch, m, n, k, a.data(), lda, m * k, b.data(), ldb, k * n,
                         got.data(), n, m * n);
            gemm_batched(ta, tb, batch, m, n, k, a.data(), lda, m * k, b.data(), ldb, k * n,
                         lib.data(), n, m * n, false, GemmPath::Library);
            for (size_t i = 0; i < got.size(); ++i)
                ASSERT_NEAR(got[i], lib[i], 1e-5f * float(k)) << "ta=" << ta << " tb=" << tb;
        }
}

// The single products of conv1d and the GRU (gemm, gemv) run on the same kernel: each element
// one in-order chain of fused multiply-adds, then + old C for beta = 1.
TEST_P(FmaGemmPerIsa, GemmAndGemvAreTheScalarChains) {
    std::mt19937 rng(23);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int t = 0; t < 4; ++t) {
        const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
        const int64_t m = 7 + 11 * t, n = 33 - 5 * t, k = 150 + t;
        std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c(size_t(m * n));
        for (auto& x : a) x = u(rng);
        for (auto& x : b) x = u(rng);
        for (auto& x : c) x = u(rng);
        std::vector<float> want = c, got = c;
        const int64_t lda = ta ? m : k, ldb = tb ? k : n;
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                float acc = 0.0f;
                for (int64_t q = 0; q < k; ++q)
                    acc = std::fma(ta ? a[size_t(q * lda + i)] : a[size_t(i * lda + q)],
                                   tb ? b[size_t(j * ldb + q)] : b[size_t(q * ldb + j)], acc);
                want[size_t(i * n + j)] += acc;
            }
        gemm(ta, tb, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 1.0f, got.data(), n);
        ASSERT_EQ(std::memcmp(want.data(), got.data(), want.size() * 4), 0) << "ta=" << ta << " tb=" << tb;
        // y = op(A) x with strided y, as the GRU's weight gradient uses it.
        std::vector<float> y(size_t(3 * m), 5.0f), y_want = y;
        for (int64_t i = 0; i < m; ++i) {
            float acc = 0.0f;
            for (int64_t q = 0; q < k; ++q) acc = std::fma(a[size_t(i * k + q)], b[size_t(q)], acc);
            y_want[size_t(3 * i)] += acc;
        }
        gemv(false, m, k, 1.0f, a.data(), k, b.data(), 1, 1.0f, y.data(), 3);
        ASSERT_EQ(std::memcmp(y_want.data(), y.data(), y.size() * 4), 0) << "gemv";
    }
}

BENCHTOP_PER_ISA(FmaGemmPerIsa);

}  // namespace
}  // namespace benchtop
