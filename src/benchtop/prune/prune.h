// Pruning masks for a stack of K members: iterative magnitude pruning (Frankle & Carbin, "The
// lottery ticket hypothesis", ICLR 2019) and the random masks it is compared with. A mask is a
// tensor of the parameter's full shape [K, ...] holding 0 (pruned) and 1 (kept) in the
// parameter dtype; ParamSet::set_mask applies it (see nn/params.h). Every member is pruned on
// its own weights only, so a member's masks never depend on the rest of its stack.
//
//   std::vector<std::string> names = {"linear1.weight", "linear2.weight", "linear3.weight"};
//   auto masks = magnitude_prune_masks(ps, names, 0.2, PruneScope::Layer);  // drop 20% more
//   for (size_t i = 0; i < names.size(); ++i) ps.set_mask(names[i], masks[i]);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"

namespace benchtop {

// Layer: each parameter loses `rate` of its own survivors; Global: the survivors of all the named
// parameters are ranked together, so layers lose different fractions.
enum class PruneScope { Layer, Global };
PruneScope prune_scope_from_string(const std::string& name);  // "layer" or "global"

// New masks for `names` after removing, per member, round(rate * survivors) of the surviving
// entries with the smallest magnitude (survivors: entries kept by the parameter's current mask,
// or all entries when it has none). Ties go to the lower flat index (earlier parameter first
// for Global), so the result is deterministic. rate in [0, 1].
std::vector<Tensor> magnitude_prune_masks(const ParamSet& ps, const std::vector<std::string>& names,
                                          double rate, PruneScope scope);

// Random masks with, for every member and tensor, exactly as many kept entries as `like`, placed
// uniformly at random from seeds[k] (member k's stream; the same seed gives the same mask
// whatever the stack).
std::vector<Tensor> random_masks_like(const std::vector<Tensor>& like, std::span<const uint64_t> seeds);

// Fraction of member k's entries that the masks remove (0 = dense).
double mask_sparsity(const std::vector<Tensor>& masks, int64_t member);

}  // namespace benchtop
