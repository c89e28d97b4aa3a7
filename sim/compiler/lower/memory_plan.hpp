#pragma once
// Placement: where every tensor lives in MEM (private to the lowering).
//
// Activations: slices 0..11 of each hemisphere, next to the VXM, as six "quads" of 4 slices
// (byte plane b of an fp32 word in slice b of the quad); a tensor [M, N] takes M words of
// one quad per 320-lane tile. An intermediate's words return to a free list after its last
// read and are reused (first fit) by a later tensor, which may write them only after that
// read: placement is interleaved with scheduling because reuse depends on cycles.
// Weights: slices 12..43 of each hemisphere, 16 per MXM plane (a "weight group"), filled
// word by word by weight_tiling.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/graph.hpp"
#include "compiler/lower/lowered_program.hpp"
#include "compiler/lower/lowering_types.hpp"

namespace lpusim {

class MemoryPlan {
 public:
  static constexpr int kWeightSlicesPerPlane = 16;

  MemoryPlan(const Graph& graph, const ChipConfig& chip, const LoweringOptions& options);

  const Graph& graph() const { return g_; }
  int lanes() const { return lanes_; }
  std::int64_t tiles_of(std::int64_t cols) const { return (cols + lanes_ - 1) / lanes_; }
  /// [rows, cols] of a graph tensor (a [N] vector is one row).
  std::pair<std::int64_t, std::int64_t> matrix_shape(int tensor) const;

  // Activation quads ----------------------------------------------------------------------
  const std::array<SliceRef, 4>& quad(int q) const { return quads_[static_cast<std::size_t>(q)]; }
  /// The next quad in round-robin order, on `side` if given, not one of `avoid` if another
  /// is on that side (a burst reading one quad while writing it would hold its queues twice).
  int pick_quad(std::optional<Hemisphere> side, const std::vector<int>& avoid = {});
  /// Words in a quad: with `write_after`, a freed range of an earlier tensor if one fits (its
  /// last read is returned there), else new words.
  std::int64_t alloc_quad(int q, std::int64_t words, const std::string& what, Cycle* write_after = nullptr);
  /// As alloc_quad, but when quad `q` is full another quad with room is taken (and `q` set to
  /// it): of the same hemisphere if `same_side`, else any.
  std::int64_t alloc_some_quad(int& q, std::int64_t words, const std::string& what, Cycle* write_after, bool same_side);

  // Graph tensors -------------------------------------------------------------------------
  /// Allocates an activation [rows, cols]; tile j goes to tile_quads[j] if given. Inputs,
  /// outputs and state are declared as assembly tensors t<id>_<tile>.
  Act& make_act(int tensor, std::int64_t rows, std::int64_t cols, std::optional<Hemisphere> side = std::nullopt,
                const std::vector<int>& tile_quads = {});
  /// Whether `tensor` has words of its own or is a view (placed before its producer ran: a
  /// stage's hand-off, place_stage_input).
  bool placed(int tensor) const { return acts_[static_cast<std::size_t>(tensor)].tiles > 0; }
  /// The stage gate opens at `gate`: everything placed so far (loaded before the run, or
  /// received before the gate) is ready no earlier, and so is what is placed later.
  void start_at(Cycle gate);
  /// A computed (or input) tensor's placement; an InputError if it has none yet.
  const Act& act(int tensor);
  Act& mutable_act(int tensor) { return acts_[static_cast<std::size_t>(tensor)]; }
  /// A weight or state tensor used as a per-lane vector operand, placed on first use.
  const Act& vector_constant(int tensor);
  /// Makes `tensor` a view of other tensors' words (no storage of its own).
  void set_view(int tensor, Act view) { acts_[static_cast<std::size_t>(tensor)] = std::move(view); }
  /// Returns a dead tensor's words to its quads' free lists, reusable after its last read.
  void release(int tensor);

  /// Places, below all intermediates (whose words are reused and so cannot hold data from
  /// cycle 0), everything loaded before the run: the graph's inputs, the vector operands
  /// that are weights or state (biases, norm weights, rope's cos/sin, KV caches) and one
  /// dequantisation word per int8 or fp8 matmul output tile. A model whose weights alone exceed
  /// the weight slices fails here, before any work.
  void place_before_run();

