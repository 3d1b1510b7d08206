// Results of the lottery-ticket experiment gathered from the store, for its figure and tests.
#pragma once

#include <string>
#include <vector>

#include "benchtop/store/store.h"

namespace benchtop {

// Mean and standard deviation over seeds of one condition at one pruning round.
struct MeanSd {
    double mean = 0, sd = 0;
    int64_t n = 0;
};

struct LotteryRound {
    int64_t round = 0;
    double sparsity = 0;  // fraction of the prunable weights removed (mean over seeds)
    MeanSd ticket, reinit, random_mask;  // final test accuracy
    MeanSd ticket_best, reinit_best, random_best;  // best evaluated test accuracy (early stopping)
};

// One curve per group of complete runs (all config values but the seed).
struct LotteryCurve {
    std::string group_key, prune_scope;
    int64_t hidden = 0, rewind_step = 0;
    MeanSd dense;                     // the unpruned network (round 0)
    std::vector<LotteryRound> rounds; // rounds 1.. (round 0 is `dense`)
};

std::vector<LotteryCurve> lottery_curves(const Store& store);

}  // namespace benchtop
