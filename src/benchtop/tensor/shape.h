// Shape: a small fixed-capacity list of dimensions (rank <= 6), and DType.
// Dimension legend used across the engine: K members, B batch, D input, H hidden,
// C classes/channels, L length, O outputs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace benchtop {

enum class DType : uint8_t { F32, F64, I32 };

inline size_t dtype_size(DType t) { return t == DType::F64 ? 8 : 4; }
const char* dtype_name(DType t);

class Shape {
public:
    static constexpr int kMaxRank = 6;

    Shape() = default;
    Shape(std::initializer_list<int64_t> dims);
    explicit Shape(const std::vector<int64_t>& dims);

    int rank() const { return rank_; }
    int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
    int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
    int64_t back() const { return dims_[static_cast<size_t>(rank_ - 1)]; }
    int64_t numel() const;
    // Normalises a possibly negative axis; throws naming `what` if out of range.
    int axis(int a, const char* what = "axis") const;
    void push_back(int64_t d);
    std::vector<int64_t> vec() const { return {dims_.begin(), dims_.begin() + rank_}; }
    std::string str() const;  // "[2, 3, 4]"

    bool operator==(const Shape& o) const;
    bool operator!=(const Shape& o) const { return !(*this == o); }

private:
    std::array<int64_t, kMaxRank> dims_{};
    int rank_ = 0;
};

// Numpy-style broadcast of two shapes; throws naming `op` and both shapes if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace benchtop
