// Column sums of a row-major matrix in a fixed order, shared by linear's backward (the bias
// gradient) and the vector kernel's fused ReLU-mask pass, which must give the same bits.
#pragma once

#include <cstdint>
#include <type_traits>

namespace benchtop {

// Columns c0 .. c0 + w of add_column_sums; kFull: w is the whole chunk, a constant, so the
// partial sums live in registers. kAssign: acc = the sums instead of acc += (the same bits as
// adding them to zeros: partial sums that start at +0 are never -0).
template <class T, bool kFull, bool kAssign>
void add_column_sums_chunk(
    const T* __restrict z, int64_t rows, int64_t cols, int64_t w_, T* __restrict acc) {
    constexpr int64_t kChunk = 128 / sizeof(T);  // two 512-bit vectors
    const int64_t w = kFull ? kChunk : w_;
    T p0[kChunk] = {}, p1[kChunk] = {}, p2[kChunk] = {}, p3[kChunk] = {};
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const T* z0 = z + r * cols;
        for (int64_t c = 0; c < w; ++c) {
            p0[c] += z0[c];
            p1[c] += z0[cols + c];
            p2[c] += z0[2 * cols + c];
            p3[c] += z0[3 * cols + c];
        }
    }
    for (; r < rows; ++r)
        for (int64_t c = 0; c < w; ++c) p0[c] += z[r * cols + c];
    for (int64_t c = 0; c < w; ++c) {
        const T s = (p0[c] + p1[c]) + (p2[c] + p3[c]);
        acc[c] = kAssign ? s : acc[c] + s;
    }
}

// acc[c] += sum over r of z[r * cols + c] (the bias gradient of a [rows, cols] output
// gradient), in a fixed order that depends on rows only: row r goes to partial sum r % 4
// (rows after the last full group of four to partial 0), then acc[c] += (p0 + p1) +
// (p2 + p3). Four independent chains per column instead of one serial chain through acc.
// assign: acc = the sums (acc's contents are not read).
template <class T>
void add_column_sums(const T* z, int64_t rows, int64_t cols, T* acc, bool assign) {
    constexpr int64_t kChunk = 128 / sizeof(T);
    auto run = [&](auto kAssign) {
        constexpr bool kA = decltype(kAssign)::value;
        int64_t c0 = 0;
        for (; c0 + kChunk <= cols; c0 += kChunk)
            add_column_sums_chunk<T, true, kA>(z + c0, rows, cols, kChunk, acc + c0);
        if (c0 < cols) add_column_sums_chunk<T, false, kA>(z + c0, rows, cols, cols - c0, acc + c0);
    };
    if (assign)
        run(std::true_type{});
    else
        run(std::false_type{});
}

}  // namespace benchtop
