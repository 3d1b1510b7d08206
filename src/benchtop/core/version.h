// The benchtop version, stored with every run so results can be traced to the code that made them.
#pragma once

namespace benchtop {

inline constexpr const char* kVersion = "0.2.0";

}  // namespace benchtop
