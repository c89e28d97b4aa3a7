#pragma once
// The numeric policies of a matmul, shared by the reference forward pass and the compiler
// so both round the same way. Plain C++ over Eigen.
//
//   fp16:  inputs and weights rounded to the nearest fp16 (ties to even), products summed in fp32.
//   int8:  weights per output column, scale = max|w[:, n]| / 127; activations per tensor,
//          scale = max|x| / 127, computed from the values at hand or fixed in advance by
//          calibration (compiler/passes/calibrate.cpp); q = round(v / scale)
//          (ties away from zero) clamped to [-127, 127]; int32 accumulation; the result is
//          acc * x_scale * w_scale[n] in fp32. An all-zero column or tensor gets scale 1
//          (its codes are all zero, so the scale does not matter).
//   fp8:   weights per output column, scale = max|w[:, n]| / max finite (448 for e4m3, 57344
//          for e5m2), codes rounded to the format (nearest even, saturating); activations per
//          tensor the same way; fp8 x fp8 products are exact in fp32 (4 x 4 significant bits),
//          sums fp32; the result is acc * x_scale * w_scale[n].
//   stored low, computed in fp16 (the "TruePoint" idea: weights kept as int8 or fp8 codes with
//          per-column scales, dequantised on their way into an fp16 MXM): every int8 and fp8
//          code is exact in fp16, activations are rounded to fp16, sums fp32, and the result is
//          acc * w_scale[n]. Only the weights' quantisation error remains.
#include <cstdint>
#include <optional>

#include <Eigen/Core>

#include "numerics/fp8.hpp"

namespace lpusim {

using MatrixI8 = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;

float round_to_fp16(float x);
Eigen::MatrixXf round_to_fp16(const Eigen::MatrixXf& m);

/// y = x w with both operands rounded to fp16 and fp32 accumulation.
Eigen::MatrixXf matmul_fp16(const Eigen::MatrixXf& x, const Eigen::MatrixXf& w);

struct Int8Weights {
  MatrixI8 codes;        ///< [K, N]
  Eigen::VectorXf scale; ///< [N], one per output column
};
struct Int8Activations {
  MatrixI8 codes;        ///< [M, K]
  float scale = 1.0f;    ///< one for the whole tensor
};

/// Symmetric int8 code of v at `scale` (round half away from zero, clamp to +-127).
std::int8_t quantize_int8(float v, float scale);
Int8Weights quantize_weights_int8(const Eigen::MatrixXf& w);
Int8Activations quantize_activations_int8(const Eigen::MatrixXf& x);
/// With a scale fixed in advance (the compiler's calibrated act_scale): values beyond
/// 127 * scale clamp.
Int8Activations quantize_activations_int8(const Eigen::MatrixXf& x, float scale);

/// y[M, N] from int8 codes with int32 accumulation, dequantised with both scales.
Eigen::MatrixXf matmul_int8(const Int8Activations& x, const Int8Weights& w);
/// Quantises x on the fly, then matmul_int8.
Eigen::MatrixXf matmul_int8(const Eigen::MatrixXf& x, const Int8Weights& w);

struct Fp8Weights {
  Eigen::MatrixXf codes;  ///< [K, N], the values of the fp8 codes (exact floats)
  Eigen::VectorXf scale;  ///< [N], one per output column
  Fp8Format format = Fp8Format::E4M3;
};
struct Fp8Activations {
  Eigen::MatrixXf codes;  ///< [M, K], values of fp8 codes
  float scale = 1.0f;
};

/// Per-output-column fp8 weights. With `power_of_two_scales` each scale is the smallest
/// power of two not below max|w| / max finite, so that weights already on a coarser grid
/// (MXFP4 values) keep their exact values.
Fp8Weights quantize_weights_fp8(const Eigen::MatrixXf& w, Fp8Format format, bool power_of_two_scales = false);
/// Per-tensor fp8 activations: scale max|x| / max finite, or the given one (values beyond
/// max finite * scale saturate).
Fp8Activations quantize_activations_fp8(const Eigen::MatrixXf& x, Fp8Format format,
                                        std::optional<float> scale = std::nullopt);
/// y = x w on an fp8 MXM: fp8 x fp8 products, fp32 sums, dequantised with both scales.
Eigen::MatrixXf matmul_fp8(const Fp8Activations& x, const Fp8Weights& w);
/// y = x w with w stored as codes (int8 or fp8 values) and per-column scales, computed on an
/// fp16 MXM: x rounded to fp16, fp32 sums, y[:, n] = acc[:, n] * scale[n].
Eigen::MatrixXf matmul_fp16_dequantized(const Eigen::MatrixXf& x, const Eigen::MatrixXf& codes,
                                        const Eigen::VectorXf& scale);

}  // namespace lpusim
