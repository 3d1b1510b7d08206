// GEMM wrapper: C = alpha * op(A) * op(B) + beta * C, row-major, float and double.
// op(X) = X or X^T. float32 runs on benchtop's own kernels (tensor/fma_gemm.h: each element one
// in-order chain of fused multiply-adds, so the same bits on every CPU and kernel path; alpha
// must be 1 and beta 0 or 1); float64 (gradient checks, linear-region counts) on OpenBLAS, and
// GemmPath::Library on the BLAS chosen at configure time (BENCHTOP_BLAS, docs/engine.md). The
// library is pinned to one thread: benchtop parallelises across members and runs, never inside
// a small GEMM, which also keeps results independent of the thread count.
#pragma once

#include <cstdint>

namespace benchtop {

void gemm(bool trans_a,
          bool trans_b,
          int64_t m,
          int64_t n,
          int64_t k,
          float alpha,
          const float* a,
          int64_t lda,
          const float* b,
          int64_t ldb,
          float beta,
          float* c,
          int64_t ldc);
void gemm(bool trans_a,
          bool trans_b,
          int64_t m,
          int64_t n,
          int64_t k,
          double alpha,
          const double* a,
          int64_t lda,
          const double* b,
          int64_t ldb,
          double beta,
          double* c,
          int64_t ldc);

// Which implementation gemm_batched uses for float32: Default (benchtop's FMA kernel) or
// Library: with oneDNN, one execution of a batched matmul primitive (accumulation as its sum
// post-op), created once per problem and kept in a small per-thread cache, otherwise a loop of
// the library's sgemm over the members. Library results need not equal gemm() on
// the same member (on the MLP shapes they do with oneDNN 2.6.3; on e.g. 7x3x5 they do not).
// Library is for tests and benchmarks.
enum class GemmPath { Default, Library };

// For each of `batch` members i: C_i = op(A_i) * op(B_i), or C_i += op(A_i) * op(B_i) with
// `accumulate`, where X_i = X + i * stride_x (stride_a or stride_b may be 0 for an operand shared
// by all members). Member i's result does not depend on the batch size, bit for bit
// (tests/tensor/gemm_test.cc). float32 runs on benchtop's FMA kernel (fma_gemm.h: each element
// one in-order chain of FMAs, the old C added after, so the result depends on the operands
// only), or with GemmPath::Library through the library.
void gemm_batched(bool trans_a,
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
                  bool accumulate = false,
                  GemmPath path = GemmPath::Default);
void gemm_batched(bool trans_a,
                  bool trans_b,
                  int64_t batch,
                  int64_t m,
                  int64_t n,
                  int64_t k,
                  const double* a,
                  int64_t lda,
                  int64_t stride_a,
                  const double* b,
                  int64_t ldb,
                  int64_t stride_b,
                  double* c,
                  int64_t ldc,
                  int64_t stride_c,
                  bool accumulate = false);

// True while the calling thread is inside the GEMM library (oneDNN or OpenBLAS), called from
// gemm, gemm_batched or gemv. The library's own scratch allocations (oneDNN's sgemm mallocs a
// packing buffer on every call, its matmul execution builds an argument map on the C++ heap)
// happen there; tests/train/steady_state_alloc_test.cc uses this to count only benchtop's own
// allocations.
bool in_gemm_library();

// y = alpha * op(A) x + beta * y, A [m, n] row-major (op(A) = A or A^T): float32 as a one-column
// gemm on benchtop's kernel (alpha 1, beta 0 or 1), float64 on OpenBLAS.
void gemv(bool trans_a,
          int64_t m,
          int64_t n,
          float alpha,
          const float* a,
          int64_t lda,
          const float* x,
          int64_t incx,
          float beta,
          float* y,
          int64_t incy);
void gemv(bool trans_a,
          int64_t m,
          int64_t n,
          double alpha,
          const double* a,
          int64_t lda,
          const double* x,
          int64_t incx,
          double beta,
          double* y,
          int64_t incy);

// Name of the BLAS backend compiled in (for reports and benchmarks).
const char* gemm_backend();

}  // namespace benchtop
