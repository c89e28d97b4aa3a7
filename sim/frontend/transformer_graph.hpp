#pragma once
// Builds the compiler's graph IR (sim/compiler/ir/graph.hpp) for one forward step of a
// transformer described by a TransformerSpec. Plain C++.
//
// Conventions (the compiler and sim/frontend/reference_transformer.cpp rely on them):
//   - activations are [B*T, features]: B sequences (the batch) one after another, T = new
//     tokens of this step each; every weight matmul takes all B*T rows (a weight block is
//     loaded once for the whole batch). Attention is per sequence: rows b*T .. b*T+T-1 (row
//     Slice views), its own KV caches, outputs joined by a row Concat "l{i}.attn.attention";
//     at B = 1 there are no slices and the attention node is "l{i}.attn.attention" itself;
//   - MatMul inputs are (x, w) with w [K, N] = (in, out), y = x w; int attr "transpose_w" = 1
//     means w is [N, K] and y = x w^T (the tied LM head on the [vocab, hidden] embedding table);
//   - Gather inputs are (table [V, N], ids [T]);
//   - inputs "token_ids" [B*T] (bert also "token_type_ids" [B*T]), sequence-major; learned
//     positions are a Slice of rows past .. past+T-1 of "pos_embed.weight" (repeated B times
//     by a row Concat); Rope nodes carry "rows_per_sequence" = T (row r is at position
//     past + r mod T);
//   - KV caches are State tensors "l{i}.k_cache" / "l{i}.v_cache" [max_positions, kv_heads*head_dim]
//     at B = 1, "l{i}.s{b}.k_cache" / "l{i}.s{b}.v_cache" for sequence b at B > 1;
//     the Attention node takes q and k after rope and appends k, v to them itself;
//   - the output is "logits" [B*T, vocab], or for bert "hidden" [B*T, hidden];
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

#include "compiler/ir/graph.hpp"
#include "frontend/transformer_spec.hpp"

namespace lpusim {

/// One forward step of `batch` sequences over `tokens` new tokens each, with `past`
/// positions already cached per sequence (prefill: tokens = prompt, past = 0; decode:
/// tokens = 1, past = P). Weight tensors carry their init description (make_weight_values in
/// sim/compiler/ir/weight_init.hpp gives the values). Throws InputError if tokens < 1, batch < 1,
/// past < 0 or past + tokens exceeds max_positions.
Graph build_transformer_graph(const TransformerSpec& spec, std::int64_t tokens, std::int64_t past, std::int64_t batch = 1);

/// SRAM vectors (one 320-lane fp32 row tile each) that the KV caches of `batch` sequences
/// of `positions` positions take: layers x 2 (k, v) x positions x ceil(kv width / lanes).
std::int64_t kv_cache_vectors(const TransformerSpec& spec, std::int64_t batch, std::int64_t positions, std::int64_t lanes);

/// The string used for RopeScaling kinds in Rope node attrs ("none", "linear", "llama3").
const char* rope_scaling_name(RopeScaling::Kind kind);

}  // namespace lpusim
