// Results of the memorization experiment gathered from the store, for its figure and tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// Mean over the complete runs of one group (all config values but the seed).
struct MemorizationGroup {
    std::string protocol, data;
    double label_noise = 0;
    int64_t hidden_layers = 0, width = 0, params = 0;
    int64_t runs = 0;
    int64_t fitted = 0;                 // runs that reached zero training error
    double epochs_to_fit = 0;           // mean over fitted runs (NaN if none)
    double epochs_to_fit_max = 0;       // the slowest fitted run
    double epochs_to_1pct = 0;          // mean over runs that reached 1% (NaN if none)
    double train_error = 0, test_error = 0, train_loss = 0, test_loss = 0;  // final, means
    std::vector<int64_t> epochs;        // curve of the first run: epochs ...
    std::vector<double> train_loss_curve;  // ... and training loss, mean over runs
};

std::vector<MemorizationGroup> memorization_groups(const Store& store);

// The width of `hidden_layers` equal hidden layers (40 inputs, 10 outputs) whose parameter count
// is nearest to `budget` (the smaller width on a tie).
int64_t width_for_budget(int64_t hidden_layers, int64_t budget);

}  // namespace benchtop
