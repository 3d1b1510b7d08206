// Addition data and training against known answers: each format's rendering, tokenization round
// trips, carry counts, distinct and excluded sampling with balanced carries, the answer mask,
// teacher-forced exact match equal to greedy decoding's, and training's determinism and member
// independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "benchtop/arith/addition.h"
#include "benchtop/arith/train.h"
#include "benchtop/autograd/graph.h"

namespace benchtop::arith {
namespace {

TEST(ArithFormats, Rendering) {
    EXPECT_EQ(render(123, 456, Format::Plain, 3), "123+456=579$");
    EXPECT_EQ(render(123, 456, Format::Reverse, 3), "123+456=975$");
    EXPECT_EQ(render(57, 68, Format::Reverse, 3), "57+68=521$");
    EXPECT_EQ(render(123, 45, Format::Pad, 4), "0123+0045=00168$");
    EXPECT_EQ(render(57, 68, Format::Scratchpad, 3), "57+68=5c1,2c1|125$");
    EXPECT_EQ(render(5, 123, Format::Scratchpad, 3), "5+123=8c0,2c0,1c0|128$");
    EXPECT_EQ(render(0, 0, Format::Plain, 1), "0+0=0$");
    EXPECT_THROW(render(12345, 1, Format::Pad, 3), Error);
    const std::string s = render(907, 95, Format::Scratchpad, 3);
    EXPECT_EQ(detokenize(tokenize(s)), s);
    EXPECT_THROW(tokenize("1-2"), Error);
    EXPECT_EQ(carries(999, 1), 3);
    EXPECT_EQ(carries(123, 456), 0);
    EXPECT_EQ(carries(57, 68), 2);
    EXPECT_EQ(digits(0), 1);
    EXPECT_EQ(digits(1000), 4);
}

TEST(ArithSampling, DistinctExcludedAndBalanced) {
    Rng rng(3);
    const AdditionSet a = sample_additions({.lengths = {1, 2, 3}}, 3000, rng);
    std::unordered_set<uint64_t> keys;
    std::map<int64_t, int> by_carries;
    for (const Problem& p : a.problems) {
        keys.insert(problem_key(p));
        EXPECT_LE(digits(p.a), 3);
        EXPECT_LE(digits(p.b), 3);
        ++by_carries[carries(p.a, p.b)];
    }
    EXPECT_EQ(keys.size(), 3000u);
    // Balanced: problems with 0 carries are not the great majority they are among random pairs.
    EXPECT_LT(by_carries[0], 1500);
    EXPECT_GT(by_carries[2] + by_carries[3], 600);
    Rng r2(4);
    const AdditionSet b = sample_additions({.lengths = {1, 2, 3}}, 500, r2, &keys);
    for (const Problem& p : b.problems) EXPECT_FALSE(keys.count(problem_key(p)));
    // Only 100 one-digit problems exist.
    Rng r3(5);
    EXPECT_THROW(sample_additions({.lengths = {1}}, 101, r3), Error);
    EXPECT_EQ(sample_additions({.lengths = {1}, .allow_fewer = true}, 150, r3).problems.size(), 100u);
    Rng r4(6);
    for (const Problem& p : sample_additions({.lengths = {4}}, 200, r4).problems) {
        EXPECT_EQ(digits(p.a), 4);
        EXPECT_EQ(digits(p.b), 4);
    }
}

TEST(ArithEncoding, TargetsAndAnswerMask) {
    AdditionSet s{{{57, 68}, {1, 2}}};
    const Encoded e = encode_additions(s, Format::Reverse, 2);
    ASSERT_EQ(e.T, 9);  // "57+68=521$" has 10 tokens
    const std::string full = "57+68=521$";
    for (int64_t t = 0; t < 9; ++t) {
        EXPECT_EQ(e.inputs.data<int32_t>()[t], tokenize(full)[size_t(t)]);
        EXPECT_EQ(e.targets.data<int32_t>()[t], tokenize(full)[size_t(t + 1)]);
        EXPECT_EQ(e.mask.data<float>()[t], t >= 5 ? 1.0f : 0.0f) << t;  // targets 5, 2, 1, $
    }
    // The short problem "1+2=3$" is padded, and padding is never a target.
    EXPECT_EQ(e.inputs.data<int32_t>()[9 + 6], kPad);
    float answer = 0;
    for (int64_t t = 0; t < 9; ++t) answer += e.mask.data<float>()[9 + t];
    EXPECT_EQ(answer, 2.0f);  // "3" and "$"
}

// Greedy decoding, one token at a time from the prompt "a+b=".
std::string greedy(ParamSet& ps, const TransformerSpec& spec, int64_t member, const Problem& p, Format f, int64_t pad) {
    const std::string full = render(p.a, p.b, f, pad);
    std::vector<int32_t> t = tokenize(full.substr(0, full.find('=') + 1));
    while (int64_t(t.size()) < spec.max_seq + 1 && t.back() != kEnd && int64_t(t.size()) <= int64_t(full.size())) {
        Graph g;
        NoGradScope ng(g);
        Tensor in = Tensor::empty({1, 1, int64_t(t.size())}, DType::I32);
        std::copy(t.begin(), t.end(), in.data<int32_t>());
        const Tensor logits = transformer_forward(g, ps, spec, in, 1).value();  // [K, 1, 1, V]
        const float* l = logits.data<float>() + member * kVocab;
        t.push_back(int32_t(std::max_element(l, l + kVocab) - l));
        if (int64_t(t.size()) - 1 >= spec.max_seq) break;
    }
    return detokenize(t);
}

TEST(ArithTraining, ExactMatchIsGreedyDecodingsAndTrainingIsPerMember) {
    Rng rng(1);
    const AdditionSet train = sample_additions({.lengths = {1, 2}}, 300, rng);
    Rng rt(2);
    const AdditionSet test = sample_additions({.lengths = {1, 2}}, 60, rt);
    const Encoded tr = encode_additions(train, Format::Reverse, 2), te = encode_additions(test, Format::Reverse, 2);
    const TransformerSpec spec{.vocab = kVocab, .max_seq = tr.T, .d_model = 32, .n_heads = 2, .d_mlp = 64, .n_layers = 2,
                               .layer_norm = true, .gelu = true};
    ParamSet stack(2), alone(1);
    add_transformer_params(stack, spec);
    add_transformer_params(alone, spec);
    init_transformer(stack, spec, std::vector<uint64_t>{3, 8});
    init_transformer(alone, spec, std::vector<uint64_t>{8});
    const ArithTrainOptions o{.steps = 300, .batch = 64, .lr = 3e-3, .warmup = 20, .eval_every = 100};
    const auto cs = train_addition(stack, spec, tr, te, o), ca = train_addition(alone, spec, tr, te, o);
    EXPECT_EQ(cs[1].train_loss, ca[0].train_loss);
    EXPECT_EQ(cs[1].test_exact, ca[0].test_exact);
    EXPECT_LT(cs[0].train_loss.back(), 0.5 * cs[0].train_loss.front());
    // Teacher-forced exact match counts exactly the problems greedy decoding gets right.
    const std::vector<double> em = exact_match(stack, spec, te);
    for (int64_t k = 0; k < 2; ++k) {
        int right = 0;
        for (const Problem& p : test.problems) right += greedy(stack, spec, k, p, Format::Reverse, 2) == render(p.a, p.b, Format::Reverse, 2);
        EXPECT_DOUBLE_EQ(em[size_t(k)], right / 60.0) << "member " << k;
        std::printf("member %lld: exact match %.3f\n", (long long)k, em[size_t(k)]);
    }
}

}  // namespace
}  // namespace benchtop::arith
