// GEMM wrapper: C = alpha * op(A) * op(B) + beta * C, row-major, float and double.
// op(X) = X or X^T. Backed by the BLAS chosen at configure time (BENCHTOP_BLAS, see
// docs/engine.md for the measurement behind the choice). The library is pinned to one
// thread: benchtop parallelises across members and runs, never inside a small GEMM, which
// also keeps results independent of the thread count.
#pragma once

#include <cstdint>

namespace benchtop {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// y = alpha * op(A) x + beta * y, A [m, n] row-major (op(A) = A or A^T), always OpenBLAS.
// For GEMMs with one output column and a long inner dimension, where sgemm's packing costs
// several times the arithmetic (rnn.cc's input-weight gradient: 20 us vs 3.6 us).
void gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, int64_t incx, float beta, float* y, int64_t incy);
void gemv(bool trans_a, int64_t m, int64_t n, double alpha, const double* a, int64_t lda,
          const double* x, int64_t incx, double beta, double* y, int64_t incy);

// Name of the BLAS backend compiled in (for reports and benchmarks).
const char* gemm_backend();

}  // namespace benchtop
