// The AVX2 kernels (8 lanes, with FMA): this file alone is compiled with AVX2 and FMA enabled,
// and runs only where kernels/dispatch.cc found the CPU able to. Every kernel computes the same
// bits as kernels_generic.cc (the scalar contract) and kernels_avx512.cc.
// Nothing here may be an inline function or template shared with other files (the linker could
// pick this file's AVX2 copy for generic code): helpers live in the unnamed namespace.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "benchtop/kernels/ce_rows16.h"
#include "benchtop/kernels/gemm_out.h"
#include "benchtop/kernels/gru_gates.h"
#include "benchtop/kernels/kernel_table.h"
#include "benchtop/kernels/optim_loops.h"

namespace benchtop::kernels {
namespace {

constexpr int64_t kLanes = 8;

// The lanes of the first `count` (1..8) as a maskload/maskstore mask (sign bit set).
__m256i first_lanes(int64_t count) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)), index);
}

// One MR x (NV * 8) tile of C, as the AVX-512 tile above: MR * NV accumulators in registers
// across the whole inner loop, so each element's chain of FMAs runs in order over p. With TAIL,
// only the first `last` lanes of the last vector are loaded and stored (without it all 8 are in
// the matrix). The block starts at a column that is a multiple of 16, so vectors 2w and 2w + 1
// make word w of a row's ReLU mask.
template <int MR, int NV, bool TA, bool TAIL>
[[gnu::always_inline]] inline void tile(int64_t k,
                                        const float* a,
                                        int64_t lda,
                                        const float* b,
                                        int64_t ldb,
                                        int64_t last,
                                        const GemmOut& out_in) {
    const GemmOut out = out_in;  // a local copy: the stores below cannot alias it
    const __m256i tail = first_lanes(last);
    __m256 acc[MR][NV];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();
    for (int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * ldb;
        __m256 bv[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV - 1; ++v) bv[v] = _mm256_loadu_ps(bp + v * kLanes);
        bv[NV - 1] = TAIL ? _mm256_maskload_ps(bp + (NV - 1) * kLanes, tail)
                          : _mm256_loadu_ps(bp + (NV - 1) * kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
            const __m256 ar = _mm256_broadcast_ss(TA ? a + p * lda + r : a + r * lda + p);
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    const auto load = [tail](int v, const float* ptr) {
        return TAIL && v == NV - 1 ? _mm256_maskload_ps(ptr, tail) : _mm256_loadu_ps(ptr);
    };
    const auto store = [tail](int v, float* ptr, __m256 x) {
        if (TAIL && v == NV - 1)
            _mm256_maskstore_ps(ptr, tail, x);
        else
            _mm256_storeu_ps(ptr, x);
    };
    const auto each = [&](auto&& f) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) f(r, v, r * out.ldc + v * kLanes);
    };
    if (out.accumulate)
        each([&](int r, int v, int64_t o) {
            acc[r][v] = _mm256_add_ps(load(v, out.c + o), acc[r][v]);
        });
    if (out.add)
        each([&](int r, int v, int64_t o) {
            acc[r][v] = _mm256_add_ps(load(v, out.add + o), acc[r][v]);
        });
    if (out.bias)
        each([&](int r, int v, int64_t) {
            acc[r][v] = _mm256_add_ps(acc[r][v], load(v, out.bias + v * kLanes));
        });
    const __m256 zero = _mm256_setzero_ps();
    // max(0, v) returns its second operand when either is NaN or both are zeros, which is
    // exactly v < 0 ? 0 : v.
    if (out.relu) each([&](int r, int v, int64_t) { acc[r][v] = _mm256_max_ps(zero, acc[r][v]); });
    if (out.bits) {
        const int tail_bits = TAIL ? _mm256_movemask_ps(_mm256_castsi256_ps(tail)) : 0xFF;
        const auto positive = [&](int r, int v) {
            const int m = _mm256_movemask_ps(_mm256_cmp_ps(acc[r][v], zero, _CMP_GT_OQ));
            return v == NV - 1 ? m & tail_bits : m;
        };
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
            for (int v = 0; v < NV; v += 2)
                out.bits[r * out.ldbits + v / 2] = static_cast<uint16_t>(
                    positive(r, v) | (v + 1 < NV ? positive(r, v + 1) << kLanes : 0));
    }
    if (out.store_c) each([&](int r, int v, int64_t o) { store(v, out.c + o, acc[r][v]); });
    if (out.res)
        each([&](int r, int v, int64_t o) {
            store(v, out.sum + o, _mm256_add_ps(load(v, out.res + o), acc[r][v]));
        });
}

