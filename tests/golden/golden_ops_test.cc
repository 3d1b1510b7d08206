// Every op case of tests/golden/cases/ops_*.json (written by make_golden.py from PyTorch):
// benchtop's float32 forward output and the input gradients for the stored upstream gradient
// must match within golden::kRelTol.
//
// A family runs once its implementation file is on the branch (detected with __has_include,
// since the ops are declared in headers before they are implemented); until then its test is
// skipped with a reason.// Note: the build system does not know about files that do not exist yet, so after merging an
// implementation into an existing build directory, touch this file (or reconfigure) to re-run
// the detection.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "benchtop/ops/ops.h"
#include "support/golden.h"

#if __has_include("benchtop/ops/elementwise.cc")
#define GOLDEN_HAVE_ELEMENTWISE 1
#else
#define GOLDEN_HAVE_ELEMENTWISE 0
#endif
#if __has_include("benchtop/ops/reduce.cc")
#define GOLDEN_HAVE_REDUCE 1
#else
#define GOLDEN_HAVE_REDUCE 0
#endif
#if __has_include("benchtop/ops/loss.cc")
#define GOLDEN_HAVE_LOSS 1
#else
#define GOLDEN_HAVE_LOSS 0
#endif
#if __has_include("benchtop/ops/linalg.cc")
#define GOLDEN_HAVE_LINALG 1
#else
#define GOLDEN_HAVE_LINALG 0
#endif
#if __has_include("benchtop/ops/conv.cc")
#define GOLDEN_HAVE_CONV 1
#else
#define GOLDEN_HAVE_CONV 0
#endif
#if __has_include("benchtop/ops/norm.cc")
#define GOLDEN_HAVE_NORM 1
#else
#define GOLDEN_HAVE_NORM 0
#endif
#if __has_include("benchtop/ops/shape_ops.cc")
#define GOLDEN_HAVE_SHAPE 1
#else
#define GOLDEN_HAVE_SHAPE 0
#endif
#if __has_include("benchtop/ops/attention.cc")
#define GOLDEN_HAVE_ATTENTION 1
#else
#define GOLDEN_HAVE_ATTENTION 0
#endif

namespace benchtop {
namespace {

using golden::json;

// The inputs of one case, as graph leaves (variables for differentiable ones).
struct CaseInputs {
    std::vector<std::string> names;
    std::vector<Tensor> tensors;
    std::vector<Var> vars;  // undefined for int32 inputs
    std::map<std::string, size_t> index;

