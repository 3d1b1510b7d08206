// The table of benchtop's instruction-set-specific kernels: one instance per path, each in its
// own file compiled for its instruction set (kernels_generic.cc, kernels_avx2.cc,
// kernels_avx512.cc), chosen at run time by kernels/dispatch.h. Every entry computes the same
// bits on every path; tests/kernels/ checks each path against the scalar contract.
// Dimension legend: m rows of C, n columns, k the inner dimension; R rows, C classes.
#pragma once

#include <cstdint>

#include "benchtop/kernels/cpu.h"

namespace benchtop::kernels {

// Where one member's block of C and its epilogue operands start (row-major, all with C's row
// stride ldc; a null pointer leaves that step out), and the epilogue's flags: see
// tensor/fma_gemm.h (FmaEpilogue) for the order of the steps.
struct GemmOut {
    float* c;
    int64_t ldc;
    bool accumulate, relu;
    const float* add;   // addend, same shape as C
    const float* bias;  // one value per column
    const float* res;   // residual, same shape as C
    float* sum;         // res + result
    uint16_t* bits;     // ReLU mask, ldbits words per row, one per 16 columns
    int64_t ldbits;
    bool store_c;
};

// The per-member constants of one Adam step (optim/adam.cc); mode 0: no weight decay, 1: L2
// (added to the gradient), 2: decoupled (AdamW).
template <class T>
struct AdamArgs {
    T neg_step_size, bc2_sqrt, b1, one_m_b1, b2, one_m_b2, eps, wd, decay;
    int mode;
};

// The per-member constants of one SGD step (optim/sgd.cc).
template <class T>
struct SgdArgs {
    T wd, mom, damp, neg_lr;
    bool first_step, nesterov;
};

// One hidden unit's gate inputs for a GRU step (ops/rnn.cc): the input and hidden projections
// of gates r, z, n over the batch (without biases) and the unit's biases.
template <class T>
struct GruGateRow {
    const T* gi_r;
    const T* gi_z;
    const T* gi_n;
    const T* gh_r;
    const T* gh_z;
    const T* gh_n;
    T bi_r, bi_z, bi_n, bh_r, bh_z, bh_n;
};

struct KernelTable {
    Isa isa;
    const char* name;  // for reports: "AVX-512 (16 lanes)", ...
    // One member: C = epilogue(op(A) B), B row-major [k, >= n] (NT products pass B packed by
    // pack_transposed); op(A) = A^T when trans_a. Each element of the product is one in-order
    // chain of fused multiply-adds from zero.
    void (*gemm_member)(bool trans_a,
                        int64_t m,
                        int64_t n,
                        int64_t k,
                        const float* a,
                        int64_t lda,
                        const float* b,
                        int64_t ldb,
                        const GemmOut& out);
    // out[p, j] = b[j, p] for j < n, p < k, into rows of ldo floats (ldo a multiple of 16 and
    // >= n; columns n..ldo-1 become 0).
    void (*pack_transposed)(
        int64_t n, int64_t k, const float* b, int64_t ldb, float* out, int64_t ldo);
    // tensor/fma_gemm.h relu_mask_backward.
    void (*relu_mask_backward)(const uint16_t* bits,
                               const float* dout,
                               float* dz,
                               int64_t rows,
                               int64_t cols,
                               float* sums,
                               bool assign);
    // Cross-entropy's forward for R rows of C <= 16 float logits (ops/loss.cc), or null where
    // the path has no vector version (the scalar loop then runs, with the same results). Row r
    // has label lab[shared ? r % M : r]; its loss goes to po[r] (per_row) or is added to
    // po[r / M]; with probs, the softmax probabilities go to pp.
    void (*cross_entropy_rows16)(const float* px,
                                 float* pp,
                                 int64_t R,
                                 int64_t C,
                                 const int32_t* lab,
                                 bool shared,
                                 int64_t M,
                                 bool per_row,
                                 bool probs,
                                 float* po);
    // The optimisers' float32 update loops over n parameters of one member (kernels/optim_loops.h).
    void (*adam_update)(
        int64_t n, float* p, const float* g, float* m, float* v, const AdamArgs<float>& a);
    void (*sgd_update)(int64_t n, float* p, const float* g, float* buf, const SgdArgs<float>& a);
    // The GRU's gate arithmetic over `count` batch values (kernels/gru_gates.h).
    void (*gru_gate_forward)(int64_t count,
                             const GruGateRow<float>& g,
                             const float* hp,
                             float* r,
                             float* z,
                             float* n,
                             float* hn,
                             float* h);
    void (*gru_gate_backward)(int64_t count,
                              const float* r,
                              const float* z,
                              const float* n,
                              const float* hn,
                              const float* hp,
                              float* dh,
                              float* dar,
                              float* daz,
                              float* dan,
                              float* dhn);
    // out[i] = exp_approx(in[i]) (ops/fast_math.h) for 16 floats, with the path's vector exp.
    void (*exp16)(const float* in, float* out);
};

extern const KernelTable kGenericKernels;
extern const KernelTable kAvx2Kernels;
extern const KernelTable kAvx512Kernels;

// Columns per word of a ReLU mask (GemmOut::bits), whatever the vector width.
inline constexpr int64_t kWordCols = 16;

}  // namespace benchtop::kernels