using TileFn =
    void (*)(int64_t, const float*, int64_t, const float*, int64_t, int64_t, const GemmOut&);

// Rows per tile: MR * NV accumulators, NV operands and the broadcast fit the 16 vector
// registers, with at least 12 independent chains for the FMA latency.
constexpr int rows_for(int nv) {
    return nv == 1 ? 12 : 6;
}

template <int NV, bool TA, bool TAIL, int... R>
constexpr std::array<TileFn, sizeof...(R)> tiles_of(std::integer_sequence<int, R...>) {
    return {&tile<R + 1, NV, TA, TAIL>...};
}

// kTiles<NV, TA, TAIL>[r - 1] is the tile of r rows.
template <int NV, bool TA, bool TAIL>
constexpr auto kTiles = tiles_of<NV, TA, TAIL>(std::make_integer_sequence<int, rows_for(NV)>{});

// All m rows of one block of NV vectors of columns, split evenly over the fewest tiles.
template <int NV, bool TA, bool TAIL>
void column_block(int64_t m,
                  int64_t k,
                  const float* a,
                  int64_t lda,
                  const float* b,
                  int64_t ldb,
                  int64_t last,
                  const GemmOut& out) {
    constexpr int64_t mr = rows_for(NV);
    const int64_t ntiles = (m + mr - 1) / mr;
    const int64_t base = m / ntiles, extra = m % ntiles;
    for (int64_t t = 0, i = 0; t < ntiles; ++t) {
        const int64_t rows = base + (t < extra ? 1 : 0);
        const float* ai = TA ? a + i : a + i * lda;
        // Full-height tiles inlined here (the flags of the epilogue stay loaded and no call is
        // made: short inner dimensions made the call a visible share), the rest by pointer.
        if (rows == mr)
            tile<mr, NV, TA, TAIL>(k, ai, lda, b, ldb, last, out_at(out, i, 0));
        else
            kTiles<NV, TA, TAIL>[size_t(rows - 1)](k, ai, lda, b, ldb, last, out_at(out, i, 0));
        i += rows;
    }
}

// A block of 10 columns (the output layer of a 10-class classifier) with only a bias in the
// epilogue, R rows at a time (R = 4 or 8): columns 0-7 of each row in one vector, and columns
// 8 and 9 of four rows in one more, [r0 c8, r0 c9, r1 c8, r1 c9, r2 c8, ...], whose A operand
// is blended from the four rows' broadcasts. 10 FMAs per inner step for 8 rows where the
// two-vector tile spends 16 on 6 lanes of padding. Every element is still one in-order FMA
// chain from zero, then + bias: the same bits.
template <int R, bool TA>
void tile10(int64_t k,
            const float* a,
            int64_t lda,
            const float* b,
            int64_t ldb,
            float* c,
            int64_t ldc,
            const float* bias) {
    static_assert(R % 4 == 0);
    constexpr int Q = R / 4;
    __m256 acc[R], pair[Q];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int q = 0; q < Q; ++q) pair[q] = _mm256_setzero_ps();
    const auto a_at = [&](int64_t p, int r) {
        return _mm256_broadcast_ss(TA ? a + p * lda + r : a + r * lda + p);
    };
    for (int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * ldb;
        const __m256 b0 = _mm256_loadu_ps(bp);
        // [b8, b9] four times.
        const __m256 b89 =
            _mm256_castpd_ps(_mm256_broadcast_sd(reinterpret_cast<const double*>(bp + 8)));
#pragma GCC unroll 2
        for (int q = 0; q < Q; ++q) {
            const __m256 a0 = a_at(p, 4 * q), a1 = a_at(p, 4 * q + 1);
            acc[4 * q] = _mm256_fmadd_ps(a0, b0, acc[4 * q]);
            acc[4 * q + 1] = _mm256_fmadd_ps(a1, b0, acc[4 * q + 1]);
            const __m256 lo = _mm256_blend_ps(a0, a1, 0xCC);  // a0 a0 a1 a1 a0 a0 a1 a1
            const __m256 a2 = a_at(p, 4 * q + 2), a3 = a_at(p, 4 * q + 3);
            acc[4 * q + 2] = _mm256_fmadd_ps(a2, b0, acc[4 * q + 2]);
            acc[4 * q + 3] = _mm256_fmadd_ps(a3, b0, acc[4 * q + 3]);
            const __m256 hi = _mm256_blend_ps(a2, a3, 0xCC);  // a2 a2 a3 a3 a2 a2 a3 a3
            pair[q] = _mm256_fmadd_ps(_mm256_blend_ps(lo, hi, 0xF0), b89, pair[q]);
        }
    }
    if (bias) {
        const __m256 b0 = _mm256_loadu_ps(bias);
        const __m256 b89 =
            _mm256_castpd_ps(_mm256_broadcast_sd(reinterpret_cast<const double*>(bias + 8)));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r] = _mm256_add_ps(acc[r], b0);
