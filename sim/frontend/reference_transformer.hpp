#pragma once
// A plain Eigen forward pass for each supported family, written directly from the
// TransformerSpec (not by interpreting the graph IR), so that a mistake in the graph builder or
// the compiler shows up as a mismatch against it. Weight values come from the graph's
// Weight tensors by name (make_weight_values), so both sides use the same numbers.
// Plain C++.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "compiler/ir/graph.hpp"
#include "frontend/transformer_spec.hpp"
#include "numerics/matmul_numerics.hpp"

namespace lpusim {

/// How the matmuls of the reference round (sim/numerics/matmul_numerics.hpp has the exact rules).
///   Fp32:       every op in fp32.
///   Fp16Matmul: every matmul (projections, LM head, router, q k^T and p v) takes fp16-rounded
///               operands and accumulates in fp32; everything else fp32.
///   Int8:       weight matmuls (q/k/v/o, MLP and expert projections, LM head) are int8 x int8
///               with int32 accumulation (per-column weight scales, per-tensor activation
///               scale: max|x| / 127 of the values at hand, or the compiler's calibrated
///               scale given by set_activation_scales); the attention matmuls and the MoE router stay fp16 as in Fp16Matmul
///               (a router flip would be a discrete change, and q k^T / p v have no weights).
enum class Precision { Fp32, Fp16Matmul, Int8 };
const char* precision_name(Precision p);

/// Rope inverse frequencies theta^(-2i/head_dim), i < head_dim/2, after rope scaling
/// (linear: divided by factor; llama3: Hugging Face's _compute_llama3_parameters), in double.
/// The rotation angle of position p, frequency i is p * inv_freq[i] (in double).
std::vector<double> rope_inverse_frequencies(std::int64_t head_dim, double theta, const RopeScaling& scaling);

/// Rotate-half rope on x [T, heads*head_dim], row t at position first_position + t: within
/// each head, (x1, x2) = halves, out = (x1 cos - x2 sin, x2 cos + x1 sin).
Eigen::MatrixXf apply_rope(const Eigen::MatrixXf& x, std::int64_t head_dim, std::int64_t first_position,
                           const std::vector<double>& inverse_frequencies);

float gelu_erf(float x);   ///< 0.5 x (1 + erf(x / sqrt 2))
float gelu_tanh(float x);  ///< 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
float silu(float x);       ///< x / (1 + exp(-x))
/// Softmax of each row (max subtracted first).
Eigen::MatrixXf softmax_rows(const Eigen::MatrixXf& x);

class ReferenceTransformer {
 public:
  /// Reads every weight the family needs from `weights` by name and checks its shape;
  /// throws std::invalid_argument naming the first weight missing or misshapen.
  ReferenceTransformer(const TransformerSpec& spec, const Graph& weights, Precision precision = Precision::Fp32);

  /// One step over token_ids at positions past .. past+T-1, attending to the first `past`
  /// cached positions of earlier calls (past may rewind below what is cached, never beyond).
  /// Returns logits [T, vocab], or for bert the last hidden state [T, hidden].
  /// token_type_ids (bert only) default to zeros.
  Eigen::MatrixXf forward(const std::vector<int>& token_ids, int past,
                          const std::vector<int>& token_type_ids = {});

  int cached_positions() const { return cached_; }

  /// Int8: fixed activation scales by the compiler's matmul node name (the weight's prefix,
  /// e.g. "l0.attn.q", "l1.mlp.down"; the LM head is "logits"), as calibrate_int8_scales set
  /// them. A weight matmul with a scale here quantises its input with it (clamping beyond
  /// 127 * scale) instead of max|x| / 127.
  void set_activation_scales(std::map<std::string, double> scales) { act_scales_ = std::move(scales); }

 private:
  struct Linear {
    Eigen::MatrixXf w;  ///< [in, out]
    Eigen::VectorXf b;  ///< [out] or empty
    Int8Weights q;      ///< filled for Precision::Int8
    std::string node;   ///< the compiler's matmul node name (for its activation scale)
  };
  struct Norm {
    Eigen::VectorXf gamma, beta;  ///< beta empty for RMSNorm
  };
  struct Expert {
    Linear w1, w3, w2;
  };
  struct Layer {
    Norm attn_norm, mlp_norm;
    Linear q, k, v, o;
    Linear gate, up, down;  ///< gated MLP
    Linear fc1, fc2;        ///< plain MLP
    Linear router;
    std::vector<Expert> experts;
    Eigen::MatrixXf k_cache, v_cache;  ///< [max_positions, kv_heads*head_dim], after rope
  };

  Linear load_linear(const Graph& g, const std::string& prefix, std::int64_t in, std::int64_t out, bool bias) const;
  Norm load_norm(const Graph& g, const std::string& prefix) const;
  Eigen::MatrixXf apply(const Linear& l, const Eigen::MatrixXf& x, bool weights_may_be_int8 = true) const;
  Eigen::MatrixXf matmul(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) const;  ///< activations x activations
  Eigen::MatrixXf norm(const Norm& n, const Eigen::MatrixXf& x) const;
  Eigen::MatrixXf activate(const Eigen::MatrixXf& x) const;
  Eigen::MatrixXf attention(Layer& layer, const Eigen::MatrixXf& x, int past);
  Eigen::MatrixXf mlp(const Layer& layer, const Eigen::MatrixXf& x) const;

  TransformerSpec spec_;
  Precision precision_;
  std::vector<double> inv_freq_;
  Eigen::MatrixXf embed_, pos_embed_, type_embed_;
  Norm embed_norm_, final_norm_;
  Linear lm_head_;
  std::vector<Layer> layers_;
  int cached_ = 0;
  std::map<std::string, double> act_scales_;
};

}  // namespace lpusim
