#include "benchtop/sweep/pack_codec.h"

#include <bit>
#include <cstring>

namespace benchtop {

namespace {

constexpr uint32_t kMagic = 0x42545052;  // "BTPR"

class Writer {
public:
    void u64(uint64_t v) {
        char b[8];
        for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
        out_.append(b, 8);
    }
    void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
    void f64(double v) { u64(std::bit_cast<uint64_t>(v)); }
    void str(const std::string& s) {
        u64(s.size());
        out_ += s;
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    uint64_t u64() {
        need(8);
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
        pos_ += 8;
        return v;
    }
    int64_t i64() { return static_cast<int64_t>(u64()); }
    double f64() { return std::bit_cast<double>(u64()); }
    size_t count() {
        const uint64_t n = u64();
        // Every element takes at least 8 bytes: a larger count is corrupt, not a reason to allocate.
        if (n > (in_.size() - pos_) / 8 + 1) fail("pack result: corrupt count ", n);
        return static_cast<size_t>(n);
    }
    std::string str() {
        const uint64_t n = u64();
        need(n);
        std::string s(in_.substr(pos_, static_cast<size_t>(n)));
        pos_ += static_cast<size_t>(n);
        return s;
    }
    bool at_end() const { return pos_ == in_.size(); }

private:
    void need(uint64_t n) const {
        if (n > in_.size() - pos_) fail("pack result: truncated (", in_.size(), " bytes)");
    }
    std::string_view in_;
    size_t pos_ = 0;
};

}  // namespace

std::string encode_pack_result(const PackResult& r) {
    Writer w;
    w.u64(kMagic);
    w.u64(r.pack);
    w.u64(r.interrupted ? 1 : 0);
    w.u64(r.error ? 1 : 0);
    w.str(r.error.value_or(""));
    w.f64(r.wall_s);
    w.u64(r.outcomes.size());
    for (const RunOutcome& o : r.outcomes) {
        w.u64(static_cast<uint64_t>(o.state));
        w.str(o.error);
        w.f64(o.wall_s);
        w.str(o.cpu);
        w.str(o.kernel_path);
        w.u64(o.summaries.size());
        for (const Summary& s : o.summaries) {
            w.str(s.key);
            w.f64(s.value);
            w.i64(s.step);
        }
        w.u64(o.metrics.size());
        for (const Metric& m : o.metrics) {
            w.str(m.key);
            w.i64(m.step);
            w.f64(m.value);
        }
    }
    return w.take();
}

PackResult decode_pack_result(std::string_view bytes) {
    Reader rd(bytes);
    if (rd.u64() != kMagic) fail("pack result: not a benchtop pack result");
    PackResult r;
    r.pack = static_cast<size_t>(rd.u64());
    r.interrupted = rd.u64() != 0;
    const bool has_error = rd.u64() != 0;
    std::string error = rd.str();
    if (has_error) r.error = std::move(error);
    r.wall_s = rd.f64();
    const size_t n = rd.count();
    r.outcomes.resize(n);
    for (RunOutcome& o : r.outcomes) {
        const uint64_t state = rd.u64();
        if (state > static_cast<uint64_t>(RunState::Interrupted)) fail("pack result: unknown run state ", state);
        o.state = static_cast<RunState>(state);
        o.error = rd.str();
        o.wall_s = rd.f64();
        o.cpu = rd.str();
        o.kernel_path = rd.str();
        o.summaries.resize(rd.count());
        for (Summary& s : o.summaries) {
            s.key = rd.str();
            s.value = rd.f64();
            s.step = rd.i64();
        }
        o.metrics.resize(rd.count());
        for (Metric& m : o.metrics) {
            m.key = rd.str();
            m.step = rd.i64();
            m.value = rd.f64();
        }
    }
    if (!rd.at_end()) fail("pack result: trailing bytes after the last outcome");
    return r;
}

}  // namespace benchtop
