#include "models/chip.hpp"

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "numerics/vector_math.hpp"
#include "models/system.hpp"

namespace lpusim {

Chip::Chip(const sc_core::sc_module_name& name, ChipState& context, C2cNetwork* network)
    : sc_module(name), vxm("vxm", context), mxm_west("mxm_w", context, Hemisphere::West),
      mxm_east("mxm_e", context, Hemisphere::East), sxm_west("sxm_w", context, Hemisphere::West),
      sxm_east("sxm_e", context, Hemisphere::East), c2c("c2c", context, network), context_(context),
      has_links_(network != nullptr) {
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
    stats.name = context.queue_name(q);
    stats.unit = q.id.unit;
    switch (q.id.unit) {
      case UnitKind::Mem: slice(SliceRef{q.id.hemisphere, SliceIndex(q.id.index)}).attach_queue(q, icu, stats); break;
      case UnitKind::Vxm: vxm.attach_queue(q, icu, stats); break;
      case UnitKind::Mxm: (q.id.hemisphere == Hemisphere::West ? mxm_west : mxm_east).attach_queue(q, icu, stats); break;
      case UnitKind::Sxm: (q.id.hemisphere == Hemisphere::West ? sxm_west : sxm_east).attach_queue(q, icu, stats); break;
      case UnitKind::C2c: c2c.attach_queue(q, icu, stats); break;
      default:
        throw InputError(fmt::format("{}: queue {}: the {} is not simulated yet", context.program.file, q.name,
                                     unit_name(q.id.unit)));
    }
  }
}

int Chip::queues_on_chip() const {
  const auto& c = context_.chip;
  // The C2C queues count only in a system with links: without them they cannot do anything.
  return 2 * c.mem_slices_per_hemisphere + c.vxm_alus + 2 * c.mxm_queues_per_hemisphere + 2 * c.sxm_queues_per_hemisphere +
         (has_links_ ? c.c2c_links : 0);
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

SimResult simulate(const ChipConfig& config, const BoundProgram& program, const SimOptions& options) {
  SystemResult system = simulate_system({ChipRun{config, program, options}});
  return std::move(system.chips.front());
}

}  // namespace lpusim
