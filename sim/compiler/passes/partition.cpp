// The partition pass: one graph per chip of a partition plan (docs/multichip.md, "Partitioned
// graphs"). Family-agnostic: it reads what the graph builder annotated (Node::layer, and each
// weight matmul's Node::split) and the ops' own head and expert counts.
//
//   stages   a chip keeps the nodes of its stage's layers (the nodes before the first layer go
//            to stage 0, those after the last to the last stage); a tensor made in one stage
//            and read in a later one leaves by Send and arrives by Recv on the chip of the
//            same rank;
//   columns  a Columns matmul keeps rank r's share of the output columns, in whole
//            split_unit groups (attention heads); when there are fewer groups than chips
//            (KV heads), rank r keeps group r x groups / tp; ops downstream (bias adds, rope,
//            activations, attention) follow the same columns, and attention's head counts
//            shrink to match; KV caches are cut like k and v;
//   rows     a Rows matmul multiplies the columns its input holds by the matching weight rows;
//            an AllReduce over the stage's chips sums the partial products;
//   experts  an MoE layer's experts are dealt to the ep groups of a stage (each group of tp/ep
//            chips splits each of its experts' width); the router runs everywhere; an
//            AllReduce sums the weighted expert outputs.
// Weight shards keep their tensor's name and deterministic init (TensorInfo::slice_of), so the
// values on each chip are exactly the matching slice of the one-chip model.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "compiler/passes/passes.hpp"

namespace lpusim {

namespace {

struct ColumnRange {
  std::int64_t full = 0, begin = 0, end = 0;
  std::int64_t width() const { return end - begin; }
  bool operator==(const ColumnRange& o) const { return full == o.full && begin == o.begin && end == o.end; }
  bool operator!=(const ColumnRange& o) const { return !(*this == o); }
};

class ChipBuilder {
 public:
  ChipBuilder(const Graph& whole, const PartitionPlan& plan, int chip, const std::vector<int>& node_stage,
              const std::vector<int>& producer)
      : w_(whole), plan_(plan), chip_(chip), stage_(chip / plan.tp), rank_(chip % plan.tp), node_stage_(node_stage),
        producer_(producer), map_(whole.tensors.size(), -1), columns_(whole.tensors.size()) {
    g_.name = whole.name;
    g_.file = whole.file;
  }

  Graph build() {
    for (std::size_t i = 0; i < w_.nodes.size(); ++i)
      if (node_stage_[i] == stage_) rewrite(w_.nodes[i]);
    send_to_later_stages();
    infer_shapes(g_);
    return std::move(g_);
  }

 private:
  [[noreturn]] void fail(const Node& n, const std::string& what) const {
    throw InputError(fmt::format("{}: node '{}' ({}): cannot partition over {} chips per stage: {}",
                                 w_.file.empty() ? w_.name : w_.file, n.name, op_name(n.kind), plan_.tp, what));
  }

  const TensorInfo& whole_tensor(int t) const { return w_.tensors[static_cast<std::size_t>(t)]; }
  static std::int64_t cols_of(const TensorInfo& t) { return t.shape.back(); }

  /// This rank's share of `full` columns cut in groups of `unit`.
  std::optional<ColumnRange> share(std::int64_t full, std::int64_t unit, bool uneven_ok) const {
    const int tp = plan_.tp;
    if (unit < 1 || full % unit != 0) return std::nullopt;
    const std::int64_t groups = full / unit;
    if (groups % tp == 0) {
      const std::int64_t per = groups / tp * unit;
      return ColumnRange{full, rank_ * per, (rank_ + 1) * per};
    }
    if (tp % groups == 0) {  // fewer groups than chips: each keeps one whole group
      const std::int64_t g = rank_ * groups / tp;
      return ColumnRange{full, g * unit, (g + 1) * unit};
    }
    if (!uneven_ok) return std::nullopt;
    const std::int64_t per = (full + tp - 1) / tp;
    const std::int64_t begin = std::min(full, rank_ * per), end = std::min(full, (rank_ + 1) * per);
    if (begin >= end) return std::nullopt;
    return ColumnRange{full, begin, end};
  }

  /// Adds a copy of a Weight, Input or State tensor, cut to `rows` x `cols` if given.
  int add_leaf(int t, std::optional<std::pair<std::int64_t, std::int64_t>> rows, std::optional<ColumnRange> cols) {
    TensorInfo info = whole_tensor(t);
    if (rows || cols) {
      WeightSlice slice;
      slice.full_shape = info.shape;
      if (rows) {
        slice.row_begin = rows->first;
        info.shape[0] = rows->second - rows->first;
      }
      if (cols) {
        slice.col_begin = cols->begin;
        info.shape.back() = cols->width();
      }
      if (info.role == TensorRole::Weight) info.slice_of = slice;
      // Two cuts of one tensor on a chip (a tied embedding table: whole for the lookup, cut
      // for the LM head) need two names; the seed keeps the values.
      if (g_.find(info.name) >= 0) info.name += ".cut";
    }
    return g_.add_tensor(std::move(info));
  }

