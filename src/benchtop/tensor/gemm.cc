#include "benchtop/tensor/gemm.h"

#include "benchtop/core/error.h"

#include <cblas.h>

#ifdef BENCHTOP_USE_ONEDNN
#include <omp.h>
#ifdef BENCHTOP_DNNL_NO_HEADER
// oneDNN's C API entry point (dnnl.h, stable since oneDNN 1.0), declared here when only the
// runtime library is installed. dnnl_status_t is a C enum; dnnl_success is 0.
extern "C" int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                          float* C, int64_t ldc);
using dnnl_status_t = int;
constexpr dnnl_status_t dnnl_success = 0;
#else
#include <oneapi/dnnl/dnnl.h>
#endif
#endif

namespace benchtop {

namespace {
// Pins the BLAS to one thread once per process, before the first call.
struct BlasInit {
    BlasInit() { openblas_set_num_threads(1); }
};
void ensure_init() {
    static BlasInit init;
#ifdef BENCHTOP_USE_ONEDNN
    // oneDNN threads with OpenMP; each calling thread gets a team of one.
    thread_local bool pinned = [] {
        omp_set_num_threads(1);
        return true;
    }();
    (void)pinned;
#endif
}
}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
    ensure_init();
    if (m == 0 || n == 0) return;
#ifdef BENCHTOP_USE_ONEDNN
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda,
                                  b, ldb, beta, c, ldc);
    BENCHTOP_CHECK(st == dnnl_success, "gemm: oneDNN sgemm failed (status ", static_cast<int>(st),
                   ") for m=", m, " n=", n, " k=", k);
    return;
#endif
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc) {
    ensure_init();
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
}

void gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, int64_t incx, float beta, float* y, int64_t incy) {
    ensure_init();
    if (m == 0 || n == 0) return;
    cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), alpha, a, static_cast<int>(lda), x, static_cast<int>(incx), beta,
                y, static_cast<int>(incy));
}

void gemv(bool trans_a, int64_t m, int64_t n, double alpha, const double* a, int64_t lda,
          const double* x, int64_t incx, double beta, double* y, int64_t incy) {
    ensure_init();
    if (m == 0 || n == 0) return;
    cblas_dgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), alpha, a, static_cast<int>(lda), x, static_cast<int>(incx), beta,
                y, static_cast<int>(incy));
}

const char* gemm_backend() {
#ifdef BENCHTOP_USE_ONEDNN
    return "oneDNN sgemm (float32), OpenBLAS dgemm (float64)";
#else
    return "OpenBLAS";
#endif
}

}  // namespace benchtop
