#include "benchtop/kernels/cpu.h"

#include <cpuid.h>

#include <cstdint>
#include <cstring>

#include "benchtop/core/error.h"

namespace benchtop {

namespace {

struct Regs {
    unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub = 0) {
    Regs r;
    if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) return Regs{};
    return r;
}

// XCR0: which register states the operating system saves on a context switch.
uint64_t xcr0() {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}

std::string trim(std::string s) {
    const size_t b = s.find_first_not_of(' ');
    const size_t e = s.find_last_not_of(' ');
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

CpuInfo read_cpu() {
    CpuInfo info;
    const Regs v = cpuid(0);
    char vendor[13] = {};
    std::memcpy(vendor, &v.b, 4);
    std::memcpy(vendor + 4, &v.d, 4);
    std::memcpy(vendor + 8, &v.c, 4);
    info.vendor = vendor;
    if (cpuid(0x80000000).a >= 0x80000004) {
        char brand[49] = {};
        for (unsigned i = 0; i < 3; ++i) {
            const Regs r = cpuid(0x80000002 + i);
            std::memcpy(brand + 16 * i, &r, 16);
        }
        info.model = trim(brand);
    }
    if (info.model.empty()) info.model = "unknown " + info.vendor + " CPU";
    const Regs f1 = cpuid(1);
    const bool osxsave = (f1.c >> 27) & 1;
    const uint64_t xcr = osxsave ? xcr0() : 0;
    const bool os_avx = (xcr & 0x6) == 0x6;                 // XMM and YMM state
    const bool os_avx512 = os_avx && (xcr & 0xE0) == 0xE0;  // opmask, ZMM hi256, hi16 ZMM
    const Regs f7 = v.a >= 7 ? cpuid(7, 0) : Regs{};
    info.fma = os_avx && ((f1.c >> 12) & 1);
    info.avx2 = os_avx && ((f1.c >> 28) & 1) && ((f7.b >> 5) & 1);
    info.avx512f = os_avx512 && ((f7.b >> 16) & 1);
    info.avx512dq = os_avx512 && ((f7.b >> 17) & 1);
    info.avx512bw = os_avx512 && ((f7.b >> 30) & 1);
    info.avx512vl = os_avx512 && ((f7.b >> 31) & 1);
    return info;
}

}  // namespace

const CpuInfo& cpu_info() {
    static const CpuInfo info = read_cpu();
    return info;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Generic:
            return "generic";
        case Isa::Avx2:
            return "avx2";
        case Isa::Avx512:
            return "avx512";
    }
    return "unknown";
}

Isa parse_isa(const std::string& name) {
    for (Isa isa : kAllIsas)
        if (name == isa_name(isa)) return isa;
    fail("unknown kernel path '", name, "' (BENCHTOP_ISA): use generic, avx2 or avx512");
}

std::string isa_unsupported_reason(Isa isa) {
    const CpuInfo& c = cpu_info();
    std::string missing;
    const auto need = [&](bool have, const char* what) {
        if (!have) missing += missing.empty() ? what : std::string(", ") + what;
    };
    if (isa == Isa::Avx2 || isa == Isa::Avx512) {
        need(c.avx2, "AVX2");
        need(c.fma, "FMA");
    }
    if (isa == Isa::Avx512) {
        need(c.avx512f, "AVX-512F");
        need(c.avx512bw, "AVX-512BW");
        need(c.avx512vl, "AVX-512VL");
        need(c.avx512dq, "AVX-512DQ");
    }
    if (missing.empty()) return {};
    return "this CPU (" + c.model + ") has no " + missing;
}

Isa best_isa() {
    if (isa_supported(Isa::Avx512)) return Isa::Avx512;
    if (isa_supported(Isa::Avx2)) return Isa::Avx2;
    return Isa::Generic;
}

}  // namespace benchtop
