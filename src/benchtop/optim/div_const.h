// x / c for a divisor c fixed across a loop, with the same bits as the division but without
// the divider (whose throughput bounds Adam's update): q0 = x * r with r = 1 / c rounded, then
// one correction by the remainder, q = q0 + r * (x - q0 * c), both steps fused multiply-adds.
// Markstein's correction (P. Markstein, IBM J. Res. Dev. 34(1), 1990) gives the correctly
// rounded quotient when r is the correctly rounded reciprocal and q0 is within one ulp.
// tests/optim/div_const_test.cc checks every float mantissa against the division for the
// divisors Adam uses and for random ones. Valid for the x Adam passes, sqrt(v) of a float
// v >= 0: 0, a normal float in [2^-75, 2^64], +inf or NaN, with c in [2^-30, 2^30] (checked
// by div_by_reciprocal_ok), where the remainder is exact and nothing overflows. For
// x = +inf the remainder is NaN and q0 (+inf) is the quotient.
#pragma once

#include <cmath>

namespace benchtop {

template <class T>
inline bool div_by_reciprocal_ok(T c) {
    return c >= T(0x1p-30) && c <= T(0x1p30);
}

template <class T>
inline T div_by_reciprocal(T x, T c, T r) {
    const T q0 = x * r;
    const T e = std::fma(-q0, c, x);
    // Written as a select so the loop stays vectorised: NaN remainder (x infinite) keeps q0.
    return e != e ? q0 : std::fma(e, r, q0);
}

}  // namespace benchtop
