// Tests of the pruning masks: magnitude pruning per layer and global on hand-made values (which
// entries go, how many, ties), iterated rounds against the survivor counts worked out here,
// member independence, and random masks that keep the counts of the masks they imitate.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "benchtop/prune/prune.h"

namespace benchtop {
namespace {

// Two members; "a" [4] and "b" [2, 3] with the given per-member values.
ParamSet make_set(const std::vector<double>& a0, const std::vector<double>& b0, const std::vector<double>& a1,
                  const std::vector<double>& b1) {
    ParamSet ps(2, DType::F64);
    ps.add("a", {4});
    ps.add("b", {2, 3});
    for (int64_t i = 0; i < 4; ++i) {
        ps.value("a").set(i, a0[size_t(i)]);
        ps.value("a").set(4 + i, a1[size_t(i)]);
    }
    for (int64_t i = 0; i < 6; ++i) {
        ps.value("b").set(i, b0[size_t(i)]);
        ps.value("b").set(6 + i, b1[size_t(i)]);
    }
    return ps;
}

std::vector<double> member_mask(const Tensor& m, int64_t k) { return m.member(k).to_vector(); }

TEST(Prune, LayerScopeRemovesSmallestMagnitudesOfEachTensor) {
    ParamSet ps = make_set({0.5, -0.1, 0.3, -0.9}, {1, -2, 3, -4, 5, -6},  //
                           {-7, 0.2, 0.2, 0.1}, {0.01, 0.02, -0.03, 0.04, 0.05, 0.06});
    auto masks = magnitude_prune_masks(ps, {"a", "b"}, 0.5, PruneScope::Layer);
    ASSERT_EQ(masks.size(), 2u);
    EXPECT_EQ(member_mask(masks[0], 0), (std::vector<double>{1, 0, 0, 1}));
    EXPECT_EQ(member_mask(masks[1], 0), (std::vector<double>{0, 0, 0, 1, 1, 1}));
    // Tie between the two 0.2s: the earlier entry goes first.
    EXPECT_EQ(member_mask(masks[0], 1), (std::vector<double>{1, 0, 1, 0}));
    EXPECT_EQ(member_mask(masks[1], 1), (std::vector<double>{0, 0, 0, 1, 1, 1}));
    EXPECT_DOUBLE_EQ(mask_sparsity(masks, 0), 0.5);
}

TEST(Prune, GlobalScopeRanksAllTensorsTogether) {
    // Member 0: "a" holds the four smallest magnitudes, so global pruning of 40% takes all of
    // "a" and nothing of "b".
    ParamSet ps = make_set({0.1, 0.2, -0.3, 0.4}, {1, 2, 3, 4, 5, 6},  //
                           {1, 2, 3, 4}, {0.5, 6, 7, 8, 9, 10});
    auto masks = magnitude_prune_masks(ps, {"a", "b"}, 0.4, PruneScope::Global);
    EXPECT_EQ(member_mask(masks[0], 0), (std::vector<double>{0, 0, 0, 0}));
    EXPECT_EQ(member_mask(masks[1], 0), (std::vector<double>{1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(member_mask(masks[0], 1), (std::vector<double>{0, 0, 0, 1}));
    EXPECT_EQ(member_mask(masks[1], 1), (std::vector<double>{0, 1, 1, 1, 1, 1}));
}

TEST(Prune, IteratedRoundsCountOnlySurvivors) {
    ParamSet ps(1, DType::F64);
    ps.add("w", {10, 10});
    for (int64_t i = 0; i < 100; ++i) ps.value("w").set(i, std::sin(0.37 * double(i) + 0.1));
    // round(0.2 * survivors) per round: 100 -> 80 -> 64 -> 51 -> 41 -> 33.
    const std::vector<int64_t> expect = {80, 64, 51, 41, 33};
    for (int64_t want : expect) {
        auto masks = magnitude_prune_masks(ps, {"w"}, 0.2, PruneScope::Layer);
        // A pruned entry never comes back, even when its (zeroed) value is set again.
        if (const Tensor* old = ps.mask("w")) {
            for (int64_t i = 0; i < 100; ++i) {
                if (old->at(i) == 0.0) {
                    EXPECT_EQ(masks[0].at(i), 0.0);
                }
            }
        }
        ps.set_mask("w", masks[0]);
        EXPECT_EQ(ps.surviving_per_member(0), want);
        // Survivors are the largest magnitudes of the original values.
        double smallest_kept = 1e9, largest_pruned = 0;
        for (int64_t i = 0; i < 100; ++i) {
            const double mag = std::fabs(std::sin(0.37 * double(i) + 0.1));
            if (masks[0].at(i) != 0.0) smallest_kept = std::min(smallest_kept, mag);
            else largest_pruned = std::max(largest_pruned, mag);
        }
        EXPECT_GE(smallest_kept, largest_pruned);
        for (int64_t i = 0; i < 100; ++i)  // values are "retrained": restore the magnitudes
            if (masks[0].at(i) != 0.0) ps.value("w").set(i, std::sin(0.37 * double(i) + 0.1));
    }
}

TEST(Prune, MembersArePrunedOnTheirOwnWeights) {
    ParamSet both = make_set({0.5, -0.1, 0.3, -0.9}, {1, -2, 3, -4, 5, -6},  //
                             {-7, 0.2, 0.25, 0.1}, {0.01, 0.02, -0.03, 0.04, 0.05, 0.06});
    ParamSet other = make_set({9, 8, 7, 6}, {6, 5, 4, 3, 2, 1},  //
                              {-7, 0.2, 0.25, 0.1}, {0.01, 0.02, -0.03, 0.04, 0.05, 0.06});
    for (PruneScope scope : {PruneScope::Layer, PruneScope::Global}) {
        auto a = magnitude_prune_masks(both, {"a", "b"}, 0.3, scope);
        auto b = magnitude_prune_masks(other, {"a", "b"}, 0.3, scope);
        for (size_t t = 0; t < 2; ++t) EXPECT_EQ(member_mask(a[t], 1), member_mask(b[t], 1));
    }
}

TEST(Prune, RandomMasksKeepCountsPerMemberAndTensor) {
    ParamSet ps(3, DType::F32);
    ps.add("w", {20, 30});
    ps.add("v", {50});
    for (auto& e : ps.entries())
        for (int64_t i = 0; i < e.value.numel(); ++i) e.value.set(i, std::cos(0.91 * double(i)));
    auto like = magnitude_prune_masks(ps, {"w", "v"}, 0.83, PruneScope::Global);
    const std::vector<uint64_t> seeds = {4, 5, 6};
    auto r1 = random_masks_like(like, seeds);
    auto r2 = random_masks_like(like, seeds);
    for (size_t t = 0; t < like.size(); ++t) {
        EXPECT_EQ(r1[t].dtype(), DType::F32);
        for (int64_t k = 0; k < 3; ++k) {
            const auto a = member_mask(like[t], k), b = member_mask(r1[t], k);
            int64_t ka = 0, kb = 0, same = 0;
            for (size_t i = 0; i < a.size(); ++i) {
                ka += a[i] != 0;
                kb += b[i] != 0;
                same += a[i] != 0 && b[i] != 0;
                EXPECT_TRUE(b[i] == 0.0 || b[i] == 1.0);
            }
            EXPECT_EQ(ka, kb) << "tensor " << t << " member " << k;
            if (t == 0) {
                EXPECT_LT(same, ka) << "the random mask copied the magnitude mask";
            }
            EXPECT_EQ(member_mask(r2[t], k), b) << "not deterministic";
        }
    }
    EXPECT_NEAR(mask_sparsity(r1, 1), mask_sparsity(like, 1), 1e-12);
    // Member 1's mask depends on its seed only.
    std::vector<Tensor> one;
    for (const Tensor& m : like) {
        Tensor s = m.member(1).clone();
        std::vector<int64_t> dims = s.shape().vec();
        dims.insert(dims.begin(), 1);
        one.push_back(s.reshape(Shape(dims)));
    }
    const std::vector<uint64_t> seed1 = {5};
    auto r3 = random_masks_like(one, seed1);
    for (size_t t = 0; t < like.size(); ++t) EXPECT_EQ(member_mask(r3[t], 0), member_mask(r1[t], 1));
}

TEST(Prune, RejectsBadArguments) {
    ParamSet ps(1, DType::F64);
    ps.add("w", {3});
    EXPECT_THROW(magnitude_prune_masks(ps, {"w"}, 1.5, PruneScope::Layer), Error);
    EXPECT_THROW(magnitude_prune_masks(ps, {"nope"}, 0.5, PruneScope::Layer), Error);
    EXPECT_THROW(prune_scope_from_string("row"), Error);
}

}  // namespace
}  // namespace benchtop
