// Results of the init-scale experiment gathered from the store, for its figure and tests.
#pragma once

#include <map>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// Per sigma2_scale: each layer's variances averaged over the stored seeds, and the per-layer
// factors (fitted on each run) averaged over seeds.
struct InitScaleCurve {
    double expected_factor = 0;         // width * sigma2 / 2
    double forward_factor = 0, backward_factor = 0;
    std::vector<double> forward_var, backward_var;  // layers 1..depth
    int runs = 0;
    // Largest over smallest variance across the layers of the mean curves.
    double forward_span() const;
    double backward_span() const;
};

std::map<double, InitScaleCurve> init_scale_curves(const Store& store);

}  // namespace benchtop
