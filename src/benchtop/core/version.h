// The benchtop version (CMake's project version), stored with every run so results can be traced
// to the code that made them.
#pragma once

namespace benchtop {

#ifdef BENCHTOP_VERSION
inline constexpr const char* kVersion = BENCHTOP_VERSION;
#else
inline constexpr const char* kVersion = "unknown";
#endif

}  // namespace benchtop