    Var var(const std::string& n) const {
        auto it = index.find(n);
        return it == index.end() ? Var{} : vars[it->second];
    }
    const Tensor& tensor(const std::string& n) const { return tensors[index.at(n)]; }
    bool has(const std::string& n) const { return index.count(n) != 0; }
};

// Builds the op of case `c` on its inputs; an undefined Var for an unknown op.
using Runner = Var (*)(const json& args, const std::string& op, const CaseInputs& in);

#if GOLDEN_HAVE_ELEMENTWISE
Var run_elementwise(const json& a, const std::string& op, const CaseInputs& in) {
    if (op == "add") return add(in.var("a"), in.var("b"));
    if (op == "sub") return sub(in.var("a"), in.var("b"));
    if (op == "mul") return mul(in.var("a"), in.var("b"));
    if (op == "div") return div(in.var("a"), in.var("b"));
    Var x = in.var("x");
    if (op == "add_scalar") return add_scalar(x, a.at("s").get<double>());
    if (op == "mul_scalar") return mul_scalar(x, a.at("s").get<double>());
    if (op == "neg") return neg(x);
    if (op == "relu") return relu(x);
    if (op == "leaky_relu") return leaky_relu(x, a.at("negative_slope").get<double>());
    if (op == "elu") return elu(x, a.at("alpha").get<double>());
    if (op == "gelu") return gelu(x);
    if (op == "tanh") return benchtop::tanh(x);
    if (op == "sigmoid") return sigmoid(x);
    if (op == "softplus")
        return softplus(x, a.at("beta").get<double>(), a.at("threshold").get<double>());
    if (op == "exp") return benchtop::exp(x);
    if (op == "log") return benchtop::log(x);
    if (op == "sqrt") return benchtop::sqrt(x);
    if (op == "pow") return benchtop::pow(x, a.at("exponent").get<double>());
    if (op == "abs") return benchtop::abs(x);
    return {};
}
#endif

#if GOLDEN_HAVE_REDUCE
Var run_reduce(const json& a, const std::string& op, const CaseInputs& in) {
    Var x = in.var("x");
    if (op == "sum") return sum(x, a.at("axis").get<int>(), a.at("keepdim").get<bool>());
    if (op == "mean") return mean(x, a.at("axis").get<int>(), a.at("keepdim").get<bool>());
    if (op == "max") return benchtop::max(x, a.at("axis").get<int>(), a.at("keepdim").get<bool>());
    if (op == "sum_all") return sum_all(x);
    if (op == "mean_all") return mean_all(x);
    if (op == "softmax") return softmax(x, a.at("axis").get<int>());
    if (op == "log_softmax") return log_softmax(x, a.at("axis").get<int>());
    return {};
}
#endif

#if GOLDEN_HAVE_LOSS
Reduction reduction_of(const std::string& s) {
    if (s == "mean") return Reduction::Mean;
    if (s == "sum") return Reduction::Sum;
    return Reduction::None;
}

Var run_loss(const json& a, const std::string& op, const CaseInputs& in) {
    Reduction r = reduction_of(a.at("reduction").get<std::string>());
    if (op == "cross_entropy") return cross_entropy(in.var("logits"), in.tensor("labels"), r);
    if (op == "mse_loss") return mse_loss(in.var("pred"), in.var("target"), r);
    return {};
}
#endif

#if GOLDEN_HAVE_LINALG
Var run_linalg(const json&, const std::string& op, const CaseInputs& in) {
    if (op == "matmul") return matmul(in.var("a"), in.var("b"));
    if (op == "linear") return linear(in.var("x"), in.var("w"), in.var("b"));
    return {};
}
#endif

#if GOLDEN_HAVE_CONV
Var run_conv(const json& a, const std::string& op, const CaseInputs& in) {
    if (op == "conv1d")
        return conv1d(in.var("x"), in.var("w"), in.var("b"), a.at("stride").get<int>(),
                      a.at("padding").get<int>());
    if (op == "max_pool1d")
        return max_pool1d(in.var("x"), a.at("kernel").get<int>(), a.at("stride").get<int>(),
                          a.at("padding").get<int>());
    if (op == "avg_pool1d")
        return avg_pool1d(in.var("x"), a.at("kernel").get<int>(), a.at("stride").get<int>(),
                          a.at("padding").get<int>());
    return {};
}
#endif

#if GOLDEN_HAVE_NORM
Var run_norm(const json& a, const std::string& op, const CaseInputs& in) {
    if (op == "layer_norm")
        return layer_norm(in.var("x"), in.var("weight"), in.var("bias"), a.at("eps").get<double>());
    if (op == "batch_norm")
        return batch_norm(in.var("x"), in.var("weight"), in.var("bias"),
                          in.tensor("running_mean"), in.tensor("running_var"),
                          a.at("training").get<bool>(), a.at("momentum").get<double>(),
                          a.at("eps").get<double>());
    return {};
}
#endif

#if GOLDEN_HAVE_SHAPE
Var run_shape(const json& a, const std::string& op, const CaseInputs& in) {
    if (op == "reshape") return reshape(in.var("x"), Shape(a.at("shape").get<std::vector<int64_t>>()));
    if (op == "permute") return permute(in.var("x"), a.at("order").get<std::vector<int>>());
    if (op == "transpose")
        return transpose(in.var("x"), a.at("axis0").get<int>(), a.at("axis1").get<int>());
    if (op == "concat") {
        std::vector<Var> xs;
        for (size_t i = 0; in.has("x" + std::to_string(i)); ++i)
            xs.push_back(in.var("x" + std::to_string(i)));
        return concat(xs, a.at("axis").get<int>());
    }
    if (op == "slice")
        return slice(in.var("x"), a.at("axis").get<int>(), a.at("start").get<int64_t>(),
                     a.at("end").get<int64_t>());
    if (op == "embedding") return embedding(in.tensor("indices"), in.var("weight"));
    return {};
}
#endif

#if GOLDEN_HAVE_ATTENTION
Var run_attention(const json& a, const std::string& op, const CaseInputs& in) {
    if (op == "attention")
        return attention(in.var("q"), in.var("k"), in.var("v"), a.at("n_heads").get<int64_t>(),
                         a.at("causal").get<bool>());
    return {};
}
#endif

// Runs every case of cases/<file>; returns the largest relative error seen.
double run_family(const std::string& file, Runner runner) {
    json doc = golden::load(file);
    double worst = 0;
    int n = 0;
    for (const json& c : doc.at("cases")) {
        const std::string name = c.at("name").get<std::string>();
        const std::string op = c.at("op").get<std::string>();
        SCOPED_TRACE(file + ": " + name);
        Graph g;
        CaseInputs in;
        for (const json& t : c.at("inputs")) {
            std::string n_ = t.at("name").get<std::string>();
            in.index[n_] = in.names.size();
            in.names.push_back(n_);
            Tensor v = golden::input_tensor(t);
            in.tensors.push_back(v);
            if (v.dtype() == DType::I32)
                in.vars.push_back(Var{});
            else if (t.at("grad").get<bool>())
                in.vars.push_back(g.variable(v));
            else
                in.vars.push_back(g.input(v));
        }
        Var out;
        try {
            out = runner(c.at("args"), op, in);
        } catch (const std::exception& e) {
            ADD_FAILURE() << name << ": " << op << " threw: " << e.what();
            continue;
        }
        if (!out.defined()) {
            ADD_FAILURE() << name << ": no runner for op " << op;
            continue;
        }
        worst = std::max(worst, golden::expect_close(out.value(), c.at("output"), name + " output"));
        // Running statistics updated by the forward pass (batch norm in training mode).
        for (auto& [key, ref] : c.at("extra").items())
            worst = std::max(worst, golden::expect_close(in.tensor(key), ref, name + " " + key));
        g.backward(out, golden::tensor(c.at("upstream")));
        for (auto& [key, ref] : c.at("grads").items()) {
            Var v = in.var(key);
            if (!v.defined()) {
                ADD_FAILURE() << name << ": gradient for non-differentiable input " << key;
                continue;
            }
            worst = std::max(worst, golden::expect_close(g.grad(v), ref, name + " d" + key));
        }
        ++n;
    }
    EXPECT_GT(n, 0) << file << " holds no cases";
    std::printf("[ golden   ] %-22s %3d cases, max relative error %.3g\n", file.c_str(), n, worst);
    return worst;
}

#if GOLDEN_HAVE_ELEMENTWISE
TEST(GoldenOps, Elementwise) { run_family("ops_elementwise.json", run_elementwise); }
#else
TEST(GoldenOps, Elementwise) { GTEST_SKIP() << "src/benchtop/ops/elementwise.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_REDUCE
TEST(GoldenOps, Reduce) { run_family("ops_reduce.json", run_reduce); }
#else
TEST(GoldenOps, Reduce) { GTEST_SKIP() << "src/benchtop/ops/reduce.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_LOSS
TEST(GoldenOps, Loss) { run_family("ops_loss.json", run_loss); }
#else
TEST(GoldenOps, Loss) { GTEST_SKIP() << "src/benchtop/ops/loss.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_LINALG
TEST(GoldenOps, Linalg) { run_family("ops_linalg.json", run_linalg); }
#else
TEST(GoldenOps, Linalg) { GTEST_SKIP() << "src/benchtop/ops/linalg.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_CONV
TEST(GoldenOps, Conv) { run_family("ops_conv.json", run_conv); }
#else
TEST(GoldenOps, Conv) { GTEST_SKIP() << "src/benchtop/ops/conv.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_NORM
TEST(GoldenOps, Norm) { run_family("ops_norm.json", run_norm); }
#else
TEST(GoldenOps, Norm) { GTEST_SKIP() << "src/benchtop/ops/norm.cc not on this branch yet"; }
#endif
#if GOLDEN_HAVE_SHAPE
TEST(GoldenOps, Shape) { run_family("ops_shape.json", run_shape); }
#else
TEST(GoldenOps, Shape) { GTEST_SKIP() << "src/benchtop/ops/shape_ops.cc not on this branch yet"; }
#endif

#if GOLDEN_HAVE_ATTENTION
TEST(GoldenOps, Attention) { run_family("ops_attention.json", run_attention); }
#else
TEST(GoldenOps, Attention) { GTEST_SKIP() << "src/benchtop/ops/attention.cc not on this branch yet"; }
#endif

TEST(GoldenOps, ManifestListsEveryFile) {
    json m = golden::load("MANIFEST.json");
    EXPECT_FALSE(m.at("torch").get<std::string>().empty());
    for (const json& f : m.at("files")) EXPECT_NO_THROW(golden::load(f.at("file").get<std::string>()));
}

}  // namespace
}  // namespace benchtop
