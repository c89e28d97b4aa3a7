#include "models/chip.hpp"

#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "engine/exec/tensor_io.hpp"
#include "numerics/vector_math.hpp"
#include "models/units/sim_time.hpp"

namespace lpusim {

Chip::Chip(const sc_core::sc_module_name& name, ChipState& context, Scheduler scheduler)
    : sc_module(name), icu("icu", scheduler), vxm("vxm", context), mxm_west("mxm_w", context, Hemisphere::West),
      mxm_east("mxm_e", context, Hemisphere::East), sxm_west("sxm_w", context, Hemisphere::West),
      sxm_east("sxm_e", context, Hemisphere::East), context_(context) {
  const int n = context.chip.mem_slices_per_hemisphere;
  for (int i = 0; i < n; ++i) {
    west_.push_back(std::make_unique<MemSlice>(fmt::format("mem_w{}", i).c_str(), context, Hemisphere::West, SliceIndex(i)));
    east_.push_back(std::make_unique<MemSlice>(fmt::format("mem_e{}", i).c_str(), context, Hemisphere::East, SliceIndex(i)));
  }
  // Queue statistics are referenced by the queue processes: size the vector once.
  const auto& queues = context.program.queues;
  context.queue_stats.resize(queues.size());
  for (std::size_t i = 0; i < queues.size(); ++i) {
    const BoundQueue& q = queues[i];
    QueueStats& stats = context.queue_stats[i];
    stats.name = q.name;
    stats.unit = q.id.unit;
    switch (q.id.unit) {
      case UnitKind::Mem: slice(SliceRef{q.id.hemisphere, SliceIndex(q.id.index)}).attach_queue(q, icu, stats); break;
      case UnitKind::Vxm: vxm.attach_queue(q, icu, stats); break;
      case UnitKind::Mxm: (q.id.hemisphere == Hemisphere::West ? mxm_west : mxm_east).attach_queue(q, icu, stats); break;
      case UnitKind::Sxm: (q.id.hemisphere == Hemisphere::West ? sxm_west : sxm_east).attach_queue(q, icu, stats); break;
      default:
        throw InputError(fmt::format("{}: queue {}: the {} is not simulated yet", context.program.file, q.name,
                                     unit_name(q.id.unit)));
    }
  }
  const auto& c = context.chip;
  icu.finish_elaboration(2 * c.mem_slices_per_hemisphere + c.vxm_alus + 2 * c.mxm_queues_per_hemisphere +
                         2 * c.sxm_queues_per_hemisphere);
}

MemSlice& Chip::slice(const SliceRef& ref) {
  auto& side = ref.hemisphere == Hemisphere::West ? west_ : east_;
  return *side[static_cast<std::size_t>(ref.index.value())];
}

void Chip::store_tensor(const BoundTensor& t, const std::vector<double>& values) {
  const int lanes = context_.chip.lanes();
  const int bytes = dtype_bytes(t.dtype);
  VectorBytes word(static_cast<std::size_t>(context_.chip.vector_bytes()));
  for (std::int64_t v = 0; v < t.vectors; ++v) {
    for (int p = 0; p < bytes; ++p) {
      for (int i = 0; i < lanes; ++i)
        word[static_cast<std::size_t>(i)] = encode_element(t.dtype, values[static_cast<std::size_t>(v * lanes + i)])[p];
      slice(t.plane_slice(v, p)).sram().poke(Address(t.plane_address(v, p)), word.data());
    }
  }
}

std::vector<double> Chip::load_tensor(const BoundTensor& t) {
  const int lanes = context_.chip.lanes();
  const int bytes = dtype_bytes(t.dtype);
  std::vector<double> values(static_cast<std::size_t>(t.vectors * lanes));
  std::vector<VectorBytes> planes(static_cast<std::size_t>(bytes), VectorBytes(static_cast<std::size_t>(context_.chip.vector_bytes())));
  for (std::int64_t v = 0; v < t.vectors; ++v) {
    for (int p = 0; p < bytes; ++p) {
      auto& s = slice(t.plane_slice(v, p)).sram();
      s.flush();
      s.peek(Address(t.plane_address(v, p)), planes[static_cast<std::size_t>(p)].data());
    }
    for (int i = 0; i < lanes; ++i) {
      std::array<std::uint8_t, 4> b{};
      for (int p = 0; p < bytes; ++p) b[p] = planes[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)];
      values[static_cast<std::size_t>(v * lanes + i)] = decode_element(t.dtype, b);
    }
  }
  return values;
}

