#include "benchtop/nn/params.h"

#include <cstring>

#include "benchtop/ops/elementwise.h"

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
    Var p = g.param(e.value, e.grad, e.grad_stale);
    if (!e.mask.defined() || e.mask.numel() == 0) return p;
    return mul(p, g.input(e.mask));
}

void ParamSet::set_mask(const std::string& name, const Tensor& mask) {
    Entry& e = const_cast<Entry&>(find(name));
    BENCHTOP_CHECK(mask.shape() == e.value.shape(), "ParamSet::set_mask: mask of shape ",
                   mask.shape().str(), " for parameter '", name, "' of shape ",
                   e.value.shape().str());
    Tensor m = mask.to(dtype_);
    for (int64_t i = 0; i < m.numel(); ++i) {
        const double v = m.at(i);
        BENCHTOP_CHECK(v == 0.0 || v == 1.0, "ParamSet::set_mask: mask of '", name,
                       "' holds ", v, " at flat index ", i, "; entries must be 0 or 1");
    }
    e.mask = m;
    apply_masks();
}

void ParamSet::clear_mask(const std::string& name) {
    const_cast<Entry&>(find(name)).mask = Tensor();
}

const Tensor* ParamSet::mask(const std::string& name) const {
    const Entry& e = find(name);
    return e.mask.defined() && e.mask.numel() > 0 ? &e.mask : nullptr;
}

bool ParamSet::has_masks() const {
    for (const auto& e : entries_)
        if (e.mask.defined() && e.mask.numel() > 0) return true;
    return false;
}

void ParamSet::apply_masks() {
    for (auto& e : entries_) {
        if (!e.mask.defined() || e.mask.numel() == 0) continue;
        dispatch_float(dtype_, "ParamSet::apply_masks", [&](auto tag) {
            using T = decltype(tag);
            T* v = e.value.data<T>();
            const T* m = e.mask.data<T>();
            for (int64_t i = 0, n = e.value.numel(); i < n; ++i) v[i] = m[i] != T(0) ? v[i] : T(0);
        });
    }
}

int64_t ParamSet::surviving_per_member(int64_t k) const {
    BENCHTOP_CHECK(k >= 0 && k < n_members_, "ParamSet::surviving_per_member: member ", k,
                   " of ", n_members_);
    int64_t n = 0;
    for (const auto& e : entries_) {
        const int64_t per = e.value.numel() / n_members_;
        if (!e.mask.defined() || e.mask.numel() == 0) {
            n += per;
            continue;
        }
        const Tensor m = e.mask.member(k);
        for (int64_t i = 0; i < per; ++i) n += m.at(i) != 0.0;
    }
    return n;
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
