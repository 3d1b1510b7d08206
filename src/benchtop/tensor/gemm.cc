#include "benchtop/tensor/gemm.h"

#include <cblas.h>

#include "benchtop/core/error.h"
#include "benchtop/tensor/fma_gemm.h"

#ifdef BENCHTOP_USE_ONEDNN
#include <omp.h>
#ifdef BENCHTOP_DNNL_NO_HEADER
// oneDNN's C API entry point (dnnl.h, stable since oneDNN 1.0), declared here when only the
// runtime library is installed. dnnl_status_t is a C enum; dnnl_success is 0.
extern "C" int dnnl_sgemm(char transa,
                          char transb,
                          int64_t M,
                          int64_t N,
                          int64_t K,
                          float alpha,
                          const float* A,
                          int64_t lda,
                          const float* B,
                          int64_t ldb,
                          float beta,
                          float* C,
                          int64_t ldc);
using dnnl_status_t = int;
constexpr dnnl_status_t dnnl_success = 0;
#else
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>
#define BENCHTOP_DNNL_MATMUL 1
#endif
#endif

namespace benchtop {

namespace {
// Pins the BLAS to one thread once per process, before the first call.
struct BlasInit {
    BlasInit() { openblas_set_num_threads(1); }
};
thread_local int t_library_depth = 0;

// Marks the calling thread as inside the GEMM library for its lifetime (see in_gemm_library).
struct InLibrary {
    InLibrary() { ++t_library_depth; }
    ~InLibrary() { --t_library_depth; }
    InLibrary(const InLibrary&) = delete;
    InLibrary& operator=(const InLibrary&) = delete;
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

bool in_gemm_library() {
    return t_library_depth > 0;
}

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
          int64_t ldc) {
    // benchtop's own kernel, whose results do not depend on the CPU (a GEMM library's reduction
    // order does): C = op(A) op(B), or C = C + op(A) op(B).
    BENCHTOP_CHECK(alpha == 1.0f && (beta == 0.0f || beta == 1.0f),
                   "gemm (float32): only alpha = 1 and beta = 0 or 1 are supported, got alpha=",
                   alpha, " beta=", beta);
    if (m == 0 || n == 0) return;
    FmaEpilogue ep;
    ep.accumulate = beta == 1.0f;
    fma_gemm_batched(trans_a, trans_b, 1, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, ep);
}

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
          int64_t ldc) {
    ensure_init();
    if (m == 0 || n == 0) return;
    const InLibrary in_library;
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
                beta, c, static_cast<int>(ldc));
}

