// Run-time choice of the kernel path. At first use the path is the fastest this CPU executes,
// or the one the environment variable BENCHTOP_ISA names (generic, avx2, avx512); a path the
// CPU cannot execute is an error that says why. All paths give the same bits, so the choice
// changes speed only (tests run every path the host can execute).
//
//   const kernels::KernelTable& k = kernels::active();
//   k.gemm_member(...);
#pragma once

#include "benchtop/kernels/cpu.h"
#include "benchtop/kernels/kernel_table.h"

namespace benchtop::kernels {

// The active table (set up from BENCHTOP_ISA on first use; throws benchtop::Error there if the
// variable is invalid or names a path this CPU cannot execute).
const KernelTable& active();
Isa active_isa();

// The table of a path (whether or not this CPU can execute it).
const KernelTable& table_for(Isa isa);

// Makes `isa` the active path for the whole process; throws benchtop::Error naming the reason
// if this CPU cannot execute it. Not meant to race with running kernels (tests and start-up).
void set_isa(Isa isa);

// Checks BENCHTOP_ISA now (the CLI calls this at start-up so that a bad value is reported before
// any work); throws benchtop::Error as active() would.
void init_from_environment();

// Sets a path for the lifetime of the object, then restores the previous one (tests).
class ScopedIsa {
public:
    explicit ScopedIsa(Isa isa) : previous_(active_isa()) { set_isa(isa); }
    ~ScopedIsa() { set_isa(previous_); }
    ScopedIsa(const ScopedIsa&) = delete;
    ScopedIsa& operator=(const ScopedIsa&) = delete;

private:
    Isa previous_;
};

}  // namespace benchtop::kernels
