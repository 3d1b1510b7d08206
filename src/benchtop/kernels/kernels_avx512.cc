// The AVX-512 kernels (16 lanes; F, BW, VL, DQ): this file alone is compiled with AVX-512
// enabled, and runs only where kernels/dispatch.cc found the CPU able to. Every kernel computes
// the same bits as kernels_generic.cc (the scalar contract) and kernels_avx2.cc.
// Nothing here may be an inline function or template shared with other files (the linker could
// pick this file's AVX-512 copy for generic code): helpers live in the unnamed namespace.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "benchtop/kernels/ce_rows16.h"
#include "benchtop/kernels/gemm_out.h"
#include "benchtop/kernels/gru_gates.h"
#include "benchtop/kernels/kernel_table.h"
#include "benchtop/kernels/optim_loops.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which it then reports as (maybe)
// uninitialized where they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace benchtop::kernels {
namespace {

constexpr int64_t kLanes = 16;

// The mask of the first `count` (1..16) lanes.
__mmask16 first_lanes(int64_t count) {
    return __mmask16(count >= kLanes ? 0xFFFF : (1u << count) - 1u);
}

// One MR x (NV * 16) tile of C: MR * NV accumulators held in registers across the whole inner
// loop, so each element's chain of FMAs runs in order over p. b is row-major [k, >= NV * 16]
// (the last vector's lanes outside `tail` are neither loaded nor stored); a is op(A), read
// transposed when TA.
template <int MR, int NV, bool TA>
void tile(int64_t k,
          const float* a,
          int64_t lda,
          const float* b,
          int64_t ldb,
          __mmask16 tail,
          const GemmOut& out_in) {
    const GemmOut out = out_in;  // a local copy: the stores below cannot alias it
    __m512 acc[MR][NV];
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int64_t p = 0; p < k; ++p) {
        const float* bp = b + p * ldb;
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV - 1; ++v) bv[v] = _mm512_loadu_ps(bp + v * kLanes);
        bv[NV - 1] = _mm512_maskz_loadu_ps(tail, bp + (NV - 1) * kLanes);
#pragma GCC unroll 32
        for (int r = 0; r < MR; ++r) {
            const __m512 ar = _mm512_set1_ps(TA ? a[p * lda + r] : a[r * lda + p]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    // The epilogue, one step at a time over the whole tile, so that each flag is tested once.
    // Only the last vector of a row is masked (masked stores are slower).
    const auto load = [tail](int v, const float* ptr) {
        return v == NV - 1 ? _mm512_maskz_loadu_ps(tail, ptr) : _mm512_loadu_ps(ptr);
    };
    const auto store = [tail](int v, float* ptr, __m512 x) {
        if (v == NV - 1)
            _mm512_mask_storeu_ps(ptr, tail, x);
        else
            _mm512_storeu_ps(ptr, x);
    };
    const auto each = [&](auto&& f) {
#pragma GCC unroll 32
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) f(r, v, r * out.ldc + v * kLanes);
    };
    if (out.accumulate)
        each([&](int r, int v, int64_t o) {
            acc[r][v] = _mm512_add_ps(load(v, out.c + o), acc[r][v]);
        });
    if (out.add)
        each([&](int r, int v, int64_t o) {
            acc[r][v] = _mm512_add_ps(load(v, out.add + o), acc[r][v]);
        });
    if (out.bias)
        each([&](int r, int v, int64_t) {
            acc[r][v] = _mm512_add_ps(acc[r][v], load(v, out.bias + v * kLanes));
        });
    if (out.relu) {
        const __m512 zero = _mm512_setzero_ps();
        each([&](int r, int v, int64_t) {
            acc[r][v] = _mm512_mask_mov_ps(acc[r][v],
                                           _mm512_cmp_ps_mask(acc[r][v], zero, _CMP_LT_OQ), zero);
        });
    }
    if (out.bits) {
        const __m512 zero = _mm512_setzero_ps();
        each([&](int r, int v, int64_t) {
            const __mmask16 m = v == NV - 1 ? tail : __mmask16(0xFFFF);
            out.bits[r * out.ldbits + v] =
                static_cast<uint16_t>(_mm512_mask_cmp_ps_mask(m, acc[r][v], zero, _CMP_GT_OQ));
        });
    }
    if (out.store_c) each([&](int r, int v, int64_t o) { store(v, out.c + o, acc[r][v]); });
    if (out.res)
        each([&](int r, int v, int64_t o) {
            store(v, out.sum + o, _mm512_add_ps(load(v, out.res + o), acc[r][v]));
        });
}

using TileFn =
    void (*)(int64_t, const float*, int64_t, const float*, int64_t, __mmask16, const GemmOut&);

// Rows per tile for NV vectors of columns: MR * NV accumulators plus NV operand registers stay
// within the 32 vector registers, and MR * NV >= 8 independent chains cover the FMA latency.
constexpr int rows_for(int nv) {
    return nv == 1 ? 14 : nv == 2 ? 12 : nv == 3 ? 8 : 6;
}

template <int NV, bool TA, int... R>
constexpr std::array<TileFn, sizeof...(R)> tiles_of(std::integer_sequence<int, R...>) {
    return {&tile<R + 1, NV, TA>...};
}

// kTiles<NV, TA>[r - 1] is the tile of r rows.
template <int NV, bool TA>
constexpr auto kTiles = tiles_of<NV, TA>(std::make_integer_sequence<int, rows_for(NV)>{});

// All m rows of one block of NV vectors of columns.
template <int NV, bool TA>
void column_block(int64_t m,
                  int64_t k,
                  const float* a,
                  int64_t lda,
                  const float* b,
                  int64_t ldb,
                  __mmask16 tail,
                  const GemmOut& out) {
    // Rows split evenly over the fewest tiles (e.g. 100 rows of 14-row tiles as 4 x 13 + 4 x 12
    // rather than 7 x 14 + 2): a short last tile has too few chains to hide the FMA latency.
    constexpr int64_t mr = rows_for(NV);
    const int64_t ntiles = (m + mr - 1) / mr;
    const int64_t base = m / ntiles, extra = m % ntiles;
    for (int64_t t = 0, i = 0; t < ntiles; ++t) {
        const int64_t rows = base + (t < extra ? 1 : 0);
        kTiles<NV, TA>[size_t(rows - 1)](k, TA ? a + i : a + i * lda, lda, b, ldb, tail,
                                         out_at(out, i, 0));
        i += rows;
    }
}

// One member: column blocks of up to 64 (4 vectors), the last one masked.
template <bool TA>
void one_member_t(int64_t m,
                  int64_t n,
                  int64_t k,
                  const float* a,
                  int64_t lda,
                  const float* b,
                  int64_t ldb,
                  const GemmOut& out) {
    for (int64_t j = 0; j < n;) {
        const int64_t width = n - j > 4 * kLanes ? 4 * kLanes : n - j;
        const int64_t nv = (width + kLanes - 1) / kLanes;
        const int64_t rem = width - (nv - 1) * kLanes;
        const __mmask16 tail = first_lanes(rem);
        const GemmOut oj = out_at(out, 0, j);
        switch (nv) {
            case 1:
                column_block<1, TA>(m, k, a, lda, b + j, ldb, tail, oj);
                break;
            case 2:
                column_block<2, TA>(m, k, a, lda, b + j, ldb, tail, oj);
                break;
            case 3:
                column_block<3, TA>(m, k, a, lda, b + j, ldb, tail, oj);
                break;
            default:
                column_block<4, TA>(m, k, a, lda, b + j, ldb, tail, oj);
                break;
        }
        j += width;
    }
}

// One 128-bit-lane stage of the 16 x 16 transpose: registers i and i + D (i with bit D clear)
// become their even lanes (0 and 2 of each, in order) and their odd lanes (1 and 3).
template <int D>
inline void lane_stage(const __m512* in, __m512* out) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
        if (i & D) continue;
        out[i] = _mm512_shuffle_f32x4(in[i], in[i + D], 0x88);
        out[i + D] = _mm512_shuffle_f32x4(in[i], in[i + D], 0xDD);
    }
}

