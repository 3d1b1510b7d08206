#include "benchtop/tensor/shape.h"

#include <algorithm>

#include "benchtop/core/error.h"

namespace benchtop {

const char* dtype_name(DType t) {
    switch (t) {
        case DType::F32: return "float32";
        case DType::F64: return "float64";
        case DType::I32: return "int32";
    }
    return "?";
}

Shape::Shape(std::initializer_list<int64_t> dims) {
    BENCHTOP_CHECK(dims.size() <= kMaxRank, "shape rank ", dims.size(), " exceeds the maximum ",
                   kMaxRank);
    for (int64_t d : dims) push_back(d);
}

Shape::Shape(const std::vector<int64_t>& dims) {
    BENCHTOP_CHECK(dims.size() <= kMaxRank, "shape rank ", dims.size(), " exceeds the maximum ",
                   kMaxRank);
    for (int64_t d : dims) push_back(d);
}

void Shape::push_back(int64_t d) {
    BENCHTOP_CHECK(rank_ < kMaxRank, "shape rank exceeds the maximum ", kMaxRank);
    BENCHTOP_CHECK(d >= 0, "negative dimension ", d, " in a shape");
    dims_[static_cast<size_t>(rank_++)] = d;
}

int64_t Shape::numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
    return n;
}

int Shape::axis(int a, const char* what) const {
    int r = a < 0 ? a + rank_ : a;
    BENCHTOP_CHECK(r >= 0 && r < rank_, what, " ", a, " is out of range for a tensor of shape ",
                   str());
    return r;
}

std::string Shape::str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) {
        if (i) s += ", ";
        s += std::to_string(dims_[static_cast<size_t>(i)]);
    }
    return s + "]";
}

bool Shape::operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    return std::equal(dims_.begin(), dims_.begin() + rank_, o.dims_.begin());
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    int r = std::max(a.rank(), b.rank());
    std::vector<int64_t> out(static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) {
        int ia = a.rank() - r + i, ib = b.rank() - r + i;
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        BENCHTOP_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
                       " cannot be broadcast together");
        out[static_cast<size_t>(i)] = da == 1 ? db : da;
    }
    return Shape(out);
}

}  // namespace benchtop
