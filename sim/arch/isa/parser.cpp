// Assembly parser. Grammar (one statement per line, ';' starts a comment):
//   .tensor NAME DTYPE VECTORS SLICE[,SLICE...]:ADDRESS [fill=const:V|ramp:START:STEP|random:SEED]
//   .lanemap NAME LANE LANE ...
//   .queue QUEUE                      e.g. .queue mem.w12 / vxm.alu3 / mxm.e0 / sxm.w2 / c2c.5
//   LABEL:
//   MNEMONIC[.DTYPE[.DTYPE]] OPERAND, OPERAND, ...
// Operands: stream s<index><e|w>, integer (decimal or 0x hex, may be negative),
// immediate #<number>, or a name.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "arch/isa/program.hpp"

namespace lpusim {
namespace {

struct Token {
  std::string text;
  int column = 0;  // 1-based
};

class LineParser {
 public:
  LineParser(const std::string& file, int line) : file_(file), line_(line) {}

  [[noreturn]] void fail(int column, const std::string& message) const {
    throw InputError(fmt::format("{}:{}:{}: {}", file_, line_, column, message));
  }

  SourceLoc loc(int column) const { return SourceLoc{line_, column}; }

  std::int64_t parse_integer(const Token& t, const std::string& role, bool* hex = nullptr) const {
    std::string_view s = t.text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) { negative = s[0] == '-'; s.remove_prefix(1); }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s.remove_prefix(2); }
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (ec == std::errc::result_out_of_range)
      fail(t.column, fmt::format("integer '{}' for the {} is out of range", t.text, role));
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
      fail(t.column, fmt::format("expected an integer for the {}, got '{}'", role, t.text));
    if (value > static_cast<std::uint64_t>(INT64_MAX))
      fail(t.column, fmt::format("integer '{}' for the {} is out of range", t.text, role));
    if (hex) *hex = base == 16;
    const auto v = static_cast<std::int64_t>(value);
    return negative ? -v : v;
  }

  double parse_number(const Token& t, std::string_view s, const std::string& role) const {
    std::string copy(s);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(v))
      fail(t.column, fmt::format("expected a finite number for the {}, got '{}'", role, t.text));
    return v;
  }

 private:
  const std::string& file_;
  int line_;
};

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

/// Splits a line (comment already removed) into tokens at blanks and commas.
std::vector<Token> tokenize(const std::string& line) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == ',' || c == '\r') { ++i; continue; }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != ',' && line[i] != '\r') ++i;
    tokens.push_back(Token{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return tokens;
}

/// Only decimal digits: std::from_chars into a signed int would also take "-1".
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool parse_stream(std::string_view s, StreamId& out) {
  if (s.size() < 3 || s[0] != 's') return false;
  const char dir = s.back();
  if (dir != 'e' && dir != 'w') return false;
  const auto digits = s.substr(1, s.size() - 2);
  if (!all_digits(digits)) return false;
  int index = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.size() > 3) return false;
  out.index = StreamIndex(index);
  out.direction = dir == 'e' ? Direction::East : Direction::West;
  return true;
}

bool parse_hemisphere_index(std::string_view s, Hemisphere& h, int& index) {
  if (s.size() < 2 || (s[0] != 'w' && s[0] != 'e')) return false;
  h = s[0] == 'e' ? Hemisphere::East : Hemisphere::West;
  const auto digits = s.substr(1);
  if (!all_digits(digits)) return false;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  return ec == std::errc() && ptr == digits.data() + digits.size() && digits.size() <= 4;
}

bool parse_queue_id(std::string_view s, QueueId& q) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  const auto unit = s.substr(0, dot);
  const auto rest = s.substr(dot + 1);
  auto parse_plain_index = [&](std::string_view digits, int& index) {
    if (!all_digits(digits)) return false;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    return !digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size() && digits.size() <= 4;
  };
  if (unit == "mem" || unit == "mxm" || unit == "sxm") {
    q.unit = unit == "mem" ? UnitKind::Mem : unit == "mxm" ? UnitKind::Mxm : UnitKind::Sxm;
    return parse_hemisphere_index(rest, q.hemisphere, q.index);
  }
  if (unit == "vxm") {
    q.unit = UnitKind::Vxm;
    return rest.substr(0, 3) == "alu" && parse_plain_index(rest.substr(3), q.index);
  }
  if (unit == "c2c") {
    q.unit = UnitKind::C2c;
    return parse_plain_index(rest, q.index);
  }
  return false;
}

