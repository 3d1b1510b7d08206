// The tape: define-by-run reverse-mode autograd.
// A Graph records, for every op, its output value and a plain function pointer that
// propagates the output gradient to the inputs. Values and gradients of intermediate
// nodes live in the graph's arena; reset() (once per training step) frees them all.
// Parameters are leaves whose value and gradient are views into a ParamSet, so the
// gradient lands directly where the optimizer reads it.
//
//   Graph g;
//   Var x = g.input(batch);                    // [1, B, D] shared by all members
//   Var w = g.param(ps.value("w"), ps.grad("w"));
//   Var loss = sum_all(relu(matmul(x, w)));
//   g.backward(loss);                          // accumulates into ps.grad("w")
//   g.reset();
//
// Writing an op: compute the output with g.make_tensor(), then
//   Var out = g.record("op_name", value, backward_fn, {a, b});
//   if (out.records()) { Node& n = g.node(out); n.saved[0] = ...; n.iarg[0] = ...; }
// backward_fn(Graph&, const Node&) reads g.grad(n.id) and accumulates (+=) into
// g.grad(n.inputs[i]) for each input with g.needs_grad(n.inputs[i]).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "benchtop/tensor/arena.h"
#include "benchtop/tensor/tensor.h"

namespace benchtop {

class Graph;
struct Node;

using BackwardFn = void (*)(Graph& g, const Node& n);

// A handle to a node of a graph. Cheap to copy.
struct Var {
    Graph* g = nullptr;
    int32_t id = -1;

    bool defined() const { return g != nullptr && id >= 0; }
    const Tensor& value() const;
    const Shape& shape() const;
    DType dtype() const;
    bool requires_grad() const;
    // True when the node recorded a backward function (so saved fields are used).
    bool records() const;
};

struct Node {
    Tensor value;
    Tensor grad;  // empty until backward reaches the node (or external, for parameters)
    BackwardFn backward = nullptr;
    const char* op = "";
    int32_t id = -1;
    int32_t n_inputs = 0;
    std::array<int32_t, 6> inputs{-1, -1, -1, -1, -1, -1};
    std::array<Tensor, 3> saved;    // extra tensors kept from the forward pass
    std::array<int64_t, 8> iarg{};  // integer arguments of the op
    std::array<double, 4> farg{};   // real arguments of the op
    const void* ptr = nullptr;      // op-specific pointer (must outlive the step)
    bool requires_grad = false;
    bool external_grad = false;  // grad is a view owned by someone else (parameters)
    // For a parameter of a ParamSet: true while its external grad stands for zeros
    // (ParamSet::zero_grad), so that the first write assigns.
    std::shared_ptr<bool> grad_stale;
};

class Graph {
public:
    explicit Graph(size_t arena_bytes = size_t{1} << 20);
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;

    // Leaves.
    Var input(const Tensor& value);  // constant: no gradient
    // Trainable leaf: gradient accumulates into `grad` (same shape and dtype as value). With
    // `stale` (a ParamSet's flag) set, grad's contents stand for zeros: the first op to write
    // it assigns, or it is zeroed on first access; either clears the flag.
    Var param(const Tensor& value, const Tensor& grad, std::shared_ptr<bool> stale = nullptr);
    // Leaf whose gradient is kept in the arena (read it with grad(v) after backward).
    Var variable(const Tensor& value);

    // Arena tensors, valid until reset().
    Tensor make_tensor(const Shape& shape, DType dtype);
    Tensor make_zeros(const Shape& shape, DType dtype);

    // Records an op output. Inputs that are undefined Vars are skipped.
    Var record(const char* op, const Tensor& value, BackwardFn backward,
               std::initializer_list<Var> inputs);

    Node& node(Var v) { return nodes_[static_cast<size_t>(v.id)]; }
    const Node& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
    Node& node(int32_t id) { return nodes_[static_cast<size_t>(id)]; }
    bool needs_grad(int32_t id) const { return id >= 0 && node(id).requires_grad; }
    // Gradient of a node, allocated zeroed on first use.
    Tensor& grad(int32_t id);
    Tensor& grad(Var v) { return grad(v.id); }
    // Gradient of a node for an op that writes every element: when nothing has been
    // accumulated yet it is allocated without zeroing and *overwrite is set, and the op must
    // assign (=) instead of accumulating (+=). Saves a memset per intermediate gradient.
    Tensor& grad_for_write(int32_t id, bool* overwrite);

    // Seeds d(sum of root)/d(root) = 1 and runs every recorded backward function once,
    // newest first.
    void backward(Var root);
    // Same, seeding d(loss)/d(root) = seed (shape of root): a vector-Jacobian product.
    void backward(Var root, const Tensor& seed);
    // Drops all nodes and frees the arena.
    void reset();

    // While disabled, ops compute values but record no backward functions (evaluation).
    void set_grad_enabled(bool on) { grad_enabled_ = on; }
    bool grad_enabled() const { return grad_enabled_; }
    size_t size() const { return nodes_.size(); }
    Arena& arena() { return arena_; }

private:
    Var add_leaf(const Tensor& value, bool requires_grad);

    Arena arena_;
    std::vector<Node> nodes_;
    bool grad_enabled_ = true;
};

// Restores the previous grad mode on scope exit.
class NoGradScope {
public:
    explicit NoGradScope(Graph& g) : g_(g), prev_(g.grad_enabled()) { g.set_grad_enabled(false); }
    ~NoGradScope() { g_.set_grad_enabled(prev_); }
    NoGradScope(const NoGradScope&) = delete;
    NoGradScope& operator=(const NoGradScope&) = delete;

private:
    Graph& g_;
    bool prev_;
};

}  // namespace benchtop
