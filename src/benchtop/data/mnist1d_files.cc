// Raw-file reader and writer of MNIST-1D: see mnist1d_files.h. Byte counts are checked against
// each other (x rows = label count, x row size = L * 8) and every error names the file, the
// expected and the actual byte counts.
#include "benchtop/data/mnist1d_files.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "benchtop/core/error.h"

namespace benchtop {

static_assert(std::endian::native == std::endian::little,
              "mnist1d_files assumes a little-endian host");

namespace {

namespace fs = std::filesystem;

std::vector<char> read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("load_mnist1d: cannot open ", path.string(), " (missing file?)");
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes;
}

[[noreturn]] void size_error(const fs::path& path, const std::string& expected, size_t actual) {
    fail("load_mnist1d: ", path.string(), ": expected ", expected, " bytes, got ", actual);
}

Tensor f64_tensor(const std::vector<char>& bytes, const Shape& shape) {
    Tensor t = Tensor::empty(shape, DType::F64);
    if (!bytes.empty()) std::memcpy(t.raw(), bytes.data(), bytes.size());
    return t;
}

Tensor label_tensor(const std::vector<char>& bytes) {
    Tensor t = Tensor::empty({static_cast<int64_t>(bytes.size())}, DType::I32);
    int32_t* o = t.data<int32_t>();
    for (size_t i = 0; i < bytes.size(); ++i) o[i] = static_cast<unsigned char>(bytes[i]);
    return t;
}

// x file: a multiple of row_bytes that matches the label count.
Tensor load_x(
    const fs::path& dir, const char* x_name, const char* y_name, int64_t L, Tensor* labels) {
    std::vector<char> y = read_all(dir / y_name);
    std::vector<char> x = read_all(dir / x_name);
    size_t row_bytes = static_cast<size_t>(L) * 8;
    if (x.size() % row_bytes != 0)
        size_error(dir / x_name,
                   "a multiple of " + std::to_string(row_bytes) + " (" + std::to_string(L) +
                       " float64 features per row)",
                   x.size());
    if (x.size() != y.size() * row_bytes)
        size_error(dir / x_name,
                   std::to_string(y.size() * row_bytes) + " (" + std::to_string(y.size()) +
                       " labels in " + y_name + ")",
                   x.size());
    *labels = label_tensor(y);
    return f64_tensor(x, {static_cast<int64_t>(y.size()), L});
}

void write_bytes(const fs::path& path, const void* data, size_t n) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) fail("save_mnist1d: cannot create ", path.string());
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    if (!out) fail("save_mnist1d: write failed for ", path.string());
}

void write_float(const fs::path& dir, const std::string& stem, const Tensor& t) {
    BENCHTOP_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, "save_mnist1d: ", stem,
                   " must be a float tensor, got ", dtype_name(t.dtype()));
    Tensor d = t.dtype() == DType::F64 ? t : t.to(DType::F64);
    Tensor f = t.dtype() == DType::F32 ? t : t.to(DType::F32);
    write_bytes(dir / (stem + ".f64"), d.raw(), d.nbytes());
    write_bytes(dir / (stem + ".f32"), f.raw(), f.nbytes());
}

void write_labels(const fs::path& dir, const std::string& name, const Tensor& y) {
    std::vector<unsigned char> bytes(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
        double v = y.at(i);
        BENCHTOP_CHECK(v >= 0 && v <= 255 && v == static_cast<double>(static_cast<int>(v)),
                       "save_mnist1d: label ", v, " at index ", i, " of ", name,
                       " does not fit in uint8");
        bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(v);
    }
    write_bytes(dir / name, bytes.data(), bytes.size());
}

}  // namespace

Mnist1dData load_mnist1d(const fs::path& dir) {
    Mnist1dData d;
    std::vector<char> t = read_all(dir / "t.f64");
    if (t.empty() || t.size() % 8 != 0)
        size_error(dir / "t.f64", "a non-zero multiple of 8", t.size());
    auto L = static_cast<int64_t>(t.size() / 8);
    d.t = f64_tensor(t, {L});
    d.x_train = load_x(dir, "x_train.f64", "y_train.u8", L, &d.y_train);
    d.x_test = load_x(dir, "x_test.f64", "y_test.u8", L, &d.y_test);

    std::vector<char> ty = read_all(dir / "templates_y.u8");
    std::vector<char> tt = read_all(dir / "templates_t.f64");
    std::vector<char> tx = read_all(dir / "templates_x.f64");
    if (tt.empty() || tt.size() % 8 != 0)
        size_error(dir / "templates_t.f64", "a non-zero multiple of 8", tt.size());
    size_t expect = ty.size() * tt.size();
    if (tx.size() != expect)
        size_error(dir / "templates_x.f64",
                   std::to_string(expect) + " (" + std::to_string(ty.size()) + " templates x " +
                       std::to_string(tt.size() / 8) + " points)",
                   tx.size());
    d.templates_y = label_tensor(ty);
    d.templates_t = f64_tensor(tt, {static_cast<int64_t>(tt.size() / 8)});
    d.templates_x =
        f64_tensor(tx, {static_cast<int64_t>(ty.size()), static_cast<int64_t>(tt.size() / 8)});
    return d;
}

void save_mnist1d(const Mnist1dData& data, const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail("save_mnist1d: cannot create directory ", dir.string(), ": ", ec.message());
    write_float(dir, "x_train", data.x_train);
    write_float(dir, "x_test", data.x_test);
    write_float(dir, "t", data.t);
    write_float(dir, "templates_x", data.templates_x);
    write_float(dir, "templates_t", data.templates_t);
    write_labels(dir, "y_train.u8", data.y_train);
    write_labels(dir, "y_test.u8", data.y_test);
    write_labels(dir, "templates_y.u8", data.templates_y);
}

}  // namespace benchtop
