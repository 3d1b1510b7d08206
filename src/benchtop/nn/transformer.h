// A decoder-only (causal) transformer for a stack of K members: token and learned position
// embeddings, n_layers residual blocks of multi-head self-attention and a ReLU (or GELU) MLP (pre-norm
// with a final norm when layer_norm), and an unembedding Linear with bias.
//
//   block:  x = x + attn.out(attention(attn.q(x'), attn.k(x'), attn.v(x'), n_heads, causal))
//           x = x + mlp.fc2(relu(mlp.fc1(x'')))       x' = ln1(x), x'' = ln2(x) (or x itself)
//
// Parameter names are PyTorch-like, each [K, ...] in torch's layout: "embed.weight" [vocab, d],
// "pos_embed.weight" [max_seq, d], "blocks.<l>.attn.{q,k,v,out}.{weight,bias}",
// "blocks.<l>.mlp.{fc1,fc2}.{weight,bias}", with layer_norm "blocks.<l>.ln{1,2}.{weight,bias}"
// and "ln_f.{weight,bias}", and "unembed.{weight,bias}" [out, d].
//
//   TransformerSpec spec{.vocab = 60, .max_seq = 3, .d_model = 128, .n_heads = 4, .d_mlp = 512};
//   ParamSet ps(/*n_members=*/2);
//   add_transformer_params(ps, spec);
//   init_transformer(ps, spec, seeds);
//   Var logits = transformer_forward(g, ps, spec, tokens, /*n_last=*/1);   // [2, B, 1, 60]
//
// The first block's input, layer norm and query/key/value projections depend only on each
// position's (token, position) pair. With token_table and B > vocab they are computed once per
// pair, on a [vocab * T, d] table, and every sequence gathers its rows (an embedding lookup, whose
// backward sums the rows' gradients): the same values bit for bit in float32, gradients equal up
// to rounding (summed in another order), and for the grokking model (B = 1392, vocab 60) about
// 40% fewer multiply-adds per step.
//
// With n_last > 0 the last block computes queries, attention output, MLP and unembedding only
// for the last n_last positions (keys and values still for every position): the same bits as
// slicing the full output, in float32 (benchtop's GEMM computes every output element alone).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "benchtop/nn/params.h"

namespace benchtop {

struct TransformerSpec {
    int64_t vocab = 0;       // input tokens in [0, vocab)
    int64_t max_seq = 0;     // learned position embeddings for positions [0, max_seq)
    int64_t d_model = 128;
    int64_t n_heads = 4;     // must divide d_model
    int64_t d_mlp = 512;
    int64_t n_layers = 1;    // >= 0 (0: embeddings straight into the unembedding)
    bool layer_norm = false;  // pre-norm blocks + final norm when true
    bool gelu = false;        // the MLP's activation: GELU (exact, as torch's default) instead of ReLU
    int64_t out = 0;         // unembedding size (0: vocab)
    // Standard deviation of the token and position embeddings at initialisation (1: torch's
    // nn.Embedding; Nanda et al.'s grokking model uses 1 / sqrt(d_model)).
    double embed_std = 1.0;
    // Run the first block's position-wise work on a [vocab, T] table (see transformer_forward)
    // when a batch holds more sequences than the vocabulary has tokens.
    bool token_table = true;
};

// The unembedding size: spec.out, or spec.vocab when 0.
int64_t transformer_out_size(const TransformerSpec& spec);
// "blocks.<l>." (prefix of block l's parameter names).
std::string transformer_block_prefix(int64_t layer);
// Adds every parameter, zero-initialised (layer norm weights one). Throws on bad sizes.
void add_transformer_params(ParamSet& ps, const TransformerSpec& spec);
// Token and position embeddings ~ N(0, 1) (torch.nn.Embedding's default), times embed_std; every Linear torch's
// default, weight and bias uniform(+-1/sqrt(fan_in)) (nn/init.h init_default); layer norm
// weight 1 and bias 0. scale[k] (optional) multiplies every drawn value of member k (the
// embeddings and the Linear weights and biases) like the other initialisers; the layer norm
// parameters keep 1 and 0, as nn/block_mlp.h's. Member k's values depend only on seeds[k].
void init_transformer(ParamSet& ps, const TransformerSpec& spec, std::span<const uint64_t> seeds,
                      std::span<const double> scale = {});
// tokens int32 [1, B, T] (shared by all members) or [K, B, T], 1 <= T <= max_seq.
// Returns logits [K, B, n_last, out] for the last n_last positions (n_last = 0: all T).
Var transformer_forward(Graph& g, ParamSet& ps, const TransformerSpec& spec, const Tensor& tokens,
                        int64_t n_last = 0);
// Parameters per member.
int64_t transformer_param_count(const TransformerSpec& spec);

}  // namespace benchtop