Operand parse_operand(const LineParser& lp, const Token& t) {
  Operand op;
  op.loc = lp.loc(t.column);
  StreamId stream;
  if (parse_stream(t.text, stream)) {
    op.form = OperandForm::Stream;
    op.stream = stream;
  } else if (!t.text.empty() && t.text[0] == '#') {
    op.form = OperandForm::Immediate;
    op.immediate = lp.parse_number(t, std::string_view(t.text).substr(1), "immediate");
    op.spelling = t.text.substr(1);
  } else if (!t.text.empty() && (std::isdigit(static_cast<unsigned char>(t.text[0])) || t.text[0] == '-' ||
                                 t.text[0] == '+')) {
    op.form = OperandForm::Integer;
    op.integer = lp.parse_integer(t, "operand", &op.hex);
  } else if (is_identifier(t.text)) {
    op.form = OperandForm::Name;
    op.name = t.text;
  } else {
    lp.fail(t.column, fmt::format("expected a stream (s<n>e or s<n>w), an integer, #immediate or a name, got '{}'",
                                  t.text));
  }
  return op;
}

const char* describe_form(OperandForm f) {
  switch (f) {
    case OperandForm::Stream: return "a stream";
    case OperandForm::Integer: return "an integer";
    case OperandForm::Immediate: return "an #immediate";
    case OperandForm::Name: return "a name";
  }
  return "?";
}

bool form_fits(OperandKind kind, OperandForm form) {
  switch (kind) {
    case OperandKind::Stream: return form == OperandForm::Stream;
    case OperandKind::StreamOrImm: return form == OperandForm::Stream || form == OperandForm::Immediate;
    case OperandKind::Integer: return form == OperandForm::Integer;
    case OperandKind::Name: return form == OperandForm::Name;
  }
  return false;
}

const char* describe_kind(OperandKind kind) {
  switch (kind) {
    case OperandKind::Stream: return "a stream (s<n>e or s<n>w)";
    case OperandKind::StreamOrImm: return "a stream or an #immediate";
    case OperandKind::Integer: return "an integer";
    case OperandKind::Name: return "a name";
  }
  return "?";
}

Instruction parse_instruction(const LineParser& lp, const std::vector<Token>& tokens, UnitKind unit) {
  const Token& head = tokens[0];
  Instruction ins;
  ins.loc = lp.loc(head.column);
  const std::string& text = head.text;
  const auto dot = text.find('.');
  const std::string mnemonic = text.substr(0, dot);
  const OpcodeInfo* info = find_opcode(unit, mnemonic);
  if (!info) lp.fail(head.column, fmt::format("'{}' is not an instruction of the {} unit", mnemonic, unit_name(unit)));
  ins.opcode = info->opcode;

  std::vector<std::string> types;
  for (std::size_t pos = dot; pos != std::string::npos;) {
    const auto next = text.find('.', pos + 1);
    types.push_back(text.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1));
    pos = next;
  }
  const std::size_t wanted = info->types == TypeRule::NoType ? 0 : info->types == TypeRule::TwoTypes ? 2 : 1;
  if (types.size() != wanted) {
    lp.fail(head.column, wanted == 0 ? fmt::format("'{}' takes no data type suffix", mnemonic)
                         : wanted == 1 ? fmt::format("'{}' needs one data type suffix, e.g. {}.int8", mnemonic, mnemonic)
                                       : fmt::format("'{}' needs two data types, e.g. {}.int32.fp32", mnemonic, mnemonic));
  }
  for (std::size_t i = 0; i < types.size(); ++i) {
    const auto t = parse_dtype(types[i]);
    if (!t) lp.fail(head.column, fmt::format("unknown data type '{}' (expected int8, int16, int32, fp16 or fp32)", types[i]));
    (i == 0 ? ins.dtype : ins.dtype_to) = *t;
  }
  if (info->types == TypeRule::IntOnly && dtype_is_float(ins.dtype))
    lp.fail(head.column, fmt::format("'{}' takes an integer type, not {}", mnemonic, dtype_name(ins.dtype)));
  if (info->types == TypeRule::FloatOnly && !dtype_is_float(ins.dtype) &&
      !(ins.opcode == Opcode::Tanh && ins.dtype == DType::Int16))
    lp.fail(head.column, fmt::format("'{}' takes fp16 or fp32{}, not {}", mnemonic,
                                     ins.opcode == Opcode::Tanh ? " (or int16)" : "", dtype_name(ins.dtype)));

  const auto& specs = info->operands;
  std::size_t required = 0;
  for (const auto& s : specs) required += s.optional ? 0 : 1;
  const std::size_t given = tokens.size() - 1;
  if (given < required || given > specs.size()) {
    const int col = given > specs.size() ? tokens[specs.size() + 1].column : head.column;
    lp.fail(col, fmt::format("'{}' takes {}{} operand{}, got {}", mnemonic, required,
                             specs.size() > required ? fmt::format(" to {}", specs.size()) : "",
                             specs.size() == 1 ? "" : "s", given));
  }
  for (std::size_t i = 0; i < given; ++i) {
    const Token& t = tokens[i + 1];
    Operand op = parse_operand(lp, t);
    if (!form_fits(specs[i].kind, op.form))
      lp.fail(t.column, fmt::format("expected {} for the {} of '{}', got {} '{}'", describe_kind(specs[i].kind),
                                    specs[i].role, mnemonic, describe_form(op.form), t.text));
    ins.operands.push_back(std::move(op));
  }
  return ins;
}

