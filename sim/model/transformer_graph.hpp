#pragma once
// Builds the compiler's graph IR (sim/compiler/graph.hpp) for one forward step of a
// transformer described by a ModelSpec. Plain C++.
//
// Conventions (the compiler and sim/model/reference.cpp rely on them):
//   - activations are [T, features], T = new tokens of this step, batch 1;
//   - MatMul inputs are (x, w) with w [K, N] = (in, out), y = x w; int attr "transpose_w" = 1
//     means w is [N, K] and y = x w^T (the tied LM head on the [vocab, hidden] embedding table);
//   - Gather inputs are (table [V, N], ids [T]);
//   - inputs "token_ids" [T] (bert also "token_type_ids" [T]); learned positions are a Slice
//     of rows past .. past+T-1 of "pos_embed.weight";
//   - KV caches are State tensors "l{i}.k_cache" / "l{i}.v_cache" [max_positions, kv_heads*head_dim];
//     the Attention node takes q and k after rope and appends k, v to them itself;
//   - the output is "logits" [T, vocab], or for bert "hidden" [T, hidden];
//   - MoeMlp inputs are x, router [hidden, experts], then e0.w1 (gate) [hidden, F],
//     e0.w3 (up) [hidden, F], e0.w2 (down) [F, hidden], e1.w1, ... ; attrs experts, top_k,
//     activation; Hugging Face Mixtral semantics (softmax over all router logits, top-k,
//     renormalise over the chosen k, weighted sum of the gated experts).
//   - weight names: embed.weight, pos_embed.weight, type_embed.weight, embed_norm.{weight,bias},
//     l{i}.attn_norm.{weight,bias}, l{i}.attn.{q,k,v,o}.{weight,bias}, l{i}.mlp_norm.{weight,bias},
//     l{i}.mlp.{gate,up,down}.weight (gated) or l{i}.mlp.{fc1,fc2}.{weight,bias},
//     l{i}.moe.router.weight, l{i}.moe.e{j}.{w1,w3,w2}.weight, final_norm.{weight,bias},
//     lm_head.weight [hidden, vocab] (untied only). For bert (post-norm) attn_norm and
//     mlp_norm are applied after the residual adds.
#include <cstdint>
#include <string>

#include "compiler/graph.hpp"
#include "model/model_spec.hpp"

namespace lpusim {

/// One forward step over `tokens` new tokens with `past` positions already cached
/// (prefill: tokens = prompt, past = 0; decode: tokens = 1, past = P). Weight tensors carry
/// their init description (make_weight_values in sim/model/weights.hpp gives the values).
/// Throws InputError if tokens < 1, past < 0 or past + tokens exceeds max_positions.
Graph build_transformer_graph(const ModelSpec& spec, std::int64_t tokens, std::int64_t past);

/// The string used for RopeScaling kinds in Rope node attrs ("none", "linear", "llama3").
const char* rope_scaling_name(RopeScaling::Kind kind);

}  // namespace lpusim
