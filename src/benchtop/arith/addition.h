// Addition problems written as character sequences for a decoder-only transformer (Lee, Sreenivasan,
// Lee, Lee & Papailiopoulos, "Teaching arithmetic to small transformers", ICLR 2024; Nogueira,
// Jiang & Lin, "Investigating the limitations of transformers with simple arithmetic tasks", 2021).
//
// Formats of a + b (the answer follows '=' and ends with '$'):
//   plain       123+456=579$
//   reverse     123+456=975$            the answer least-significant digit first
//   pad         0123+0456=00579$        operands to `pad_digits`, the answer to pad_digits + 1
//   scratchpad  57+68=5c1,2c1|125$      per position from the least significant: the sum's digit,
//                                       'c' and the carry out; then '|' and the plain answer
// Vocabulary: '0'..'9' = 0..9, '+' 10, '=' 11, '$' 12, ',' 13, 'c' 14, '|' 15, and padding 16
// (after '$', never a target).
//
//   Rng rng(stream_key(seed, 0, Purpose::Data));
//   AdditionSet train = sample_additions({.lengths = {1, 2, 3}}, 10000, rng);
//   Batch b = encode_additions(train, Format::Reverse, 3);   // tokens, targets and answer mask
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "benchtop/core/rng.h"
#include "benchtop/tensor/tensor.h"

namespace benchtop::arith {

enum class Format { Plain, Reverse, Pad, Scratchpad };
Format format_from_string(const std::string& s);  // plain, reverse, pad, scratchpad
std::string to_string(Format f);

inline constexpr int32_t kPlus = 10, kEquals = 11, kEnd = 12, kComma = 13, kCarry = 14, kBar = 15, kPad = 16;
inline constexpr int64_t kVocab = 17;

// The characters of a + b in format f (pad_digits: operand width of Format::Pad).
std::string render(uint64_t a, uint64_t b, Format f, int64_t pad_digits);
// Tokens of a rendered string; throws on a character outside the vocabulary.
std::vector<int32_t> tokenize(const std::string& s);
std::string detokenize(const std::vector<int32_t>& t);

struct Problem {
    uint64_t a = 0, b = 0;
};
struct AdditionSet {
    std::vector<Problem> problems;
};

struct SampleOptions {
    std::vector<int64_t> lengths = {1, 2, 3};  // digits of each operand, drawn uniformly (independently)
    bool balance_carries = true;  // the number of carries drawn uniformly from those possible first
    bool allow_fewer = false;     // return what was found instead of throwing (small pools)
};
// n distinct problems, none in `exclude` (a * 2^32 + b keys; both operands < 2^32). Draws again,
// lengths included, when a problem repeats: once a short pool is exhausted the draws move to the
// other lengths. Throws (or, with allow_fewer, stops) when 100 n draws in a row find nothing new.
AdditionSet sample_additions(const SampleOptions& o, int64_t n, Rng& rng,
                             const std::unordered_set<uint64_t>* exclude = nullptr);
uint64_t problem_key(const Problem& p);
int64_t carries(uint64_t a, uint64_t b);
int64_t digits(uint64_t v);

// Teacher-forced training data: inputs tokens[0, T-1) and targets tokens[1, T), padded to the
// longest sequence. mask = 1 where the target is part of the answer (after '=' through '$').
struct Encoded {
    Tensor inputs;   // int32 [N, T]
    Tensor targets;  // int32 [N, T]
    Tensor mask;     // float32 [N, T]
    int64_t T = 0;
};
Encoded encode_additions(const AdditionSet& set, Format f, int64_t pad_digits);

}  // namespace benchtop::arith
