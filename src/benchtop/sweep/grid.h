// The sweep grammar of the command line and its expansion into a grid of run configurations.
//
//   width=64                 one value
//   model=mlp,cnn            a list: one run per value
//   seed=0..4                an integer range, step 1 (0,1,2,3,4)
//   width=2..300:geom:19     19 values spaced geometrically (integers rounded, duplicates dropped)
//   lr=1e-3..1e-1:log:5      5 values spaced logarithmically; `lin` spaces them evenly
//   width=2..8,16,32         lists may mix values and ranges
//
// Several swept keys form the full Cartesian product, in schema order (the first parameter
// varies slowest), so the grid and its order are a pure function of the command line.
#pragma once

#include <string>
#include <vector>

#include "benchtop/experiments/schema.h"

namespace benchtop {

struct Axis {
    std::string key;
    std::vector<Json> values;
};

// Parses the values written for one key (everything after '='). Throws UsageError naming the key.
std::vector<Json> parse_values(const ParamSpec& spec, std::string_view text);

// Parses `key=value` tokens. A key given twice is an error.
std::vector<Axis> parse_overrides(const Schema& schema, const std::vector<std::string>& tokens);

// The resolved configurations: defaults (array defaults become axes) replaced by the overrides.
std::vector<Json> expand_grid(const Schema& schema, const std::vector<Axis>& overrides);

// The keys that take more than one value in the grid (schema order).
std::vector<std::string> swept_keys(const Schema& schema, const std::vector<Axis>& overrides);

}  // namespace benchtop
