// benchtop's own register-blocked float32 GEMM for the small batched products of a stack
// (batch 100 against layers of width 10 to 100), with the epilogues of the linear ops fused
// into its stores; since every path computes the same bits, it serves every float32 product of
// the engine (tensor/gemm.h).
//
// Every output element is one chain of fused multiply-adds over the inner dimension in order,
// starting from zero: c = fma(a[k-1], b[k-1], ... fma(a[0], b[0], 0)). The epilogue then adds
// the old C (accumulate), an addend matrix, the bias, applies the ReLU and adds a residual, in that
// order. The result therefore depends on nothing but the operands (not on the vector width, the
// blocking, the batch size or the machine) and equals a scalar loop of std::fma: the kernels of
// every instruction-set path (kernels/, chosen at run time by kernels/dispatch.h) give the same
// bits, which tests/tensor/fma_gemm_test.cc checks on each path the host can execute.
#pragma once

#include <cstdint>

namespace benchtop {

struct FmaEpilogue {
    bool accumulate = false;  // v = old C_i + product
    // then v = addend_i + v (same row-major shape and ldc as C; addend_i = addend + i *
    // stride_addend)
    const float* addend = nullptr;
    int64_t stride_addend = 0;
    const float* bias = nullptr;  // then + bias_i[j] (bias_i = bias + i * stride_bias)
    int64_t stride_bias = 0;
    bool relu = false;  // then max(v, 0), NaN kept (v < 0 ? 0 : v); v is stored to C
    // With residual: also sum_i = residual_i + v (same row-major shape and ldc as C;
    // residual_i = residual + i * stride_residual, sum_i = sum + i * stride_sum).
    const float* residual = nullptr;
    int64_t stride_residual = 0;
    float* sum = nullptr;
    int64_t stride_sum = 0;
    // With relu: the ReLU's gradient mask as bits, bit j % 16 of word r * relu_mask_words(n) + j /
    // 16 of member i (relu_bits + i * stride_bits words) set where the ReLU output is > 0, which is
    // what relu_mask_backward needs instead of the output itself.
    uint16_t* relu_bits = nullptr;
    int64_t stride_bits = 0;
    bool store_c = true;  // false: C is not written (with residual, when only the sum is needed)
};

// The active path's kernel, for reports: "AVX-512 (16 lanes)", "AVX2+FMA (8 lanes)" or
// "generic (scalar)".
const char* fma_gemm_kernel_name();

// For each of `batch` members i: C_i = epilogue(op(A_i) op(B_i)), row-major, X_i = X + i *
// stride_x (a stride of 0 shares the operand).
void fma_gemm_batched(bool trans_a,
                      bool trans_b,
                      int64_t batch,
                      int64_t m,
                      int64_t n,
                      int64_t k,
                      const float* a,
                      int64_t lda,
                      int64_t stride_a,
                      const float* b,
                      int64_t ldb,
                      int64_t stride_b,
                      float* c,
                      int64_t ldc,
                      int64_t stride_c,
                      const FmaEpilogue& epilogue);

// 16-bit words per row of a ReLU mask of `cols` columns (FmaEpilogue::relu_bits).
constexpr int64_t relu_mask_words(int64_t cols) {
    return (cols + 15) / 16;
}

// dz = bit ? dout : 0 for a rows x cols matrix and its mask from FmaEpilogue::relu_bits (the
// same as dout where the ReLU output y > 0, else 0). With `sums` (cols floats), also dz's
// column sums added to it (assign: stored) in the order of add_column_sums (column_sums.h),
// so with the same bits; the vector kernels do both in one pass.
void relu_mask_backward(const uint16_t* bits,
                        const float* dout,
                        float* dz,
                        int64_t rows,
                        int64_t cols,
                        float* sums = nullptr,
                        bool assign = false);

}  // namespace benchtop
