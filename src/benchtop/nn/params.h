// ParamSet: the named parameters of a stack of K same-shaped models, with their gradients.
// Every parameter is stored as [K, per-member shape...] in PyTorch's layout (Linear weight
// [out, in], Conv1d weight [out, in, k]), so member k's slice is exactly the tensor PyTorch
// would hold for that model.
//
//   ParamSet ps(/*n_members=*/64);
//   ps.add("linear1.weight", {100, 40});
//   Var w = ps.var(g, "linear1.weight");   // [64, 100, 40], gradient into ps.grad(...)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "benchtop/autograd/graph.h"

namespace benchtop {

class ParamSet {
public:
    struct Entry {
        std::string name;
        Tensor value;  // [K, ...]
        Tensor grad;   // same shape and dtype
        // Set by zero_grad(): grad's contents stand for zeros. The first backward that
        // writes the gradient whole assigns it instead of accumulating (no memset); any
        // other access through the set zeroes it first (see settle_grads).
        std::shared_ptr<bool> grad_stale = std::make_shared<bool>(false);
        // Optional pruning mask (same shape and dtype as value, entries 0 or 1); undefined
        // when the parameter is dense. See set_mask.
        Tensor mask;
    };

    explicit ParamSet(int64_t n_members = 1, DType dtype = DType::F32);

    // Adds a zero-initialised parameter of per-member shape `shape`; returns its value.
    Tensor& add(const std::string& name, const Shape& shape);
    bool contains(const std::string& name) const;
    Tensor& value(const std::string& name);
    const Tensor& value(const std::string& name) const;
    Tensor& grad(const std::string& name);
    // The parameter as a trainable leaf of g.
    Var var(Graph& g, const std::string& name);

    // The entries, with gradients that zero_grad() left pending zeroed first.
    std::vector<Entry>& entries() {
        settle_grads();
        return entries_;
    }
    const std::vector<Entry>& entries() const {
        settle_grads();
        return entries_;
    }
    int64_t n_members() const { return n_members_; }
    DType dtype() const { return dtype_; }
    int64_t numel_per_member() const;
    // Sets every gradient to zero, lazily: a graph's backward overwrites a gradient it writes
    // whole, and entries() / grad() zero those it did not reach.
    void zero_grad();
    // Masks (pruning). set_mask(name, mask) with mask [K, ...] of 0s and 1s makes the
    // parameter sparse: its pruned entries are zeroed now, var() applies the mask in the forward
    // (value * mask, so the gradient reaching the parameter is masked too), and the optimisers
    // re-apply it after each step, so pruned weights stay exactly zero under any update rule
    // (Adam's moments of a pruned entry stay zero). Each member has its own mask.
    void set_mask(const std::string& name, const Tensor& mask);
    void clear_mask(const std::string& name);
    // The parameter's mask, or nullptr when it has none.
    const Tensor* mask(const std::string& name) const;
    bool has_masks() const;
    // Zeroes every masked parameter's pruned entries (after writing values directly).
    void apply_masks();
    // Surviving (unmasked) entries of member k, over every parameter (masked or not).
    int64_t surviving_per_member(int64_t k) const;

    // Copies member `src_member` of `src` (same names and per-member shapes) into member
    // `dst_member` of this set.
    void copy_member(const ParamSet& src, int64_t src_member, int64_t dst_member);

private:
    const Entry& find(const std::string& name) const;
    // Zeroes the gradients still pending from zero_grad().
    void settle_grads() const;

    int64_t n_members_;
    DType dtype_;
    std::vector<Entry> entries_;
};

}  // namespace benchtop