  /// The chip's tensor for whole tensor `t` as an operand, adding it if needed: leaves are
  /// copied whole (a consumer that cuts them adds its own), tensors from an earlier stage
  /// arrive by Recv.
  int operand(int t) {
    if (map_[static_cast<std::size_t>(t)] >= 0) return map_[static_cast<std::size_t>(t)];
    const TensorInfo& info = whole_tensor(t);
    if (producer_[static_cast<std::size_t>(t)] < 0) return map_[static_cast<std::size_t>(t)] = add_leaf(t, {}, {});
    const int from_stage = node_stage_[static_cast<std::size_t>(producer_[static_cast<std::size_t>(t)])];
    TensorInfo arriving = info;
    arriving.role = TensorRole::Intermediate;
    const int id = g_.add_tensor(arriving);
    Node recv;
    recv.kind = OpKind::Recv;
    recv.name = info.name + ".recv";
    recv.outputs = {id};
    recv.peer = from_stage * plan_.tp + rank_;
    recv.stage_input = true;
    g_.nodes.push_back(recv);
    return map_[static_cast<std::size_t>(t)] = id;
  }

  int add_output(const Node& n, std::optional<ColumnRange> cols, const std::string& suffix = "") {
    TensorInfo info = whole_tensor(n.outputs[0]);
    info.name += suffix;
    if (cols) info.shape.back() = cols->width();
    if (!suffix.empty()) info.role = TensorRole::Intermediate;
    return g_.add_tensor(std::move(info));
  }

  Node copy_of(const Node& n) const {
    Node c = n;
    c.inputs.clear();
    c.outputs.clear();
    return c;
  }

  void all_reduce(const Node& n, int partial) {
    const int out = add_output(n, std::nullopt);
    Node ar;
    ar.kind = OpKind::AllReduce;
    ar.name = n.name + ".all_reduce";
    ar.layer = n.layer;
    ar.inputs = {partial};
    ar.outputs = {out};
    for (int r = 0; r < plan_.tp; ++r) ar.group.push_back(stage_ * plan_.tp + r);
    g_.nodes.push_back(ar);
    map_[static_cast<std::size_t>(n.outputs[0])] = out;
  }

  void rewrite(const Node& n) {
    Node c = copy_of(n);
    std::optional<ColumnRange> out_cols;
    if (plan_.tp > 1 && n.kind == OpKind::MatMul && n.split != WeightSplit::Replicated) {
      matmul(n);
      return;
    }
    if (plan_.tp > 1 && n.kind == OpKind::MoeMlp) {
      moe(n);
      return;
    }
    // Every other op follows the columns of its first operand.
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const int t = n.inputs[i];
      if (plan_.tp > 1 && n.kind == OpKind::Attention && i >= 3) {
        c.inputs.push_back(-1);  // the KV caches: attention() adds them cut like k and v
        continue;
      }
      const auto& cols = columns_[static_cast<std::size_t>(t)];
      if (i == 0) out_cols = cols;
      const TensorInfo& info = whole_tensor(t);
      const bool leaf = producer_[static_cast<std::size_t>(t)] < 0;
      if (i > 0 && out_cols && leaf && info.role == TensorRole::Weight && cols_of(info) == out_cols->full &&
          n.kind != OpKind::Attention) {
        c.inputs.push_back(add_leaf(t, std::nullopt, out_cols));  // a bias or scale over the cut columns
        continue;
      }
      if (i > 0 && out_cols && !leaf && cols != out_cols && n.kind != OpKind::Attention)
        fail(n, fmt::format("operand '{}' is cut differently from the first", info.name));
      c.inputs.push_back(operand(t));
    }
    if (plan_.tp > 1 && n.kind == OpKind::Attention) out_cols = attention(n, c);
    if (plan_.tp > 1 && (n.kind == OpKind::LayerNorm || n.kind == OpKind::RmsNorm) && out_cols) {
      // A norm over each run of `group` lanes (qwen3's per-head q/k norms) needs only whole
      // groups; one over the whole row (olmo2's q/k norms) would need a cross-chip sum.
      const std::int64_t group = n.int_attr("group", 0);
      if (n.kind != OpKind::RmsNorm || group <= 0 || out_cols->begin % group != 0 || out_cols->width() % group != 0)
        fail(n, "a norm needs whole rows (or whole groups); its input is cut by columns");
    }
    for (int o : n.outputs) {
      const int id = add_output(n, out_cols);
      map_[static_cast<std::size_t>(o)] = id;
      columns_[static_cast<std::size_t>(o)] = out_cols;
      c.outputs.push_back(id);
    }
    g_.nodes.push_back(std::move(c));
  }

