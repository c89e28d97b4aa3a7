#include "arch/config/chip_config.hpp"

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"

namespace lpusim {

Position ChipConfig::mem_position(Hemisphere h, SliceIndex slice) const {
  // Floorplan west to east: MXM, SXM, MEM w(N-1) .. w0, VXM, MEM e0 .. e(N-1), SXM, MXM.
  // Slice 0 of each hemisphere is the one next to the VXM.
  const int n = mem_slices_per_hemisphere;
  return h == Hemisphere::West ? Position(1 + n - slice.value()) : Position(n + 3 + slice.value());
}

Position ChipConfig::queue_position(const QueueId& q) const {
  const int n = mem_slices_per_hemisphere;
  const bool west = q.hemisphere == Hemisphere::West;
  switch (q.unit) {
    case UnitKind::Mem: return mem_position(q.hemisphere, SliceIndex(q.index));
    case UnitKind::Vxm: return vxm_position();
    case UnitKind::Sxm: return west ? Position(1) : Position(2 * n + 3);
    case UnitKind::Mxm: return west ? Position(0) : Position(2 * n + 4);
    // C2C links sit at the chip edges; links 0..L/2-1 on the west edge, the rest east.
    case UnitKind::C2c: return q.index < c2c_links / 2 ? Position(0) : Position(2 * n + 4);
    case UnitKind::Icu: break;
  }
  return Position(0);
}

bool ChipConfig::has_queue(const QueueId& q) const {
  if (q.index < 0) return false;
  switch (q.unit) {
    case UnitKind::Mem: return q.index < mem_slices_per_hemisphere;
    case UnitKind::Vxm: return q.index < vxm_alus;
    case UnitKind::Mxm: return q.index < mxm_queues_per_hemisphere;
    case UnitKind::Sxm: return q.index < sxm_queues_per_hemisphere;
    case UnitKind::C2c: return q.index < c2c_links;
    case UnitKind::Icu: return false;
  }
  return false;
}

ChipConfig parse_chip_config(const nlohmann::json& json, const std::string& file) {
  ChipConfig c;
  c.file = file;
  JsonObject root(json, file, "");
  c.name = root.string("name");
  if (c.name.empty() || c.name.size() > 100) root.fail("name", "expected a name of 1 to 100 characters");
  // The name is printed in reports and messages: no terminal control sequences.
  if (one_line(c.name) != c.name)
    root.fail("name", fmt::format("expected printable characters, got \"{}\"", one_line(c.name)));
  if (root.has("description")) (void)root.string("description");
  c.clock_mhz = root.number("clock_mhz", 1.0, 100000.0);

  auto toint = [](std::int64_t v) { return static_cast<int>(v); };
  {
    auto lanes = root.object("lanes");
    c.superlanes = toint(lanes.integer("superlanes", 1, 256));
    c.lanes_per_superlane = toint(lanes.integer("lanes_per_superlane", 1, 256));
    c.superlane_skew = Cycle(lanes.integer("superlane_skew_cycles", 0, 64));
    lanes.finish();
  }
  {
    auto streams = root.object("streams");
    c.streams_per_direction = toint(streams.integer("per_direction", 1, 1024));
    c.stream_hop = Cycle(streams.integer("hop_cycles", 1, 64));
    streams.finish();
  }
  {
    auto mem = root.object("mem");
    c.mem_slices_per_hemisphere = toint(mem.integer("slices_per_hemisphere", 1, 1024));
    c.mem_slice_words = mem.integer("words_per_slice", 1, 1 << 24);
    c.mem_reads_per_slice_per_cycle = toint(mem.integer("reads_per_slice_per_cycle", 1, 16));
    c.mem_writes_per_slice_per_cycle = toint(mem.integer("writes_per_slice_per_cycle", 1, 16));
    mem.finish();
  }
  {
    auto mxm = root.object("mxm");
    c.mxm_planes = toint(mxm.integer("planes", 0, 64));
    c.mxm_rows = toint(mxm.integer("rows", 1, 4096));
    c.mxm_cols = toint(mxm.integer("cols", 1, 4096));
    c.mxm_queues_per_hemisphere = toint(mxm.integer("queues_per_hemisphere", 0, 64));
    c.mxm_fp16_rate_divisor = toint(mxm.integer("fp16_rate_divisor", 1, 64));
    if (mxm.has("fp8_rate_divisor")) c.mxm_fp8_rate_divisor = toint(mxm.integer("fp8_rate_divisor", 1, 64));
    c.mxm_max_weight_streams = toint(mxm.integer("max_weight_streams", 1, 1024));
    c.mxm_accumulator_slots = toint(mxm.integer("accumulator_slots", 1, 4096));
    mxm.finish();
  }
  {
    auto vxm = root.object("vxm");
    c.vxm_alus = toint(vxm.integer("alus", 1, 256));
    vxm.finish();
  }
  {
    auto sxm = root.object("sxm");
    c.sxm_queues_per_hemisphere = toint(sxm.integer("queues_per_hemisphere", 0, 256));
    sxm.finish();
  }
  {
    auto c2c = root.object("c2c");
    c.c2c_links = toint(c2c.integer("links", 0, 1024));
    c.c2c_link_gbps = c2c.number("link_gbps", 0.001, 1e6);
    c.c2c_latency = Cycle(c2c.integer("latency_cycles", 1, 1 << 20));
    c2c.finish();
  }
  if (root.has("host_link")) {
    auto host = root.object("host_link");
    c.host_link_latency_us = host.number("latency_us", 0.0, 1e6);
    c.host_link_gbytes_per_s = host.number("gbytes_per_s", 1e-6, 1e6);
    host.finish();
  }
  {
    auto timing = root.object("timing");
    for (const auto& info : all_opcodes()) {
      if (info.opcode == Opcode::Nop || info.opcode == Opcode::Repeat) continue;  // pure queue control
      const std::string key = timing_key(info.opcode);
      auto entry = timing.object(key);
      OpTiming t;
      t.skew = Cycle(entry.integer("skew_cycles", 0, 4096));
      t.func = Cycle(entry.integer("func_cycles", 1, 65536));
      entry.finish();
      // A unit samples its inputs at issue + skew and records its result then; the
      // result must land strictly later so that every consumer sees a settled value.
      if (info.unit != UnitKind::Icu && t.func <= t.skew)
        timing.fail(key, fmt::format("expected func_cycles ({}) greater than skew_cycles ({}): a result cannot "
                                     "leave before its operands arrive",
                                     t.func.value(), t.skew.value()));
      c.timing[static_cast<std::size_t>(info.opcode)] = t;
    }
    timing.finish();
  }
  if (root.has("run")) {
    // What a run that used this configuration was (lpusim run --stats writes it); checked,
    // then left alone: it is not a chip parameter.
    auto run = root.object("run");
    (void)run.string("program");
    const std::string mode = run.string("mode");
    if (mode != "functional" && mode != "timing") run.fail("mode", "expected \"functional\" or \"timing\"");
    const std::string scheduler = run.string("scheduler");
    if (scheduler != "event-driven" && scheduler != "clocked")
      run.fail("scheduler", "expected \"event-driven\" or \"clocked\"");
    (void)run.boolean("check");
    run.finish();
  }
  root.finish();

  if (c.lanes() > 65536) root.fail("lanes", fmt::format("expected at most 65536 lanes in all, got {}", c.lanes()));
  if (c.mxm_planes % 2 != 0) root.fail("mxm.planes", "expected an even number (planes are split between the two hemispheres)");
  if (c.mxm_queues_per_hemisphere != 3 * (c.mxm_planes / 2))
    root.fail("mxm.queues_per_hemisphere",
              fmt::format("expected 3 per plane in a hemisphere ({}): weights, activations, results", 3 * (c.mxm_planes / 2)));
  if (c.mxm_rows > c.lanes() || c.mxm_cols > c.lanes())
    root.fail("mxm.rows", fmt::format("expected rows and cols of at most the {} lanes", c.lanes()));
  if (c.mxm_max_weight_streams > c.streams_per_direction)
    root.fail("mxm.max_weight_streams", fmt::format("expected at most the {} streams per direction", c.streams_per_direction));
  if (c.sram_bytes() > (1LL << 40))
    root.fail("mem", fmt::format("SRAM of {} bytes is beyond the 1 TiB the simulator accepts", c.sram_bytes()));
  return c;
}

ChipConfig load_chip_config(const std::string& path) { return parse_chip_config(load_user_json(path), path); }

nlohmann::json chip_config_json(const ChipConfig& c) {
  using nlohmann::json;
  json timing = json::object();
  for (const auto& info : all_opcodes()) {
    if (info.opcode == Opcode::Nop || info.opcode == Opcode::Repeat) continue;  // as the loader
    const OpTiming& t = c.timing_of(info.opcode);
    timing[timing_key(info.opcode)] = {{"skew_cycles", t.skew.value()}, {"func_cycles", t.func.value()}};
  }
  json j{
      {"name", c.name},
      {"clock_mhz", c.clock_mhz},
      {"lanes", {{"superlanes", c.superlanes},
                 {"lanes_per_superlane", c.lanes_per_superlane},
                 {"superlane_skew_cycles", c.superlane_skew.value()}}},
      {"streams", {{"per_direction", c.streams_per_direction}, {"hop_cycles", c.stream_hop.value()}}},
      {"mem", {{"slices_per_hemisphere", c.mem_slices_per_hemisphere},
               {"words_per_slice", c.mem_slice_words},
               {"reads_per_slice_per_cycle", c.mem_reads_per_slice_per_cycle},
               {"writes_per_slice_per_cycle", c.mem_writes_per_slice_per_cycle}}},
      {"mxm", {{"planes", c.mxm_planes},
               {"rows", c.mxm_rows},
               {"cols", c.mxm_cols},
               {"queues_per_hemisphere", c.mxm_queues_per_hemisphere},
               {"fp16_rate_divisor", c.mxm_fp16_rate_divisor},
               {"max_weight_streams", c.mxm_max_weight_streams},
               {"accumulator_slots", c.mxm_accumulator_slots}}},
      {"vxm", {{"alus", c.vxm_alus}}},
      {"sxm", {{"queues_per_hemisphere", c.sxm_queues_per_hemisphere}}},
      {"c2c", {{"links", c.c2c_links}, {"link_gbps", c.c2c_link_gbps}, {"latency_cycles", c.c2c_latency.value()}}},
      {"host_link", {{"latency_us", c.host_link_latency_us}, {"gbytes_per_s", c.host_link_gbytes_per_s}}},
      {"timing", std::move(timing)},
  };
  // fp8: absent on a chip without an fp8 mode (0), as in its file.
  if (c.mxm_fp8_rate_divisor > 0) j["mxm"]["fp8_rate_divisor"] = c.mxm_fp8_rate_divisor;
  return j;
}

}  // namespace lpusim
