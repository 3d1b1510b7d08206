// Tests of the safetensors reader/writer: round trips (tensors, metadata, ParamSet members and
// stacks, F64<->F32), every malformed-file case via crafted bytes, truncation at many lengths.
#include "benchtop/io/safetensors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace benchtop {
namespace {

std::string temp_path(const std::string& name) {
    // One folder per process: test runs of several checkouts may share the machine.
    auto dir = std::filesystem::temp_directory_path() /
               ("benchtop_safetensors_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string u64le(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
    return s;
}

// A file with JSON header `header` followed by `data_bytes` zero bytes.
std::string crafted(const std::string& header, size_t data_bytes) {
    return u64le(header.size()) + header + std::string(data_bytes, '\0');
}

// Expects read_safetensors(path) to throw an Error whose message contains every `parts`.
void expect_read_error(const std::string& path, std::initializer_list<std::string> parts) {
    try {
        read_safetensors(path);
        ADD_FAILURE() << "expected an error reading " << path;
    } catch (const Error& e) {
        std::string msg = e.what();
        for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
    }
}

TEST(Safetensors, RoundTripTensorsAndMetadata) {
    std::string path = temp_path("round.safetensors");
    Tensor a = Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6.5f});
    Tensor b = Tensor::from<double>({3}, {-1.25, 1e-300, 3.0});
    Tensor c = Tensor::zeros({0, 4});
    write_safetensors(path, {{"a", a}, {"b", b}, {"empty", c}}, {{"format", "pt"}});
    for (const auto& f :
         std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        EXPECT_EQ(f.path().string().find(".tmp"), std::string::npos) << f.path();
    // The header length is a multiple of 8 and the data follows it.
    std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 8u);
    SafetensorsFile f = read_safetensors(path);
    ASSERT_EQ(f.tensors.size(), 3u);
    EXPECT_EQ(f.tensors[0].first, "a");
    EXPECT_EQ(f.tensors[1].first, "b");
    EXPECT_EQ(f.metadata.at("format"), "pt");
    EXPECT_EQ(f.get("a").dtype(), DType::F32);
    EXPECT_EQ(f.get("a").shape(), Shape({2, 3}));
    EXPECT_EQ(f.get("a").to_vector(), a.to_vector());
    EXPECT_EQ(f.get("b").dtype(), DType::F64);
    EXPECT_EQ(f.get("b").to_vector(), b.to_vector());
    EXPECT_EQ(f.get("empty").shape(), Shape({0, 4}));
    EXPECT_THROW(f.get("nope"), Error);
}

TEST(Safetensors, ReadsHandCraftedFile) {
    // {"x": F32 [2] at [0, 8]} with unpadded header.
    std::string path = temp_path("hand.safetensors");
    std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    float v[2] = {1.5f, -2.0f};
    write_bytes(path, u64le(header.size()) + header +
                          std::string(reinterpret_cast<const char*>(v), sizeof v));
    SafetensorsFile f = read_safetensors(path);
    EXPECT_EQ(f.get("x").to_vector(), (std::vector<double>{1.5, -2.0}));
}

TEST(Safetensors, ParamSetMemberAndStackRoundTrip) {
    ParamSet ps(3, DType::F32);
    ps.add("l.weight", {2, 3});
    ps.add("l.bias", {2});
    for (auto& e : ps.entries())
        for (int64_t i = 0; i < e.value.numel(); ++i) e.value.set(i, 0.5 * i - 1);
    std::string one = temp_path("member.safetensors"), all = temp_path("stack.safetensors");
    save_params(one, ps, 1);
    save_params(all, ps, -1);
    SafetensorsFile f = read_safetensors(one);
    EXPECT_EQ(f.get("l.weight").shape(), Shape({2, 3}));
    EXPECT_EQ(read_safetensors(all).get("l.weight").shape(), Shape({3, 2, 3}));

    // Member 1 into member 0 of a float64 set of 2 (F32 -> F64 conversion).
    ParamSet q(2, DType::F64);
    q.add("l.weight", {2, 3});
    q.add("l.bias", {2});
    load_params(one, q, 0);
    Tensor src = ps.value("l.weight").member(1), dst = q.value("l.weight").member(0);
    for (int64_t i = 0; i < src.numel(); ++i) EXPECT_EQ(dst.at(i), src.at(i));
    EXPECT_EQ(q.value("l.weight").member(1).at(0), 0.0);

    // Stacked load needs matching K.
    ParamSet r(3, DType::F32);
    r.add("l.weight", {2, 3});
    r.add("l.bias", {2});
    load_params(all, r, -1);
    EXPECT_EQ(r.value("l.bias").to_vector(), ps.value("l.bias").to_vector());
    try {
        load_params(all, q, -1);
        FAIL() << "expected a shape error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("l.weight"), std::string::npos) << msg;
        EXPECT_NE(msg.find("[3, 2, 3]"), std::string::npos) << msg;
        EXPECT_NE(msg.find("[2, 2, 3]"), std::string::npos) << msg;
        EXPECT_NE(msg.find(all), std::string::npos) << msg;
    }
}

