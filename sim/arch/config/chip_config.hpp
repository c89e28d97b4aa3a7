#pragma once
// The chip configuration: every hardware parameter the simulator uses, parsed from a
// chip JSON file (models/chips/*.json) into a validated, typed struct. Sources and
// assumptions for each value are in docs/chip-config.md.
#include <array>
#include <cstdint>
#include <string>

#include "arch/core/types.hpp"
#include "arch/isa/isa.hpp"
#include "arch/isa/program.hpp"

#include <nlohmann/json_fwd.hpp>

namespace lpusim {

/// Timing fields of one opcode (the instruction's d_skew and d_func).
struct OpTiming {
  Cycle skew{0};  ///< cycles from issue until the unit samples its input streams (or SRAM)
  Cycle func{1};  ///< cycles from issue until the result is on its stream (or in SRAM)
};

struct ChipConfig {
  std::string file;
  std::string name;
  double clock_mhz = 900.0;

  int superlanes = 20;
  int lanes_per_superlane = 16;
  Cycle superlane_skew{1};

  int streams_per_direction = 32;
  Cycle stream_hop{1};

  int mem_slices_per_hemisphere = 44;
  std::int64_t mem_slice_words = 8192;
  int mem_reads_per_slice_per_cycle = 1;
  int mem_writes_per_slice_per_cycle = 1;

  int mxm_planes = 4;
  int mxm_rows = 320;
  int mxm_cols = 320;
  int mxm_queues_per_hemisphere = 6;
  int mxm_fp16_rate_divisor = 4;
  /// One fp8 abc per plane every this many cycles; 0 when the chip has no fp8 MXM mode
  /// (the key mxm.fp8_rate_divisor is absent, as on TSP v1): fp8 weights and activations
  /// are then refused.
  int mxm_fp8_rate_divisor = 0;
  int mxm_max_weight_streams = 16;
  int mxm_accumulator_slots = 64;

  int vxm_alus = 16;
  int sxm_queues_per_hemisphere = 14;

  int c2c_links = 16;
  double c2c_link_gbps = 112.0;
  Cycle c2c_latency{216};

  /// The host link (PCIe) a transfer to or from the host crosses: a fixed latency per
  /// transfer plus bytes at a rate, each way. Optional in a chip file; these defaults are
  /// Groq's own estimator's charge (docs/chip-config.md, host_link).
  double host_link_latency_us = 10.0;
  double host_link_gbytes_per_s = 24.0;

  std::array<OpTiming, static_cast<std::size_t>(Opcode::Count_)> timing{};

  // Derived quantities ---------------------------------------------------------------
  int lanes() const { return superlanes * lanes_per_superlane; }
  /// Bytes in one stream vector (one byte per lane).
  int vector_bytes() const { return lanes(); }
  int positions() const { return 2 * mem_slices_per_hemisphere + 5; }
  Position vxm_position() const { return Position(mem_slices_per_hemisphere + 2); }
  Position mem_position(Hemisphere h, SliceIndex slice) const;
  Position queue_position(const QueueId& q) const;
  /// Cycles after the last superlane-0 event until the last superlane finishes.
  Cycle skew_tail() const { return superlane_skew * (superlanes - 1); }
  const OpTiming& timing_of(Opcode op) const { return timing[static_cast<std::size_t>(op)]; }
  /// Whether a queue name exists on this chip.
  bool has_queue(const QueueId& q) const;
  /// Microseconds to move `bytes` one way over the host link.
  double host_transfer_us(double bytes) const {
    return host_link_latency_us + bytes / (host_link_gbytes_per_s * 1e3);
  }
  std::int64_t sram_bytes() const {
    return 2LL * mem_slices_per_hemisphere * mem_slice_words * vector_bytes();
  }
};

/// Loads and validates a chip configuration file. Throws InputError (exit code 2) with
/// one line naming the file, the key and what was expected.
///
/// Besides the chip's parameters, a file may hold a `run` object: the resolved-configuration
/// dump that `lpusim run --stats` writes beside its stats records the run there (program,
/// mode, scheduler, check). It is checked like every other key and does not change the chip.
ChipConfig load_chip_config(const std::string& path);
ChipConfig parse_chip_config(const nlohmann::json& json, const std::string& file);

/// The configuration as a chip file, every parameter in the loader's key layout, so that
/// parse_chip_config(chip_config_json(c)) equals c (but for `file`, which names where a
/// configuration was read from).
nlohmann::json chip_config_json(const ChipConfig& chip);

}  // namespace lpusim
