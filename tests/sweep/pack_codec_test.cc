#include "benchtop/sweep/pack_codec.h"

#include <bit>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace benchtop {
namespace {

PackResult sample() {
    PackResult r;
    r.pack = 17;
    r.wall_s = 1.25;
    RunOutcome a;
    a.state = RunState::Complete;
    a.summaries = {{"test_acc", 0.8125, 300}, {"final_loss", 1e-310, -1}};  // a subnormal too
    a.metrics = {{"loss", 0, std::numeric_limits<double>::quiet_NaN()},
                 {"loss", 50, std::numeric_limits<double>::infinity()},
                 {"loss", 100, -std::numeric_limits<double>::infinity()},
                 {"acc", 100, 0.1 + 0.2}};
    a.cpu = "Some CPU";
    a.kernel_path = "avx2";
    RunOutcome b;
    b.state = RunState::Diverged;
    b.error = "loss is NaN at step 7";
    r.outcomes = {a, b};
    return r;
}

TEST(PackCodec, RoundTripIsBitExact) {
    const PackResult r = sample();
    const PackResult back = decode_pack_result(encode_pack_result(r));
    EXPECT_EQ(back.pack, 17u);
    EXPECT_EQ(back.wall_s, 1.25);
    EXPECT_FALSE(back.error.has_value());
    EXPECT_FALSE(back.interrupted);
    ASSERT_EQ(back.outcomes.size(), 2u);
    const RunOutcome& a = back.outcomes[0];
    EXPECT_EQ(a.state, RunState::Complete);
    EXPECT_EQ(a.cpu, "Some CPU");
    EXPECT_EQ(a.kernel_path, "avx2");
    ASSERT_EQ(a.summaries.size(), 2u);
    EXPECT_EQ(a.summaries[0].key, "test_acc");
    EXPECT_EQ(a.summaries[0].step, 300);
    EXPECT_EQ(a.summaries[1].value, 1e-310);
    EXPECT_EQ(a.summaries[1].step, -1);
    ASSERT_EQ(a.metrics.size(), 4u);
    for (size_t i = 0; i < a.metrics.size(); ++i) {
        EXPECT_EQ(a.metrics[i].key, r.outcomes[0].metrics[i].key);
        EXPECT_EQ(a.metrics[i].step, r.outcomes[0].metrics[i].step);
        // NaN != NaN: compare the bits.
        EXPECT_EQ(std::bit_cast<uint64_t>(a.metrics[i].value), std::bit_cast<uint64_t>(r.outcomes[0].metrics[i].value));
    }
    EXPECT_EQ(back.outcomes[1].state, RunState::Diverged);
    EXPECT_EQ(back.outcomes[1].error, "loss is NaN at step 7");
}

TEST(PackCodec, FailedAndInterruptedPacks) {
    PackResult f;
    f.pack = 3;
    f.error = "out of memory";
    PackResult back = decode_pack_result(encode_pack_result(f));
    ASSERT_TRUE(back.error.has_value());
    EXPECT_EQ(*back.error, "out of memory");
    EXPECT_TRUE(back.outcomes.empty());

    PackResult i;
    i.interrupted = true;
    EXPECT_TRUE(decode_pack_result(encode_pack_result(i)).interrupted);
    // An empty error message is still an error.
    PackResult e;
    e.error = "";
    EXPECT_TRUE(decode_pack_result(encode_pack_result(e)).error.has_value());
}

TEST(PackCodec, RejectsForeignTruncatedAndTrailingBytes) {
    const std::string bytes = encode_pack_result(sample());
    EXPECT_THROW(decode_pack_result(""), Error);
    EXPECT_THROW(decode_pack_result("not a pack result at all"), Error);
    for (size_t cut : {size_t{8}, size_t{20}, bytes.size() / 2, bytes.size() - 1})
        EXPECT_THROW(decode_pack_result(std::string_view(bytes).substr(0, cut)), Error) << "cut at " << cut;
    EXPECT_THROW(decode_pack_result(bytes + "x"), Error);
    // A corrupt element count fails cleanly instead of allocating.
    std::string corrupt = bytes;
    const size_t count_at = 8 * 4 + 8 + 8;  // magic, pack, interrupted, has_error, "" (length), wall_s
    for (int b = 0; b < 8; ++b) corrupt[count_at + b] = '\xff';
    EXPECT_THROW(decode_pack_result(corrupt), Error);
}

}  // namespace
}  // namespace benchtop
