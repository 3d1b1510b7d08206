// Tensor: a shape, a dtype and contiguous row-major storage.
// A Tensor either owns its bytes (heap, shared between copies) or is a view into memory
// owned elsewhere (the step arena, a parameter buffer). Copying a Tensor never copies data;
// clone() does.
//
//   Tensor w = Tensor::zeros({4, 40}, DType::F32);
//   w.data<float>()[0] = 1.f;
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "benchtop/core/error.h"
#include "benchtop/tensor/shape.h"

namespace benchtop {

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::F32; }
template <>
constexpr DType dtype_of<double>() { return DType::F64; }
template <>
constexpr DType dtype_of<int32_t>() { return DType::I32; }

class Tensor {
public:
    Tensor() = default;

    static Tensor empty(const Shape& shape, DType dtype = DType::F32);
    static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
    static Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
    // Non-owning view of `data` (which must outlive the view).
    static Tensor view(void* data, const Shape& shape, DType dtype);
    template <class T>
    static Tensor from(const Shape& shape, const std::vector<T>& values) {
        BENCHTOP_CHECK(static_cast<int64_t>(values.size()) == shape.numel(), "Tensor::from: ",
                       values.size(), " values do not fill shape ", shape.str());
        Tensor t = empty(shape, dtype_of<T>());
        if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
        return t;
    }

    bool defined() const { return data_ != nullptr || shape_.numel() == 0; }
    const Shape& shape() const { return shape_; }
    DType dtype() const { return dtype_; }
    int rank() const { return shape_.rank(); }
    int64_t numel() const { return shape_.numel(); }
    int64_t size(int axis) const { return shape_[shape_.axis(axis)]; }
    size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

    void* raw() { return data_; }
    const void* raw() const { return data_; }
    template <class T>
    T* data() {
        check_dtype(dtype_of<T>());
        return static_cast<T*>(data_);
    }
    template <class T>
    const T* data() const {
        check_dtype(dtype_of<T>());
        return static_cast<const T*>(data_);
    }
    template <class T>
    std::span<T> span() {
        return {data<T>(), static_cast<size_t>(numel())};
    }
    template <class T>
    std::span<const T> span() const {
        return {data<T>(), static_cast<size_t>(numel())};
    }

    // Element i of the flattened tensor, converted to double (any dtype). For tests and I/O.
    double at(int64_t i) const;
    void set(int64_t i, double v);

    // Same storage, new shape (numel must match).
    Tensor reshape(const Shape& shape) const;
    // Member m of a tensor with a leading member axis, as a view of shape [...].
    Tensor member(int64_t m) const;
    Tensor clone() const;
    Tensor to(DType dtype) const;
    void copy_from(const Tensor& src);  // same shape; converts dtype
    void fill(double v);
    void zero() {
        if (data_) std::memset(data_, 0, nbytes());
    }
    std::vector<double> to_vector() const;

private:
    void check_dtype(DType want) const {
        if (dtype_ != want) [[unlikely]]
            fail("tensor of dtype ", dtype_name(dtype_), " and shape ", shape_.str(),
                 " accessed as ", dtype_name(want));
    }

    std::shared_ptr<std::byte[]> owner_;
    void* data_ = nullptr;
    Shape shape_;
    DType dtype_ = DType::F32;
};

// Calls f(T{}) with T = float or double according to `dtype`; throws for other dtypes.
template <class F>
decltype(auto) dispatch_float(DType dtype, const char* op, F&& f) {
    switch (dtype) {
        case DType::F32: return f(float{});
        case DType::F64: return f(double{});
        default: break;
    }
    fail(op, ": expected a float32 or float64 tensor, got ", dtype_name(dtype));
}

}  // namespace benchtop