std::int64_t Chip::sram_host_bytes() const {
  std::int64_t total = 0;
  for (const auto* side : {&west_, &east_})
    for (const auto& s : *side) total += s->sram().allocated_bytes();
  return total;
}

namespace {
std::int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}
}  // namespace

SimResult simulate(const ChipConfig& config, const BoundProgram& program, const SimOptions& options) {
  // Inputs and dump names are checked before anything is built, and the whole run's host
  // memory before any of it is allocated.
  limits::require_host_memory(run_host_bytes(config, program, options),
                              fmt::format("{}: this run (tensor values, SRAM pages{})", program.file,
                                          options.trace ? ", trace" : ""));
  const int lanes = config.lanes();
  std::map<std::string, std::vector<double>> initial;
  for (const auto& t : program.tensors)
    if (t.fill.kind != TensorFill::Kind::None) initial[t.name] = fill_values(t, lanes);
  for (const auto& [name, values] : options.values) {
    const BoundTensor* t = program.find_tensor(name);
    if (!t) throw InputError(fmt::format("initial values for tensor '{}', which the program does not declare", name));
    if (values.size() != static_cast<std::size_t>(t->vectors * lanes))
      throw InputError(fmt::format("initial values for tensor '{}': {} values, expected {}", name, values.size(), t->vectors * lanes));
    initial[name] = values;
  }
  for (const auto& [name, path] : options.inputs) {
    const BoundTensor* t = program.find_tensor(name);
    if (!t) throw InputError(fmt::format("--input {}={}: the program declares no tensor '{}'", name, path, name));
    initial[name] = read_tensor_file(path, *t, lanes);
  }
  if (!options.dumps.empty() && options.mode != SimMode::Functional)
    throw InputError("--dump needs functional mode: timing-only runs compute no values");
  for (const auto& name : options.dumps)
    if (!program.find_tensor(name)) throw InputError(fmt::format("--dump {}: the program declares no tensor '{}'", name, name));

  ChipState context(config, program, options.mode, options.check);
  std::vector<TraceEvent> trace;
  if (options.trace) context.trace = &trace;
  Chip chip("chip", context, options.scheduler);
  if (context.functional())
    for (const auto& [name, values] : initial) chip.store_tensor(*program.find_tensor(name), values);

  const auto start = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const auto stop = std::chrono::steady_clock::now();

  SimResult result;
  result.mode = options.mode;
  result.host_seconds = std::chrono::duration<double>(stop - start).count();
  // A queue still parked at sync when nothing is left to happen would wait forever.
  for (const auto& q : context.queue_stats)
    if (!q.parked.empty())
      context.add_hazard(Hazard::Kind::Deadlock, q.end, q.name,
                         fmt::format("{} waits at {} for a notify that never comes", q.name, q.parked));
  result.total_cycles = context.total_cycles();
  for (const auto& q : context.queue_stats) result.total_cycles = std::max(result.total_cycles, q.end);
  result.instructions = context.instructions;
  result.queues = context.queue_stats;
  result.hazards = context.hazards();
  result.hazards_not_kept = context.hazards_not_kept();
  result.trace = std::move(trace);
  result.stream_writes = context.fabric.writes();
  result.stream_reads = context.fabric.reads();
  result.scheduler_wakes = chip.icu.wakes();
  if (context.functional())
    for (const auto& name : options.dumps) result.dumps[name] = chip.load_tensor(*program.find_tensor(name));
  result.sram_host_bytes = chip.sram_host_bytes();
  result.peak_rss_bytes = peak_rss_bytes();
  return result;
}

}  // namespace lpusim
