#pragma once
// The MXM of one hemisphere: its matrix planes (2 on TSP v1), each fed by three queues
// (weights: lw/iw, activations: abc, results: acc). A plane has a weight buffer that `lw`
// fills row by row from streams while the array computes with the installed weights
// (double buffering); `iw` moves the buffer into the array, usable d_func cycles later.
// `abc` multiplies one activation vector by the installed weights (y[j] = sum_i W[j][i] x[i],
// int8 -> int32 or fp16 -> fp32) and adds y into an accumulator slot d_func cycles after
// issue; `acc` emits a slot onto streams and clears it.
#include <memory>
#include <vector>

#include <Eigen/Core>
#include <systemc>

#include "models/units/queue_runner.hpp"

namespace lpusim {

class Mxm : public sc_core::sc_module, public Executor {
 public:
  Mxm(const sc_core::sc_module_name& name, ChipState& context, Hemisphere hemisphere);

  void attach_queue(const BoundQueue& queue, Icu& icu, QueueStats& stats);
  void execute(const Issue& issue, Cycle now, const std::string& queue) override;
  Position position() const { return position_; }

 private:
  struct Contribution {
    Cycle ready;
    Eigen::VectorXd values;  // exact for int32 sums of int8 products and for fp32 values
  };
  struct Slot {
    DType type = DType::None;
    Eigen::VectorXd value;   // int32 (wrapped on output) or fp32 accumulator
    std::vector<Contribution> pending;
  };
  // Weights are stored row-major: lw fills whole rows, and int8 x int8 products (exact in
  // float in any summation order) multiply fastest that way.
  using RowMajorMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  struct Plane {
    DType buffer_type = DType::None;
    int buffer_rows = 0;                 // rows loaded since the last iw (the rest are stale)
    RowMajorMatrixXf buffer;             // rows x cols, values of int8 or fp16
    DType array_type = DType::None;
    bool installed = false;
    Cycle install_start{-1}, install_ready{-1};
    RowMajorMatrixXf array;              // installed weights
    RowMajorMatrixXf installing;         // weights moving into the array
    // The array column-major, made on first use after an install: any product that is not
    // int8 x int8 uses it, so that its float sums keep the order they always had.
    Eigen::MatrixXf array_columns;
    bool columns_ready = false;
    Cycle busy_until{0};                 // fp16 abc occupies the plane for fp16_rate_divisor cycles
    Cycle computing_until{0};            // the last abc using the installed array finishes then
    std::vector<Slot> slots;
  };

  void load_weights(Plane& plane, const Issue& issue, Cycle now, const std::string& queue);
  void install(Plane& plane, const Issue& issue, Cycle now, const std::string& queue);
  void multiply(Plane& plane, const Issue& issue, Cycle now, const std::string& queue);
  void accumulate(Plane& plane, const Issue& issue, Cycle now, const std::string& queue);
  void settle_install(Plane& plane, Cycle now);

  ChipState& context_;
  Position position_;
  std::vector<Plane> planes_;
  std::vector<std::unique_ptr<QueueRunner>> queues_;
};

}  // namespace lpusim
