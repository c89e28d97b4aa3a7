#include "compiler/lower/lowering.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include <Eigen/Core>
#include <fmt/format.h>

#include "core/error.hpp"
#include "model/weights.hpp"
#include "numerics/vector_math.hpp"

namespace lpusim {

namespace {

constexpr int kWeightStreams = 16;  // one lw takes 16 streams: 16 int8 rows or 8 fp16 rows

}  // namespace

std::vector<float> weight_values(const Graph& graph, int tensor) {
  const TensorInfo& t = graph.tensors[static_cast<std::size_t>(tensor)];
  if (auto it = graph.values.find(t.name); it != graph.values.end()) return it->second;
  return make_weight_values(t);
}

namespace {

/// An fp32 vector in MEM: the quad that holds its planes and its word address.
struct VecHome {
  int quad = -1;
  std::int64_t address = 0;
  Cycle ready{0};        ///< a read issued in this cycle or later sees it
  Cycle write_after{-1};  ///< the word held an earlier tensor, read until this cycle
};

/// An activation tensor's placement: rows x tiles fp32 vectors. Views (row slices, row
/// concatenations) share their source's vectors.
struct Act {
  std::int64_t rows = 0, cols = 0, tiles = 0;
  std::vector<VecHome> homes;            // per (row, tile); ready is kept in `ready`
  std::vector<Cycle> ready;              // per (row, tile)
  std::vector<std::string> names;        // assembly tensor per tile (declared tensors only)
  bool owned = false;                    // holds storage of its own (not a view)
  VecHome at(std::int64_t m, std::int64_t j) const {
    VecHome h = homes[static_cast<std::size_t>(m * tiles + j)];
    h.ready = ready[static_cast<std::size_t>(m * tiles + j)];
    return h;
  }
};

/// The second operand of a VXM step.
struct StepOperand {
  enum class Kind { None, Mem, Imm } kind = Kind::None;
  VecHome vec;
  double imm = 0;
};

struct Step {
  explicit Step(Opcode o, DType t = DType::Fp32, DType to = DType::None) : op(o), type(t), type_to(to) {}
  Opcode op;
  DType type;
  DType type_to;
  StepOperand b;
};

int group_of(DType t) { return dtype_bytes(t); }

struct PlaneState {
  Cycle buffer_free{0};        // the weight buffer may take rows from this cycle
  Cycle install_ready{0};      // the last install is done
  Cycle computing_until{0};    // the last abc with the installed array lands
  Cycle last_abc{-100};
  std::vector<Cycle> slot_free;  // per accumulator slot: cleared by its last acc in this cycle
  int next_slot = 0;             // slots rotate so that consecutive matmuls use different ones
};

class Lowerer {
 public:
  Lowerer(const Graph& g, const ChipConfig& chip, const LoweringOptions& options)
      : g_(g), chip_(chip), options_(options), sb_(chip), lanes_(chip.lanes()), functional_data_(options.functional_data) {
    if (chip.mem_slices_per_hemisphere < 44 || chip.mxm_planes != 4)
      throw InputError(fmt::format("{}: the compiler needs at least 44 MEM slices per hemisphere and 4 MXM planes "
                                   "(this chip has {} and {})", chip.file, chip.mem_slices_per_hemisphere, chip.mxm_planes));
    // Activation quads: slices 0..11 of each hemisphere, next to the VXM.
    for (Hemisphere h : {Hemisphere::West, Hemisphere::East})
      for (int q = 0; q < 3; ++q) {
        std::array<SliceRef, 4> quad;
        for (int b = 0; b < 4; ++b) quad[static_cast<std::size_t>(b)] = SliceRef{h, SliceIndex(4 * q + b)};
        quads_.push_back(quad);
        quad_next_.push_back(0);
      }
    // Weight groups: 16 slices per MXM plane, between the quads and the MXM.
    for (Hemisphere h : {Hemisphere::West, Hemisphere::East})
      for (int p = 0; p < 2; ++p) {
        std::array<SliceRef, 16> group;
        for (int q = 0; q < 16; ++q) group[static_cast<std::size_t>(q)] = SliceRef{h, SliceIndex(12 + 16 * p + q)};
        groups_.push_back(group);
        group_next_.push_back(0);
      }
  }

  LoweredProgram run() {
    acts_.resize(g_.tensors.size());
    released_.assign(g_.tensors.size(), false);
    free_.resize(quads_.size());
    for (std::size_t i = 0; i < g_.tensors.size(); ++i) {
      const auto& t = g_.tensors[i];
      if (t.role == TensorRole::Input) place_input(static_cast<int>(i));
    }
    // Lifetimes: an intermediate tensor's words are freed after the node that reads it last,
    // unless a view (row slice or concat) shares them.
    std::vector<int> last_use(g_.tensors.size(), -1);
    std::vector<bool> keep(g_.tensors.size(), false);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      for (int t : g_.nodes[i].inputs) last_use[static_cast<std::size_t>(t)] = static_cast<int>(i);
      if (g_.nodes[i].kind == OpKind::Slice || g_.nodes[i].kind == OpKind::Concat)
        for (int t : g_.nodes[i].inputs) keep[static_cast<std::size_t>(t)] = true;
    }
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      lower_node(g_.nodes[i]);
      for (const auto& [key, cycle] : pending_reads_) last_read_[key] = std::max(last_read_[key], cycle);
      pending_reads_.clear();
      for (int t : g_.nodes[i].inputs) {
        const auto& info = g_.tensors[static_cast<std::size_t>(t)];
        if (last_use[static_cast<std::size_t>(t)] == static_cast<int>(i) && !keep[static_cast<std::size_t>(t)] &&
            info.role == TensorRole::Intermediate && !released_[static_cast<std::size_t>(t)]) {
          release(t);
          released_[static_cast<std::size_t>(t)] = true;
        }
      }
    }
    LoweredProgram out;
    std::vector<std::string> header{
        fmt::format("{}: compiled by lpusim for {} ({} weights)", g_.name, chip_.name,
                    options_.weights == Scenario::WeightType::Int8 ? "int8" : "fp16"),
        fmt::format("scheduled length: {} cycles", sb_.length().value())};
    out.program = sb_.emit(g_.name + ".s", decls_, header);
    out.scheduled_length = sb_.length();
    out.instructions = sb_.instructions();
    out.data = std::move(data_);
    for (std::size_t i = 0; i < g_.tensors.size(); ++i) {
      const Act& a = acts_[i];
      if (a.tiles == 0) continue;
      out.placements[g_.tensors[i].name] = TensorPlacement{a.rows, a.cols, a.names};
    }
    stats_.activation_bytes = 0;
    for (auto n : quad_next_) stats_.activation_bytes += n * 4 * lanes_;
    out.stats = stats_;
    return out;
  }

