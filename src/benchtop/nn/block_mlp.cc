#include "benchtop/nn/block_mlp.h"

#include "benchtop/nn/init.h"
#include "benchtop/ops/ops.h"

namespace benchtop {

NormKind norm_kind_from_string(const std::string& name) {
    if (name == "none") return NormKind::None;
    if (name == "layer") return NormKind::Layer;
    if (name == "batch") return NormKind::Batch;
    fail("unknown norm '", name, "' (expected none, layer or batch)");
}

std::string block_linear_name(int64_t block) { return "blocks." + std::to_string(block) + ".linear"; }

namespace {
std::string norm_name(int64_t block) { return "blocks." + std::to_string(block) + ".norm"; }
void check_spec(const BlockMlpSpec& s) {
    BENCHTOP_CHECK(s.in > 0 && s.width > 0 && s.depth > 0 && s.out > 0,
                   "BlockMlpSpec: in, width, depth and out must be positive, got ", s.in, ", ", s.width, ", ",
                   s.depth, ", ", s.out);
}
}  // namespace

void add_block_mlp_params(ParamSet& ps, const BlockMlpSpec& s) {
    check_spec(s);
    for (int64_t l = 0; l < s.depth; ++l) {
        ps.add(block_linear_name(l) + ".weight", {s.width, l == 0 ? s.in : s.width});
        ps.add(block_linear_name(l) + ".bias", {s.width});
        if (s.norm != NormKind::None) {
            Tensor& w = ps.add(norm_name(l) + ".weight", {s.width});
            w.fill(1.0);
            ps.add(norm_name(l) + ".bias", {s.width});
        }
    }
    ps.add("out.weight", {s.out, s.width});
    ps.add("out.bias", {s.out});
}

BlockMlpState make_block_mlp_state(const BlockMlpSpec& s, int64_t members) {
    BlockMlpState st;
    if (s.norm != NormKind::Batch) return st;
    for (int64_t l = 0; l < s.depth; ++l) {
        st.running_mean.push_back(Tensor::zeros({members, s.width}, DType::F32));
        Tensor v = Tensor::empty({members, s.width}, DType::F32);
        v.fill(1.0);
        st.running_var.push_back(v);
    }
    return st;
}

Var block_mlp_forward(ParamSet& ps, const BlockMlpSpec& s, BlockMlpState& st, Var x, bool training) {
    check_spec(s);
    Graph& g = *x.g;
    Var h = x;
    for (int64_t l = 0; l < s.depth; ++l) {
        Var z = linear(h, ps.var(g, block_linear_name(l) + ".weight"), ps.var(g, block_linear_name(l) + ".bias"));
        if (s.norm == NormKind::Layer)
            z = layer_norm(z, ps.var(g, norm_name(l) + ".weight"), ps.var(g, norm_name(l) + ".bias"));
        else if (s.norm == NormKind::Batch)
            z = batch_norm(z, ps.var(g, norm_name(l) + ".weight"), ps.var(g, norm_name(l) + ".bias"),
                           st.running_mean.at(size_t(l)), st.running_var.at(size_t(l)), training);
        z = relu(z);
        h = (s.residual && l > 0) ? add(h, z) : z;
    }
    return linear(h, ps.var(g, "out.weight"), ps.var(g, "out.bias"));
}

void init_block_mlp(ParamSet& ps, const BlockMlpSpec& s, std::span<const uint64_t> seeds,
                    std::span<const double> scale) {
    for (int64_t l = 0; l < s.depth; ++l) init_kaiming_normal(ps, block_linear_name(l) + ".weight", seeds, scale);
    init_kaiming_normal(ps, "out.weight", seeds, scale);
}

}  // namespace benchtop
