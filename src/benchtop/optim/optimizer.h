// Per-member hyper-parameters shared by the optimisers: one value per member of the stack, or a
// single value broadcast to every member. Values are kept in double (as Python floats in torch)
// and cast to the parameter dtype at the point torch would cast them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchtop/core/error.h"

namespace benchtop {

class PerMember {
public:
    PerMember(double v = 0.0) : values_{v} {}  // NOLINT: implicit broadcast is intended
    PerMember(std::vector<double> v) : values_(std::move(v)) {}  // NOLINT
    PerMember(std::initializer_list<double> v) : values_(v) {}

    // Value for member k (the broadcast value when one is held).
    double operator[](int64_t k) const {
        return values_.size() == 1 ? values_[0] : values_[static_cast<size_t>(k)];
    }
    // Throws unless this holds 1 or n_members values.
    void check(int64_t n_members, const char* what) const {
        BENCHTOP_CHECK(values_.size() == 1 || static_cast<int64_t>(values_.size()) == n_members,
                       what, ": expected 1 or ", n_members, " per-member values, got ",
                       values_.size());
    }
    const std::vector<double>& values() const { return values_; }

private:
    std::vector<double> values_;
};

}  // namespace benchtop
