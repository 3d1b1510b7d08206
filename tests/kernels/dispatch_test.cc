// Choosing a kernel path: names, the CPU's abilities, errors that say why, and restoring.
#include "benchtop/kernels/dispatch.h"

#include <gtest/gtest.h>

#include <string>

#include "benchtop/core/error.h"

namespace benchtop {
namespace {

TEST(KernelDispatch, NamesRoundTripAndBadNamesAreErrors) {
    for (Isa isa : kAllIsas) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
    try {
        parse_isa("avx1024");
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("avx1024"), std::string::npos) << msg;
        EXPECT_NE(msg.find("generic, avx2 or avx512"), std::string::npos) << msg;
    }
}

TEST(KernelDispatch, GenericRunsEverywhereAndTheBestPathIsExecutable) {
    EXPECT_TRUE(isa_supported(Isa::Generic));
    EXPECT_TRUE(isa_supported(best_isa()));
    EXPECT_FALSE(cpu_info().model.empty());
    // AVX-512 implies AVX2 here: the AVX-512 kernels use AVX2 and FMA instructions too.
    if (isa_supported(Isa::Avx512)) {
        EXPECT_TRUE(isa_supported(Isa::Avx2));
    }
    for (Isa isa : kAllIsas) EXPECT_EQ(kernels::table_for(isa).isa, isa) << isa_name(isa);
}

TEST(KernelDispatch, ScopedPathIsActiveAndRestored) {
    const Isa before = kernels::active_isa();
    {
        const kernels::ScopedIsa path(Isa::Generic);
        EXPECT_EQ(kernels::active_isa(), Isa::Generic);
        EXPECT_STREQ(kernels::active().name, "generic (scalar)");
    }
    EXPECT_EQ(kernels::active_isa(), before);
}

TEST(KernelDispatch, APathThisCpuCannotExecuteIsAnErrorSayingWhy) {
    bool any = false;
    for (Isa isa : kAllIsas) {
        const std::string why = isa_unsupported_reason(isa);
        if (why.empty()) continue;
        any = true;
        try {
            kernels::set_isa(isa);
            FAIL() << "no error for " << isa_name(isa);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
        }
    }
    if (!any) GTEST_SKIP() << "this CPU (" << cpu_info().model << ") executes every path";
}

}  // namespace
}  // namespace benchtop
