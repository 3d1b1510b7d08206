// What this processor can execute, read once with CPUID (and XGETBV: the operating system must
// also save the vector registers), and the instruction-set paths of benchtop's kernels.
// Every path computes the same bits (kernels/dispatch.h); they differ only in speed.
#pragma once

#include <string>

namespace benchtop {

// The kernel paths, slowest first: portable scalar code (any x86-64 CPU), AVX2 with FMA
// (8 lanes), AVX-512 F/BW/VL/DQ (16 lanes).
enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };
inline constexpr Isa kAllIsas[] = {Isa::Generic, Isa::Avx2, Isa::Avx512};

struct CpuInfo {
    std::string vendor;  // e.g. "GenuineIntel"
    std::string model;   // the brand string, e.g. "Intel(R) Xeon(R) Processor"
    bool avx2 = false, fma = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
};

// This CPU (read once per process).
const CpuInfo& cpu_info();

// "generic", "avx2" or "avx512": the names BENCHTOP_ISA takes.
const char* isa_name(Isa isa);

// The path named `name` (as isa_name); throws benchtop::Error naming the allowed values.
Isa parse_isa(const std::string& name);

// Empty when this CPU can execute the path, otherwise why not (e.g. "this CPU has no AVX-512F").
std::string isa_unsupported_reason(Isa isa);
inline bool isa_supported(Isa isa) {
    return isa_unsupported_reason(isa).empty();
}

// The fastest path this CPU can execute.
Isa best_isa();

}  // namespace benchtop
