#include "benchtop/tensor/gemm.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

namespace benchtop {
namespace {

struct Case {
    bool trans_a, trans_b;
    int64_t m, n, k;
    bool shared_a;
};

// Every member of gemm_batched equals, bit for bit, the same product computed as a batch of one,
// for any batch size (a stack member must equal the same model trained alone), and is close to
// the member's own gemm call (equal on the MLP shapes with oneDNN 2.6.3 on AVX-512, but not for
// every shape, so not asserted). With `accumulate`, every member adds its product to its own
// starting C.
template <class T>
void check_members(const Case& c, int64_t batch, bool accumulate = false) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const int64_t lda = c.trans_a ? c.m : c.k, ldb = c.trans_b ? c.k : c.n, ldc = c.n;
    const int64_t stride_a = c.shared_a ? 0 : c.m * c.k, stride_b = c.k * c.n, stride_c = c.m * c.n;
    std::vector<T> a(size_t(c.shared_a ? c.m * c.k : batch * c.m * c.k));
    std::vector<T> b(size_t(batch * stride_b));
    for (auto& x : a) x = T(u(rng));
    for (auto& x : b) x = T(u(rng));
    std::vector<T> got(size_t(batch * stride_c), T(5)), alone(got.size(), T(-5)),
        want(got.size(), T(-6));
    if (accumulate) {
        for (auto& x : got) x = T(u(rng));
        alone = want = got;
    }
    gemm_batched(c.trans_a, c.trans_b, batch, c.m, c.n, c.k, a.data(), lda, stride_a, b.data(), ldb,
                 stride_b, got.data(), ldc, stride_c, accumulate);
    for (int64_t i = 0; i < batch; ++i) {
        gemm_batched(c.trans_a, c.trans_b, 1, c.m, c.n, c.k, a.data() + i * stride_a, lda,
                     c.m * c.k, b.data() + i * stride_b, ldb, stride_b, alone.data() + i * stride_c,
                     ldc, stride_c, accumulate);
        gemm(c.trans_a, c.trans_b, c.m, c.n, c.k, T(1), a.data() + i * stride_a, lda,
             b.data() + i * stride_b, ldb, accumulate ? T(1) : T(0), want.data() + i * stride_c,
             ldc);
    }
    for (int64_t i = 0; i < batch; ++i)
        EXPECT_EQ(std::memcmp(got.data() + i * stride_c, alone.data() + i * stride_c,
                              size_t(stride_c) * sizeof(T)),
                  0)
            << "member " << i << " of " << batch << " (m=" << c.m << " n=" << c.n << " k=" << c.k
            << " ta=" << c.trans_a << " tb=" << c.trans_b << " shared_a=" << c.shared_a
            << " accumulate=" << accumulate << ")";
    const double tol = std::is_same_v<T, float> ? 1e-5 * double(c.k) : 1e-12 * double(c.k);
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(double(got[i]), double(want[i]), tol) << "element " << i;
}

const Case kCases[] = {
    {false, true, 100, 64, 40, false},  {false, true, 100, 64, 40, true},
    {false, true, 100, 10, 64, false},  {false, true, 100, 100, 100, false},
    {false, true, 7, 3, 5, true},       {false, true, 7, 3, 5, false},
    {false, false, 100, 40, 64, false}, {true, false, 64, 64, 100, false},
    {true, true, 13, 9, 11, false},
};

TEST(GemmBatched, MembersMatchGemmFloat) {
    for (const Case& c : kCases)
        for (int64_t batch : {1, 2, 8, 13}) check_members<float>(c, batch);
}

TEST(GemmBatched, MembersMatchGemmDouble) {
    for (const Case& c : kCases)
        for (int64_t batch : {1, 8}) check_members<double>(c, batch);
}

TEST(GemmBatched, AccumulatingMembersMatchGemm) {
    for (const Case& c : kCases)
        for (int64_t batch : {1, 2, 8, 13}) check_members<float>(c, batch, true);
    for (const Case& c : kCases) check_members<double>(c, 8, true);
}

// Batch-size independence beyond the hand-picked shapes: random sizes as the experiments'
// sweeps produce them (widths from 1 to a few hundred), each transpose combination, with and
// without accumulation and a shared first operand.
TEST(GemmBatched, MembersDoNotDependOnBatchSizeOnRandomShapes) {
    std::mt19937 rng(2024);
    std::uniform_int_distribution<int64_t> small(1, 130), wide(1, 400);
    for (int i = 0; i < 48; ++i) {
        const Case c{(i & 1) != 0, (i & 2) != 0, small(rng), (i % 3 == 0) ? wide(rng) : small(rng),
                     small(rng),   (i & 4) != 0};
        check_members<float>(c, 5, (i & 8) != 0);
    }
}

TEST(GemmBatched, EmptyIsNoOp) {
    float c = 3.0f;
    gemm_batched(false, true, 0, 1, 1, 1, &c, 1, 1, &c, 1, 1, &c, 1, 1);
    gemm_batched(false, true, 2, 0, 1, 1, &c, 1, 1, &c, 1, 1, &c, 1, 1);
    EXPECT_EQ(c, 3.0f);
}

}  // namespace
}  // namespace benchtop