TEST(Safetensors, LoadReportsMissingTensorAndShapeMismatch) {
    ParamSet ps(1, DType::F32);
    ps.add("w", {2, 2});
    std::string path = temp_path("small.safetensors");
    save_params(path, ps, 0);
    ParamSet extra(1, DType::F32);
    extra.add("w", {2, 2});
    extra.add("v", {3});
    try {
        load_params(path, extra, 0);
        FAIL() << "expected a missing-tensor error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'v'"), std::string::npos) << e.what();
    }
    ParamSet other(1, DType::F32);
    other.add("w", {4});
    try {
        load_params(path, other, 0);
        FAIL() << "expected a shape error";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("[2, 2]"), std::string::npos) << msg;
        EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
    }
    EXPECT_THROW(load_params(path, ps, 1), Error);
}

TEST(Safetensors, MalformedFiles) {
    std::string path = temp_path("bad.safetensors");
    EXPECT_THROW(read_safetensors(temp_path("does_not_exist.safetensors")), Error);

    write_bytes(path, "abc");
    expect_read_error(path, {path, "too short"});

    write_bytes(path, u64le(1000) + "{}");
    expect_read_error(path, {path, "header length"});

    write_bytes(path, u64le(uint64_t{1} << 62) + "{}");
    expect_read_error(path, {path, "absurd"});

    write_bytes(path, crafted("{not json", 0));
    expect_read_error(path, {path, "JSON"});

    write_bytes(path, crafted("[1, 2]", 0));
    expect_read_error(path, {path, "object"});

    write_bytes(path, crafted(R"({"t":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", 4));
    expect_read_error(path, {path, "'t'", "Q7"});

    write_bytes(path, crafted(R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8));
    expect_read_error(path, {path, "'t'", "I64"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4));
    expect_read_error(path, {path, "'t'", "out of range"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
    expect_read_error(path, {path, "'t'", "[3]", "12"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8));
    expect_read_error(path, {path, "'t'"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4));
    expect_read_error(path, {path, "'t'", "shape"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[1]}})", 4));
    expect_read_error(path, {path, "'t'", "data_offsets"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],)"
                              R"("data_offsets":[0,4]}})",
                              4));
    expect_read_error(path, {path, "'t'"});

    write_bytes(path, crafted(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                              8));
    expect_read_error(path, {path, "overlap"});

    write_bytes(path, crafted(R"({"__metadata__":{"k":3}})", 0));
    expect_read_error(path, {path, "metadata"});
}

TEST(Safetensors, WriteToMissingDirectoryFails) {
    std::string path = temp_path("no_such_dir/x.safetensors");
    try {
        write_safetensors(path, {{"a", Tensor::zeros({2})}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no_such_dir"), std::string::npos) << e.what();
    }
}

TEST(Safetensors, TruncatedFileAtEveryLength) {
    std::string good = temp_path("full.safetensors");
    write_safetensors(good, {{"a", Tensor::from<float>({3}, {1, 2, 3})},
                             {"b", Tensor::from<double>({2}, {4, 5})}});
    std::string bytes = read_bytes(good);
    std::string path = temp_path("trunc.safetensors");
    for (size_t len = 0; len < bytes.size(); ++len) {
        write_bytes(path, bytes.substr(0, len));
        EXPECT_THROW(read_safetensors(path), Error) << "length " << len;
    }
    write_bytes(path, bytes);
    EXPECT_NO_THROW(read_safetensors(path));
}

}  // namespace
}  // namespace benchtop
