#include "benchtop/core/error.h"

namespace benchtop::detail {

void check_failed(const char* /*file*/, int /*line*/, const std::string& msg) {
    throw Error(msg);
}

}  // namespace benchtop::detail