// out[p, j] = b[j, p] for j < n, p < k, into rows of ldo >= n floats (ldo a multiple of 16;
// columns n..ldo-1 become 0): the transposed operand of an NT product as a row-major [k, ldo]
// matrix. 16 x 16 blocks are transposed in registers.
void pack_transposed(int64_t n, int64_t k, const float* b, int64_t ldb, float* out, int64_t ldo) {
    for (int64_t j0 = 0; j0 < ldo; j0 += kLanes) {
        for (int64_t p0 = 0; p0 < k; p0 += kLanes) {
            const int64_t cols = k - p0 < kLanes ? k - p0 : kLanes;
            const __mmask16 cmask = first_lanes(cols);
            __m512 r[16];
#pragma GCC unroll 16
            for (int64_t q = 0; q < kLanes; ++q)
                r[q] = j0 + q < n ? _mm512_maskz_loadu_ps(cmask, b + (j0 + q) * ldb + p0)
                                  : _mm512_setzero_ps();
            // 16 x 16 transpose: interleave pairs, then quadruples, then 128-bit lanes twice.
            __m512 t[16];
#pragma GCC unroll 8
            for (int q = 0; q < 16; q += 2) {
                t[q] = _mm512_unpacklo_ps(r[q], r[q + 1]);
                t[q + 1] = _mm512_unpackhi_ps(r[q], r[q + 1]);
            }
#pragma GCC unroll 4
            for (int q = 0; q < 16; q += 4) {
                r[q] = _mm512_shuffle_ps(t[q], t[q + 2], 0x44);
                r[q + 1] = _mm512_shuffle_ps(t[q], t[q + 2], 0xEE);
                r[q + 2] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0x44);
                r[q + 3] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
            }
            lane_stage<4>(r, t);
            lane_stage<8>(t, r);
            // r[x] now holds column p0 + x of the block.
#pragma GCC unroll 16
            for (int64_t x = 0; x < cols; ++x) _mm512_storeu_ps(out + (p0 + x) * ldo + j0, r[x]);
        }
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

// relu_mask_backward on a block of NV mask words (NV vectors of 16 columns, the last one with
// `last` lanes): dz = bit ? dout : 0, and the column sums of dz while it is in registers, in
// add_column_sums's order (tensor/column_sums.h): row r goes to partial sum r % 4 (rows after
// the last group of four to the first), combined as (p0 + p1) + (p2 + p3), then added to (or
// stored in) sums. bits, dout, dz and sums (null: no sums) start at the block.
template <int NV>
void mask_sums_block(const uint16_t* bits,
                     int64_t words,
                     const float* dout,
                     float* dz,
                     int64_t rows,
                     int64_t cols,
                     __mmask16 last,
                     float* sums,
                     bool assign) {
    __m512 p[4][NV];
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) p[u][v] = _mm512_setzero_ps();
    const auto row = [&](int64_t r, int u) {
        const uint16_t* br = bits + r * words;
        const float* d = dout + r * cols;
        float* z = dz + r * cols;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            const __m512 y = v == NV - 1
                                 ? _mm512_maskz_loadu_ps(__mmask16(br[v] & last), d + v * kLanes)
                                 : _mm512_maskz_mov_ps(br[v], _mm512_loadu_ps(d + v * kLanes));
            if (v == NV - 1)
                _mm512_mask_storeu_ps(z + v * kLanes, last, y);
            else
                _mm512_storeu_ps(z + v * kLanes, y);
            p[u][v] = _mm512_add_ps(p[u][v], y);
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
    if (sums == nullptr) return;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
        const __mmask16 lanes = v == NV - 1 ? last : __mmask16(0xFFFF);
        __m512 t = _mm512_add_ps(_mm512_add_ps(p[0][v], p[1][v]), _mm512_add_ps(p[2][v], p[3][v]));
        if (!assign) t = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, sums + v * kLanes), t);
        _mm512_mask_storeu_ps(sums + v * kLanes, lanes, t);
    }
}

