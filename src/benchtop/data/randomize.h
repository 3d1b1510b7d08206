// Randomised copies of a dataset for the memorisation experiments (Zhang, Bengio, Hardt, Recht &
// Vinyals, "Understanding deep learning requires rethinking generalization", ICLR 2017): inputs
// replaced by Gaussian noise, and labels permuted across the training set. Both are pure
// functions of their seed, so a run's data do not depend on which stack it ran in.
#pragma once

#include <cstdint>

#include "benchtop/tensor/tensor.h"

namespace benchtop {

// A tensor shaped like x ([N, D] float32) of independent Gaussian values with x's overall mean
// and (population) variance, drawn from Rng(stream_key(seed, 1, Purpose::Data)) in row-major
// order. Every feature gets the same scalar mean and variance, as in Zhang et al.
Tensor gaussian_inputs_like(const Tensor& x, uint64_t seed);

// The labels y ([N] int32) permuted by a uniform random permutation (Fisher-Yates from
// Rng(stream_key(seed, 1, Purpose::LabelNoise))): the class counts stay, the link to the
// inputs goes.
Tensor permute_labels(const Tensor& y, uint64_t seed);

}  // namespace benchtop
