#include "benchtop/tensor/fma_gemm.h"

#include "benchtop/kernels/dispatch.h"
#include "benchtop/tensor/tensor.h"

namespace benchtop {

const char* fma_gemm_kernel_name() {
    return kernels::active().name;
}

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
                      const FmaEpilogue& ep) {
    if (batch <= 0 || m <= 0 || n <= 0) return;
    const kernels::KernelTable& kt = kernels::active();
    // The transposed B of an NT product, packed per member (once when shared); the buffer
    // grows to the largest problem seen by this thread and is then reused. A tensor's storage
    // is 64-byte aligned and ldp a multiple of 16 floats, so no vector load of B splits a cache
    // line.
    thread_local Tensor packed;
    const int64_t ldp = (n + kernels::kWordCols - 1) / kernels::kWordCols * kernels::kWordCols;
    if (trans_b && (packed.raw() == nullptr || packed.numel() < ldp * k))
        packed = Tensor::empty(Shape({ldp * k}), DType::F32);
    float* const pk = trans_b ? packed.data<float>() : nullptr;
    for (int64_t i = 0; i < batch; ++i) {
        const float* bi = b + i * stride_b;
        int64_t ldbi = ldb;
        if (trans_b) {
            if (i == 0 || stride_b != 0) kt.pack_transposed(n, k, bi, ldb, pk, ldp);
            bi = pk;
            ldbi = ldp;
        }
        const kernels::GemmOut out{c + i * stride_c,
                                   ldc,
                                   ep.accumulate,
                                   ep.relu,
                                   ep.addend ? ep.addend + i * ep.stride_addend : nullptr,
                                   ep.bias ? ep.bias + i * ep.stride_bias : nullptr,
                                   ep.residual ? ep.residual + i * ep.stride_residual : nullptr,
                                   ep.residual ? ep.sum + i * ep.stride_sum : nullptr,
                                   ep.relu_bits ? ep.relu_bits + i * ep.stride_bits : nullptr,
                                   relu_mask_words(n),
                                   ep.store_c};
        kt.gemm_member(trans_a, m, n, k, a + i * stride_a, lda, bi, ldbi, out);
    }
}

void relu_mask_backward(const uint16_t* bits,
                        const float* dout,
                        float* dz,
                        int64_t rows,
                        int64_t cols,
                        float* sums,
                        bool assign) {
    kernels::active().relu_mask_backward(bits, dout, dz, rows, cols, sums, assign);
}

}  // namespace benchtop
