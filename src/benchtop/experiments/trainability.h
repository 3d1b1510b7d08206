// Results of the trainability experiment gathered from the store, for its figure and tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// One cell of the map: an architecture variant at one depth and init scale (mean over seeds).
struct TrainabilityCell {
    double final_loss = 0;     // mean training loss over the last epoch of minibatches (NaN: diverged)
    int64_t runs = 0, diverged = 0;
};

// (optimizer, norm, residual) -> depth -> init_scale -> cell.
using TrainabilityVariant = std::tuple<std::string, std::string, bool>;
using TrainabilityMap = std::map<TrainabilityVariant, std::map<int64_t, std::map<double, TrainabilityCell>>>;

TrainabilityMap trainability_map(const Store& store);

// Final training loss below which a cell counts as trained: 0.8 ln 10, i.e. training removed at
// least a fifth of the chance-level loss within the budget (an absolute bar such as 1.5 would
// call a one-layer net under Adam at lr 1e-3 untrainable: it reaches only 1.53-1.66 in 400 steps).
constexpr double kTrainableLoss = 0.8 * 2.302585092994046;

// A cell is trainable when no seed diverged and its final loss is below `threshold`.
bool trainable(const TrainabilityCell& c, double threshold);
// Width of the trainable band at one depth: log10 of the largest over the smallest trainable
// scale, plus one grid step (so one trainable scale alone has the width of a grid step); 0 if none.
double band_decades(const std::map<double, TrainabilityCell>& by_scale, double threshold);

}  // namespace benchtop
