// Runs a test once per kernel path (kernels/dispatch.h): generic, avx2 and avx512. A path this
// CPU cannot execute is skipped with the reason; the others run with that path active.
//
//   class MyTest : public PerIsa {};
//   TEST_P(MyTest, Something) { ... }
//   BENCHTOP_PER_ISA(MyTest);
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "benchtop/kernels/dispatch.h"

namespace benchtop {

class PerIsa : public ::testing::TestWithParam<Isa> {
protected:
    void SetUp() override {
        const std::string why = isa_unsupported_reason(GetParam());
        if (!why.empty())
            GTEST_SKIP() << "kernel path " << isa_name(GetParam()) << " skipped: " << why;
        scoped_.emplace(GetParam());
    }
    void TearDown() override { scoped_.reset(); }

private:
    std::optional<kernels::ScopedIsa> scoped_;
};

inline std::string isa_test_name(const ::testing::TestParamInfo<Isa>& info) {
    return isa_name(info.param);
}

}  // namespace benchtop

#define BENCHTOP_PER_ISA(Suite)                                                     \
    INSTANTIATE_TEST_SUITE_P(Isa, Suite, ::testing::ValuesIn(::benchtop::kAllIsas), \
                             ::benchtop::isa_test_name)
