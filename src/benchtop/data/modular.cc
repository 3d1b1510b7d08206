#include "benchtop/data/modular.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "benchtop/core/error.h"
#include "benchtop/core/rng.h"

namespace benchtop {

ModularOp modular_op_from_string(const std::string& name) {
    if (name == "add") return ModularOp::Add;
    if (name == "subtract") return ModularOp::Subtract;
    if (name == "multiply") return ModularOp::Multiply;
    if (name == "divide") return ModularOp::Divide;
    fail("unknown modular operation '", name, "' (expected add, subtract, multiply or divide)");
}

bool is_prime(int64_t n) {
    if (n < 2) return false;
    for (int64_t d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

namespace {

int64_t pow_mod(int64_t base, int64_t exp, int64_t p) {
    int64_t r = 1 % p;
    base %= p;
    while (exp > 0) {
        if (exp & 1) r = r * base % p;
        base = base * base % p;
        exp >>= 1;
    }
    return r;
}

}  // namespace

int64_t modular_apply(ModularOp op, int64_t a, int64_t b, int64_t p) {
    switch (op) {
        case ModularOp::Add: return (a + b) % p;
        case ModularOp::Subtract: return ((a - b) % p + p) % p;
        case ModularOp::Multiply: return a * b % p;
        case ModularOp::Divide:
            BENCHTOP_CHECK(b % p != 0, "modular division by zero");
            return a * pow_mod(b, p - 2, p) % p;
    }
    fail("modular_apply: bad operation");
}

ModularData make_modular(const ModularArgs& args) {
    const int64_t p = args.p;
    BENCHTOP_CHECK(p >= 2 && p <= 4096, "modular data: p must lie in [2, 4096], got ", p);
    BENCHTOP_CHECK(args.op != ModularOp::Divide || is_prime(p), "modular data: division needs a prime p, got ", p);
    std::vector<std::pair<int32_t, int32_t>> eqs;
    const int64_t b0 = args.op == ModularOp::Divide ? 1 : 0;
    for (int64_t a = 0; a < p; ++a)
        for (int64_t b = b0; b < p; ++b) eqs.emplace_back(int32_t(a), int32_t(b));
    const auto n = static_cast<int64_t>(eqs.size());
    const auto n_train = static_cast<int64_t>(std::llround(args.train_fraction * double(n)));
    BENCHTOP_CHECK(n_train >= 1 && n_train < n, "modular data: train_fraction ", args.train_fraction, " of ", n,
                   " equations leaves ", n_train, " for training and ", n - n_train, " for testing; both need one");
    // Fisher-Yates shuffle from the seed's data stream.
    Rng rng(stream_key(args.seed, 0, Purpose::Data));
    for (int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<int64_t>(rng.below(uint64_t(i + 1)));
        std::swap(eqs[size_t(i)], eqs[size_t(j)]);
    }
    ModularData d;
    d.p = p;
    d.vocab = p + 1;
    auto fill = [&](int64_t from, int64_t to, Tensor& tokens, Tensor& labels) {
        tokens = Tensor::empty({to - from, 3}, DType::I32);
        labels = Tensor::empty({to - from}, DType::I32);
        int32_t* t = tokens.data<int32_t>();
        int32_t* l = labels.data<int32_t>();
        for (int64_t i = from; i < to; ++i) {
            const auto [a, b] = eqs[size_t(i)];
            *t++ = a;
            *t++ = b;
            *t++ = int32_t(p);
            *l++ = int32_t(modular_apply(args.op, a, b, p));
        }
    };
    fill(0, n_train, d.train_tokens, d.train_labels);
    fill(n_train, n, d.test_tokens, d.test_labels);
    return d;
}

}  // namespace benchtop