  void matmul(const Node& n) {
    Node c = copy_of(n);
    const int x = n.inputs[0], w = n.inputs[1];
    const TensorInfo& wt = whole_tensor(w);
    const bool transposed = n.int_attr("transpose_w", 0) != 0;
    if (producer_[static_cast<std::size_t>(w)] >= 0 || n.inputs.size() != 2) fail(n, "expected x times a model weight");
    const std::int64_t n_full = transposed ? wt.shape[0] : wt.shape[1];
    if (n.split == WeightSplit::Columns) {
      if (columns_[static_cast<std::size_t>(x)]) fail(n, "a column split of an input that is already cut by columns");
      // The LM head (after the layers) may cut its vocabulary unevenly, bias add or not.
      const bool vocab = n.split_unit == 1 && (whole_tensor(n.outputs[0]).role == TensorRole::Output || n.layer < 0);
      const auto cols = share(n_full, n.split_unit, vocab);
      if (!cols) fail(n, fmt::format("{} columns in groups of {} do not divide between the chips", n_full, n.split_unit));
      c.inputs = {operand(x), transposed ? add_leaf(w, std::make_pair(cols->begin, cols->end), std::nullopt)
                                         : add_leaf(w, std::nullopt, cols)};
      const int out = add_output(n, cols);
      c.outputs = {out};
      map_[static_cast<std::size_t>(n.outputs[0])] = out;
      columns_[static_cast<std::size_t>(n.outputs[0])] = cols;
      g_.nodes.push_back(std::move(c));
      return;
    }
    // Rows: the input holds some columns; multiply them by the matching rows, then sum.
    const auto& cols = columns_[static_cast<std::size_t>(x)];
    if (!cols || transposed) fail(n, "a row split needs an input cut by columns");
    if (cols->full != wt.shape[0]) fail(n, "the input's columns do not match the weight's rows");
    if (cols->full % plan_.tp != 0 || cols->width() * plan_.tp != cols->full)
      fail(n, "the input's columns are not an even share (replicated heads cannot feed a row split)");
    c.inputs = {operand(x), add_leaf(w, std::make_pair(cols->begin, cols->end), std::nullopt)};
    const int partial = add_output(n, std::nullopt, ".partial");
    c.outputs = {partial};
    g_.nodes.push_back(std::move(c));
    all_reduce(n, partial);
  }

  /// Attention over this chip's heads: the counts follow q's and k's cut; the caches are cut
  /// like k and v. Returns the output's columns (q's).
  std::optional<ColumnRange> attention(const Node& n, Node& c) {
    const auto& q = columns_[static_cast<std::size_t>(n.inputs[0])];
    const auto& k = columns_[static_cast<std::size_t>(n.inputs[1])];
    if (!q || !k) fail(n, "expected q and k cut by heads");
    const std::int64_t head_dim = n.int_attr("head_dim", 0);
    if (head_dim <= 0 || q->width() % head_dim || k->width() % head_dim) fail(n, "q and k are not cut in whole heads");
    c.attrs["heads"] = q->width() / head_dim;
    c.attrs["kv_heads"] = k->width() / head_dim;
    for (std::size_t i = 3; i < 5 && i < n.inputs.size(); ++i)
      c.inputs[i] = map_[static_cast<std::size_t>(n.inputs[i])] = add_leaf(n.inputs[i], std::nullopt, k);
    if (n.inputs.size() > 5) {  // sinks: one per head, cut like q's heads
      const ColumnRange heads{q->full / head_dim, q->begin / head_dim, q->end / head_dim};
      c.inputs[5] = add_leaf(n.inputs[5], std::nullopt, heads);
    }
    return q;
  }

