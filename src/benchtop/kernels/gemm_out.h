// Private helper of the kernel files: GemmOut of a sub-block. It lives in an unnamed namespace
// so that every kernel file gets its own copy compiled for its own instruction set (an inline
// function shared between files could be linked in its AVX-512 version into generic code).
#pragma once

#include "benchtop/kernels/kernel_table.h"

namespace benchtop::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): one copy per kernel file

// The block of `out` starting at row i, column j (j a multiple of 16).
inline GemmOut out_at(const GemmOut& out, int64_t i, int64_t j) {
    const int64_t o = i * out.ldc + j;
    return {out.c + o,
            out.ldc,
            out.accumulate,
            out.relu,
            out.add ? out.add + o : nullptr,
            out.bias ? out.bias + j : nullptr,
            out.res ? out.res + o : nullptr,
            out.res ? out.sum + o : nullptr,
            out.bits ? out.bits + i * out.ldbits + j / kWordCols : nullptr,
            out.ldbits,
            out.store_c};
}

}  // namespace
}  // namespace benchtop::kernels