#pragma GCC unroll 2
        for (int q = 0; q < Q; ++q) pair[q] = _mm256_add_ps(pair[q], b89);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) _mm256_storeu_ps(c + r * ldc, acc[r]);
#pragma GCC unroll 2
    for (int q = 0; q < Q; ++q) {
        float* cq = c + 4 * q * ldc + 8;
        const __m128 lo = _mm256_castps256_ps128(pair[q]);
        const __m128 hi = _mm256_extractf128_ps(pair[q], 1);
        _mm_storel_pi(reinterpret_cast<__m64*>(cq), lo);
        _mm_storeh_pi(reinterpret_cast<__m64*>(cq + ldc), lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(cq + 2 * ldc), hi);
        _mm_storeh_pi(reinterpret_cast<__m64*>(cq + 3 * ldc), hi);
    }
}

// The rows of a 10-column block with tile10 where the epilogue is a bias at most (8 rows at a
// time, then 4), the last m % 4 rows with the two-vector tile. False (nothing done) for other
// epilogues.
template <bool TA>
bool column_block10(int64_t m,
                    int64_t k,
                    const float* a,
                    int64_t lda,
                    const float* b,
                    int64_t ldb,
                    const GemmOut& out) {
    if (out.accumulate || out.relu || out.add || out.res || out.bits || !out.store_c) return false;
    int64_t i = 0;
    const auto a_rows = [&](int64_t row) { return TA ? a + row : a + row * lda; };
    for (; i + 8 <= m; i += 8)
        tile10<8, TA>(k, a_rows(i), lda, b, ldb, out.c + i * out.ldc, out.ldc, out.bias);
    if (i + 4 <= m) {
        tile10<4, TA>(k, a_rows(i), lda, b, ldb, out.c + i * out.ldc, out.ldc, out.bias);
        i += 4;
    }
    if (i < m) column_block<2, TA, true>(m - i, k, a_rows(i), lda, b, ldb, 2, out_at(out, i, 0));
    return true;
}

// One member: column blocks of 16 (2 vectors, one mask word); the last may be narrower.
template <bool TA>
void one_member_t(int64_t m,
                  int64_t n,
                  int64_t k,
                  const float* a,
                  int64_t lda,
                  const float* b,
                  int64_t ldb,
                  const GemmOut& out) {
    for (int64_t j = 0; j < n; j += kWordCols) {
        const int64_t width = n - j > kWordCols ? kWordCols : n - j;
        const int64_t rem = width > kLanes ? width - kLanes : width;
        const GemmOut oj = out_at(out, 0, j);
        if (width == 10 && column_block10<TA>(m, k, a, lda, b + j, ldb, oj)) continue;
        if (width > kLanes) {
            if (rem == kLanes)
                column_block<2, TA, false>(m, k, a, lda, b + j, ldb, rem, oj);
            else
                column_block<2, TA, true>(m, k, a, lda, b + j, ldb, rem, oj);
        } else if (rem == kLanes) {
            column_block<1, TA, false>(m, k, a, lda, b + j, ldb, rem, oj);
        } else {
            column_block<1, TA, true>(m, k, a, lda, b + j, ldb, rem, oj);
        }
    }
}

