// Results of the implicit-regularization experiment gathered from the store, for its figure
// and tests.
#pragma once

#include <cstdint>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// Mean over seeds of one (width, lr, batch) configuration.
struct ImplicitRegPoint {
    int64_t width = 0, batch = 0;
    double lr = 0;
    int64_t runs = 0;
    double train_error = 0, test_error = 0, sharpness = 0, grad_variance_term = 0;
};

std::vector<ImplicitRegPoint> implicit_regularization_points(const Store& store);

}  // namespace benchtop