TensorFill parse_fill(const LineParser& lp, const Token& t) {
  const std::string_view spec = std::string_view(t.text).substr(5);  // after "fill="
  TensorFill fill;
  std::vector<std::string_view> parts;
  for (std::size_t pos = 0;;) {
    const auto colon = spec.find(':', pos);
    parts.push_back(spec.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos));
    if (colon == std::string_view::npos) break;
    pos = colon + 1;
  }
  if (parts[0] == "const" && parts.size() == 2) {
    fill.kind = TensorFill::Kind::Const;
    fill.first = lp.parse_number(t, parts[1], "fill value");
  } else if (parts[0] == "ramp" && parts.size() == 3) {
    fill.kind = TensorFill::Kind::Ramp;
    fill.first = lp.parse_number(t, parts[1], "ramp start");
    fill.step = lp.parse_number(t, parts[2], "ramp step");
  } else if (parts[0] == "random" && (parts.size() == 2 || parts.size() == 3)) {
    fill.kind = TensorFill::Kind::Random;
    fill.first = lp.parse_number(t, parts[1], "random seed");
    if (fill.first < 0 || fill.first != std::floor(fill.first) || fill.first > 4294967295.0)
      lp.fail(t.column, "expected a random seed in [0, 4294967295]");
    if (parts.size() == 3) {
      const double lanes = lp.parse_number(t, parts[2], "random lanes");
      if (lanes < 1 || lanes > 65536 || lanes != std::floor(lanes)) lp.fail(t.column, "expected random lanes in [1, 65536]");
      fill.lanes = static_cast<int>(lanes);
    }
  } else {
    lp.fail(t.column, fmt::format("expected fill=const:V, fill=ramp:START:STEP or fill=random:SEED[:LANES], got '{}'", t.text));
  }
  return fill;
}

