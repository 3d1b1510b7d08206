// The portable kernels: plain C++ for any x86-64 CPU, and the kernels' contract written out.
// Each product element is one chain of std::fma over the inner dimension in order from zero
// (std::fma rounds once, like the vector FMA instructions, so the vector paths give the same
// bits), then the epilogue in tensor/fma_gemm.h's order. Without hardware FMA, std::fma is
// computed in software: slow, but exact.
#include <cmath>
#include <cstdint>

#include "benchtop/kernels/gemm_out.h"
#include "benchtop/kernels/gru_gates.h"
#include "benchtop/kernels/kernel_table.h"
#include "benchtop/kernels/optim_loops.h"
#include "benchtop/ops/fast_math.h"
#include "benchtop/tensor/column_sums.h"

namespace benchtop::kernels {
namespace {

template <bool TA>
void gemm_rows(int64_t m,
               int64_t n,
               int64_t k,
               const float* a,
               int64_t lda,
               const float* b,
               int64_t ldb,
               const GemmOut& out) {
    for (int64_t i = 0; i < m; ++i) {
        float* c = out.c + i * out.ldc;
        const int64_t o = i * out.ldc;
        for (int64_t j = 0; j < n; ++j) {
            float v = 0.0f;
            for (int64_t p = 0; p < k; ++p)
                v = std::fma(TA ? a[p * lda + i] : a[i * lda + p], b[p * ldb + j], v);
            if (out.accumulate) v = c[j] + v;
            if (out.add) v = out.add[o + j] + v;
            if (out.bias) v = v + out.bias[j];
            if (out.relu) v = v < 0.0f ? 0.0f : v;  // NaN kept
            if (out.bits) {
                uint16_t& word = out.bits[i * out.ldbits + j / kWordCols];
                if (j % kWordCols == 0) word = 0;
                if (v > 0.0f) word = static_cast<uint16_t>(word | (1u << (j % kWordCols)));
            }
            if (out.store_c) c[j] = v;
            if (out.res) out.sum[o + j] = out.res[o + j] + v;
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
        gemm_rows<true>(m, n, k, a, lda, b, ldb, out);
    else
        gemm_rows<false>(m, n, k, a, lda, b, ldb, out);
}

void pack_transposed(int64_t n, int64_t k, const float* b, int64_t ldb, float* out, int64_t ldo) {
    for (int64_t p = 0; p < k; ++p) {
        float* row = out + p * ldo;
        for (int64_t j = 0; j < n; ++j) row[j] = b[j * ldb + p];
        for (int64_t j = n; j < ldo; ++j) row[j] = 0.0f;
    }
}

void relu_mask_backward(const uint16_t* bits,
                        const float* dout,
                        float* dz,
                        int64_t rows,
                        int64_t cols,
                        float* sums,
                        bool assign) {
    const int64_t words = (cols + kWordCols - 1) / kWordCols;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j) {
            const bool on = (bits[r * words + j / kWordCols] >> (j % kWordCols)) & 1u;
            dz[r * cols + j] = on ? dout[r * cols + j] : 0.0f;
        }
    if (sums) add_column_sums(dz, rows, cols, sums, assign);
}

void exp16(const float* in, float* out) {
    for (int i = 0; i < 16; ++i) out[i] = detail::exp_approx(in[i]);
}

}  // namespace

extern const KernelTable kGenericKernels = {
    .isa = Isa::Generic,
    .name = "generic (scalar)",
    .gemm_member = &gemm_member,
    .pack_transposed = &pack_transposed,
    .relu_mask_backward = &relu_mask_backward,
    .cross_entropy_rows16 = nullptr,  // ops/loss.cc's scalar loop
    .adam_update = &adam_update,
    .sgd_update = &sgd_update,
    .gru_gate_forward = &gru_gate_forward,
    .gru_gate_backward = &gru_gate_backward,
    .exp16 = &exp16,
};

}  // namespace benchtop::kernels