// out[p, j] = b[j, p] for j < n, p < k, into rows of ldo >= n floats (ldo a multiple of 16;
// columns n..ldo-1 become 0), with 8 x 8 blocks transposed in registers.
void pack_transposed(int64_t n, int64_t k, const float* b, int64_t ldb, float* out, int64_t ldo) {
    for (int64_t j0 = 0; j0 < ldo; j0 += kLanes) {
        for (int64_t p0 = 0; p0 < k; p0 += kLanes) {
            const int64_t cols = k - p0 < kLanes ? k - p0 : kLanes;
            const __m256i cmask = first_lanes(cols);
            __m256 r[8], t[8];
#pragma GCC unroll 8
            for (int64_t q = 0; q < kLanes; ++q)
                r[q] = j0 + q < n ? _mm256_maskload_ps(b + (j0 + q) * ldb + p0, cmask)
                                  : _mm256_setzero_ps();
                // Interleave pairs of rows, then quadruples; then the 128-bit halves hold
                // columns x and x + 4 of four rows each.
#pragma GCC unroll 4
            for (int q = 0; q < 8; q += 2) {
                t[q] = _mm256_unpacklo_ps(r[q], r[q + 1]);
                t[q + 1] = _mm256_unpackhi_ps(r[q], r[q + 1]);
            }
#pragma GCC unroll 2
            for (int q = 0; q < 8; q += 4) {
                r[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
                r[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
                r[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
                r[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
            }
#pragma GCC unroll 4
            for (int x = 0; x < 4; ++x) {
                t[x] = _mm256_permute2f128_ps(r[x], r[x + 4], 0x20);
                t[x + 4] = _mm256_permute2f128_ps(r[x], r[x + 4], 0x31);
            }
            // t[x] now holds column p0 + x of the block.
#pragma GCC unroll 8
            for (int64_t x = 0; x < cols; ++x) _mm256_storeu_ps(out + (p0 + x) * ldo + j0, t[x]);
        }
    }
}

// The 8 lanes of byte `bits` as a mask: lane x all ones where bit x is set.
__m256 lanes_of(unsigned bits) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(bits)), bit), bit));
}

// relu_mask_backward for the 16 columns (NV vectors; with TAIL, `last` lanes in the last) of
// one mask word: bits, dout, dz and sums (null: no sums) start at the strip. Whole vectors use
// plain stores (masked stores are slow). Rows go to four partial sums in registers as in
// add_column_sums (row r to r % 4, rows after the last group of four to the first), combined as
// (p0 + p1) + (p2 + p3).
template <int NV, bool TAIL>
void mask_sums_strip(const uint16_t* bits,
                     int64_t words,
                     const float* dout,
                     float* dz,
                     int64_t rows,
                     int64_t cols,
                     int64_t last,
                     float* sums,
                     bool assign) {
    const __m256i tail = first_lanes(last);
    const auto partial = [](int v) { return TAIL && v == NV - 1; };
    __m256 p[4][NV];
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) p[u][v] = _mm256_setzero_ps();
    const auto row = [&](int64_t r, int u) {
        const unsigned word = bits[r * words];
        const float* d = dout + r * cols;
        float* z = dz + r * cols;
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            const __m256 x = partial(v) ? _mm256_maskload_ps(d + v * kLanes, tail)
                                        : _mm256_loadu_ps(d + v * kLanes);
            const __m256 y = _mm256_and_ps(lanes_of((word >> (v * kLanes)) & 0xFFu), x);
            if (partial(v))
                _mm256_maskstore_ps(z + v * kLanes, tail, y);
            else
                _mm256_storeu_ps(z + v * kLanes, y);
            p[u][v] = _mm256_add_ps(p[u][v], y);
        }
    };
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        row(r, 0);
        row(r + 1, 1);
        row(r + 2, 2);
        row(r + 3, 3);
    }
    for (; r < rows; ++r) row(r, 0);
    if (!sums) return;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
        __m256 s = _mm256_add_ps(_mm256_add_ps(p[0][v], p[1][v]), _mm256_add_ps(p[2][v], p[3][v]));
        float* out = sums + v * kLanes;
        if (!assign)
            s = _mm256_add_ps(partial(v) ? _mm256_maskload_ps(out, tail) : _mm256_loadu_ps(out), s);
        if (partial(v))
            _mm256_maskstore_ps(out, tail, s);
        else
            _mm256_storeu_ps(out, s);
    }
}

void gemm_member(bool trans_a,
                 int64_t m,
                 int64_t n,
                 int64_t k,
                 const float* a,
                 int64_t lda,
                 const float* b,
                 int64_t ldb,
                 const GemmOut& out) {
    if (trans_a)
        one_member_t<true>(m, n, k, a, lda, b, ldb, out);
    else
        one_member_t<false>(m, n, k, a, lda, b, ldb, out);
}

void relu_mask_backward(const uint16_t* bits,
                        const float* dout,
                        float* dz,
                        int64_t rows,
                        int64_t cols,
                        float* sums,
                        bool assign) {
    const int64_t words = (cols + kWordCols - 1) / kWordCols;
    // One pass in strips of 16 columns (one mask word), with the column sums of dz while it is
    // in registers.
    for (int64_t w = 0; w < words; ++w) {
        const int64_t c0 = w * kWordCols, width = cols - c0 < kWordCols ? cols - c0 : kWordCols;
        const int64_t last = width > kLanes ? width - kLanes : width;
        float* const sums_w = sums ? sums + c0 : nullptr;
        const auto run = [&](auto strip) {
            strip(bits + w, words, dout + c0, dz + c0, rows, cols, last, sums_w, assign);
        };
        if (width == kWordCols)
            run(mask_sums_strip<2, false>);
        else if (width > kLanes)
            run(mask_sums_strip<2, true>);
        else if (width == kLanes)
            run(mask_sums_strip<1, false>);
        else
            run(mask_sums_strip<1, true>);
    }
}

