#include "benchtop/arith/addition.h"

#include <algorithm>

#include "benchtop/core/error.h"

namespace benchtop::arith {

Format format_from_string(const std::string& s) {
    if (s == "plain") return Format::Plain;
    if (s == "reverse") return Format::Reverse;
    if (s == "pad") return Format::Pad;
    if (s == "scratchpad") return Format::Scratchpad;
    throw Error("unknown addition format '" + s + "' (plain, reverse, pad, scratchpad)");
}

std::string to_string(Format f) {
    switch (f) {
        case Format::Plain: return "plain";
        case Format::Reverse: return "reverse";
        case Format::Pad: return "pad";
        case Format::Scratchpad: return "scratchpad";
    }
    return "?";
}

int64_t digits(uint64_t v) {
    int64_t n = 1;
    while (v >= 10) v /= 10, ++n;
    return n;
}

int64_t carries(uint64_t a, uint64_t b) {
    int64_t n = 0, c = 0;
    while (a > 0 || b > 0) {
        c = (a % 10 + b % 10 + c) >= 10 ? 1 : 0;
        n += c;
        a /= 10, b /= 10;
    }
    return n;
}

namespace {
std::string padded(uint64_t v, int64_t width) {
    std::string s = std::to_string(v);
    return std::string(size_t(std::max<int64_t>(0, width - int64_t(s.size()))), '0') + s;
}
}  // namespace

std::string render(uint64_t a, uint64_t b, Format f, int64_t pad_digits) {
    const uint64_t c = a + b;
    std::string ans = std::to_string(c);
    switch (f) {
        case Format::Plain: return std::to_string(a) + "+" + std::to_string(b) + "=" + ans + "$";
        case Format::Reverse:
            std::reverse(ans.begin(), ans.end());
            return std::to_string(a) + "+" + std::to_string(b) + "=" + ans + "$";
        case Format::Pad:
            BENCHTOP_CHECK(digits(a) <= pad_digits && digits(b) <= pad_digits, "render: ", a, "+", b,
                           " has an operand longer than pad_digits = ", pad_digits);
            return padded(a, pad_digits) + "+" + padded(b, pad_digits) + "=" + padded(c, pad_digits + 1) + "$";
        case Format::Scratchpad: {
            std::string s = std::to_string(a) + "+" + std::to_string(b) + "=";
            uint64_t x = a, y = b, carry = 0;
            const int64_t n = std::max(digits(a), digits(b));
            for (int64_t i = 0; i < n; ++i) {
                const uint64_t t = x % 10 + y % 10 + carry;
                carry = t / 10;
                s += char('0' + t % 10);
                s += 'c';
                s += char('0' + carry);
                if (i + 1 < n) s += ',';
                x /= 10, y /= 10;
            }
            return s + "|" + ans + "$";
        }
    }
    return "";
}

std::vector<int32_t> tokenize(const std::string& s) {
    std::vector<int32_t> t;
    t.reserve(s.size());
    for (char ch : s) {
        if (ch >= '0' && ch <= '9') t.push_back(ch - '0');
        else if (ch == '+') t.push_back(kPlus);
        else if (ch == '=') t.push_back(kEquals);
        else if (ch == '$') t.push_back(kEnd);
        else if (ch == ',') t.push_back(kComma);
        else if (ch == 'c') t.push_back(kCarry);
        else if (ch == '|') t.push_back(kBar);
        else throw Error(std::string("tokenize: character '") + ch + "' is not in the vocabulary");
    }
    return t;
}

std::string detokenize(const std::vector<int32_t>& t) {
    static const char chars[] = "0123456789+=$,c|_";
    std::string s;
    for (int32_t v : t) {
        BENCHTOP_CHECK(v >= 0 && v < kVocab, "detokenize: token ", v, " outside [0, ", kVocab, ")");
        s += chars[v];
    }
    return s;
}

uint64_t problem_key(const Problem& p) { return (p.a << 32) | p.b; }

namespace {
uint64_t with_digits(int64_t n, Rng& rng) {
    uint64_t lo = 1;
    for (int64_t i = 1; i < n; ++i) lo *= 10;
    const uint64_t hi = lo * 10;
    if (n == 1) return rng.below(10);
    return lo + rng.below(hi - lo);
}
}  // namespace

AdditionSet sample_additions(const SampleOptions& o, int64_t n, Rng& rng, const std::unordered_set<uint64_t>* exclude) {
    BENCHTOP_CHECK(!o.lengths.empty() && n >= 0, "sample_additions: needs lengths and n >= 0");
    for (int64_t l : o.lengths) BENCHTOP_CHECK(l >= 1 && l <= 9, "sample_additions: operand length ", l, " outside [1, 9]");
    AdditionSet out;
    std::unordered_set<uint64_t> seen;
    int64_t misses = 0;
    while (int64_t(out.problems.size()) < n) {
        const int64_t la = o.lengths[size_t(rng.below(o.lengths.size()))], lb = o.lengths[size_t(rng.below(o.lengths.size()))];
        Problem p{with_digits(la, rng), with_digits(lb, rng)};
        if (o.balance_carries) {  // the carry count first, uniform over 0..max(la, lb); then a problem with it
            const int64_t want = int64_t(rng.below(uint64_t(std::max(la, lb) + 1)));
            for (int tries = 0; tries < 200 && carries(p.a, p.b) != want; ++tries) p = {with_digits(la, rng), with_digits(lb, rng)};
        }
        const uint64_t key = problem_key(p);
        if (seen.count(key) || (exclude && exclude->count(key))) {
            if (++misses >= 100 * std::max<int64_t>(n, 1)) {
                if (o.allow_fewer) break;
                throw Error("sample_additions: cannot find " + std::to_string(n) +
                            " distinct problems with operand lengths in the given set");
            }
            continue;
        }
        misses = 0;
        seen.insert(key);
        out.problems.push_back(p);
    }
    return out;
}

Encoded encode_additions(const AdditionSet& set, Format f, int64_t pad_digits) {
    std::vector<std::vector<int32_t>> seqs;
    std::vector<int64_t> eq;
    int64_t L = 0;
    for (const Problem& p : set.problems) {
        seqs.push_back(tokenize(render(p.a, p.b, f, pad_digits)));
        eq.push_back(int64_t(std::find(seqs.back().begin(), seqs.back().end(), kEquals) - seqs.back().begin()));
        L = std::max<int64_t>(L, int64_t(seqs.back().size()));
    }
    const int64_t N = int64_t(seqs.size()), T = std::max<int64_t>(L - 1, 1);
    Encoded e{Tensor::full({N, T}, double(kPad), DType::I32), Tensor::full({N, T}, double(kPad), DType::I32),
              Tensor::zeros({N, T}, DType::F32), T};
    for (int64_t i = 0; i < N; ++i) {
        const std::vector<int32_t>& s = seqs[size_t(i)];
        for (int64_t t = 0; t + 1 < int64_t(s.size()); ++t) {
            e.inputs.data<int32_t>()[i * T + t] = s[size_t(t)];
            e.targets.data<int32_t>()[i * T + t] = s[size_t(t + 1)];
            e.mask.data<float>()[i * T + t] = t >= eq[size_t(i)] ? 1.0f : 0.0f;  // targets after '='
        }
    }
    return e;
}

}  // namespace benchtop::arith
