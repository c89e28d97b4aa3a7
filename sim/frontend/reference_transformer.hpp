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
///   Fp8E4M3, Fp8E5M2: the same weight matmuls as Int8 on an fp8 MXM: per-column fp8 weights,
///               per-tensor fp8 activations (max|x| / largest code, or the calibrated scale),
///               fp32 sums.
///   Int8Fp16, Fp8E4M3Fp16, Fp8E5M2Fp16: weights stored as int8 or fp8 codes with per-column
///               scales, multiplied on an fp16 MXM (activations rounded to fp16, fp32 sums):
///               only the weights' quantisation error remains.
enum class Precision { Fp32, Fp16Matmul, Int8, Fp8E4M3, Fp8E5M2, Int8Fp16, Fp8E4M3Fp16, Fp8E5M2Fp16 };
const char* precision_name(Precision p);
/// The precision of a compile with these weights and compute (fp16 weights: Fp16Matmul).
Precision precision_for(WeightType weights, MatmulCompute compute);

/// Rope inverse frequencies theta^(-2i/head_dim), i < head_dim/2, after rope scaling
/// (linear: divided by factor; llama3: Hugging Face's _compute_llama3_parameters), in double.
/// The rotation angle of position p, frequency i is p * inv_freq[i] (in double).
std::vector<double> rope_inverse_frequencies(std::int64_t head_dim, double theta, const RopeScaling& scaling);

/// Rotate-half rope on x [T, heads*head_dim], row t at position first_position + t: within
/// each head, (x1, x2) = halves, out = (x1 cos - x2 sin, x2 cos + x1 sin).
/// With rotary_dim r < head_dim (partial rotary, phi) only the first r lanes of each head
/// rotate (halves of r); inverse_frequencies then has r/2 entries. YaRN multiplies cos and
/// sin by its attention factor.
Eigen::MatrixXf apply_rope(const Eigen::MatrixXf& x, std::int64_t head_dim, std::int64_t first_position,
                           const std::vector<double>& inverse_frequencies, std::int64_t rotary_dim = 0,
                           double attention_factor = 1.0);

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
  /// Each weight matmul in the format its checkpoint stores it (the graph's
  /// TensorInfo::checkpoint_format: fp8 as fp8, MXFP4 values as fp8e4m3 codes with
  /// power-of-two column scales, the rest as Fp16Matmul), multiplied as `compute` says; as the
  /// compiler does with LoweringOptions::checkpoint_weights.
  ReferenceTransformer(const TransformerSpec& spec, const Graph& weights, MatmulCompute compute, bool checkpoint_weights);

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
    Int8Weights q;      ///< filled for the int8 precisions
    Fp8Weights q8;      ///< filled for the fp8 precisions
    Precision precision = Precision::Fp32;  ///< how this matmul multiplies
    bool mxfp4 = false;  ///< w holds MXFP4 values (power-of-two fp8 column scales keep them exact)
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
    Norm attn_post_norm, mlp_post_norm;  ///< gemma2/3: after each sub-layer
    std::vector<double> inv_freq;        ///< this layer's rope frequencies
    double rope_attention_factor = 1.0;  ///< yarn: cos and sin multiplied by it
    Eigen::VectorXf q_norm, k_norm;  ///< q/k RMSNorm weights ([head_dim] per head, or the whole width)
    std::int64_t window = 0;         ///< this layer's attention window (0: full)
    bool moe = false;
    Linear q, k, v, o;
    Linear gate, up, down;  ///< gated MLP
    Linear fc1, fc2;        ///< plain MLP
    Linear router;
    std::vector<Expert> experts;
    Eigen::VectorXf sinks;  ///< gpt_oss: one logit per head in its softmax's denominator (empty: none)
    Eigen::MatrixXf k_cache, v_cache;  ///< [max_positions, kv_heads*head_dim], after rope
  };

  ReferenceTransformer(const TransformerSpec& spec, const Graph& weights, Precision precision, bool checkpoint_weights,
                       MatmulCompute compute);
  Linear load_linear(const Graph& g, const std::string& prefix, std::int64_t in, std::int64_t out, bool bias) const;
  void quantize(Linear& l) const;  ///< the codes the precision stores the weights as
  Norm load_norm(const Graph& g, const std::string& prefix) const;
  Eigen::MatrixXf apply(const Linear& l, const Eigen::MatrixXf& x, bool weights_may_be_int8 = true) const;
  Eigen::MatrixXf matmul(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) const;  ///< activations x activations
  Eigen::MatrixXf norm(const Norm& n, const Eigen::MatrixXf& x) const;
  /// RMSNorm of each run of gamma.size() lanes of x on its own (the whole row when equal).
  Eigen::MatrixXf rms_norm_groups(const Eigen::VectorXf& gamma, const Eigen::MatrixXf& x) const;
  Eigen::MatrixXf activate(const Eigen::MatrixXf& x) const;
  /// gpt_oss's expert GLU of the gate and up projections (TransformerSpec::expert_glu_limit).
  Eigen::MatrixXf clamped_swiglu(const Eigen::MatrixXf& gate, const Eigen::MatrixXf& up) const;
  Eigen::MatrixXf attention(Layer& layer, const Eigen::MatrixXf& x, int past);
  Eigen::MatrixXf mlp(const Layer& layer, const Eigen::MatrixXf& x) const;

  TransformerSpec spec_;
  Precision precision_;
  bool checkpoint_weights_ = false;
  MatmulCompute compute_ = MatmulCompute::Native;
  Eigen::MatrixXf embed_, pos_embed_, type_embed_;
  Norm embed_norm_, final_norm_;
  Linear lm_head_;
  std::vector<Layer> layers_;
  int cached_ = 0;
  std::map<std::string, double> act_scales_;
};

}  // namespace lpusim