// exp_approx (ops/fast_math.h) on 8 lanes: the same operations in the same order, so every lane
// equals exp_approx of it bit for bit.
__m256 exp_approx8(__m256 xin) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    const __m256 hi = _mm256_set1_ps(88.0f);
    const __m256 below = _mm256_cmp_ps(xin, lo, _CMP_LT_OQ);
    __m256 x = _mm256_blendv_ps(xin, lo, below);
    x = _mm256_blendv_ps(x, hi, _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    const __m256 shifted =
        _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    const __m256 r =
        _mm256_sub_ps(_mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693145751953125f))),
                      _mm256_mul_ps(n, _mm256_set1_ps(1.42860682030941723e-6f)));
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    const float coef[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
    for (const float c : coef) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic)),
                         _mm256_set1_epi32(127)),
        23);
    const __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(below, e);
}

// One row of C <= 16 classes as two 8-lane vectors (the second empty for C <= 8):
// exp(x - max(x)) into the whole 16-float row e; returns max(x).
float row_exps16(const float* xr, int64_t C, float* e) {
    const __m256i lo_lanes = first_lanes(C), hi_lanes = first_lanes(C - 8);
    const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
    const __m256 lo = _mm256_maskload_ps(xr, lo_lanes);
    const __m256 hi = _mm256_maskload_ps(xr + 8, hi_lanes);
    // Lanes past C hold -inf; then the maximum of the two vectors, halves, pairs and lanes.
    __m256 a = _mm256_max_ps(_mm256_blendv_ps(ninf, lo, _mm256_castsi256_ps(lo_lanes)),
                             _mm256_blendv_ps(ninf, hi, _mm256_castsi256_ps(hi_lanes)));
    a = _mm256_max_ps(a, _mm256_permute2f128_ps(a, a, 0x01));
    a = _mm256_max_ps(a, _mm256_permute_ps(a, 0x4E));
    a = _mm256_max_ps(a, _mm256_permute_ps(a, 0xB1));
    _mm256_store_ps(e, exp_approx8(_mm256_sub_ps(lo, a)));
    _mm256_store_ps(e + 8, exp_approx8(_mm256_sub_ps(hi, a)));
    return _mm256_cvtss_f32(a);
}

// The row's probabilities e * inv. Masked stores are slow on AVX2 machines (Zen 3: the
// probabilities' two masked stores were a third of the forward's time). Where `room` allows,
// the row's vectors are stored whole: the lanes past C land in the following rows, which are
// written after this one.
void row_probs16(const float* e, float inv, int64_t C, float* pr, int64_t room) {
    const __m256 w = _mm256_set1_ps(inv);
    const __m256 lo = _mm256_mul_ps(_mm256_load_ps(e), w);
    const __m256 hi = _mm256_mul_ps(_mm256_load_ps(e + 8), w);
    if (C > 8 && room >= 16) {
        _mm256_storeu_ps(pr, lo);
        _mm256_storeu_ps(pr + 8, hi);
    } else if (C <= 8 && room >= 8) {
        _mm256_storeu_ps(pr, lo);
    } else {
        _mm256_maskstore_ps(pr, first_lanes(C), lo);
        if (C > 8) _mm256_maskstore_ps(pr + 8, first_lanes(C - 8), hi);
    }
}

void exp16(const float* in, float* out) {
    _mm256_storeu_ps(out, exp_approx8(_mm256_loadu_ps(in)));
    _mm256_storeu_ps(out + 8, exp_approx8(_mm256_loadu_ps(in + 8)));
}

}  // namespace

extern const KernelTable kAvx2Kernels = {
    .isa = Isa::Avx2,
    .name = "AVX2+FMA (8 lanes)",
    .gemm_member = &gemm_member,
    .pack_transposed = &pack_transposed,
    .relu_mask_backward = &relu_mask_backward,
    .cross_entropy_rows16 = &cross_entropy_rows16_with<&row_exps16, &row_probs16>,
    .adam_update = &adam_update,
    .sgd_update = &sgd_update,
    .gru_gate_forward = &gru_gate_forward,
    .gru_gate_backward = &gru_gate_backward,
    .exp16 = &exp16,
};

}  // namespace benchtop::kernels