  /// Data loaded before the run (constants, dequantisation vectors) needs words no tensor of
  /// the run ever used, so it is placed first, below every intermediate: `count` words
  /// reserved round robin over the quads now, handed out by take_constant_word.
  void reserve_constant_words(std::int64_t count);
  VecHome take_constant_word(const std::string& what);

  // Reads, for lifetimes ------------------------------------------------------------------
  void note_read(int quad, std::int64_t address, Cycle cycle) { pending_reads_.push_back({{quad, address}, cycle}); }
  /// Called after each node: its reads become the words' last reads, and its temporaries'
  /// words are freed after theirs.
  void settle_reads();
  /// One word for a value that lives within the current node (a reduction tree's partial
  /// sums); freed at the node's settle_reads. Its ready cycle is set by set_temporary_ready.
  VecHome alloc_temporary(const std::string& what);
  void set_temporary_ready(const VecHome& home);

  // Weight groups -------------------------------------------------------------------------
  const std::array<SliceRef, kWeightSlicesPerPlane>& weight_group(int plane) const {
    return groups_[static_cast<std::size_t>(plane)];
  }
  std::int64_t weight_words_used(int plane) const { return group_next_[static_cast<std::size_t>(plane)]; }
  /// `words` new words in every slice of `plane`'s group, for a block of weight `what`; an
  /// InputError naming the plane's fill if it is full.
  std::int64_t alloc_weight_words(int plane, std::int64_t words, const std::string& what);

  // Declarations and initial contents -------------------------------------------------------
  void declare(TensorDecl decl) { decls_.push_back(std::move(decl)); }
  void set_data(const std::string& tensor, std::vector<double> values) { data_[tensor] = std::move(values); }
  /// Stores [rows, cols] values (row-major) into an activation-layout tensor's declaration.
  void store_values(const Act& a, const std::vector<float>& values);
  const std::vector<TensorDecl>& decls() const { return decls_; }
  std::map<std::string, std::vector<double>> take_data() { return std::move(data_); }
  std::map<std::string, TensorPlacement> placements() const;
  std::int64_t activation_bytes() const;
  std::int64_t& weight_bytes() { return weight_bytes_; }

  /// The "does not fit" error, with the number of chips the weights would need.
  [[noreturn]] void fail_capacity(const std::string& what) const;
  /// Plane `plane` has not `need` words free in its weight slices for a block of `what`.
  [[noreturn]] void fail_plane_capacity(const std::string& what, int plane, std::int64_t need) const;
  const ChipConfig& chip() const { return chip_; }
  /// The activation slices are full (the weights may fit).
  [[noreturn]] void fail_activation_capacity(const std::string& what) const;
  /// alloc_quad's search; nullopt when the quad has no room.
  std::optional<std::int64_t> try_alloc_quad(int q, std::int64_t words, Cycle* write_after);

 private:
  struct FreeRange {
    std::int64_t start, length;
    Cycle free_after;
  };

  void add_free(int q, FreeRange range);
  std::optional<std::int64_t> take_adjacent_free(int q, std::int64_t words, Cycle* write_after);

  const Graph& g_;
  const ChipConfig& chip_;
  LoweringOptions options_;
  int lanes_;
  std::vector<std::array<SliceRef, 4>> quads_;
  std::vector<std::int64_t> quad_next_;
  std::vector<std::vector<FreeRange>> free_;
  int next_quad_ = 0;
  std::vector<std::array<SliceRef, kWeightSlicesPerPlane>> groups_;
  std::vector<std::int64_t> group_next_;
  std::vector<Act> acts_;
  std::map<std::pair<int, std::int64_t>, Cycle> last_read_;
  std::vector<std::pair<std::pair<int, std::int64_t>, Cycle>> pending_reads_;
  std::vector<VecHome> temporaries_;
  std::vector<VecHome> constant_words_;  ///< reserved by reserve_constant_words, not yet taken
  std::vector<TensorDecl> decls_;
  std::map<std::string, std::vector<double>> data_;
  std::int64_t weight_bytes_ = 0;
  Cycle floor_{0};  ///< the stage gate: the earliest ready cycle of anything
};

}  // namespace lpusim
