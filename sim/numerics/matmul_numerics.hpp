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
#include <cstdint>

#include <Eigen/Core>

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

}  // namespace lpusim