  void moe(const Node& n) {
    const std::int64_t experts = n.int_attr("experts", 0);
    const int ep = plan_.ep, per_group = plan_.tp / ep;
    const MoeLayout layout = moe_layout(n);
    if (experts < 1 || experts % ep != 0 || layout.experts_listed(n.inputs.size()) != experts)
      fail(n, fmt::format("{} experts do not divide between {} expert groups", experts, ep));
    const int group = rank_ / per_group, within = rank_ % per_group;
    const std::int64_t local = experts / ep, first = group * local;
    Node c = copy_of(n);
    c.inputs = {operand(n.inputs[0]), operand(n.inputs[1])};
    if (layout.biases) c.inputs.push_back(operand(n.inputs[layout.router_bias()]));
    c.attrs["first_expert"] = first;
    // A down bias belongs to the expert's output once: the first chip of its group adds it.
    if (layout.biases && within != 0) c.attrs["add_down_bias"] = std::int64_t{0};
    for (std::int64_t e = first; e < first + local; ++e) {
      const auto input = [&](std::size_t part) { return n.inputs[layout.input(e, part)]; };
      const std::int64_t width = whole_tensor(input(0)).shape[1];
      if (width % per_group != 0) fail(n, fmt::format("the expert width {} does not divide by {}", width, per_group));
      const std::int64_t per = width / per_group;
      const ColumnRange cols{width, within * per, (within + 1) * per};
      c.inputs.push_back(add_leaf(input(0), std::nullopt, cols));
      c.inputs.push_back(add_leaf(input(1), std::nullopt, cols));
      c.inputs.push_back(add_leaf(input(2), std::make_pair(cols.begin, cols.end), std::nullopt));
      if (layout.biases) {
        c.inputs.push_back(add_leaf(input(3), std::nullopt, cols));
        c.inputs.push_back(add_leaf(input(4), std::nullopt, cols));
        c.inputs.push_back(operand(input(5)));
      }
    }
    const int partial = add_output(n, std::nullopt, ".partial");
    c.outputs = {partial};
    g_.nodes.push_back(std::move(c));
    all_reduce(n, partial);
  }

  /// A tensor made here and read by a later stage goes to the chip of this rank there.
  void send_to_later_stages() {
    for (std::size_t t = 0; t < w_.tensors.size(); ++t) {
      const int p = producer_[t];
      if (p < 0 || node_stage_[static_cast<std::size_t>(p)] != stage_) continue;
      std::vector<int> stages;
      for (std::size_t i = 0; i < w_.nodes.size(); ++i)
        if (node_stage_[i] > stage_ && std::count(w_.nodes[i].inputs.begin(), w_.nodes[i].inputs.end(), static_cast<int>(t)))
          stages.push_back(node_stage_[i]);
      std::sort(stages.begin(), stages.end());
      stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
      for (int s : stages) {
        if (columns_[t]) fail(w_.nodes[static_cast<std::size_t>(p)], "a tensor cut by columns cannot leave its stage");
        Node send;
        send.kind = OpKind::Send;
        send.name = fmt::format("{}.send{}", w_.tensors[t].name, s);
        send.inputs = {map_[t]};
        send.peer = s * plan_.tp + rank_;
        send.layer = w_.nodes[static_cast<std::size_t>(p)].layer;
        g_.nodes.push_back(send);
      }
    }
  }

  const Graph& w_;
  const PartitionPlan& plan_;
  const int chip_, stage_, rank_;
  const std::vector<int>& node_stage_;
  const std::vector<int>& producer_;
  std::vector<int> map_;
  std::vector<std::optional<ColumnRange>> columns_;
  Graph g_;
};

}  // namespace

std::vector<Graph> partition_graph(const Graph& whole, const PartitionPlan& plan) {
  if (plan.tp < 1 || plan.pp < 1 || static_cast<int>(plan.stages.size()) != plan.pp)
    throw std::logic_error(fmt::format("partition: a plan of {} stages lists {}", plan.pp, plan.stages.size()));
  // The stage of every node: its layer's, or the first (before any layer) or last (after).
  std::vector<int> node_stage(whole.nodes.size(), 0);
  bool seen_layer = false;
  for (std::size_t i = 0; i < whole.nodes.size(); ++i) {
    const int layer = whole.nodes[i].layer;
    if (layer < 0) {
      node_stage[i] = seen_layer ? plan.pp - 1 : 0;
      continue;
    }
    seen_layer = true;
    const auto it = std::find_if(plan.stages.begin(), plan.stages.end(),
                                 [&](const LayerRange& r) { return layer >= r.first && layer < r.last; });
    if (it == plan.stages.end())
      throw InputError(fmt::format("{}: layer {} is in no stage of the plan ({})", whole.file, layer, plan.describe()));
    node_stage[i] = static_cast<int>(it - plan.stages.begin());
  }
  std::vector<int> producer(whole.tensors.size(), -1);
  for (std::size_t i = 0; i < whole.nodes.size(); ++i)
    for (int o : whole.nodes[i].outputs) producer[static_cast<std::size_t>(o)] = static_cast<int>(i);
  std::vector<Graph> chips;
  for (int c = 0; c < plan.chips(); ++c) chips.push_back(ChipBuilder(whole, plan, c, node_stage, producer).build());
  return chips;
}

}  // namespace lpusim
