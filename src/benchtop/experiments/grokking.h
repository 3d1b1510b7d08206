// Results of the grokking experiment gathered from the store, for its figures and tests.
#pragma once

#include <string>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// One run's curves (evaluation steps) and the summaries the figures and tests use.
struct GrokkingRun {
    std::string protocol;
    double weight_decay = 0, init_scale = 1;
    int64_t seed = 0;
    std::vector<double> steps, train_acc, test_acc, train_loss, test_loss, weight_norm;
    int64_t steps_to_train_99 = -1, steps_to_test_99 = -1;  // -1: not reached
};

std::vector<GrokkingRun> grokking_runs(const Store& store);

}  // namespace benchtop
