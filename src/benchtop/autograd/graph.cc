#include "benchtop/autograd/graph.h"

#include <cstring>

namespace benchtop {

const Tensor& Var::value() const { return g->node(id).value; }
const Shape& Var::shape() const { return g->node(id).value.shape(); }
DType Var::dtype() const { return g->node(id).value.dtype(); }
bool Var::requires_grad() const { return g->node(id).requires_grad; }
bool Var::records() const { return g->node(id).backward != nullptr; }

Graph::Graph(size_t arena_bytes) : arena_(arena_bytes) { nodes_.reserve(256); }

Var Graph::add_leaf(const Tensor& value, bool requires_grad) {
    Node& n = nodes_.emplace_back();
    n.id = static_cast<int32_t>(nodes_.size() - 1);
    n.value = value;
    n.op = "leaf";
    n.requires_grad = requires_grad;
    return Var{this, n.id};
}

Var Graph::input(const Tensor& value) { return add_leaf(value, false); }

Var Graph::param(const Tensor& value, const Tensor& grad, std::shared_ptr<bool> stale) {
    BENCHTOP_CHECK(value.shape() == grad.shape() && value.dtype() == grad.dtype(),
                   "Graph::param: gradient buffer of shape ", grad.shape().str(), " (",
                   dtype_name(grad.dtype()), ") does not match parameter of shape ",
                   value.shape().str(), " (", dtype_name(value.dtype()), ")");
    Var v = add_leaf(value, true);
    Node& n = node(v);
    n.grad = grad;
    n.external_grad = true;
    n.grad_stale = std::move(stale);
    return v;
}

Var Graph::variable(const Tensor& value) { return add_leaf(value, true); }

Tensor Graph::make_tensor(const Shape& shape, DType dtype) {
    size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
    return Tensor::view(arena_.alloc(bytes), shape, dtype);
}

Tensor Graph::make_zeros(const Shape& shape, DType dtype) {
    Tensor t = make_tensor(shape, dtype);
    t.zero();
    return t;
}

Var Graph::record(const char* op, const Tensor& value, BackwardFn backward_fn,
                  std::initializer_list<Var> inputs) {
    bool rg = false;
    for (const Var& v : inputs) {
        if (!v.defined()) continue;
        BENCHTOP_CHECK(v.g == this, op, ": input belongs to a different graph");
        rg = rg || node(v.id).requires_grad;
    }
    Node& n = nodes_.emplace_back();
    n.id = static_cast<int32_t>(nodes_.size() - 1);
    n.value = value;
    n.op = op;
    n.requires_grad = rg && grad_enabled_;
    if (n.requires_grad) {
        n.backward = backward_fn;
        for (const Var& v : inputs) {
            if (!v.defined()) {
                n.inputs[static_cast<size_t>(n.n_inputs++)] = -1;
                continue;
            }
            BENCHTOP_CHECK(n.n_inputs < static_cast<int32_t>(n.inputs.size()), op, ": more than ",
                           n.inputs.size(), " inputs");
            n.inputs[static_cast<size_t>(n.n_inputs++)] = v.id;
        }
    }
    return Var{this, n.id};
}

Tensor& Graph::grad(int32_t id) {
    Node& n = node(id);
    if (n.grad.raw() == nullptr) n.grad = make_zeros(n.value.shape(), n.value.dtype());
    if (n.grad_stale && *n.grad_stale) {
        n.grad.zero();
        *n.grad_stale = false;
    }
    return n.grad;
}

Tensor& Graph::grad_for_write(int32_t id, bool* overwrite) {
    Node& n = node(id);
    if (n.grad_stale && *n.grad_stale) {
        *overwrite = true;
        *n.grad_stale = false;
        return n.grad;
    }
    *overwrite = n.grad.raw() == nullptr;
    if (*overwrite) n.grad = make_tensor(n.value.shape(), n.value.dtype());
    return n.grad;
}

void Graph::backward(Var root) { backward(root, Tensor()); }

void Graph::backward(Var root, const Tensor& seed) {
    BENCHTOP_CHECK(root.g == this, "backward: root belongs to a different graph");
    Node& r = node(root);
    BENCHTOP_CHECK(r.requires_grad, "backward: the root (op '", r.op,
                   "') does not depend on any parameter or variable");
    Tensor& root_grad = grad(root.id);
    if (seed.raw() == nullptr) {
        root_grad.fill(1.0);
    } else {
        BENCHTOP_CHECK(seed.shape() == root_grad.shape(), "backward: seed of shape ",
                       seed.shape().str(), " does not match the root of shape ",
                       root_grad.shape().str());
        root_grad.copy_from(seed);
    }
    for (int32_t i = root.id; i >= 0; --i) {
        Node& n = nodes_[static_cast<size_t>(i)];
        if (!n.requires_grad || n.backward == nullptr) continue;
        if (n.grad.raw() == nullptr) continue;  // no gradient reached this node
        n.backward(*this, n);
    }
}

void Graph::reset() {
    nodes_.clear();
    arena_.reset();
}

}  // namespace benchtop
