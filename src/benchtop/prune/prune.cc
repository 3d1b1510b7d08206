#include "benchtop/prune/prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {

PruneScope prune_scope_from_string(const std::string& name) {
    if (name == "layer") return PruneScope::Layer;
    if (name == "global") return PruneScope::Global;
    fail("unknown prune scope '", name, "' (expected layer or global)");
}

namespace {

// One candidate entry of member k: its magnitude and where it lives.
struct Candidate {
    double magnitude;
    size_t tensor;
    int64_t index;  // within the member's slice
};

// Removes round(rate * candidates) of the smallest candidates from `masks` (member k's slices).
void prune_smallest(std::vector<Candidate>& cands, double rate, std::vector<Tensor>& masks, int64_t k) {
    const auto n_remove = static_cast<size_t>(std::llround(rate * static_cast<double>(cands.size())));
    if (n_remove == 0) return;
    // Candidates are generated in (tensor, index) order, so a stable order by magnitude breaks
    // ties towards the earlier entry.
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Candidate& a, const Candidate& b) { return a.magnitude < b.magnitude; });
    for (size_t i = 0; i < n_remove && i < cands.size(); ++i) {
        Tensor m = masks[cands[i].tensor].member(k);
        m.set(cands[i].index, 0.0);
    }
}

}  // namespace

std::vector<Tensor> magnitude_prune_masks(const ParamSet& ps, const std::vector<std::string>& names,
                                          double rate, PruneScope scope) {
    BENCHTOP_CHECK(rate >= 0.0 && rate <= 1.0, "magnitude_prune_masks: rate must lie in [0, 1], got ", rate);
    BENCHTOP_CHECK(!names.empty(), "magnitude_prune_masks: no parameters named");
    std::vector<Tensor> masks;
    for (const std::string& name : names) {
        const Tensor* old = ps.mask(name);
        masks.push_back(old ? old->clone() : Tensor::full(ps.value(name).shape(), 1.0, ps.dtype()));
    }
    const int64_t K = ps.n_members();
    for (int64_t k = 0; k < K; ++k) {
        std::vector<Candidate> pooled;
        for (size_t t = 0; t < names.size(); ++t) {
            const Tensor v = ps.value(names[t]).member(k);
            const Tensor m = masks[t].member(k);
            std::vector<Candidate> own;
            for (int64_t i = 0; i < v.numel(); ++i)
                if (m.at(i) != 0.0) own.push_back({std::fabs(v.at(i)), t, i});
            if (scope == PruneScope::Layer)
                prune_smallest(own, rate, masks, k);
            else
                pooled.insert(pooled.end(), own.begin(), own.end());
        }
        if (scope == PruneScope::Global) prune_smallest(pooled, rate, masks, k);
    }
    return masks;
}

std::vector<Tensor> random_masks_like(const std::vector<Tensor>& like, std::span<const uint64_t> seeds) {
    std::vector<Tensor> out;
    for (size_t t = 0; t < like.size(); ++t) {
        const Tensor& src = like[t];
        BENCHTOP_CHECK(src.rank() >= 1 && static_cast<size_t>(src.size(0)) == seeds.size(),
                       "random_masks_like: mask ", t, " of shape ", src.shape().str(), " for ", seeds.size(),
                       " member seeds");
        Tensor m = Tensor::zeros(src.shape(), src.dtype());
        for (int64_t k = 0; k < src.size(0); ++k) {
            const Tensor s = src.member(k);
            Tensor d = m.member(k);
            const int64_t n = s.numel();
            int64_t kept = 0;
            for (int64_t i = 0; i < n; ++i) kept += s.at(i) != 0.0;
            // A partial Fisher-Yates shuffle picks `kept` distinct positions.
            std::vector<int64_t> idx(static_cast<size_t>(n));
            std::iota(idx.begin(), idx.end(), int64_t{0});
            Rng rng(stream_key(seeds[static_cast<size_t>(k)], 1000 + t, Purpose::Other));
            for (int64_t i = 0; i < kept; ++i) {
                const auto j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
                std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(j)]);
                d.set(idx[static_cast<size_t>(i)], 1.0);
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

double mask_sparsity(const std::vector<Tensor>& masks, int64_t member) {
    int64_t total = 0, kept = 0;
    for (const Tensor& m : masks) {
        const Tensor s = m.member(member);
        total += s.numel();
        for (int64_t i = 0; i < s.numel(); ++i) kept += s.at(i) != 0.0;
    }
    return total == 0 ? 0.0 : 1.0 - static_cast<double>(kept) / static_cast<double>(total);
}

}  // namespace benchtop
