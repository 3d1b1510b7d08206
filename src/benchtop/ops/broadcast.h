// Private helper of the element-wise ops and losses: NumPy-style broadcast iteration.
// A Bcast maps every output element of a binary op to the element of each input it reads;
// dims are coalesced so that the innermost loop is as long and as contiguous as possible.
// Rules: input strides are 0 along broadcast axes; iteration order is the output's row-major.
#pragma once

#include <cstdint>
#include <utility>

#include "benchtop/tensor/shape.h"

namespace benchtop::detail {

struct Bcast {
    int rank = 0;  // after coalescing, >= 1
    int64_t dims[Shape::kMaxRank]{};
    int64_t sa[Shape::kMaxRank]{};
    int64_t sb[Shape::kMaxRank]{};
};

// Strides of `in` aligned to `out` (right-aligned), 0 where `in` broadcasts.
inline void bcast_strides(const Shape& in, const Shape& out, int64_t* st) {
    int r = out.rank(), off = r - in.rank();
    int64_t s = 1;
    for (int d = r - 1; d >= 0; --d) {
        int di = d - off;
        if (di < 0 || in[di] == 1) {
            st[d] = 0;
        } else {
            st[d] = s;
        }
        if (di >= 0) s *= in[di];
    }
}

inline Bcast make_bcast(const Shape& a, const Shape& b, const Shape& out) {
    int64_t dims[Shape::kMaxRank], sa[Shape::kMaxRank], sb[Shape::kMaxRank];
    int r = out.rank();
    for (int d = 0; d < r; ++d) dims[d] = out[d];
    bcast_strides(a, out, sa);
    bcast_strides(b, out, sb);
    Bcast bc;
    // Coalesce from the innermost axis outwards; drop size-1 axes.
    int n = 0;
    for (int d = r - 1; d >= 0; --d) {
        if (dims[d] == 1) continue;
        if (n > 0) {
            int p = n - 1;
            if (sa[d] == bc.sa[p] * bc.dims[p] && sb[d] == bc.sb[p] * bc.dims[p]) {
                bc.dims[p] *= dims[d];
                continue;
            }
        }
        bc.dims[n] = dims[d];
        bc.sa[n] = sa[d];
        bc.sb[n] = sb[d];
        ++n;
    }
    if (n == 0) {
        bc.dims[0] = 1;
        n = 1;
    }
    // Reverse to outermost-first order.
    bc.rank = n;
    for (int i = 0; i < n / 2; ++i) {
        int j = n - 1 - i;
        std::swap(bc.dims[i], bc.dims[j]);
        std::swap(bc.sa[i], bc.sa[j]);
        std::swap(bc.sb[i], bc.sb[j]);
    }
    return bc;
}

// Calls row(o, ia, ib, len, inc_a, inc_b) for each innermost run of the output: output
// elements o..o+len-1 read a[ia + j*inc_a] and b[ib + j*inc_b].
template <class F>
void bcast_rows(const Bcast& bc, F&& row) {
    int r = bc.rank;
    int64_t inner = bc.dims[r - 1], inc_a = bc.sa[r - 1], inc_b = bc.sb[r - 1];
    int64_t outer = 1;
    for (int d = 0; d < r - 1; ++d) outer *= bc.dims[d];
    int64_t idx[Shape::kMaxRank]{};
    int64_t ia = 0, ib = 0;
    for (int64_t o = 0; o < outer; ++o) {
        row(o * inner, ia, ib, inner, inc_a, inc_b);
        for (int d = r - 2; d >= 0; --d) {  // odometer step
            ++idx[d];
            ia += bc.sa[d];
            ib += bc.sb[d];
            if (idx[d] < bc.dims[d]) break;
            ia -= bc.sa[d] * bc.dims[d];
            ib -= bc.sb[d] * bc.dims[d];
            idx[d] = 0;
        }
    }
}

}  // namespace benchtop::detail
