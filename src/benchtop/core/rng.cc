#include "benchtop/core/rng.h"

#include <cmath>
#include <numbers>

namespace benchtop {

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t stream_key(uint64_t seed, uint64_t member, Purpose purpose) {
    uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ (member * 0xD6E8FEB86659FD93ull));
    return splitmix64(h ^ static_cast<uint64_t>(purpose));
}

std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo) {
    constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
    constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
    uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
    uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int r = 0; r < 10; ++r) {
        uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
        uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
        uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = static_cast<uint32_t>(p1);
        uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = static_cast<uint32_t>(p0);
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += kW0;
        k1 += kW1;
    }
    return {c0, c1, c2, c3};
}

uint32_t Rng::next_u32() {
    if (used_ == 4) {
        block_ = philox4x32(key_, 0, counter_++);
        used_ = 0;
    }
    return block_[static_cast<size_t>(used_++)];
}

uint64_t Rng::next_u64() {
    uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    double u1 = 1.0 - uniform();  // (0, 1]
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double t = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
}

uint64_t Rng::below(uint64_t n) {
    if (n <= 1) return 0;
    // Lemire-free simple rejection: unbiased and deterministic.
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = next_u64();
        if (x < limit) return x % n;
    }
}

}  // namespace benchtop