// In blocks of up to 64 columns (4 mask words), one pass over the rows each.
void relu_mask_backward(const uint16_t* bits,
                        const float* dout,
                        float* dz,
                        int64_t rows,
                        int64_t cols,
                        float* sums,
                        bool assign) {
    const int64_t words = (cols + kWordCols - 1) / kWordCols;
    for (int64_t w = 0; w < words; w += 4) {
        const int64_t nv = words - w < 4 ? words - w : 4, c0 = w * kWordCols;
        const __mmask16 last = first_lanes(cols - (w + nv - 1) * kWordCols);
        float* const sums_w = sums ? sums + c0 : nullptr;
        const auto run = [&](auto block) {
            block(bits + w, words, dout + c0, dz + c0, rows, cols, last, sums_w, assign);
        };
        if (nv == 4)
            run(mask_sums_block<4>);
        else if (nv == 3)
            run(mask_sums_block<3>);
        else if (nv == 2)
            run(mask_sums_block<2>);
        else
            run(mask_sums_block<1>);
    }
}

// exp_approx (ops/fast_math.h) on 16 lanes: the same operations in the same order, so every
// lane equals exp_approx of it bit for bit.
__m512 exp_approx16(__m512 xin) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 lo = _mm512_set1_ps(-87.33654f);
    const __m512 hi = _mm512_set1_ps(88.0f);
    const __mmask16 below = _mm512_cmp_ps_mask(xin, lo, _CMP_LT_OQ);
    __m512 x = _mm512_mask_mov_ps(xin, below, lo);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
    const __m512 shifted =
        _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), magic);
    const __m512 n = _mm512_sub_ps(shifted, magic);
    const __m512 r =
        _mm512_sub_ps(_mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693145751953125f))),
                      _mm512_mul_ps(n, _mm512_set1_ps(1.42860682030941723e-6f)));
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    const float coef[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
    for (const float c : coef) p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(c));
    const __m512i bits = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(magic)),
                         _mm512_set1_epi32(127)),
        23);
    const __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
    return _mm512_mask_mov_ps(e, below, _mm512_setzero_ps());
}

