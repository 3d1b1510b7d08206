// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
// There is no global generator: every stream is named by a key derived from
// (seed, member, purpose) and a counter, so the numbers a run sees do not depend on the
// thread that runs it or on what else runs beside it.
//
//   Rng rng(stream_key(seed, member, Purpose::Init));
//   float u = rng.uniform();   double z = rng.normal();
#pragma once

#include <array>
#include <cstdint>

namespace benchtop {

enum class Purpose : uint64_t { Init = 1, Dropout = 2, Data = 3, Shuffle = 4, LabelNoise = 5, Other = 6 };

// Mixes (seed, member, purpose) into a 64-bit stream key (SplitMix64 finaliser).
uint64_t stream_key(uint64_t seed, uint64_t member, Purpose purpose);
uint64_t splitmix64(uint64_t x);

// Philox4x32-10 block: 4 x 32 random bits for (key, counter).
std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo);

class Rng {
public:
    explicit Rng(uint64_t key, uint64_t counter = 0) : key_(key), counter_(counter) {}

    uint32_t next_u32();
    uint64_t next_u64();
    double uniform();                // [0, 1), 53 bits
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    double normal();                 // standard normal (Box-Muller)
    uint64_t below(uint64_t n);      // uniform integer in [0, n), unbiased
    uint64_t counter() const { return counter_; }

private:
    uint64_t key_;
    uint64_t counter_;
    std::array<uint32_t, 4> block_{};
    int used_ = 4;
    bool has_spare_ = false;
    double spare_ = 0;
};

}  // namespace benchtop
