// benchtop::Error and BENCHTOP_CHECK: the one exception type of the project.
// Every message tells the user what was wrong (which tensor, which shapes, which key)
// so that the CLI can print it as one line and exit non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace benchtop {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
    std::ostringstream os;
    (os << ... << args);
    return os.str();
}
[[noreturn]] void check_failed(const char* file, int line, const std::string& msg);
}  // namespace detail

// Throws benchtop::Error with the concatenated message.
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
    throw Error(detail::concat(args...));
}

}  // namespace benchtop

// BENCHTOP_CHECK(cond, "message parts", value, ...): throws benchtop::Error naming the message.
#define BENCHTOP_CHECK(cond, ...)                                                      \
    do {                                                                               \
        if (!(cond)) [[unlikely]]                                                      \
            ::benchtop::detail::check_failed(__FILE__, __LINE__,                        \
                                             ::benchtop::detail::concat(__VA_ARGS__)); \
    } while (0)