// One row of C <= 16 classes as one masked vector: exp(x - max(x)) into the whole 16-float row
// e; returns max(x).
float row_exps16(const float* xr, int64_t C, float* e) {
    const __mmask16 cm = first_lanes(C);
    const __m512 v = _mm512_maskz_loadu_ps(cm, xr);
    // Lanes past C hold -inf; then the maximum of halves, quarters, pairs and lanes.
    __m512 a = _mm512_mask_blend_ps(cm, _mm512_set1_ps(-__builtin_inff()), v);
    a = _mm512_max_ps(a, _mm512_shuffle_f32x4(a, a, 0x4E));
    a = _mm512_max_ps(a, _mm512_shuffle_f32x4(a, a, 0xB1));
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
    _mm512_store_ps(e, exp_approx16(_mm512_sub_ps(v, a)));
    return _mm512_cvtss_f32(a);
}

// The row's probabilities e * inv, its C values stored to pr (masked stores are as fast as
// plain ones here, so `room` is not used).
void row_probs16(const float* e, float inv, int64_t C, float* pr, int64_t /*room*/) {
    _mm512_mask_storeu_ps(pr, first_lanes(C),
                          _mm512_mul_ps(_mm512_load_ps(e), _mm512_set1_ps(inv)));
}

void exp16(const float* in, float* out) {
    _mm512_storeu_ps(out, exp_approx16(_mm512_loadu_ps(in)));
}

}  // namespace

extern const KernelTable kAvx512Kernels = {
    .isa = Isa::Avx512,
    .name = "AVX-512 (16 lanes)",
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
