// safetensors reader/writer: see safetensors.h. The header is validated completely (dtype,
// shape, offsets within the data section and equal to numel * dtype size) before any data is
// copied; data is copied byte-wise so unaligned files are fine. Little-endian host assumed.
#include "benchtop/io/safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace benchtop {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes little-endian");

namespace {

constexpr uint64_t kMaxHeader = 100ull * 1024 * 1024;

const char* st_dtype(DType d) {
    switch (d) {
        case DType::F32:
            return "F32";
        case DType::F64:
            return "F64";
        default:
            break;
    }
    fail("safetensors: cannot write tensors of dtype ", dtype_name(d));
}

std::string shape_str(const std::vector<int64_t>& s) {
    return Shape(s).str();
}

}  // namespace

const Tensor& SafetensorsFile::get(const std::string& name) const {
    for (const auto& [n, t] : tensors)
        if (n == name) return t;
    fail("safetensors file '", path, "': no tensor named '", name, "'");
}

SafetensorsFile read_safetensors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("safetensors: cannot open file '", path, "'");
    in.seekg(0, std::ios::end);
    const std::streamoff end = in.tellg();
    if (end < 0) fail("safetensors: cannot read the size of file '", path, "'");
    const uint64_t file_size = static_cast<uint64_t>(end);
    in.seekg(0);
    if (file_size < 8)
        fail("safetensors file '", path, "': ", file_size,
             " bytes is too short for the 8-byte header length");
    unsigned char len_bytes[8];
    in.read(reinterpret_cast<char*>(len_bytes), 8);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
    if (header_len > kMaxHeader)
        fail("safetensors file '", path, "': header length ", header_len, " is absurd (limit ",
             kMaxHeader, " bytes)");
    if (header_len > file_size - 8)
        fail("safetensors file '", path, "': header length ", header_len,
             " runs past the end of the ", file_size, "-byte file");
    std::string header(header_len, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_len));
    if (!in) fail("safetensors file '", path, "': could not read the header");
    const uint64_t data_size = file_size - 8 - header_len;

    nlohmann::json j;
    try {
        j = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
        fail("safetensors file '", path, "': header is not valid JSON (", e.what(), ")");
    }
    if (!j.is_object()) fail("safetensors file '", path, "': header is not a JSON object");

    SafetensorsFile out;
    out.path = path;
    struct Pending {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        uint64_t begin, end;
    };
    std::vector<Pending> pending;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        const auto& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object())
                fail("safetensors file '", path, "': __metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    fail("safetensors file '", path, "': metadata value for '", m.key(),
                         "' is not a string");
                out.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        auto bad = [&](const auto&... why) {
            fail("safetensors file '", path, "': tensor '", name, "': ", why...);
        };
        if (!v.is_object()) bad("entry is not an object");
        if (!v.contains("dtype") || !v["dtype"].is_string()) bad("missing or non-string dtype");
        if (!v.contains("shape") || !v["shape"].is_array()) bad("missing or non-array shape");
        if (!v.contains("data_offsets") || !v["data_offsets"].is_array() ||
            v["data_offsets"].size() != 2)
            bad("data_offsets must be an array [begin, end]");
        const std::string dt = v["dtype"].get<std::string>();
        DType dtype;
        if (dt == "F32")
            dtype = DType::F32;
        else if (dt == "F64")
            dtype = DType::F64;
        else if (dt == "I32" || dt == "I64" || dt == "F16" || dt == "BF16" || dt == "I8" ||
                 dt == "U8" || dt == "I16" || dt == "BOOL" || dt == "U16" || dt == "U32" ||
                 dt == "U64" || dt == "F8_E4M3" || dt == "F8_E5M2")
            bad("dtype ", dt, " is not supported (only F32 and F64)");
        else
            bad("unknown dtype '", dt, "'");
        std::vector<int64_t> shape;
        if (v["shape"].size() > static_cast<size_t>(Shape::kMaxRank))
            bad("rank ", v["shape"].size(), " exceeds the maximum ", Shape::kMaxRank);
        uint64_t numel = 1;
        for (const auto& d : v["shape"]) {
            if (!d.is_number_unsigned()) bad("shape entries must be non-negative integers");
            uint64_t x = d.get<uint64_t>();
            if (x > (1ull << 40) || (x != 0 && numel > (1ull << 40) / x))
                bad("shape is absurdly large");
            numel *= x;
            shape.push_back(static_cast<int64_t>(x));
        }
        const auto& off = v["data_offsets"];
        if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            bad("data_offsets must be non-negative integers");
        const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
        if (b > e || e > data_size)
            bad("data_offsets [", b, ", ", e, "] out of range of the ", data_size,
                "-byte data section");
        const uint64_t want = numel * dtype_size(dtype);
        if (e - b != want)
            bad("data_offsets [", b, ", ", e, "] hold ", e - b, " bytes but shape ",
                shape_str(shape), " of ", dt, " needs ", want);
        pending.push_back({name, dtype, std::move(shape), b, e});
    }
    std::sort(pending.begin(), pending.end(),
              [](const Pending& a, const Pending& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < pending.size(); ++i)
        if (pending[i].begin < pending[i - 1].end)
            fail("safetensors file '", path, "': tensors '", pending[i - 1].name, "' and '",
                 pending[i].name, "' overlap in the data section");
    const uint64_t data_start = 8 + header_len;
    for (const auto& p : pending) {
        Tensor t = Tensor::empty(Shape(p.shape), p.dtype);
        if (p.end > p.begin) {
            in.seekg(static_cast<std::streamoff>(data_start + p.begin));
            in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(p.end - p.begin));
            if (!in)
                fail("safetensors file '", path, "': could not read the data of tensor '", p.name,
                     "'");
        }
        out.tensors.emplace_back(p.name, std::move(t));
    }
    return out;
}

