#pragma once
// Binding a parsed program to a chip: every queue, stream, address, lane map and tensor is
// checked against the chip configuration, and each instruction gets its resolved operands
// and timing fields (d_skew, d_func from the chip's timing table).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/config/chip_config.hpp"
#include "arch/isa/program.hpp"

namespace lpusim {

struct BoundInstruction {
  int id = -1;               ///< unique over the program, in file order
  Opcode opcode = Opcode::Nop;
  DType dtype = DType::None;
  DType dtype_to = DType::None;
  OpTiming timing;
  StreamId dst{};            ///< first stream written
  int dst_group = 0;         ///< streams written (0: none)
  StreamId src_a{};          ///< first input stream group
  int src_a_group = 0;
  StreamId src_b{};          ///< second input group, or the address map of gather/scatter
  int src_b_group = 0;
  bool b_is_immediate = false;
  double immediate = 0.0;    ///< rounded to the instruction's type
  StreamId mask{};
  bool has_mask = false;
  std::int64_t address = 0;  ///< MEM address / ifetch address / abc, acc: the accumulator slot
  std::int64_t integer = 0;  ///< nop cycles, repeat count, shift lanes, link, config value
  std::int64_t interval = 0; ///< repeat: cycles between repeats
  std::int64_t stride = 0;   ///< repeat: address (or accumulator slot) stride
  std::string name;          ///< config key or lane map
  /// permute/distribute: source lane of each output lane. Shared by every instruction using
  /// the same map, so that millions of permutes do not hold millions of copies.
  std::shared_ptr<const std::vector<int>> lane_map;
  int rows = 1;              ///< lw: weight rows loaded (one stream group each)
  int slot = 0;              ///< abc/acc: accumulator slot (of the first issue; repeats step Issue::address)
  Cycle extra_latency{0};    ///< SXM: wait for data from later superlanes (added to d_func)
  std::string text;          ///< printed instruction, for reports and traces
  SourceLoc loc;
};

struct BoundQueue {
  QueueId id;
  std::string name;
  Position position;
  std::vector<BoundInstruction> instructions;
};

struct BoundTensor {
  std::string name;
  DType dtype = DType::Int8;
  std::int64_t vectors = 1;
  std::vector<SliceRef> slices;
  std::int64_t address = 0;
  TensorFill fill;
  SourceLoc loc;
  /// Where byte plane `plane` of vector `vector` lives.
  SliceRef plane_slice(std::int64_t vector, int plane) const;
  std::int64_t plane_address(std::int64_t vector, int plane) const;
  std::int64_t words_per_slice() const;
};

struct BoundProgram {
  std::string file;
  std::vector<BoundQueue> queues;
  std::vector<BoundTensor> tensors;
  std::vector<LaneMap> lane_maps;
  int instruction_count = 0;
  const BoundTensor* find_tensor(const std::string& name) const;
};

/// Validates `program` against `chip`. Throws InputError "file:line:column: ..." on the
/// first problem found.
BoundProgram bind_program(const Program& program, const ChipConfig& chip);

}  // namespace lpusim
