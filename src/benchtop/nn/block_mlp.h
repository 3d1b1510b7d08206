// A ReLU MLP of `depth` equal hidden blocks with the two standard fixes for depth as options,
// for a stack of K members (the trainability experiment's model):
//
//   block l:  z = Linear_l(h)  ->  norm(z) (none, LayerNorm, or BatchNorm over the batch)  ->  relu
//   plain:    h_l = block_l(h_{l-1})
//   residual: h_l = h_{l-1} + block_l(h_{l-1})   for l >= 2 (block 1 maps the input to the width)
//   logits = Linear_out(h_depth)
//
// Names follow PyTorch: "blocks.<l>.linear.weight" [width, fan_in], ".bias", "blocks.<l>.norm.
// weight" / ".bias" [width] (norm != none), "out.weight" [out, width], "out.bias". BatchNorm's
// running statistics live in a BlockMlpState ([K, width] per block) and are updated in training
// mode (momentum 0.1, as torch).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "benchtop/nn/params.h"

namespace benchtop {

enum class NormKind { None, Layer, Batch };
NormKind norm_kind_from_string(const std::string& name);  // none, layer, batch

struct BlockMlpSpec {
    int64_t in = 40;
    int64_t width = 64;
    int64_t depth = 4;
    int64_t out = 10;
    NormKind norm = NormKind::None;
    bool residual = false;
};

struct BlockMlpState {
    std::vector<Tensor> running_mean, running_var;  // BatchNorm only, one pair per block
};

// Adds the parameters (Linear weights and biases zero, norm weights one, norm biases zero).
void add_block_mlp_params(ParamSet& ps, const BlockMlpSpec& spec);
// Running statistics for BatchNorm (means 0, variances 1), empty otherwise.
BlockMlpState make_block_mlp_state(const BlockMlpSpec& spec, int64_t members);
// x [K or 1, B, in] -> logits [K, B, out].
Var block_mlp_forward(ParamSet& ps, const BlockMlpSpec& spec, BlockMlpState& state, Var x, bool training);
// Weights N(0, (scale_k * sqrt(2 / fan_in))^2) for every Linear (He normal times a per-member
// multiplier), biases zero, norm parameters as added.
void init_block_mlp(ParamSet& ps, const BlockMlpSpec& spec, std::span<const uint64_t> seeds,
                    std::span<const double> scale);
std::string block_linear_name(int64_t block);   // "blocks.<l>.linear"

}  // namespace benchtop
