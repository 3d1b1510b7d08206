// Sharding a sweep across processes or machines: `benchtop run EXP ... --shard I/N` runs a
// deterministic 1/N slice of the grid into its own database, and `benchtop merge` (see
// store/store.h, Store::merge_from) joins the shards' databases afterwards.
//
// The slice is decided on the whole grid, never on what a database holds: the grid's distinct runs
// are packed as the runner would pack them all (same pack keys, same --max-pack), and pack j goes
// to shard j mod N. So every run lands in exactly one shard, packs stay whole (a shard trains the
// same stacks a single process would), and each run's result is the single-process one bit for bit.
//
//   Shard s = parse_shard("1/4");
//   std::vector<Json> mine = shard_grid(exp, grid, s, /*max_pack=*/0);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchtop/experiments/experiment.h"

namespace benchtop {

struct Shard {
    int64_t index = 0;  // 0-based
    int64_t count = 1;
};

// "I/N" with 0 <= I < N; anything else is a UsageError naming what is wrong.
Shard parse_shard(const std::string& text);

// The configurations of `grid` that shard `shard` runs (duplicates removed), in grid order.
std::vector<Json> shard_grid(const Experiment& exp, const std::vector<Json>& grid, Shard shard, int64_t max_pack);

}  // namespace benchtop