 private:
  // Geometry -----------------------------------------------------------------------------
  Position pos(const SliceRef& s) const { return chip_.mem_position(s.hemisphere, s.index); }
  Position vxm() const { return chip_.vxm_position(); }
  Position mxm(int plane) const { return chip_.queue_position(QueueId{UnitKind::Mxm, plane < 2 ? Hemisphere::West : Hemisphere::East, 0}); }
  Cycle hops(Position a, Position b) const { return chip_.stream_hop * std::abs(a.value() - b.value()); }
  Cycle func(Opcode op) const { return chip_.timing_of(op).func; }
  static QueueId mem_queue(const SliceRef& s) { return QueueId{UnitKind::Mem, s.hemisphere, s.index.value()}; }
  static QueueId mxm_queue(int plane, int role) {
    return QueueId{UnitKind::Mxm, plane < 2 ? Hemisphere::West : Hemisphere::East, 3 * (plane % 2) + role};
  }

  // Storage ------------------------------------------------------------------------------
  std::int64_t tiles_of(std::int64_t cols) const { return (cols + lanes_ - 1) / lanes_; }

  int pick_quad(std::optional<Hemisphere> side) {
    for (int tries = 0; tries < 64; ++tries) {
      const int q = next_quad_++ % static_cast<int>(quads_.size());
      if (!side || quads_[static_cast<std::size_t>(q)][0].hemisphere == *side) return q;
    }
    return 0;
  }

  struct FreeRange {
    std::int64_t start, length;
    Cycle free_after;
  };

  /// Words in a quad: a freed range of an earlier tensor if one fits (first fit), else new.
  std::int64_t alloc_quad(int q, std::int64_t words, const std::string& what, Cycle* write_after = nullptr) {
    auto& free = free_[static_cast<std::size_t>(q)];
    // Words loaded before the run (inputs, constants, caches) must be fresh: a reused word
    // is overwritten by the program while its earlier tensor lives.
    for (auto it = free.begin(); write_after && it != free.end(); ++it) {
      if (it->length < words) continue;
      const std::int64_t base = it->start;
      if (write_after) *write_after = it->free_after;
      it->start += words;
      it->length -= words;
      if (it->length == 0) free.erase(it);
      return base;
    }
    const std::int64_t base = quad_next_[static_cast<std::size_t>(q)];
    if (base + words > chip_.mem_slice_words) fail_capacity(what);
    quad_next_[static_cast<std::size_t>(q)] += words;
    if (write_after) *write_after = Cycle(-1);
    return base;
  }

