#include "compiler/interpreter/interpret.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

#include <Eigen/Core>
#include <fmt/format.h>

#include "compiler/ir/weight_init.hpp"

namespace lpusim {

namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::pair<Eigen::Index, Eigen::Index> dims(const TensorInfo& t) {
  return t.shape.size() == 1 ? std::make_pair(Eigen::Index{1}, static_cast<Eigen::Index>(t.shape[0]))
                             : std::make_pair(static_cast<Eigen::Index>(t.shape[0]), static_cast<Eigen::Index>(t.shape[1]));
}

/// One chip's tensors while its graph runs.
class GraphState {
 public:
  GraphState(const Graph& g, const std::map<std::string, std::vector<float>>& inputs) : g_(g), v_(g.tensors.size()) {
    for (std::size_t i = 0; i < g.tensors.size(); ++i) {
      const auto& t = g.tensors[i];
      const auto [r, c] = dims(t);
      if (t.role == TensorRole::Input || t.role == TensorRole::State) {
        auto it = inputs.find(t.name);
        if (it != inputs.end()) {
          if (it->second.size() != static_cast<std::size_t>(r * c))
            throw std::invalid_argument("interpret: '" + t.name + "' has " + std::to_string(it->second.size()) +
                                        " values, expected " + std::to_string(r * c));
          v_[i] = Eigen::Map<const Matrix>(it->second.data(), r, c);
        } else {
          v_[i] = Matrix::Zero(r, c);
        }
      } else if (t.role == TensorRole::Weight) {
        const auto values = weight_values(g, static_cast<int>(i));
        v_[i] = Eigen::Map<const Matrix>(values.data(), r, c);
      }
    }
  }

  Matrix& at(int tensor) { return v_[static_cast<std::size_t>(tensor)]; }

  /// Runs one node that needs no other chip.
  void run(const Node& n) {
    auto in = [&](std::size_t k) -> Matrix& { return v_[static_cast<std::size_t>(n.inputs[k])]; };
    Matrix out;
    auto second = [&](const Matrix& a) -> Matrix {
      if (n.inputs.size() < 2) return Matrix::Constant(a.rows(), a.cols(), static_cast<float>(n.float_attr("immediate", 0.0)));
      const Matrix& b = in(1);
      if (n.string_attr("broadcast", "") == "tile") {  // one 320-lane tile repeated along the row
        Matrix t(a.rows(), a.cols());
        for (Eigen::Index r = 0; r < a.rows(); ++r)
          for (Eigen::Index c = 0; c < a.cols(); ++c) t(r, c) = b(b.rows() == 1 ? 0 : r, c % 320);
        return t;
      }
      if (b.rows() == 1 && a.rows() > 1) return b.replicate(a.rows(), 1);
      return b;
    };
    switch (n.kind) {
      case OpKind::MatMul: {
        for (std::size_t k = 0; k + 1 < n.inputs.size(); k += 2) {
          const Matrix& w = in(k + 1);
          Matrix term = n.int_attr("transpose_w", 0) ? Matrix(in(k) * w.transpose()) : Matrix(in(k) * w);
          out = k == 0 ? term : Matrix(out + term);
        }
        break;
      }
      case OpKind::Add: out = in(0) + second(in(0)); break;
      case OpKind::Sub: out = in(0) - second(in(0)); break;
      case OpKind::Mul: out = in(0).cwiseProduct(second(in(0))); break;
      case OpKind::Max: out = in(0).cwiseMax(second(in(0))); break;
      case OpKind::Min: out = in(0).cwiseMin(second(in(0))); break;
      case OpKind::Greater: out = (in(0).array() > second(in(0)).array()).cast<float>().matrix(); break;
      case OpKind::GreaterEqual: out = (in(0).array() >= second(in(0)).array()).cast<float>().matrix(); break;
      case OpKind::Neg: out = -in(0); break;
      case OpKind::Exp: out = in(0).array().exp().matrix(); break;
      case OpKind::Exp2: out = in(0).unaryExpr([](float x) { return std::exp2(x); }); break;
      case OpKind::Rsqrt: out = in(0).array().rsqrt().matrix(); break;
      case OpKind::Tanh: out = in(0).array().tanh().matrix(); break;
      case OpKind::Relu: out = in(0).cwiseMax(0.0f); break;
      case OpKind::Scale: out = in(0) * static_cast<float>(n.float_attr("value", 1.0)); break;
      case OpKind::SumRows: out = in(0).colwise().sum(); break;
      case OpKind::MaxRows: out = in(0).colwise().maxCoeff(); break;
      case OpKind::Slice: {
        const auto b = n.int_attr("begin", 0), e = n.int_attr("end", 0);
        out = n.int_attr("axis", 0) == 1 ? Matrix(in(0).middleCols(b, e - b)) : Matrix(in(0).middleRows(b, e - b));
        break;
      }
      case OpKind::Concat: {
        if (n.int_attr("axis", 0) == 1) {  // along lanes (decompose makes it only of whole tiles)
          Eigen::Index cols = 0;
          for (std::size_t k = 0; k < n.inputs.size(); ++k) cols += in(k).cols();
          out.resize(in(0).rows(), cols);
          Eigen::Index c = 0;
          for (std::size_t k = 0; k < n.inputs.size(); ++k) {
            out.middleCols(c, in(k).cols()) = in(k);
            c += in(k).cols();
          }
          break;
        }
        Eigen::Index rows = 0;
        for (std::size_t k = 0; k < n.inputs.size(); ++k) rows += in(k).rows();
        out.resize(rows, in(0).cols());
        Eigen::Index r = 0;
        for (std::size_t k = 0; k < n.inputs.size(); ++k) {
          out.middleRows(r, in(k).rows()) = in(k);
          r += in(k).rows();
        }
        break;
      }
      case OpKind::PermuteLanes: {
        const Matrix& x = in(0);
        const auto& map = g_.values.at(n.string_attr("lane_map", ""));
        const Eigen::Index tiles = (x.cols() + 319) / 320;
        out = Matrix::Zero(x.rows(), x.cols());
        for (Eigen::Index j = 0; j < tiles; ++j) {
          const Eigen::Index s = std::clamp<Eigen::Index>(j + n.int_attr("tile_offset", 0), 0, tiles - 1);
          for (Eigen::Index i = 0; i < 320 && 320 * j + i < x.cols(); ++i) {
            const auto from = 320 * s + static_cast<Eigen::Index>(map[static_cast<std::size_t>(320 * j + i)]);
            if (from < x.cols()) out.col(320 * j + i) = x.col(from);
          }
        }
        break;
      }
      case OpKind::Assign: {
        const auto row = n.int_attr("row", 0);
        in(0).middleRows(row, in(1).rows()) = in(1);
        return;
      }
      default: throw std::logic_error(std::string("interpret: not a primitive op: ") + op_name(n.kind));
    }
    v_[static_cast<std::size_t>(n.outputs[0])] = std::move(out);
  }

