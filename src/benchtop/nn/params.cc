#include "benchtop/nn/params.h"

#include <cstring>

namespace benchtop {

ParamSet::ParamSet(int64_t n_members, DType dtype) : n_members_(n_members), dtype_(dtype) {
    BENCHTOP_CHECK(n_members >= 1, "ParamSet: number of members must be >= 1, got ", n_members);
    BENCHTOP_CHECK(dtype != DType::I32, "ParamSet: parameters must be float32 or float64");
}

Tensor& ParamSet::add(const std::string& name, const Shape& shape) {
    BENCHTOP_CHECK(!contains(name), "ParamSet: parameter '", name, "' added twice");
    std::vector<int64_t> dims = shape.vec();
    dims.insert(dims.begin(), n_members_);
    Shape full(dims);
    entries_.push_back({name, Tensor::zeros(full, dtype_), Tensor::zeros(full, dtype_)});
    return entries_.back().value;
}

bool ParamSet::contains(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return true;
    return false;
}

const ParamSet::Entry& ParamSet::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name) return e;
    std::string known;
    for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.name;
    fail("no parameter named '", name, "' (parameters: ", known, ")");
}

Tensor& ParamSet::value(const std::string& name) {
    return const_cast<Entry&>(find(name)).value;
}
const Tensor& ParamSet::value(const std::string& name) const { return find(name).value; }
Tensor& ParamSet::grad(const std::string& name) {
    settle_grads();
    return const_cast<Entry&>(find(name)).grad;
}

Var ParamSet::var(Graph& g, const std::string& name) {
    Entry& e = const_cast<Entry&>(find(name));
    return g.param(e.value, e.grad, e.grad_stale);
}

int64_t ParamSet::numel_per_member() const {
    int64_t n = 0;
    for (const auto& e : entries_) n += e.value.numel() / n_members_;
    return n;
}

void ParamSet::zero_grad() {
    for (auto& e : entries_) *e.grad_stale = true;
}

void ParamSet::settle_grads() const {
    for (const auto& e : entries_) {
        if (!*e.grad_stale) continue;
        Tensor grad = e.grad;  // a handle to the same storage
        grad.zero();
        *e.grad_stale = false;
    }
}

void ParamSet::copy_member(const ParamSet& src, int64_t src_member, int64_t dst_member) {
    for (auto& e : entries_) {
        const Tensor& s = src.value(e.name);
        Tensor from = s.member(src_member);
        Tensor to = e.value.member(dst_member);
        BENCHTOP_CHECK(from.shape() == to.shape(), "copy_member: parameter '", e.name,
                       "' has per-member shape ", from.shape().str(), " in the source but ",
                       to.shape().str(), " here");
        to.copy_from(from);
    }
}

}  // namespace benchtop
