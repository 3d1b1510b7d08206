// Single-threaded sgemm from several BLAS libraries on the shapes of benchtop's MLP
// workload. Each library is opened with dlopen(RTLD_LOCAL) at start-up, so a library
// that is not installed is simply skipped. Every (library, shape) pair is checked once
// against a naive triple loop before it is timed; a mismatch aborts the run.
//
// Shapes are row-major C[M,N] = op(A) op(B) with the three transposes the engine uses:
//   op:NT  forward        y  = x  W^T   x [M,K], W [N,K]
//   op:NN  input grad     dx = dy W     dy[M,K], W [K,N]
//   op:TN  weight grad    dW = dy^T x   dy[K,M], x [K,N]
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

enum class Op { NT, NN, TN };

const char* op_name(Op op) {
  switch (op) {
    case Op::NT: return "NT";
    case Op::NN: return "NN";
    case Op::TN: return "TN";
  }
  return "?";
}

// Uniform call signature used by the benchmark loop (row-major).
using SgemmFn = void (*)(void* ctx, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                         const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                         int64_t ldc);

struct Library {
  std::string name;
  void* handle = nullptr;
  void* sym = nullptr;  // the library entry point
  SgemmFn call = nullptr;
};

// --- CBLAS (OpenBLAS, BLIS) -----------------------------------------------------------
constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int,
                            const float*, int, float, float*, int);
void call_cblas(void* sym, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
                int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  reinterpret_cast<CblasSgemm>(sym)(kCblasRowMajor, ta ? kCblasTrans : kCblasNoTrans,
                                    tb ? kCblasTrans : kCblasNoTrans, int(m), int(n), int(k),
                                    1.0f, a, int(lda), b, int(ldb), 0.0f, c, int(ldc));
}

// --- Fortran BLAS sgemm_ (column-major): C^T = op(B)^T op(A)^T -----------------------
using FortranSgemm = void (*)(const char*, const char*, const int*, const int*, const int*,
                              const float*, const float*, const int*, const float*,
                              const int*, const float*, float*, const int*);
void call_fortran(void* sym, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                  int64_t ldc) {
  const char tra = tb ? 'T' : 'N', trb = ta ? 'T' : 'N';
  const int M = int(n), N = int(m), K = int(k), LA = int(ldb), LB = int(lda), LC = int(ldc);
  const float one = 1.0f, zero = 0.0f;
  reinterpret_cast<FortranSgemm>(sym)(&tra, &trb, &M, &N, &K, &one, b, &LA, a, &LB, &zero, c,
                                      &LC);
}

// --- oneDNN dnnl_sgemm (row-major) ---------------------------------------------------
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
void call_dnnl(void* sym, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
               int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  const int st = reinterpret_cast<DnnlSgemm>(sym)(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k,
                                                  1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  if (st != 0) {
    std::fprintf(stderr, "dnnl_sgemm returned status %d\n", st);
    std::abort();
  }
}

void* open_lib(const char* path, int extra_flags = 0) {
  return dlopen(path, RTLD_NOW | RTLD_LOCAL | extra_flags);
}

std::vector<Library> load_libraries() {
  // Single thread everywhere. Environment first: OpenMP runtimes (BLIS-openmp, oneDNN)
  // read OMP_NUM_THREADS when they are first loaded, which happens in the dlopen below.
  setenv("OMP_NUM_THREADS", "1", 1);
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  setenv("BLIS_NUM_THREADS", "1", 1);
  setenv("DNNL_VERBOSE", "0", 1);
  std::vector<Library> libs;

  if (void* h = open_lib("libopenblas.so.0")) {
    if (void* s = dlsym(h, "cblas_sgemm")) {
      if (auto set = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads")))
        set(1);
      libs.push_back({"openblas", h, s, call_cblas});
    }
  } else {
    std::fprintf(stderr, "bm_gemm: skipping openblas (%s)\n", dlerror());
  }

  // RTLD_DEEPBIND: BLIS's cblas layer calls sgemm_, which must resolve inside BLIS even
  // if another BLAS (benchtop links OpenBLAS) already put sgemm_ in the global scope.
  if (void* h = open_lib("libblis.so.4", RTLD_DEEPBIND)) {
    if (auto set = reinterpret_cast<void (*)(long)>(dlsym(h, "bli_thread_set_num_threads")))
      set(1);
    if (void* s = dlsym(h, "cblas_sgemm"))
      libs.push_back({"blis", h, s, call_cblas});
    else if (void* f = dlsym(h, "sgemm_"))
      libs.push_back({"blis", h, f, call_fortran});
  } else {
    std::fprintf(stderr, "bm_gemm: skipping blis (%s)\n", dlerror());
  }

  void* hx = open_lib("libxsmm.so");
  if (!hx) hx = open_lib("libxsmm.so.1");
  if (hx) {
    // libxsmm_blas_sgemm / libxsmm_sgemm take the Fortran (column-major) BLAS signature.
    void* s = dlsym(hx, "libxsmm_sgemm");
    if (!s) s = dlsym(hx, "libxsmm_blas_sgemm");
    if (s) libs.push_back({"libxsmm", hx, s, call_fortran});
  } else {
    std::fprintf(stderr, "bm_gemm: skipping libxsmm (%s)\n", dlerror());
  }

  if (void* h = open_lib("libdnnl.so.2")) {
    if (void* s = dlsym(h, "dnnl_sgemm")) libs.push_back({"onednn", h, s, call_dnnl});
  } else {
    std::fprintf(stderr, "bm_gemm: skipping onednn (%s)\n", dlerror());
  }
  return libs;
}

struct Shape {
  Op op;
  int64_t m, n, k;
};

// Operands for one shape, stored densely with the layout the op implies.
struct Operands {
  bool ta, tb;
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c;
};

Operands make_operands(const Shape& s) {
  Operands o;
  o.ta = s.op == Op::TN;
  o.tb = s.op == Op::NT;
  // A is [M,K] (or [K,M] when transposed), B is [K,N] (or [N,K] when transposed).
  o.lda = o.ta ? s.m : s.k;
  o.ldb = o.tb ? s.k : s.n;
  o.ldc = s.n;
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  o.a.resize(size_t(s.m * s.k));
  o.b.resize(size_t(s.k * s.n));
  o.c.assign(size_t(s.m * s.n), 0.0f);
  for (auto& x : o.a) x = u(rng);
  for (auto& x : o.b) x = u(rng);
  return o;
}

void naive(const Shape& s, const Operands& o, std::vector<float>& c) {
  c.assign(size_t(s.m * s.n), 0.0f);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < s.k; ++p) {
        const float av = o.ta ? o.a[size_t(p * o.lda + i)] : o.a[size_t(i * o.lda + p)];
        const float bv = o.tb ? o.b[size_t(j * o.ldb + p)] : o.b[size_t(p * o.ldb + j)];
        acc += double(av) * double(bv);
      }
      c[size_t(i * s.n + j)] = float(acc);
    }
}

