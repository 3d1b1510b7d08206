// Aggregates of the double-descent experiment read from the store (used by its figure and tests).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

struct DoubleDescentPoint {
    int64_t width = 0;
    double params = 0;
    double train_mean = 0, test_mean = 0, test_min = 0, test_max = 0, train_min = 0, train_max = 0;
    int64_t runs = 0;
};

// (model, label_noise) -> points sorted by width: final errors over the complete runs (seeds).
std::map<std::pair<std::string, double>, std::vector<DoubleDescentPoint>> double_descent_points(const Store& store);
// Smallest width whose training error is zero for every seed (-1 if none).
int64_t interpolation_threshold(const std::vector<DoubleDescentPoint>& pts);

}  // namespace benchtop