  std::map<std::string, std::vector<float>> values() const {
    std::map<std::string, std::vector<float>> result;
    for (std::size_t i = 0; i < g_.tensors.size(); ++i)
      result[g_.tensors[i].name] = std::vector<float>(v_[i].data(), v_[i].data() + v_[i].size());
    return result;
  }

 private:
  const Graph& g_;
  std::vector<Matrix> v_;
};

bool is_transfer(OpKind k) { return k == OpKind::AllReduce || k == OpKind::Send || k == OpKind::Recv; }

}  // namespace

std::map<std::string, std::vector<float>> interpret_primitive_graph(
    const Graph& g, const std::map<std::string, std::vector<float>>& inputs) {
  GraphState state(g, inputs);
  for (const auto& n : g.nodes) {
    if (is_transfer(n.kind))
      throw std::logic_error(std::string("interpret: a ") + op_name(n.kind) + " needs interpret_system");
    state.run(n);
  }
  return state.values();
}

std::vector<std::map<std::string, std::vector<float>>> interpret_system(
    const std::vector<Graph>& chips, const std::vector<std::map<std::string, std::vector<float>>>& inputs) {
  const std::size_t n = chips.size();
  std::vector<GraphState> states;
  for (std::size_t c = 0; c < n; ++c) states.emplace_back(chips[c], c < inputs.size() ? inputs[c] : std::map<std::string, std::vector<float>>{});
  std::vector<std::size_t> pc(n, 0);
  std::map<std::pair<int, int>, std::deque<Matrix>> mail;  // (from, to) -> rows in flight
  // AllReduce k of a group: the partial sums given so far, by chip; how many took the sum.
  struct Rendezvous {
    std::map<int, Matrix> parts;
    std::size_t taken = 0;
  };
  std::map<std::pair<std::vector<int>, int>, Rendezvous> reduces;
  std::vector<std::map<std::vector<int>, int>> reduce_count(n);
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t c = 0; c < n; ++c) {
      const Graph& g = chips[c];
      while (pc[c] < g.nodes.size()) {
        const Node& node = g.nodes[pc[c]];
        const int me = static_cast<int>(c);
        if (node.kind == OpKind::Send) {
          mail[{me, node.peer}].push_back(states[c].at(node.inputs[0]));
        } else if (node.kind == OpKind::Recv) {
          auto& box = mail[{node.peer, me}];
          if (box.empty()) break;  // not sent yet
          states[c].at(node.outputs[0]) = std::move(box.front());
          box.pop_front();
        } else if (node.kind == OpKind::AllReduce) {
          const auto key = std::make_pair(node.group, reduce_count[c][node.group]);
          Rendezvous& r = reduces[key];
          r.parts.emplace(me, states[c].at(node.inputs[0]));
          if (r.parts.size() < node.group.size()) break;  // waiting for the others
          Matrix sum = Matrix::Zero(r.parts.begin()->second.rows(), r.parts.begin()->second.cols());
          for (int member : node.group) sum += r.parts.at(member);  // rank order: the same sum everywhere
          states[c].at(node.outputs[0]) = std::move(sum);
          ++reduce_count[c][node.group];
          if (++r.taken == node.group.size()) reduces.erase(key);
        } else {
          states[c].run(node);
        }
        ++pc[c];
        progress = true;
      }
    }
  }
  for (std::size_t c = 0; c < n; ++c)
    if (pc[c] < chips[c].nodes.size())
      throw std::logic_error(fmt::format("interpret_system: chip {} waits forever at '{}' ({})", c,
                                         chips[c].nodes[pc[c]].name, op_name(chips[c].nodes[pc[c]].kind)));
  std::vector<std::map<std::string, std::vector<float>>> result;
  for (auto& s : states) result.push_back(s.values());
  return result;
}

}  // namespace lpusim
