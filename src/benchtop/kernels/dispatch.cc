#include "benchtop/kernels/dispatch.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "benchtop/core/error.h"

namespace benchtop::kernels {

namespace {

std::atomic<const KernelTable*> g_active{nullptr};
std::mutex g_init_mutex;

const KernelTable& checked(Isa isa, const char* source) {
    const std::string why = isa_unsupported_reason(isa);
    if (!why.empty())
        fail("cannot use the ", isa_name(isa), " kernel path", source, ": ", why,
             " (use BENCHTOP_ISA=", isa_name(best_isa()), " or leave it unset)");
    return table_for(isa);
}

const KernelTable& from_environment() {
    const char* env = std::getenv("BENCHTOP_ISA");
    if (env == nullptr || *env == '\0') return table_for(best_isa());
    return checked(parse_isa(env), " named by BENCHTOP_ISA");
}

}  // namespace

const KernelTable& table_for(Isa isa) {
    switch (isa) {
        case Isa::Avx512:
            return kAvx512Kernels;
        case Isa::Avx2:
            return kAvx2Kernels;
        case Isa::Generic:
            break;
    }
    return kGenericKernels;
}

void init_from_environment() {
    const std::lock_guard<std::mutex> lock(g_init_mutex);
    if (g_active.load(std::memory_order_acquire) == nullptr)
        g_active.store(&from_environment(), std::memory_order_release);
}

const KernelTable& active() {
    const KernelTable* t = g_active.load(std::memory_order_acquire);
    if (t == nullptr) [[unlikely]] {
        init_from_environment();
        t = g_active.load(std::memory_order_acquire);
    }
    return *t;
}

Isa active_isa() {
    return active().isa;
}

void set_isa(Isa isa) {
    g_active.store(&checked(isa, ""), std::memory_order_release);
}

}  // namespace benchtop::kernels