TensorDecl parse_tensor(const LineParser& lp, const std::vector<Token>& tokens, int directive_column) {
  if (tokens.size() < 5)
    lp.fail(directive_column, "expected .tensor NAME DTYPE VECTORS SLICES:ADDRESS [fill=...]");
  TensorDecl t;
  t.loc = lp.loc(directive_column);
  if (!is_identifier(tokens[1].text) || tokens[1].text.find('.') != std::string::npos)
    lp.fail(tokens[1].column, fmt::format("expected a tensor name (letters, digits, _), got '{}'", tokens[1].text));
  t.name = tokens[1].text;
  const auto dt = parse_dtype(tokens[2].text);
  if (!dt) lp.fail(tokens[2].column, fmt::format("expected a data type (int8, int16, int32, fp16, fp32), got '{}'", tokens[2].text));
  t.dtype = *dt;
  t.vectors = lp.parse_integer(tokens[3], "vector count");
  if (t.vectors < 1 || t.vectors > (1 << 20))
    lp.fail(tokens[3].column, fmt::format("expected a vector count in [1, {}], got {}", 1 << 20, t.vectors));
  // Slices and address arrive as separate tokens because ',' separates tokens:
  // "w12,w13:0x0" tokenizes to "w12" "w13:0x0".
  // So the slice list is tokens[4..] up to the one holding ':'; rebuild it here.
  std::size_t i = 4;
  bool found_address = false;
  for (; i < tokens.size(); ++i) {
    std::string text = tokens[i].text;
    if (text.rfind("fill=", 0) == 0) break;
    const auto colon = text.find(':');
    const std::string slice_text = text.substr(0, colon);
    SliceRef ref;
    int index = 0;
    if (!parse_hemisphere_index(slice_text, ref.hemisphere, index))
      lp.fail(tokens[i].column, fmt::format("expected a MEM slice such as w12 or e3, got '{}'", slice_text));
    ref.index = SliceIndex(index);
    t.slices.push_back(ref);
    if (colon != std::string::npos) {
      Token address{text.substr(colon + 1), tokens[i].column + static_cast<int>(colon) + 1};
      t.address = lp.parse_integer(address, "tensor address", &t.hex);
      if (t.address < 0) lp.fail(address.column, "expected a non-negative tensor address");
      found_address = true;
      ++i;
      break;
    }
  }
  if (!found_address) lp.fail(directive_column, "expected SLICES:ADDRESS, e.g. w12:0x0 or w12,w13:0x40");
  if (i < tokens.size()) {
    if (tokens[i].text.rfind("fill=", 0) != 0 || i + 1 != tokens.size())
      lp.fail(tokens[i].column, fmt::format("expected fill=... or the end of the line, got '{}'", tokens[i].text));
    t.fill = parse_fill(lp, tokens[i]);
  }
  return t;
}

}  // namespace

static_assert(limits::kMaxProgramInstructions == std::int64_t{1} << 24, "keep parse_program's default in step");