namespace {

// The GEMM library's sgemm (GemmPath::Library's fallback, tests and benchmarks only).
void library_gemm(bool trans_a,
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
                  int64_t ldc) {
    ensure_init();
    if (m == 0 || n == 0) return;
    const InLibrary in_library;
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

void library_gemm(bool trans_a,
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
                  int64_t ldc) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void gemm_members(bool trans_a,
                  bool trans_b,
                  int64_t batch,
                  int64_t m,
                  int64_t n,
                  int64_t k,
                  const T* a,
                  int64_t lda,
                  int64_t stride_a,
                  const T* b,
                  int64_t ldb,
                  int64_t stride_b,
                  T* c,
                  int64_t ldc,
                  int64_t stride_c,
                  bool accumulate) {
    for (int64_t i = 0; i < batch; ++i)
        library_gemm(trans_a, trans_b, m, n, k, T(1), a + i * stride_a, lda, b + i * stride_b, ldb,
             accumulate ? T(1) : T(0), c + i * stride_c, ldc);
}

#ifdef BENCHTOP_DNNL_MATMUL
// One CPU engine and stream per thread, and a small cache of batched matmul primitives keyed by
// the full problem description. Memory objects are created once per primitive and pointed at
// the caller's buffers with dnnl_memory_set_data_handle; the scratchpad is the entry's own. An
// execution still makes a few C++ heap allocations inside oneDNN (its argument map), as sgemm
// mallocs its packing buffer: see docs/engine.md, "Batched oneDNN matmul for stacks".
struct MatmulKey {
    bool trans_a, trans_b, accumulate;
    int64_t batch, m, n, k, lda, stride_a, ldb, stride_b, ldc, stride_c;
    bool operator==(const MatmulKey&) const = default;
};

struct MatmulEntry {
    MatmulKey key;
    bool usable = false;  // false: oneDNN rejected the problem, loop over the members
    dnnl::matmul prim;
    dnnl::memory src, wei, dst, scratch;
    std::vector<unsigned char> scratch_buf;
};

struct MatmulThreadState {
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    std::vector<std::unique_ptr<MatmulEntry>> cache;
};

constexpr size_t kMatmulCacheSize = 32;

void init_entry(MatmulEntry& e, dnnl::engine& eng) {
    using dims = dnnl::memory::dims;
    constexpr auto f32 = dnnl::memory::data_type::f32;
    const MatmulKey& p = e.key;
    // op(A) [batch, m, k], op(B) [batch, k, n], C [batch, m, n], all by strides. An operand
    // shared by all members (stride 0, which oneDNN computes wrongly) has batch dimension 1
    // and is broadcast.
    const int64_t batch_a = p.stride_a == 0 ? 1 : p.batch;
    const int64_t batch_b = p.stride_b == 0 ? 1 : p.batch;
    const int64_t stride_a = p.stride_a == 0 ? p.m * p.k : p.stride_a;
    const int64_t stride_b = p.stride_b == 0 ? p.k * p.n : p.stride_b;
    const dnnl::memory::desc src_md(
        dims{batch_a, p.m, p.k}, f32,
        p.trans_a ? dims{stride_a, 1, p.lda} : dims{stride_a, p.lda, 1});
    const dnnl::memory::desc wei_md(
        dims{batch_b, p.k, p.n}, f32,
        p.trans_b ? dims{stride_b, 1, p.ldb} : dims{stride_b, p.ldb, 1});
    const dnnl::memory::desc dst_md(dims{p.batch, p.m, p.n}, f32, dims{p.stride_c, p.ldc, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (p.accumulate) {  // dst = op(A) op(B) + dst
        dnnl::post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), attr, eng);
    e.prim = dnnl::matmul(pd);
    e.src = dnnl::memory(src_md, eng, nullptr);
    e.wei = dnnl::memory(wei_md, eng, nullptr);
    e.dst = dnnl::memory(dst_md, eng, nullptr);
    e.scratch_buf.resize(pd.scratchpad_desc().get_size() + 64);
    e.scratch = dnnl::memory(pd.scratchpad_desc(), eng, e.scratch_buf.data());
    e.usable = true;
}

MatmulEntry& matmul_entry(MatmulThreadState& ts, const MatmulKey& key) {
    for (auto& e : ts.cache)
        if (e->key == key) return *e;
    if (ts.cache.size() >= kMatmulCacheSize) ts.cache.clear();
    auto e = std::make_unique<MatmulEntry>();
    e->key = key;
    try {
        init_entry(*e, ts.eng);
    } catch (const dnnl::error&) {
        e->usable = false;
    }
    ts.cache.push_back(std::move(e));
    return *ts.cache.back();
}
#endif

}  // namespace

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
                  bool accumulate,
                  GemmPath path) {
    if (batch <= 0 || m == 0 || n == 0) return;
    if (path == GemmPath::Default) {
        FmaEpilogue ep;
        ep.accumulate = accumulate;
        fma_gemm_batched(trans_a, trans_b, batch, m, n, k, a, lda, stride_a, b, ldb, stride_b, c,
                         ldc, stride_c, ep);
        return;
    }
    ensure_init();
#ifdef BENCHTOP_DNNL_MATMUL
    if (k > 0) {
        thread_local MatmulThreadState ts;
        MatmulEntry& e = matmul_entry(ts, MatmulKey{trans_a, trans_b, accumulate, batch, m, n, k,
                                                    lda, stride_a, ldb, stride_b, ldc, stride_c});
        if (e.usable) {
            const InLibrary in_library;
            dnnl_memory_set_data_handle(e.src.get(), const_cast<float*>(a));
            dnnl_memory_set_data_handle(e.wei.get(), const_cast<float*>(b));
            dnnl_memory_set_data_handle(e.dst.get(), c);
            const dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, e.src.get()},
                                             {DNNL_ARG_WEIGHTS, e.wei.get()},
                                             {DNNL_ARG_DST, e.dst.get()},
                                             {DNNL_ARG_SCRATCHPAD, e.scratch.get()}};
            const dnnl_status_t st = dnnl_primitive_execute(e.prim.get(), ts.strm.get(), 4, args);
            BENCHTOP_CHECK(st == dnnl_success, "gemm_batched: oneDNN matmul failed (status ",
                           static_cast<int>(st), ") for batch=", batch, " m=", m, " n=", n,
                           " k=", k);
            return;
        }
    }
#endif
    gemm_members(trans_a, trans_b, batch, m, n, k, a, lda, stride_a, b, ldb, stride_b, c, ldc,
                 stride_c, accumulate);
}

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
                  bool accumulate) {
    ensure_init();
    if (batch <= 0 || m == 0 || n == 0) return;
    gemm_members(trans_a, trans_b, batch, m, n, k, a, lda, stride_a, b, ldb, stride_b, c, ldc,
                 stride_c, accumulate);
}

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
          int64_t incy) {
    // A product with one column on benchtop's kernel: x as a [len, 1] matrix (row stride incx),
    // y as [rows, 1] (row stride incy).
    if (trans_a)
        gemm(true, false, n, 1, m, alpha, a, lda, x, incx, beta, y, incy);
    else
        gemm(false, false, m, 1, n, alpha, a, lda, x, incx, beta, y, incy);
}

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
          int64_t incy) {
    ensure_init();
    if (m == 0 || n == 0) return;
    const InLibrary in_library;
    cblas_dgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), alpha, a, static_cast<int>(lda), x, static_cast<int>(incx),
                beta, y, static_cast<int>(incy));
}

const char* gemm_backend() {
    return "benchtop FMA kernels (float32), OpenBLAS (float64)";
}

}  // namespace benchtop
