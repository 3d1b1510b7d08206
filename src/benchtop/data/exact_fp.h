// Include first in a source file whose float64 arithmetic must match the NumPy/SciPy
// reference bit for bit: it turns off fused multiply-add contraction for that file
// (-march=native would otherwise emit FMAs that round differently).
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