void write_safetensors(const std::string& path,
                       const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
    nlohmann::json j = nlohmann::json::object();
    if (!metadata.empty()) {
        nlohmann::json m = nlohmann::json::object();
        for (const auto& [k, v] : metadata) m[k] = v;
        j["__metadata__"] = m;
    }
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        BENCHTOP_CHECK(name != "__metadata__",
                       "safetensors: a tensor cannot be named __metadata__");
        BENCHTOP_CHECK(!j.contains(name), "safetensors: tensor '", name, "' written twice to '",
                       path, "'");
        const uint64_t n = t.nbytes();
        j[name] = {{"dtype", st_dtype(t.dtype())},
                   {"shape", t.shape().vec()},
                   {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string header = j.dump();
    while (header.size() % 8 != 0) header.push_back(' ');  // keeps the data 8-byte aligned
    const uint64_t len = header.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(len >> (8 * i));

    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) fail("safetensors: cannot open '", tmp, "' for writing");
        out.write(reinterpret_cast<const char*>(len_bytes), 8);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        for (const auto& [name, t] : tensors)
            if (t.nbytes() > 0)
                out.write(static_cast<const char*>(t.raw()),
                          static_cast<std::streamsize>(t.nbytes()));
        out.flush();
        if (!out) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            fail("safetensors: failed writing '", tmp, "'");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        fail("safetensors: cannot rename '", tmp, "' to '", path, "'");
    }
}

void save_params(const std::string& path,
                 const ParamSet& params,
                 int64_t member,
                 const std::map<std::string, std::string>& metadata) {
    BENCHTOP_CHECK(member >= -1 && member < params.n_members(), "save_params: member ", member,
                   " out of range for a stack of ", params.n_members(), " (writing '", path, "')");
    NamedTensors out;
    for (const auto& e : params.entries())
        out.emplace_back(e.name, member < 0 ? e.value : e.value.member(member));
    write_safetensors(path, out, metadata);
}

void load_params(const std::string& path, ParamSet& params, int64_t member) {
    BENCHTOP_CHECK(member >= -1 && member < params.n_members(), "load_params: member ", member,
                   " out of range for a stack of ", params.n_members(), " (reading '", path, "')");
    SafetensorsFile f = read_safetensors(path);
    // Validate everything before writing anything, so a failed load leaves params untouched.
    std::vector<std::pair<Tensor, const Tensor*>> plan;
    for (auto& e : params.entries()) {
        const Tensor* src = nullptr;
        for (const auto& [n, t] : f.tensors)
            if (n == e.name) src = &t;
        if (!src) fail("load_params: file '", path, "' has no tensor '", e.name, "'");
        Tensor dst = member < 0 ? e.value : e.value.member(member);
        if (src->shape() != dst.shape())
            fail("load_params: file '", path, "': tensor '", e.name, "' has shape ",
                 src->shape().str(), " but the parameter ",
                 member < 0 ? "(stacked) " : "(per member) ", "has shape ", dst.shape().str());
        plan.emplace_back(dst, src);
    }
    for (auto& [dst, src] : plan) dst.copy_from(*src);
}

}  // namespace benchtop
