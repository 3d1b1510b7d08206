// A pack's result as bytes, for sending it from the process that trained it to the one that
// stores it (cluster/mpi.h). Exact: doubles travel as their IEEE bits (NaN and infinities
// included), so the stored numbers are those a single process would store.
//
//   std::string bytes = encode_pack_result(res);
//   PackResult back = decode_pack_result(bytes);   // throws Error on truncated or foreign bytes
#pragma once

#include <string>
#include <string_view>

#include "benchtop/sweep/executor.h"

namespace benchtop {

std::string encode_pack_result(const PackResult& result);
PackResult decode_pack_result(std::string_view bytes);

}  // namespace benchtop