Program parse_program(const std::string& text, const std::string& file, std::int64_t max_instructions) {
  Program program;
  program.file = file;
  std::map<std::string, int> queue_lines, tensor_lines, map_lines;
  QueueBlock* current = nullptr;
  int line_no = 0;
  std::int64_t instructions = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    const bool last = end == text.size();
    start = end + 1;
    ++line_no;
    LineParser lp(file, line_no);
    if (line.size() > 100000) lp.fail(1, "line longer than 100000 characters");

    std::string comment;
    bool has_comment = false;
    const auto semi = line.find(';');
    if (semi != std::string::npos) {
      has_comment = true;
      comment = line.substr(semi + 1);
      if (!comment.empty() && comment[0] == ' ') comment.erase(0, 1);
      while (!comment.empty() && (comment.back() == ' ' || comment.back() == '\r' || comment.back() == '\t'))
        comment.pop_back();
      line.resize(semi);
    }
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r')
        lp.fail(1, "control character in line, expected text");
    }
    const auto tokens = tokenize(line);
    if (tokens.empty()) {
      if (has_comment) {
        if (current) {
          QueueItem item;
          item.kind = QueueItem::Kind::Comment;
          item.text = comment;
          item.loc = lp.loc(static_cast<int>(semi) + 1);
          current->items.push_back(item);
        } else {
          program.order.push_back({TopItem::Kind::Comment, program.comments.size()});
          program.comments.push_back(comment);
        }
      }
      if (last) break;
      continue;
    }
    const Token& head = tokens[0];
    if (head.text == ".queue") {
      if (tokens.size() != 2) lp.fail(head.column, "expected .queue NAME, e.g. .queue mem.w12");
      QueueBlock block;
      if (!parse_queue_id(tokens[1].text, block.id))
        lp.fail(tokens[1].column,
                fmt::format("expected a queue name (mem.w<n>, mem.e<n>, vxm.alu<n>, mxm.w<n>, sxm.e<n>, c2c.<n>), got '{}'",
                            tokens[1].text));
      const std::string name = queue_name(block.id);
      if (auto it = queue_lines.find(name); it != queue_lines.end())
        lp.fail(tokens[1].column, fmt::format("queue {} already has a block at line {}", name, it->second));
      queue_lines[name] = line_no;
      block.comment = has_comment ? comment : "";
      block.loc = lp.loc(head.column);
      program.order.push_back({TopItem::Kind::Queue, program.queues.size()});
      program.queues.push_back(std::move(block));
      current = &program.queues.back();
    } else if (head.text == ".tensor") {
      if (current) lp.fail(head.column, ".tensor must come before the first .queue");
      TensorDecl t = parse_tensor(lp, tokens, head.column);
      if (auto it = tensor_lines.find(t.name); it != tensor_lines.end())
        lp.fail(tokens[1].column, fmt::format("tensor '{}' already declared at line {}", t.name, it->second));
      tensor_lines[t.name] = line_no;
      t.comment = has_comment ? comment : "";
      program.order.push_back({TopItem::Kind::Tensor, program.tensors.size()});
      program.tensors.push_back(std::move(t));
    } else if (head.text == ".lanemap") {
      if (current) lp.fail(head.column, ".lanemap must come before the first .queue");
      if (tokens.size() < 3) lp.fail(head.column, "expected .lanemap NAME LANE LANE ...");
      LaneMap map;
      map.loc = lp.loc(head.column);
      if (!is_identifier(tokens[1].text)) lp.fail(tokens[1].column, fmt::format("expected a lane map name, got '{}'", tokens[1].text));
      map.name = tokens[1].text;
      if (auto it = map_lines.find(map.name); it != map_lines.end())
        lp.fail(tokens[1].column, fmt::format("lane map '{}' already declared at line {}", map.name, it->second));
      map_lines[map.name] = line_no;
      for (std::size_t i = 2; i < tokens.size(); ++i) {
        const auto lane = lp.parse_integer(tokens[i], "lane");
        if (lane < 0 || lane > 65535) lp.fail(tokens[i].column, fmt::format("expected a lane in [0, 65535], got {}", lane));
        map.lanes.push_back(static_cast<int>(lane));
      }
      map.comment = has_comment ? comment : "";
      program.order.push_back({TopItem::Kind::LaneMap, program.lane_maps.size()});
      program.lane_maps.push_back(std::move(map));
    } else if (head.text[0] == '.') {
      lp.fail(head.column, fmt::format("unknown directive '{}' (expected .tensor, .lanemap or .queue)", head.text));
    } else if (head.text.back() == ':' && tokens.size() == 1) {
      if (!current) lp.fail(head.column, "a label must be inside a .queue block");
      const std::string label = head.text.substr(0, head.text.size() - 1);
      if (!is_identifier(label)) lp.fail(head.column, fmt::format("expected a label name, got '{}'", label));
      QueueItem item;
      item.kind = QueueItem::Kind::Label;
      item.text = label;
      item.loc = lp.loc(head.column);
      current->items.push_back(item);
    } else {
      if (!current) lp.fail(head.column, fmt::format("instruction '{}' outside a .queue block", head.text));
      if (++instructions > max_instructions)
        lp.fail(head.column, fmt::format("more than {} instructions in one program (docs/limits.md)", max_instructions));
      QueueItem item;
      item.kind = QueueItem::Kind::Instruction;
      item.instruction = parse_instruction(lp, tokens, current->id.unit);
      item.instruction.comment = has_comment ? comment : "";
      item.loc = item.instruction.loc;
      current->items.push_back(std::move(item));
    }
    if (last) break;
  }
  return program;
}

Program load_program(const std::string& path) {
  // Cost before work: the text, then its lines parsed, bound and simulated.
  const auto size = check_user_file(path, 256u << 20);
  limits::require_host_memory(size, fmt::format("{}: reading this program ({} bytes)", path, size));
  const std::string text = read_user_text_file(path, 256u << 20);
  const auto lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  limits::require_host_memory(size + lines * limits::kProgramHostBytesPerLine,
                              fmt::format("{}: this program ({} lines parsed, bound and simulated)", path, lines));
  return parse_program(text, path);
}

}  // namespace lpusim