void verify(const Library& lib, const Shape& s) {
  Operands o = make_operands(s);
  std::vector<float> ref;
  naive(s, o, ref);
  std::fill(o.c.begin(), o.c.end(), 12345.0f);  // beta = 0 must overwrite
  lib.call(lib.sym, o.ta, o.tb, s.m, s.n, s.k, o.a.data(), o.lda, o.b.data(), o.ldb,
           o.c.data(), o.ldc);
  const double tol = 1e-5 * double(s.k) + 1e-5;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!(std::fabs(double(o.c[i]) - double(ref[i])) <= tol)) {
      std::fprintf(stderr,
                   "bm_gemm: %s sgemm mismatch op:%s M:%lld N:%lld K:%lld at %zu: %g vs %g\n",
                   lib.name.c_str(), op_name(s.op), (long long)s.m, (long long)s.n,
                   (long long)s.k, i, double(o.c[i]), double(ref[i]));
      std::exit(1);
    }
  }
}

void bm_sgemm(benchmark::State& state, const Library* lib, Shape s) {
  Operands o = make_operands(s);
  for (auto _ : state) {
    lib->call(lib->sym, o.ta, o.tb, s.m, s.n, s.k, o.a.data(), o.lda, o.b.data(), o.ldb,
              o.c.data(), o.ldc);
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9 * double(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

const std::vector<Shape>& workload_shapes() {
  static const std::vector<Shape> shapes = {
      // reference MLP 40 -> 100 -> 100 (residual) -> 10, batch 100
      {Op::NT, 100, 100, 40}, {Op::NT, 100, 100, 100}, {Op::NT, 100, 10, 100},
      {Op::NN, 100, 40, 100}, {Op::NN, 100, 100, 100}, {Op::NN, 100, 100, 10},
      {Op::TN, 100, 40, 100}, {Op::TN, 100, 100, 100}, {Op::TN, 10, 100, 100},
      // ensemble member, hidden width 64
      {Op::NT, 100, 64, 40},  {Op::NT, 100, 64, 64},   {Op::NT, 100, 10, 64},
      {Op::NN, 100, 40, 64},  {Op::NN, 100, 64, 64},   {Op::NN, 100, 64, 10},
      {Op::TN, 64, 40, 100},  {Op::TN, 64, 64, 100},   {Op::TN, 10, 64, 100},
  };
  return shapes;
}

// Registered from a static initialiser: benchmark_main's main() runs afterwards.
const bool kRegistered = [] {
  static const std::vector<Library> libs = load_libraries();
  for (const Library& lib : libs) {
    for (const Shape& s : workload_shapes()) {
      verify(lib, s);
      const std::string name = "BM_Sgemm/lib:" + lib.name + "/op:" + op_name(s.op) +
                               "/M:" + std::to_string(s.m) + "/N:" + std::to_string(s.n) +
                               "/K:" + std::to_string(s.k);
      benchmark::RegisterBenchmark(name.c_str(), bm_sgemm, &lib, s);
    }
  }
  return true;
}();

}  // namespace
