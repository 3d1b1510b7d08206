// MNIST-1D for the experiments: generated from the reference arguments (seed `data_seed`), or
// read from a directory of frozen raw files, converted to float32 and cached per process so
// every run of a sweep shares one copy (read-only after creation).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "benchtop/data/mnist1d.h"
#include "benchtop/experiments/schema.h"

namespace benchtop {

struct Mnist1dSource {
    std::string data_dir;          // empty: generate
    Mnist1dArgs args;              // generator arguments (ignored when data_dir is set)
    bool shuffle_features = false; // the reference's fixed permutation of the 40 features
};

std::shared_ptr<const Mnist1dData> mnist1d_dataset(const Mnist1dSource& source);

// The split that experiments set with the parameters num_samples, train_examples and data_seed:
// num_samples generated examples (rounded down to tens by the generator), the first
// train_examples of them training, the rest test.
std::shared_ptr<const Mnist1dData> mnist1d_split(const Json& config);
// Throws UsageError, naming `experiment`, unless train_examples < num_samples (rounded down to tens).
void check_mnist1d_split(const std::string& experiment, const Json& config);

// A weights file name with the run's values put in: {model}, {seed} and {shuffle_features}
// ("shuffled" or "original") are replaced where the configuration has those keys.
std::string expand_weights_path(std::string path, const Json& config);

// One label set per member of a stack, [K, N]: member k's labels y [N] with fractions[k] of them
// replaced by apply_label_noise(y, fractions[k], seeds[k]).
Tensor per_member_label_noise(const Tensor& y, std::span<const double> fractions,
                              std::span<const uint64_t> seeds);

}  // namespace benchtop
