// Training a character-level decoder-only transformer (nn/transformer.h) on addition, the loss on
// the answer's tokens only, for a stack of K members (one per seed) on the same batches.
//
// Exact match is computed teacher-forced: a problem counts when the argmax at every answer
// position is the target. Greedy decoding produces exactly the target in precisely these cases
// (each step's input is then the target prefix), so this equals the exact match of greedy
// generation, at the cost of one forward pass.
//
//   ArithTrainOptions o{.steps = 3000, .batch = 128};
//   std::vector<ArithCurve> c = train_addition(ps, spec, train, test, o);
//   std::vector<double> acc = exact_match(ps, spec, other_lengths);
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "benchtop/arith/addition.h"
#include "benchtop/nn/transformer.h"

namespace benchtop::arith {

struct ArithTrainOptions {
    int64_t steps = 3000;
    int64_t batch = 128;
    double lr = 1e-3;             // AdamW peak; linear warm-up, then cosine decay to lr / 10
    int64_t warmup = 100;
    double weight_decay = 0.1;
    double beta2 = 0.99;
    uint64_t data_seed = 0;       // batch order (the same for every member)
    int64_t eval_every = 250;     // test exact match during training (and after the last step)
    std::function<void(int64_t)> on_step;
};

struct ArithCurve {
    std::vector<int64_t> steps;
    std::vector<double> train_loss;  // mean over the steps since the previous point
    std::vector<double> test_exact;
};

std::vector<ArithCurve> train_addition(ParamSet& ps, const TransformerSpec& spec, const Encoded& train, const Encoded& test,
                                       const ArithTrainOptions& o);
// Per member: the fraction of problems whose whole answer is right.
std::vector<double> exact_match(ParamSet& ps, const TransformerSpec& spec, const Encoded& e);

}  // namespace benchtop::arith
