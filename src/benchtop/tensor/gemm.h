// GEMM wrapper: C = alpha * op(A) * op(B) + beta * C, row-major, float and double.
// op(X) = X or X^T. Backed by the BLAS chosen at configure time (BENCHTOP_BLAS, see
// docs/engine.md for the measurement behind the choice). The library is pinned to one
// thread: benchtop parallelises across members and runs, never inside a small GEMM, which
// also keeps results independent of the thread count.
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

// Which implementation gemm_batched uses for float32: Default (benchtop's FMA kernel where the
// build has it, otherwise the library) or Library: with oneDNN, one execution of a batched matmul
// primitive (accumulation as its sum post-op), created once per problem and kept in a small
// per-thread cache, otherwise a loop over the members. Library results need not equal gemm() on
// the same member (on the MLP shapes they do with oneDNN 2.6.3; on e.g. 7x3x5 they do not).
// Library is for tests and benchmarks.
enum class GemmPath { Default, Library };

// For each of `batch` members i: C_i = op(A_i) * op(B_i), or C_i += op(A_i) * op(B_i) with
// `accumulate`, where X_i = X + i * stride_x (stride_a or stride_b may be 0 for an operand shared
// by all members). Member i's result does not depend on the batch size, bit for bit
// (tests/tensor/gemm_test.cc). float32 runs on benchtop's FMA kernel where the build has it
// (fma_gemm.h: each element one in-order chain of FMAs, the old C added after, so the result
// depends on the operands only), otherwise through the library (see GemmPath).
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

// y = alpha * op(A) x + beta * y, A [m, n] row-major (op(A) = A or A^T), always OpenBLAS.
// For GEMMs with one output column and a long inner dimension, where sgemm's packing costs
// several times the arithmetic (rnn.cc's input-weight gradient: 20 us vs 3.6 us).
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
