// Private helper of the vector kernel files: cross-entropy's forward for float rows of at most
// 16 classes, driven by a path's two row helpers (row_exps16: exp(x - max x) into a 16-float
// row, returning max x; row_probs16: the row's probabilities e / sum). The results equal the
// scalar loop of ops/loss.cc: x - max(x), its exp (exp_approx), the sum in class order, the
// loss, and the probabilities. The max is a vector reduction; it differs from the in-order
// scan only in which of two equal signed zeros it returns and when the row holds a NaN, and in
// both cases every result of the row is the same (an exact zero shifts to an exact zero, whose
// exp is 1; a NaN makes the row's sum, loss and probabilities NaN either way).
// In an unnamed namespace: each kernel file gets its own copy, compiled for its instruction set.
#pragma once

#include <math.h>  // logf: the C function, not an inline C++ wrapper shared with other files

#include <cstdint>

namespace benchtop::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): one copy per kernel file

template <auto RowExps, auto RowProbs>
void cross_entropy_rows16_with(const float* px,
                               float* pp,
                               int64_t R,
                               int64_t C,
                               const int32_t* lab,
                               bool shared,
                               int64_t M,
                               bool per_row,
                               bool probs,
                               float* po) {
    // Blocks of rows in passes, so that the rows of a pass are independent: exp of the shifted
    // logits (vectors, into a scratch block of full 16-float rows: whole-vector stores forward
    // to the loads that follow, masked ones do not), then per row the sum, the loss and
    // 1 / sum, then the probabilities.
    constexpr int64_t kRows = 64;
    alignas(64) float e[kRows][16];
    float row_max[kRows], inv[kRows];
    for (int64_t r0 = 0; r0 < R; r0 += kRows) {
        const int64_t nr = R - r0 < kRows ? R - r0 : kRows;
        for (int64_t j = 0; j < nr; ++j) row_max[j] = RowExps(px + (r0 + j) * C, C, e[j]);
        for (int64_t j = 0; j < nr; ++j) {
            const int64_t r = r0 + j;
            float s = 0;
            for (int64_t c = 0; c < C; ++c) s += e[j][c];
            const float loss = (row_max[j] - px[r * C + lab[shared ? r % M : r]]) + logf(s);
            if (per_row)
                po[r] = loss;
            else
                po[r / M] += loss;
            inv[j] = 1.0f / s;
        }
        if (probs)
            for (int64_t j = 0; j < nr; ++j)
                RowProbs(e[j], inv[j], C, pp + (r0 + j) * C, (R - r0 - j) * C);
    }
}

}  // namespace
}  // namespace benchtop::kernels
