// Golden reference cases written by tests/golden/make_golden.py (PyTorch), loaded into
// benchtop Tensors. A tensor is stored as {"shape": [...], "data": [...]} in row-major order.
//
//   nlohmann::json doc = golden::load("ops_elementwise.json");
//   Tensor x = golden::tensor(doc["cases"][0]["inputs"][0]);          // float32
//   double err = golden::rel_error(y.value(), doc["cases"][0]["output"]);
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "benchtop/tensor/tensor.h"

namespace benchtop::golden {

using json = nlohmann::json;

// Every comparison: max |got - ref| / max(max |ref|, tiny) <= kRelTol.
inline constexpr double kRelTol = 1e-5;
inline constexpr double kTiny = 1e-30;

inline std::string cases_dir() { return std::string(BENCHTOP_SOURCE_DIR) + "/tests/golden/cases"; }

// Parses cases/<file>; throws std::runtime_error when missing.
inline json load(const std::string& file) {
    std::string path = cases_dir() + "/" + file;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("golden: cannot open " + path);
    return json::parse(in);
}

inline Shape shape_of(const json& t) {
    std::vector<int64_t> dims = t.at("shape").get<std::vector<int64_t>>();
    return Shape(dims);
}

// A stored tensor as float32 (dtype F32) or int32 (dtype I32).
inline Tensor tensor(const json& t, DType dtype = DType::F32) {
    Shape shape = shape_of(t);
    const json& d = t.at("data");
    Tensor out = Tensor::empty(shape, dtype);
    if (static_cast<int64_t>(d.size()) != out.numel())
        throw std::runtime_error("golden: data does not fill shape " + shape.str());
    for (int64_t i = 0; i < out.numel(); ++i) out.set(i, d[static_cast<size_t>(i)].get<double>());
    return out;
}

// An input entry {"name", "shape", "data", "dtype": "f32" | "i32", "grad"}.
inline Tensor input_tensor(const json& t) {
    return tensor(t, t.value("dtype", std::string("f32")) == "i32" ? DType::I32 : DType::F32);
}

// max |got - ref| / max(max |ref|, tiny); infinity when the shapes differ.
inline double rel_error(const Tensor& got, const json& ref) {
    if (got.shape() != shape_of(ref)) return INFINITY;
    const json& d = ref.at("data");
    double max_diff = 0, max_ref = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
        double r = d[static_cast<size_t>(i)].get<double>();
        double diff = std::abs(got.at(i) - r);
        if (std::isnan(diff)) return INFINITY;
        max_diff = std::max(max_diff, diff);
        max_ref = std::max(max_ref, std::abs(r));
    }
    return max_diff / std::max(max_ref, kTiny);
}

// Reports a failure naming `what` unless rel_error <= tol; returns the error.
inline double expect_close(const Tensor& got, const json& ref, const std::string& what,
                           double tol = kRelTol) {
    double err = rel_error(got, ref);
    EXPECT_LE(err, tol) << what << ": shape " << got.shape().str() << " vs reference "
                        << shape_of(ref).str() << ", relative error " << err;
    return err;
}

}  // namespace benchtop::golden
