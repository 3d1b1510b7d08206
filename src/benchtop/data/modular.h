// Modular-arithmetic datasets for grokking (Power, Burda, Edwards, Babuschkin & Misra, "Grokking:
// generalization beyond overfitting on small algorithmic datasets", 2022): every equation
// "a op b = c" over the integers mod p, as the token sequence [a, b, =] (token p stands for "=")
// with label c. The equations are shuffled by a seed and split into a training and a test set.
//
//   ModularData d = make_modular({.p = 59, .op = ModularOp::Add, .train_fraction = 0.4, .seed = 0});
//   // d.train_tokens int32 [N_train, 3], d.train_labels int32 [N_train], d.test_* likewise.
#pragma once

#include <cstdint>
#include <string>

#include "benchtop/tensor/tensor.h"

namespace benchtop {

enum class ModularOp { Add, Subtract, Multiply, Divide };
ModularOp modular_op_from_string(const std::string& name);  // add, subtract, multiply, divide

struct ModularArgs {
    int64_t p = 59;
    ModularOp op = ModularOp::Add;
    double train_fraction = 0.4;  // of all equations; at least one each for train and test
    uint64_t seed = 0;            // the shuffle before the split
};

struct ModularData {
    int64_t p = 0;
    int64_t vocab = 0;  // p + 1: the residues and "="
    Tensor train_tokens, train_labels, test_tokens, test_labels;
};

// c = a op b mod p; divide: a * b^(p-2) mod p (b != 0; p must be prime).
int64_t modular_apply(ModularOp op, int64_t a, int64_t b, int64_t p);
bool is_prime(int64_t n);

// All p * p equations (p * (p - 1) for divide: b runs over 1..p-1), shuffled and split.
// Throws for p < 2, p > 4096, a train fraction that leaves either set empty, or divide with p not prime.
ModularData make_modular(const ModularArgs& args);

}  // namespace benchtop
