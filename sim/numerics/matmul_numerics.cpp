#include "numerics/matmul_numerics.hpp"

#include <algorithm>
#include <cmath>

namespace lpusim {

float round_to_fp16(float x) { return static_cast<float>(Eigen::half(x)); }

Eigen::MatrixXf round_to_fp16(const Eigen::MatrixXf& m) {
  return m.unaryExpr([](float v) { return round_to_fp16(v); });
}

Eigen::MatrixXf matmul_fp16(const Eigen::MatrixXf& x, const Eigen::MatrixXf& w) {
  // fp16 x fp16 products are exact in fp32 (11 + 11 significant bits), so only the sums round.
  return round_to_fp16(x) * round_to_fp16(w);
}

namespace {
float scale_for(float max_abs) { return max_abs > 0.0f ? max_abs / 127.0f : 1.0f; }
}  // namespace

std::int8_t quantize_int8(float v, float scale) {
  const float q = std::round(v / scale);
  return static_cast<std::int8_t>(std::clamp(q, -127.0f, 127.0f));
}

Int8Weights quantize_weights_int8(const Eigen::MatrixXf& w) {
  Int8Weights out;
  out.codes.resize(w.rows(), w.cols());
  out.scale.resize(w.cols());
  for (Eigen::Index n = 0; n < w.cols(); ++n) {
    const float scale = scale_for(w.col(n).cwiseAbs().maxCoeff());
    out.scale(n) = scale;
    for (Eigen::Index k = 0; k < w.rows(); ++k) out.codes(k, n) = quantize_int8(w(k, n), scale);
  }
  return out;
}

Int8Activations quantize_activations_int8(const Eigen::MatrixXf& x) {
  Int8Activations out;
  out.scale = scale_for(x.size() == 0 ? 0.0f : x.cwiseAbs().maxCoeff());
  out.codes = x.unaryExpr([scale = out.scale](float v) { return quantize_int8(v, scale); });
  return out;
}

Int8Activations quantize_activations_int8(const Eigen::MatrixXf& x, float scale) {
  Int8Activations out;
  out.scale = scale;
  out.codes = x.unaryExpr([scale](float v) { return quantize_int8(v, scale); });
  return out;
}

Eigen::MatrixXf matmul_int8(const Int8Activations& x, const Int8Weights& w) {
  const Eigen::MatrixXi acc = x.codes.cast<int>() * w.codes.cast<int>();
  Eigen::MatrixXf y(acc.rows(), acc.cols());
  for (Eigen::Index n = 0; n < acc.cols(); ++n) {
    const float scale = x.scale * w.scale(n);
    for (Eigen::Index m = 0; m < acc.rows(); ++m) y(m, n) = static_cast<float>(acc(m, n)) * scale;
  }
  return y;
}

Eigen::MatrixXf matmul_int8(const Eigen::MatrixXf& x, const Int8Weights& w) {
  return matmul_int8(quantize_activations_int8(x), w);
}

Fp8Weights quantize_weights_fp8(const Eigen::MatrixXf& w, Fp8Format format, bool power_of_two_scales) {
  Fp8Weights out;
  out.format = format;
  out.codes.resize(w.rows(), w.cols());
  out.scale.resize(w.cols());
  const auto largest = static_cast<float>(fp8_max(format));
  for (Eigen::Index n = 0; n < w.cols(); ++n) {
    const float max_abs = w.rows() == 0 ? 0.0f : w.col(n).cwiseAbs().maxCoeff();
    float scale = max_abs > 0.0f ? max_abs / largest : 1.0f;
    if (power_of_two_scales && max_abs > 0.0f) scale = std::ldexp(1.0f, static_cast<int>(std::ceil(std::log2(scale))));
    out.scale(n) = scale;
    for (Eigen::Index k = 0; k < w.rows(); ++k) out.codes(k, n) = round_to_fp8(w(k, n) / scale, format);
  }
  return out;
}

Fp8Activations quantize_activations_fp8(const Eigen::MatrixXf& x, Fp8Format format, std::optional<float> scale) {
  Fp8Activations out;
  const auto largest = static_cast<float>(fp8_max(format));
  const float max_abs = x.size() == 0 ? 0.0f : x.cwiseAbs().maxCoeff();
  out.scale = scale ? *scale : (max_abs > 0.0f ? max_abs / largest : 1.0f);
  out.codes = x.unaryExpr([s = out.scale, format](float v) { return round_to_fp8(v / s, format); });
  return out;
}

Eigen::MatrixXf matmul_fp8(const Fp8Activations& x, const Fp8Weights& w) {
  // Products of two fp8 values have at most 8 significant bits: exact in fp32.
  Eigen::MatrixXf y = x.codes * w.codes;
  for (Eigen::Index n = 0; n < y.cols(); ++n) y.col(n) *= x.scale * w.scale(n);
  return y;
}

Eigen::MatrixXf matmul_fp16_dequantized(const Eigen::MatrixXf& x, const Eigen::MatrixXf& codes,
                                        const Eigen::VectorXf& scale) {
  Eigen::MatrixXf y = round_to_fp16(x) * codes;
  for (Eigen::Index n = 0; n < y.cols(); ++n) y.col(n) *= scale(n);
  return y;
}

}  // namespace lpusim