  /// Returns a dead tensor's words to its quads' free lists, usable after its last read.
  void release(int tensor) {
    Act& a = acts_[static_cast<std::size_t>(tensor)];
    if (!a.owned) return;  // a view, or never allocated
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      const VecHome first = a.homes[static_cast<std::size_t>(j)];
      Cycle last{0};
      for (std::int64_t m = 0; m < a.rows; ++m) {
        const VecHome h = a.homes[static_cast<std::size_t>(m * a.tiles + j)];
        auto it = last_read_.find({h.quad, h.address});
        if (it != last_read_.end()) last = std::max(last, it->second);
        last = std::max(last, a.ready[static_cast<std::size_t>(m * a.tiles + j)]);
      }
      free_[static_cast<std::size_t>(first.quad)].push_back(FreeRange{first.address, a.rows, last});
    }
  }

  [[noreturn]] void fail_capacity(const std::string& what) const {
    std::int64_t weights = 0;
    for (const auto& t : g_.tensors)
      if (t.role == TensorRole::Weight) {
        std::int64_t n = 1;
        for (auto d : t.shape) n *= d;
        weights += n;
      }
    const int bytes = options_.weights == Scenario::WeightType::Int8 ? 1 : 2;
    const double sram = static_cast<double>(chip_.sram_bytes());
    const auto chips = static_cast<std::int64_t>(std::ceil(static_cast<double>(weights) * bytes / (sram * 0.75)));
    throw InputError(fmt::format("{}: {} does not fit in one {} chip: the weights alone are {:.1f} MB of {:.1f} MB SRAM "
                                 "({} bytes each); about {} chips are needed, and multi-chip partitioning is not "
                                 "implemented yet", g_.file.empty() ? g_.name : g_.file, what, chip_.name,
                                 static_cast<double>(weights) * bytes / 1e6, sram / 1e6, bytes, std::max<std::int64_t>(chips, 2)));
  }

  Act& make_act(int tensor, std::int64_t rows, std::int64_t cols, std::optional<Hemisphere> side = std::nullopt,
                const std::vector<int>& tile_quads = {}) {
    Act& a = acts_[static_cast<std::size_t>(tensor)];
    a.rows = rows;
    a.cols = cols;
    a.tiles = tiles_of(cols);
    a.ready.assign(static_cast<std::size_t>(rows * a.tiles), Cycle(0));
    a.homes.assign(static_cast<std::size_t>(rows * a.tiles), VecHome{});
    a.owned = true;
    const std::string& name = g_.tensors[static_cast<std::size_t>(tensor)].name;
    // Only tensors with data in or out are declared: intermediates' words are reused.
    const bool declared = g_.tensors[static_cast<std::size_t>(tensor)].role != TensorRole::Intermediate;
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      const int q = j < static_cast<std::int64_t>(tile_quads.size()) ? tile_quads[static_cast<std::size_t>(j)] : pick_quad(side);
      Cycle write_after{-1};
      const std::int64_t base = alloc_quad(q, rows, fmt::format("activation '{}'", name), declared && g_.tensors[static_cast<std::size_t>(tensor)].role != TensorRole::Output ? nullptr : &write_after);
      for (std::int64_t m = 0; m < rows; ++m)
        a.homes[static_cast<std::size_t>(m * a.tiles + j)] = VecHome{q, base + m, Cycle(0), write_after};
      if (!declared) continue;
      const std::string asm_name = fmt::format("t{}_{}", tensor, j);
      a.names.push_back(asm_name);
      TensorDecl d;
      d.name = asm_name;
      d.dtype = DType::Fp32;
      d.vectors = rows;
      d.slices.assign(quads_[static_cast<std::size_t>(q)].begin(), quads_[static_cast<std::size_t>(q)].end());
      d.address = base;
      d.comment = fmt::format("{} tile {}", name, j);
      decls_.push_back(d);
    }
    return a;
  }

  /// Stores [rows, cols] values (row-major) as an activation-layout tensor (inputs, vectors).
  void store_values(const Act& a, const std::vector<float>& values) {
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      std::vector<double> v(static_cast<std::size_t>(a.rows * lanes_), 0.0);
      for (std::int64_t m = 0; m < a.rows; ++m)
        for (std::int64_t i = 0; i < lanes_ && j * lanes_ + i < a.cols; ++i)
          v[static_cast<std::size_t>(m * lanes_ + i)] = values[static_cast<std::size_t>(m * a.cols + j * lanes_ + i)];
      data_[a.names[static_cast<std::size_t>(j)]] = std::move(v);
    }
  }

  std::pair<std::int64_t, std::int64_t> matrix_shape(int tensor) const {
    const auto& s = g_.tensors[static_cast<std::size_t>(tensor)].shape;
    if (s.size() == 1) return {1, s[0]};
    return {s[0], s[1]};
  }

  void place_input(int tensor) {
    const auto [rows, cols] = matrix_shape(tensor);
    make_act(tensor, rows, cols);
  }

  /// A weight or constant used as a per-lane vector operand ([N] or [1, N]).
  const Act& vector_constant(int tensor) {
    Act& a = acts_[static_cast<std::size_t>(tensor)];
    if (a.tiles > 0) return a;
    const auto [rows, cols] = matrix_shape(tensor);
    make_act(tensor, rows, cols);
    store_values(a, weight_values(g_, tensor));
    stats_.weight_bytes += rows * a.tiles * 4 * lanes_;
    return a;
  }

  const Act& act(int tensor) {
    const auto& t = g_.tensors[static_cast<std::size_t>(tensor)];
    if (t.role == TensorRole::Weight || t.role == TensorRole::State) return vector_constant(tensor);
    const Act& a = acts_[static_cast<std::size_t>(tensor)];
    if (a.tiles == 0) throw InputError(fmt::format("{}: tensor '{}' is used before it is computed", g_.file, t.name));
    return a;
  }

  // VXM chains ---------------------------------------------------------------------------
  /// Reads an fp32 vector so that its 4 planes arrive at the VXM in cycle `arrive`.
  bool read_to_vxm(const VecHome& v, Cycle arrive, int& group_out) {
    const auto& quad = quads_[static_cast<std::size_t>(v.quad)];
    const Direction dir = ScheduleBuilder::toward(pos(quad[0]), vxm());
    const Cycle read_func = func(Opcode::Read);
    for (int first = 0; first + 4 <= chip_.streams_per_direction; first += 4) {
      bool ok = true;
      for (int b = 0; b < 4 && ok; ++b) {
        const SliceRef& s = quad[static_cast<std::size_t>(b)];
        const Cycle issue = arrive - read_func - hops(pos(s), vxm());
        ok = issue >= v.ready && sb_.queue_free(mem_queue(s), issue) &&
             sb_.streams_free(dir, first + b, 1, pos(s), vxm(), issue + read_func);
      }
      if (!ok) continue;
      for (int b = 0; b < 4; ++b) {
        const SliceRef& s = quad[static_cast<std::size_t>(b)];
        const Cycle issue = arrive - read_func - hops(pos(s), vxm());
        sb_.reserve_streams(dir, first + b, 1, pos(s), vxm(), issue + read_func);
        sb_.place(mem_queue(s), PlacedInstruction{issue, make_instruction(Opcode::Read, DType::None,
                                                                          {int_operand(v.address), stream_operand(dir, first + b)})});
        pending_reads_.push_back({{v.quad, v.address}, issue});
      }
      group_out = first;
      return true;
    }
    return false;
  }

  /// Writes the fp32 vector that is at `from` in cycle `at` on streams [group, group + 4).
  bool write_from(Position from, Cycle at, int group, Direction dir, const VecHome& dest) {
    const auto& quad = quads_[static_cast<std::size_t>(dest.quad)];
    for (int b = 0; b < 4; ++b) {
      const SliceRef& s = quad[static_cast<std::size_t>(b)];
      if (ScheduleBuilder::toward(from, pos(s)) != dir && pos(s) != from) return false;
      const Cycle issue = at + hops(from, pos(s));
      if (issue <= dest.write_after) return false;  // the word's previous tensor is still being read
      if (!sb_.queue_free(mem_queue(s), issue) || !sb_.streams_free(dir, group + b, 1, from, pos(s), at)) return false;
    }
    for (int b = 0; b < 4; ++b) {
      const SliceRef& s = quad[static_cast<std::size_t>(b)];
      const Cycle issue = at + hops(from, pos(s));
      sb_.reserve_streams(dir, group + b, 1, from, pos(s), at);
      sb_.place(mem_queue(s), PlacedInstruction{issue, make_instruction(Opcode::Write, DType::None,
                                                                        {int_operand(dest.address), stream_operand(dir, group + b)})});
    }
    return true;
  }

  Cycle write_commit(Position from, Cycle at, const VecHome& dest) const {
    Cycle last{0};
    for (const auto& s : quads_[static_cast<std::size_t>(dest.quad)])
      last = std::max(last, at + hops(from, pos(s)) + func(Opcode::Write));
    return last;
  }

  std::optional<int> free_alu(Cycle t, std::vector<std::pair<Cycle, int>>& used) const {
    for (int alu = 0; alu < chip_.vxm_alus; ++alu) {
      bool taken = false;
      for (const auto& [c, a] : used) taken = taken || (c == t && a == alu);
      if (!taken && sb_.queue_free(QueueId{UnitKind::Vxm, Hemisphere::West, alu}, t)) return alu;
    }
    return std::nullopt;
  }

  struct Sink {
    enum class Kind { Mem, Mxm } kind = Kind::Mem;
    VecHome dest;     // Mem
    int plane = 0;    // Mxm: arrives at the plane's MXM at the chain's end + hops
    int group = 0;    // Mxm: first stream (chosen by the chain)
  };

  /// Schedules a VXM chain starting in cycle t. `input_group` >= 0 means the input is
  /// already on those streams at the VXM in cycle t; else it is read from `input`.
  /// Returns the cycle the result lands (MEM commit, or MXM arrival).
  std::optional<Cycle> try_chain(Cycle t, const VecHome* input, int input_group, DType input_type,
                                 const std::vector<Step>& steps, Sink& sink) {
    std::vector<std::pair<Cycle, int>> used;
    int group = input_group;
    if (input && !read_to_vxm(*input, t, group)) return std::nullopt;
    DType current = input_type;
    for (const auto& step : steps) {
      const auto alu = free_alu(t, used);
      if (!alu) return std::nullopt;
      used.emplace_back(t, *alu);
      std::vector<Operand> ops;
      const bool mask = opcode_info(step.op).operands[0].group == StreamGroup::Mask;  // compares: one int8 stream
      const DType out_type = step.op == Opcode::Cvt ? step.type_to : mask ? DType::Int8 : step.type;
      const Cycle done = t + func(step.op);
      const bool last = &step == &steps.back();
      // Where the result goes next: another ALU here, MEM, or the MXM.
      Direction out_dir = Direction::East;
      Position out_to = vxm();
      if (last && sink.kind == Sink::Kind::Mem) {
        out_to = pos(quads_[static_cast<std::size_t>(sink.dest.quad)][0]);
        out_dir = ScheduleBuilder::toward(vxm(), out_to);
        // The farthest plane decides the segment; all planes go the same way.
        for (const auto& s : quads_[static_cast<std::size_t>(sink.dest.quad)])
          if (std::abs(pos(s).value() - vxm().value()) > std::abs(out_to.value() - vxm().value())) out_to = pos(s);
      } else if (last) {
        out_to = mxm(sink.plane);
        out_dir = ScheduleBuilder::toward(vxm(), out_to);
      }
      const int out_group = group_of(out_type);
      const auto dst = sb_.find_streams(out_dir, out_group == 1 ? 1 : out_group == 2 ? 2 : 4, vxm(), out_to, done);
      if (!dst) return std::nullopt;
      ops.push_back(stream_operand(out_dir, *dst));
      if (step.op == Opcode::VSelect) return std::nullopt;  // not produced by the lowering
      ops.push_back(stream_operand(input_group >= 0 || input ? dir_of_group_ : Direction::East, group));
      (void)current;
      if (step.b.kind == StepOperand::Kind::Imm) {
        ops.push_back(imm_operand(step.b.imm));
      } else if (step.b.kind == StepOperand::Kind::Mem) {
        int b_group = 0;
        Direction b_dir = read_dir(step.b.vec);
        if (!read_to_vxm(step.b.vec, t, b_group)) {
          // The operand's slices are busy in that cycle (often: it shares a quad with the
          // first operand). Read it a cycle earlier and pass it through a mov.
          const Cycle early = t - func(Opcode::Mov);
          const auto mov_alu = free_alu(early, used);
          if (!mov_alu || !read_to_vxm(step.b.vec, early, b_group)) return std::nullopt;
          used.emplace_back(early, *mov_alu);
          const auto moved = sb_.find_streams(Direction::East, 4, vxm(), vxm(), t);
          if (!moved) return std::nullopt;
          sb_.reserve_streams(Direction::East, *moved, 4, vxm(), vxm(), t);
          sb_.place(QueueId{UnitKind::Vxm, Hemisphere::West, *mov_alu},
                    PlacedInstruction{early, make_instruction(Opcode::Mov, DType::Fp32,
                                                              {stream_operand(Direction::East, *moved),
                                                               stream_operand(b_dir, b_group)})});
          b_group = *moved;
          b_dir = Direction::East;
        }
        ops.push_back(stream_operand(b_dir, b_group));
      }
      // A result going to MEM is reserved plane by plane by write_from (each plane's own
      // segment); every other transfer is reserved here.
      if (!(last && sink.kind == Sink::Kind::Mem)) sb_.reserve_streams(out_dir, *dst, out_group, vxm(), out_to, done);
      sb_.place(QueueId{UnitKind::Vxm, Hemisphere::West, *alu},
                PlacedInstruction{t, make_instruction(step.op, step.type, ops, step.type_to)});
      ++stats_.vxm_ops;
      group = *dst;
      dir_of_group_ = out_dir;
      current = out_type;
      t = done;
    }
    if (sink.kind == Sink::Kind::Mem) {
      if (!write_from(vxm(), t, group, dir_of_group_, sink.dest)) return std::nullopt;
      return write_commit(vxm(), t, sink.dest);
    }
    sink.group = group;
    return t + hops(vxm(), mxm(sink.plane));
  }

  Direction read_dir(const VecHome& v) const {
    return ScheduleBuilder::toward(pos(quads_[static_cast<std::size_t>(v.quad)][0]), vxm());
  }

  /// Runs a chain on an fp32 vector from MEM into MEM, as early as possible from `earliest`.
  Cycle chain_mem_to_mem(const VecHome& a, const std::vector<Step>& steps, const VecHome& dest, Cycle earliest) {
    Cycle t = std::max(earliest, a.ready + func(Opcode::Read) + Cycle(1));
    for (const auto& s : steps)
      if (s.b.kind == StepOperand::Kind::Mem) t = std::max(t, s.b.vec.ready + func(Opcode::Read) + Cycle(1));
    // A reused word: the writes land at least a few cycles after t; start near the limit.
    t = std::max(t, dest.write_after - Cycle(64));
    for (const Cycle limit = t + Cycle(1000000);; t += Cycle(1)) {
      if (t > limit) throw std::logic_error("lowering found no slot for a VXM chain within a million cycles");
      sb_.begin();
      Sink sink;
      sink.dest = dest;
      dir_of_group_ = read_dir(a);
      if (auto done = try_chain(t, &a, -1, DType::Fp32, steps, sink)) {
        sb_.commit();
        return *done + Cycle(1);
      }
      sb_.rollback();
    }
  }

  // Nodes --------------------------------------------------------------------------------
  void lower_node(const Node& node) {
    switch (node.kind) {
      case OpKind::MatMul: lower_matmul(node); return;
      case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min:
        lower_binary(node);
        return;
      case OpKind::Neg: case OpKind::Exp: case OpKind::Exp2: case OpKind::Rsqrt: case OpKind::Tanh:
      case OpKind::Relu: case OpKind::Scale:
        lower_unary(node);
        return;
      case OpKind::Greater: case OpKind::GreaterEqual: lower_compare(node); return;
      case OpKind::SumRows: case OpKind::MaxRows: lower_reduce_rows(node); return;
      case OpKind::Slice: lower_row_view(node); return;
      case OpKind::Concat: lower_row_view(node); return;
      case OpKind::Assign: lower_assign(node); return;
      default:
        throw InputError(fmt::format("{}: node '{}': op {} reached lowering undecomposed (a compiler bug)", g_.file,
                                     node.name, op_name(node.kind)));
    }
  }

  static Opcode vxm_opcode(OpKind k) {
    switch (k) {
      case OpKind::Add: return Opcode::Add;
      case OpKind::Sub: return Opcode::Sub;
      case OpKind::Mul: case OpKind::Scale: return Opcode::Mul;
      case OpKind::Max: return Opcode::Max;
      case OpKind::Min: return Opcode::Min;
      case OpKind::Neg: return Opcode::Neg;
      case OpKind::Exp: return Opcode::Exp;
      case OpKind::Exp2: return Opcode::Exp2;
      case OpKind::Rsqrt: return Opcode::Rsqrt;
      case OpKind::Tanh: return Opcode::Tanh;
      case OpKind::Relu: return Opcode::Relu;
      default: return Opcode::Mov;
    }
  }

  void finish_node(const Node& node, const Act& out) {
    Cycle end{0};
    for (auto r : out.ready) end = std::max(end, r);
    stats_.node_end_cycle[node.name] = end.value();
  }

  void lower_unary(const Node& node) {
    const Act& a = act(node.inputs[0]);
    Act& out = make_act(node.outputs[0], a.rows, a.cols, std::nullopt);
    Step step{vxm_opcode(node.kind)};
    if (node.kind == OpKind::Scale) {
      step.b.kind = StepOperand::Kind::Imm;
      step.b.imm = node.float_attr("value", 1.0);
    }
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t j = 0; j < a.tiles; ++j) {
        const VecHome src = a.at(m, j);
        const VecHome dst = out.at(m, j);
        out.ready[static_cast<std::size_t>(m * out.tiles + j)] = chain_mem_to_mem(src, {step}, dst, Cycle(0));
      }
    finish_node(node, out);
  }

  void lower_binary(const Node& node) {
    const Act& a = act(node.inputs[0]);
    Act& out = make_act(node.outputs[0], a.rows, a.cols, std::nullopt);
    const Act* b = node.inputs.size() > 1 ? &act(node.inputs[1]) : nullptr;
    const std::string broadcast = node.string_attr("broadcast", "");
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t j = 0; j < a.tiles; ++j) {
        Step step{vxm_opcode(node.kind)};
        if (!b) {
          step.b.kind = StepOperand::Kind::Imm;
          step.b.imm = node.float_attr("immediate", 0.0);
        } else {
          step.b.kind = StepOperand::Kind::Mem;
          const std::int64_t bm = b->rows == 1 ? 0 : m;
          const std::int64_t bj = broadcast == "tile" ? 0 : j;
          step.b.vec = b->at(bm, bj);
        }
        out.ready[static_cast<std::size_t>(m * out.tiles + j)] = chain_mem_to_mem(a.at(m, j), {step}, out.at(m, j), Cycle(0));
      }
    finish_node(node, out);
  }

  /// a > b (or >=) as 1.0 / 0.0: the VXM compare gives an int8 0/1 mask, cvt makes it fp32.
  void lower_compare(const Node& node) {
    const Act& a = act(node.inputs[0]);
    Act& out = make_act(node.outputs[0], a.rows, a.cols, std::nullopt);
    const Act* b = node.inputs.size() > 1 ? &act(node.inputs[1]) : nullptr;
    const bool tile = node.string_attr("broadcast", "") == "tile";
    for (std::int64_t m = 0; m < a.rows; ++m)
      for (std::int64_t j = 0; j < a.tiles; ++j) {
        Step compare{node.kind == OpKind::Greater ? Opcode::CmpGt : Opcode::CmpGe};
        if (b) {
          compare.b.kind = StepOperand::Kind::Mem;
          compare.b.vec = b->at(b->rows == 1 ? 0 : m, tile ? 0 : j);
        } else {
          compare.b.kind = StepOperand::Kind::Imm;
          compare.b.imm = node.float_attr("immediate", 0.0);
        }
        out.ready[static_cast<std::size_t>(m * out.tiles + j)] =
            chain_mem_to_mem(a.at(m, j), {compare, Step{Opcode::Cvt, DType::Int8, DType::Fp32}}, out.at(m, j), Cycle(0));
      }
    finish_node(node, out);
  }

  /// Row slices and row concatenations are views: no data moves.
  void lower_row_view(const Node& node) {
    if (node.kind == OpKind::Slice && node.int_attr("axis", 0) != 0)
      throw std::logic_error("lowering: a lane slice must be decomposed into a matmul");
    Act view;
    std::vector<std::pair<const Act*, std::pair<std::int64_t, std::int64_t>>> parts;
    if (node.kind == OpKind::Slice) {
      parts.push_back({&act(node.inputs[0]), {node.int_attr("begin", 0), node.int_attr("end", 0)}});
    } else {
      for (int in : node.inputs) parts.push_back({&act(in), {0, act(in).rows}});
    }
    view.cols = parts[0].first->cols;
    view.tiles = parts[0].first->tiles;
    for (const auto& [src, range] : parts)
      for (std::int64_t m = range.first; m < range.second; ++m)
        for (std::int64_t j = 0; j < view.tiles; ++j) {
          view.homes.push_back(src->homes[static_cast<std::size_t>(m * src->tiles + j)]);
          view.ready.push_back(src->ready[static_cast<std::size_t>(m * src->tiles + j)]);
        }
    view.rows = static_cast<std::int64_t>(view.homes.size()) / view.tiles;
    acts_[static_cast<std::size_t>(node.outputs[0])] = std::move(view);
    finish_node(node, acts_[static_cast<std::size_t>(node.outputs[0])]);
  }

  /// Writes src's rows into a state tensor (the KV cache) from row attr "row".
  void lower_assign(const Node& node) {
    vector_constant(node.inputs[0]);
    Act& dst = acts_[static_cast<std::size_t>(node.inputs[0])];
    const Act& src = act(node.inputs[1]);
    const std::int64_t row = node.int_attr("row", 0);
    Cycle end{0};
    for (std::int64_t m = 0; m < src.rows; ++m)
      for (std::int64_t j = 0; j < src.tiles; ++j) {
        // Readers of the old contents must be done: the cache rows written here are new.
        const VecHome to = dst.at(row + m, j);
        const Cycle ready = chain_mem_to_mem(src.at(m, j), {Step{Opcode::Mov}}, to, to.ready);
        dst.ready[static_cast<std::size_t>((row + m) * dst.tiles + j)] = ready;
        end = std::max(end, ready);
      }
    stats_.node_end_cycle[node.name] = end.value();
  }

  void lower_reduce_rows(const Node& node) {
    // A pairwise tree on the VXM: level by level, each op adds (or maxes) two vectors.
    const Act& a = act(node.inputs[0]);
    Act& out = make_act(node.outputs[0], 1, a.cols, std::nullopt);
    const Opcode op = node.kind == OpKind::SumRows ? Opcode::Add : Opcode::Max;
    for (std::int64_t j = 0; j < a.tiles; ++j) {
      std::vector<VecHome> level;
      for (std::int64_t m = 0; m < a.rows; ++m) level.push_back(a.at(m, j));
      if (level.size() == 1) {  // a copy
        out.ready[static_cast<std::size_t>(j)] = chain_mem_to_mem(level[0], {Step{Opcode::Mov}}, out.at(0, j), Cycle(0));
        continue;
      }
      while (level.size() > 1) {
        std::vector<VecHome> next;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
          VecHome dest;
          if (level.size() == 2) {
            dest = out.at(0, j);
          } else {
            dest.quad = pick_quad(std::nullopt);
            dest.address = alloc_quad(dest.quad, 1, "a reduction temporary", &dest.write_after);
          }
          Step step{op};
          step.b.kind = StepOperand::Kind::Mem;
          step.b.vec = level[i + 1];
          dest.ready = chain_mem_to_mem(level[i], {step}, dest, Cycle(0));
          next.push_back(dest);
        }
        if (level.size() % 2 == 1) next.push_back(level.back());
        level = std::move(next);
      }
      out.ready[static_cast<std::size_t>(j)] = level[0].ready;
    }
    finish_node(node, out);
  }

  // MatMul -------------------------------------------------------------------------------
  struct Term {
    const Act* x;
    int weight;
    bool transpose;
    std::int64_t k_rows;  // K
  };

  struct Block {
    int term;
    std::int64_t k_tile;
    bool int8;
    std::int64_t base;  // word in every slice of the plane's group
    std::int64_t lws;   // lw instructions
  };

  /// Stores weight block (term, k_tile) for output tile n on `plane`'s slice group.
  std::optional<Block> store_block(const Term& term, int term_index, std::int64_t k_tile, std::int64_t n,
                                   std::int64_t n_cols, int plane, bool int8, const std::vector<float>& w,
                                   std::vector<float>* column_scale) {
    // A weight block used again (a constant matrix in every layer) is stored once.
    const auto key = std::make_tuple(term.weight, term.transpose, n, k_tile, plane, int8);
    if (auto it = stored_blocks_.find(key); it != stored_blocks_.end()) {
      if (!it->second) return std::nullopt;
      Block b = *it->second;
      b.term = term_index;
      return b;
    }
    auto stored = store_new_block(term, term_index, k_tile, n, n_cols, plane, int8, w, column_scale);
    stored_blocks_[key] = stored;
    return stored;
  }

  std::optional<Block> store_new_block(const Term& term, int term_index, std::int64_t k_tile, std::int64_t n,
                                       std::int64_t n_cols, int plane, bool int8, const std::vector<float>& w,
                                       std::vector<float>* column_scale) {
    const std::int64_t rows = std::min<std::int64_t>(lanes_, n_cols - n * lanes_);
    // w is [K, N] (or [N, K] transposed); block row r, lane i = w[k_tile*L + i, n*L + r].
    auto at = [&](std::int64_t k, std::int64_t col) -> float {
      const std::int64_t K = term.k_rows;
      return term.transpose ? w[static_cast<std::size_t>(col * K + k)] : w[static_cast<std::size_t>(k * n_cols + col)];
    };
    // Blocks of a constant matrix that are all zero are skipped; model weights are not
    // inspected when their values are not generated (timing-only compiles).
    bool all_zero = !w.empty();
    for (std::int64_t r = 0; r < rows && all_zero; ++r)
      for (std::int64_t i = 0; i < lanes_ && k_tile * lanes_ + i < term.k_rows; ++i)
        if (at(k_tile * lanes_ + i, n * lanes_ + r) != 0.0f) { all_zero = false; break; }
    if (all_zero) return std::nullopt;
    const int rows_per_lw = int8 ? kWeightStreams : kWeightStreams / 2;
    Block b{term_index, k_tile, int8, 0, (rows + rows_per_lw - 1) / rows_per_lw};
    auto& next = group_next_[static_cast<std::size_t>(plane)];
    b.base = next;
    if (next + b.lws > chip_.mem_slice_words) fail_capacity("the model");
    next += b.lws;
    const auto& group = groups_[static_cast<std::size_t>(plane)];
    ++stats_.weight_blocks;
    stats_.weight_bytes += b.lws * kWeightStreams * lanes_;
    const std::string& wname = g_.tensors[static_cast<std::size_t>(term.weight)].name;
    const int parts = int8 ? kWeightStreams : kWeightStreams / 2;
    for (int j = 0; j < parts; ++j) {
      TensorDecl d;
      d.name = fmt::format("w{}_{}_{}_{}", blocks_declared_, n, k_tile, j);
      d.dtype = int8 ? DType::Int8 : DType::Fp16;
      d.vectors = b.lws;
      if (int8) d.slices = {group[static_cast<std::size_t>(j)]};
      else d.slices = {group[static_cast<std::size_t>(2 * j)], group[static_cast<std::size_t>(2 * j + 1)]};
      d.address = b.base;
      if (j == 0) d.comment = fmt::format("{} block (out tile {}, in tile {})", wname, n, k_tile);
      decls_.push_back(d);
      if (functional_data_) {
        std::vector<double> v(static_cast<std::size_t>(b.lws * lanes_), 0.0);
        for (std::int64_t t = 0; t < b.lws; ++t) {
          const std::int64_t r = t * rows_per_lw + j;
          if (r >= rows) continue;
          for (std::int64_t i = 0; i < lanes_ && k_tile * lanes_ + i < term.k_rows; ++i) {
            double x = at(k_tile * lanes_ + i, n * lanes_ + r);
            if (int8) x = std::nearbyint(x / (*column_scale)[static_cast<std::size_t>(n * lanes_ + r)]);
            v[static_cast<std::size_t>(t * lanes_ + i)] = x;
          }
        }
        data_[d.name] = std::move(v);
      }
    }
    ++blocks_declared_;
    return b;
  }

  void lower_matmul(const Node& node) {
    // Inputs: x0, w0[, x1, w1 ...]: y = sum_i x_i w_i; attr "bias" names a [N] tensor.
    std::vector<Term> terms;
    std::int64_t n_cols = -1, rows = -1;
    for (std::size_t i = 0; i + 1 < node.inputs.size(); i += 2) {
      const Act& x = act(node.inputs[i]);
      const int w = node.inputs[i + 1];
      const bool transpose = node.int_attr("transpose_w", 0) != 0;
      const auto [wr, wc] = matrix_shape(w);
      terms.push_back(Term{&x, w, transpose, transpose ? wc : wr});
      n_cols = transpose ? wr : wc;
      rows = x.rows;
    }
    const int bias = static_cast<int>(node.int_attr("bias", -1));
    const std::int64_t n_tiles = tiles_of(n_cols);
    // Each output tile runs on the plane whose weight slices hold the fewest words so far
    // (balancing SRAM and MXM time); its result lands in a quad on that plane's side.
    std::vector<int> tile_plane, tile_quads;
    {
      std::array<std::int64_t, 4> projected{};
      for (int p = 0; p < 4; ++p) projected[static_cast<std::size_t>(p)] = group_next_[static_cast<std::size_t>(p)];
      for (std::int64_t n = 0; n < n_tiles; ++n) {
        const int p = static_cast<int>(std::min_element(projected.begin(), projected.end()) - projected.begin());
        tile_plane.push_back(p);
        projected[static_cast<std::size_t>(p)] += 40;  // about one block's words per input tile
        tile_quads.push_back(pick_quad(p < 2 ? Hemisphere::West : Hemisphere::East));
      }
    }
    Act& out = make_act(node.outputs[0], rows, n_cols, std::nullopt, tile_quads);
    const Act* bias_act = bias >= 0 ? &vector_constant(bias) : nullptr;

    // Model weights follow the scenario's weight type; constants the compiler made (norm
    // sums, head reductions, rotations) stay fp16, which holds them exactly. One type per
    // node keeps the accumulator type uniform.
    bool int8 = options_.weights == Scenario::WeightType::Int8;
    for (const auto& term : terms)
      if (g_.tensors[static_cast<std::size_t>(term.weight)].init == "data") int8 = false;

    // Weight values and int8 scales (per output column).
    std::vector<std::vector<float>> values;
    std::vector<float> column_scale(static_cast<std::size_t>(n_cols), 1.0f);
    for (const auto& term : terms) {
      const bool constant = g_.tensors[static_cast<std::size_t>(term.weight)].init == "data";
      values.push_back(functional_data_ || constant ? weight_values(g_, term.weight) : std::vector<float>{});
    }
    if (int8 && functional_data_) {
      for (std::int64_t c = 0; c < n_cols; ++c) {
        float m = 0;
        for (std::size_t ti = 0; ti < terms.size(); ++ti)
          for (std::int64_t k = 0; k < terms[ti].k_rows; ++k) {
            const float v = terms[ti].transpose ? values[ti][static_cast<std::size_t>(c * terms[ti].k_rows + k)]
                                                : values[ti][static_cast<std::size_t>(k * n_cols + c)];
            m = std::max(m, std::fabs(v));
          }
        column_scale[static_cast<std::size_t>(c)] = m > 0 ? m / 127.0f : 1.0f;
      }
    }
    const double act_scale = node.float_attr("act_scale", 1.0 / 32.0);
    // Dequantisation vector per output tile: act_scale * column scale.
    std::vector<VecHome> dequant;
    if (int8) {
      const int tensor = static_cast<int>(g_.tensors.size()) + 100000 + static_cast<int>(dequant_tensors_++);
      (void)tensor;
      for (std::int64_t n = 0; n < n_tiles; ++n) {
        VecHome h;
        h.quad = tile_quads[static_cast<std::size_t>(n)];
        h.address = alloc_quad(h.quad, 1, "a dequantisation vector");
        TensorDecl d;
        d.name = fmt::format("dq{}_{}", dequant_tensors_, n);
        d.dtype = DType::Fp32;
        d.slices.assign(quads_[static_cast<std::size_t>(h.quad)].begin(), quads_[static_cast<std::size_t>(h.quad)].end());
        d.address = h.address;
        decls_.push_back(d);
        std::vector<double> v(static_cast<std::size_t>(lanes_), 0.0);
        for (std::int64_t i = 0; i < lanes_ && n * lanes_ + i < n_cols; ++i)
          v[static_cast<std::size_t>(i)] = act_scale * column_scale[static_cast<std::size_t>(n * lanes_ + i)];
        data_[d.name] = std::move(v);
        dequant.push_back(h);
      }
    }

    const int slots = chip_.mxm_accumulator_slots;
    for (std::int64_t n = 0; n < n_tiles; ++n) {
      const int plane = tile_plane[static_cast<std::size_t>(n)];
      PlaneState& ps = planes_[static_cast<std::size_t>(plane)];
      if (ps.slot_free.empty()) ps.slot_free.assign(static_cast<std::size_t>(slots), Cycle(0));
      std::vector<Block> blocks;
      for (std::size_t ti = 0; ti < terms.size(); ++ti)
        for (std::int64_t k = 0; k < tiles_of(terms[ti].k_rows); ++k)
          if (auto b = store_block(terms[ti], static_cast<int>(ti), k, n, n_cols, plane, int8, values[ti], &column_scale))
            blocks.push_back(*b);
      for (std::int64_t m0 = 0; m0 < rows; m0 += slots) {
        const std::int64_t m1 = std::min<std::int64_t>(rows, m0 + slots);
        const int first_slot = ps.next_slot;
        ps.next_slot = static_cast<int>((first_slot + (m1 - m0)) % slots);
        std::vector<Cycle> row_done(static_cast<std::size_t>(m1 - m0), Cycle(0));
        for (const auto& block : blocks) {
          schedule_block(block, plane, ps, int8, *terms[static_cast<std::size_t>(block.term)].x, m0, m1, row_done,
                         act_scale, first_slot);
        }
        for (std::int64_t m = m0; m < m1; ++m) {
          const Cycle ready = blocks.empty() ? Cycle(0) : row_done[static_cast<std::size_t>(m - m0)];
          const int slot = static_cast<int>((first_slot + (m - m0)) % slots);
          out.ready[static_cast<std::size_t>(m * out.tiles + n)] =
              emit_result(plane, slot, ready, int8, out.at(m, n),
                          bias_act ? &*bias_act : nullptr, n, int8 ? &dequant[static_cast<std::size_t>(n)] : nullptr,
                          blocks.empty());
        }
      }
    }
    finish_node(node, out);
  }

  void schedule_block(const Block& block, int plane, PlaneState& ps, bool int8, const Act& x, std::int64_t m0,
                      std::int64_t m1, std::vector<Cycle>& row_done, double act_scale, int first_slot) {
    const auto& group = groups_[static_cast<std::size_t>(plane)];
    const Position mx = mxm(plane);
    const Direction to_mxm = ScheduleBuilder::toward(pos(group[0]), mx);
    const Cycle read_func = func(Opcode::Read);
    const DType wtype = int8 ? DType::Int8 : DType::Fp16;
    // 1. Stream the block into the weight buffer: lw in cycles LW0 .. LW0 + lws - 1.
    Cycle lw0 = ps.buffer_free;
    for (;; lw0 += Cycle(1)) {
      bool ok = sb_.queue_free(mxm_queue(plane, 0), lw0, block.lws - 1);
      int first = -1;
      for (int f : {0, 16}) {
        if (!ok) break;
        bool streams = true;
        for (int q = 0; q < kWeightStreams && streams; ++q) {
          const SliceRef& s = group[static_cast<std::size_t>(q)];
          const Cycle issue = lw0 - read_func - hops(pos(s), mx);
          streams = issue >= Cycle(0) && sb_.queue_free(mem_queue(s), issue, block.lws - 1) &&
                    sb_.burst_free(to_mxm, f + q, 1, pos(s), mx, issue + read_func, block.lws);
        }
        if (streams) { first = f; break; }
      }
      if (!ok || first < 0) continue;
      for (int q = 0; q < kWeightStreams; ++q) {
        const SliceRef& s = group[static_cast<std::size_t>(q)];
        const Cycle issue = lw0 - read_func - hops(pos(s), mx);
        sb_.reserve_burst(to_mxm, first + q, 1, pos(s), mx, issue + read_func, block.lws);
        sb_.place(mem_queue(s), PlacedInstruction{issue, make_instruction(Opcode::Read, DType::None,
                                                                          {int_operand(block.base), stream_operand(to_mxm, first + q)}),
                                                  block.lws - 1, 1, 1});
      }
      sb_.place(mxm_queue(plane, 0),
                PlacedInstruction{lw0, make_instruction(Opcode::LoadWeights, wtype,
                                                        {stream_operand(to_mxm, first), int_operand(int8 ? 16 : 8)}),
                                  block.lws - 1, 1, 0});
      break;
    }
    // 2. Install once the buffer is full and the array is free.
    Cycle iw = std::max({lw0 + Cycle(block.lws), ps.computing_until, ps.install_ready});
    while (!sb_.queue_free(mxm_queue(plane, 0), iw)) iw += Cycle(1);
    sb_.place(mxm_queue(plane, 0), PlacedInstruction{iw, make_instruction(Opcode::InstallWeights, DType::None, {})});
    ps.buffer_free = iw + Cycle(1);
    ps.install_ready = iw + func(Opcode::InstallWeights);
    // 3. Every row's activation tile, converted on the VXM on its way, through the array.
    const Cycle rate = int8 ? Cycle(1) : Cycle(chip_.mxm_fp16_rate_divisor);
    const Cycle to_vxm = hops(vxm(), mx);
    std::vector<Step> convert;
    if (int8) {
      Step scale{Opcode::Mul};
      scale.b.kind = StepOperand::Kind::Imm;
      scale.b.imm = 1.0 / act_scale;
      convert.push_back(scale);
      convert.push_back(Step{Opcode::Cvt, DType::Fp32, DType::Int8});
    } else {
      convert.push_back(Step{Opcode::Cvt, DType::Fp32, DType::Fp16});
    }
    Cycle chain_length{0};
    for (const auto& s : convert) chain_length += func(s.op);
    for (std::int64_t m = m0; m < m1; ++m) {
      const VecHome xv = x.at(m, block.k_tile);
      const int slot = static_cast<int>((first_slot + (m - m0)) % chip_.mxm_accumulator_slots);
      // The slot must have been emptied by the acc of its previous user.
      Cycle abc = std::max({ps.install_ready, ps.last_abc + rate, ps.slot_free[static_cast<std::size_t>(slot)]});
      abc = std::max(abc, xv.ready + read_func + Cycle(1) + chain_length + to_vxm + hops(pos(quads_[static_cast<std::size_t>(xv.quad)][3]), vxm()));
      for (;; abc += Cycle(1)) {
        if (!sb_.queue_free(mxm_queue(plane, 1), abc)) continue;
        sb_.begin();
        Sink sink;
        sink.kind = Sink::Kind::Mxm;
        sink.plane = plane;
        dir_of_group_ = read_dir(xv);
        const Cycle start = abc - to_vxm - chain_length;
        auto arrive = try_chain(start, &xv, -1, DType::Fp32, convert, sink);
        if (!arrive || *arrive != abc) { sb_.rollback(); continue; }
        sb_.place(mxm_queue(plane, 1),
                  PlacedInstruction{abc, make_instruction(Opcode::ActivationBuffer, wtype,
                                                          {stream_operand(dir_of_group_, sink.group),
                                                           int_operand(slot)})});
        sb_.commit();
        break;
      }
      ps.last_abc = abc;
      ps.computing_until = std::max(ps.computing_until, abc + func(Opcode::ActivationBuffer));
      row_done[static_cast<std::size_t>(m - m0)] = abc + func(Opcode::ActivationBuffer);
    }
  }

  /// acc for one row: straight into MEM, or through the VXM for dequantisation and bias.
  Cycle emit_result(int plane, int slot, Cycle ready, bool int8, const VecHome& dest, const Act* bias, std::int64_t n,
                    const VecHome* dequant, bool zero) {
    const Position mx = mxm(plane);
    const DType acc_type = int8 ? DType::Int32 : DType::Fp32;
    std::vector<Step> post;
    if (int8) {
      post.push_back(Step{Opcode::Cvt, DType::Int32, DType::Fp32});
      Step scale{Opcode::Mul};
      scale.b.kind = StepOperand::Kind::Mem;
      scale.b.vec = *dequant;
      post.push_back(scale);
    }
    if (bias) {
      Step add{Opcode::Add};
      add.b.kind = StepOperand::Kind::Mem;
      add.b.vec = bias->at(0, n);
      post.push_back(add);
    }
    if (zero) {  // every block of this tile is zero: the result is zero (a copy of nothing)
      post.clear();
    }
    const Position first_slice = pos(quads_[static_cast<std::size_t>(dest.quad)][0]);
    const Direction away = ScheduleBuilder::toward(mx, post.empty() ? first_slice : vxm());
    for (Cycle q = std::max(ready, dest.write_after - Cycle(128)); ; q += Cycle(1)) {
      if (!sb_.queue_free(mxm_queue(plane, 2), q)) continue;
      const Cycle out_at = q + func(Opcode::Accumulate);
      sb_.begin();
      const Position to = post.empty() ? pos(quads_[static_cast<std::size_t>(dest.quad)][3]) : vxm();
      const auto group = sb_.find_streams(away, 4, mx, to, out_at);
      if (!group) { sb_.rollback(); continue; }
      if (!post.empty()) sb_.reserve_streams(away, *group, 4, mx, to, out_at);
      sb_.place(mxm_queue(plane, 2), PlacedInstruction{q, make_instruction(Opcode::Accumulate, acc_type,
                                                                           {stream_operand(away, *group), int_operand(slot)})});
      planes_[static_cast<std::size_t>(plane)].slot_free[static_cast<std::size_t>(slot)] = q + Cycle(1);
      if (post.empty()) {
        if (!write_from(mx, out_at, *group, away, dest)) { sb_.rollback(); continue; }
        sb_.commit();
        return write_commit(mx, out_at, dest) + Cycle(1);
      }
      Sink sink;
      sink.dest = dest;
      dir_of_group_ = away;
      auto done = try_chain(out_at + hops(mx, vxm()), nullptr, *group, acc_type, post, sink);
      if (!done) { sb_.rollback(); continue; }
      sb_.commit();
      return *done + Cycle(1);
    }
  }

  const Graph& g_;
  const ChipConfig& chip_;
  LoweringOptions options_;
  ScheduleBuilder sb_;
  int lanes_;
  std::vector<std::array<SliceRef, 4>> quads_;
  std::vector<std::int64_t> quad_next_;
  std::vector<std::vector<FreeRange>> free_;
  std::map<std::pair<int, std::int64_t>, Cycle> last_read_;
  std::vector<std::pair<std::pair<int, std::int64_t>, Cycle>> pending_reads_;
  std::vector<bool> released_;
  std::vector<std::array<SliceRef, 16>> groups_;
  std::vector<std::int64_t> group_next_;
  std::vector<Act> acts_;
  std::vector<TensorDecl> decls_;
  std::map<std::string, std::vector<double>> data_;
  std::array<PlaneState, 4> planes_{};
  LoweringStats stats_;
  std::map<std::tuple<int, bool, std::int64_t, std::int64_t, int, bool>, std::optional<Block>> stored_blocks_;
  Direction dir_of_group_ = Direction::East;
  int next_quad_ = 0;
  int temp_ = 0;
  int blocks_declared_ = 0;
  std::size_t dequant_tensors_ = 0;
  bool functional_data_;
};

}  // namespace

LoweredProgram lower_graph(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options) {
  return Lowerer(graph, chip, options).run();
}

}  // namespace lpusim
