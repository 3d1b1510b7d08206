// NumpyRandomState: a bit-exact replica of NumPy's legacy RandomState (MT19937) for the few
// draws the MNIST-1D generator uses: rand(), randn() (polar method, cached spare), randint /
// choice (masked rejection) and permutation (Fisher-Yates from the back).
// Rule: only what the reference consumes, in the same order; seed(s) clears the normal cache.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace benchtop {

class NumpyRandomState {
public:
    explicit NumpyRandomState(uint32_t seed) { this->seed(seed); }

    void seed(uint32_t seed);
    uint32_t next_u32() {
        ++words_;
        return static_cast<uint32_t>(mt_());
    }
    double uniform();                // rand(): 53-bit double in [0, 1)
    double normal();                 // randn(): standard normal, legacy polar method
    uint64_t bounded(uint64_t max);  // uniform integer in [0, max], masked rejection
    int64_t randint(int64_t n) {
        return static_cast<int64_t>(bounded(static_cast<uint64_t>(n - 1)));
    }
    std::vector<int64_t> permutation(int64_t n);
    uint64_t words_used() const { return words_; }  // 32-bit outputs consumed since seeding

private:
    std::mt19937 mt_;
    uint64_t words_ = 0;
    bool has_gauss_ = false;
    double gauss_ = 0;
};

// NumPy's pairwise summation (8 accumulators per block of <= 128, recursive split above).
double numpy_pairwise_sum(const double* a, int64_t n);

}  // namespace benchtop
