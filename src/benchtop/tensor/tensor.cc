#include "benchtop/tensor/tensor.h"

#include <cstdlib>

namespace benchtop {

namespace {
std::shared_ptr<std::byte[]> allocate(size_t bytes) {
    // 64-byte aligned so that vector loads never split cache lines.
    size_t n = (bytes + 63) / 64 * 64;
    if (n == 0) n = 64;
    void* p = std::aligned_alloc(64, n);
    if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
    return {static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); }};
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
    Tensor t;
    t.shape_ = shape;
    t.dtype_ = dtype;
    t.owner_ = allocate(t.nbytes());
    t.data_ = t.owner_.get();
    return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
    Tensor t = empty(shape, dtype);
    t.zero();
    return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
    Tensor t = empty(shape, dtype);
    t.fill(value);
    return t;
}

Tensor Tensor::view(void* data, const Shape& shape, DType dtype) {
    Tensor t;
    t.shape_ = shape;
    t.dtype_ = dtype;
    t.data_ = data;
    return t;
}

double Tensor::at(int64_t i) const {
    BENCHTOP_CHECK(i >= 0 && i < numel(), "index ", i, " out of range for tensor of shape ",
                   shape_.str());
    switch (dtype_) {
        case DType::F32: return static_cast<const float*>(data_)[i];
        case DType::F64: return static_cast<const double*>(data_)[i];
        case DType::I32: return static_cast<const int32_t*>(data_)[i];
    }
    return 0;
}

void Tensor::set(int64_t i, double v) {
    BENCHTOP_CHECK(i >= 0 && i < numel(), "index ", i, " out of range for tensor of shape ",
                   shape_.str());
    switch (dtype_) {
        case DType::F32: static_cast<float*>(data_)[i] = static_cast<float>(v); break;
        case DType::F64: static_cast<double*>(data_)[i] = v; break;
        case DType::I32: static_cast<int32_t*>(data_)[i] = static_cast<int32_t>(v); break;
    }
}

Tensor Tensor::reshape(const Shape& shape) const {
    BENCHTOP_CHECK(shape.numel() == numel(), "reshape: cannot view a tensor of shape ",
                   shape_.str(), " as ", shape.str());
    Tensor t = *this;
    t.shape_ = shape;
    return t;
}

Tensor Tensor::member(int64_t m) const {
    BENCHTOP_CHECK(rank() >= 1 && m >= 0 && m < shape_[0], "member ", m,
                   " out of range for a tensor of shape ", shape_.str());
    Tensor t = *this;
    Shape dims;
    for (int d = 1; d < rank(); ++d) dims.push_back(shape_[d]);
    t.shape_ = dims;
    t.data_ = static_cast<std::byte*>(data_) + static_cast<size_t>(m) * t.nbytes();
    return t;
}

Tensor Tensor::clone() const {
    Tensor t = empty(shape_, dtype_);
    if (nbytes()) std::memcpy(t.data_, data_, nbytes());
    return t;
}

Tensor Tensor::to(DType dtype) const {
    Tensor t = empty(shape_, dtype);
    t.copy_from(*this);
    return t;
}

void Tensor::copy_from(const Tensor& src) {
    BENCHTOP_CHECK(src.numel() == numel(), "copy: source of shape ", src.shape_.str(),
                   " does not match destination of shape ", shape_.str());
    if (src.dtype_ == dtype_) {
        if (nbytes()) std::memmove(data_, src.data_, nbytes());
        return;
    }
    for (int64_t i = 0; i < numel(); ++i) set(i, src.at(i));
}

void Tensor::fill(double v) {
    switch (dtype_) {
        case DType::F32: {
            auto* p = static_cast<float*>(data_);
            for (int64_t i = 0; i < numel(); ++i) p[i] = static_cast<float>(v);
            break;
        }
        case DType::F64: {
            auto* p = static_cast<double*>(data_);
            for (int64_t i = 0; i < numel(); ++i) p[i] = v;
            break;
        }
        case DType::I32: {
            auto* p = static_cast<int32_t*>(data_);
            for (int64_t i = 0; i < numel(); ++i) p[i] = static_cast<int32_t>(v);
            break;
        }
    }
}

std::vector<double> Tensor::to_vector() const {
    std::vector<double> v(static_cast<size_t>(numel()));
    for (int64_t i = 0; i < numel(); ++i) v[static_cast<size_t>(i)] = at(i);
    return v;
}

}  // namespace benchtop
