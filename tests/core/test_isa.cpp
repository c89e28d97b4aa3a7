#include <catch2/catch.hpp>
#include <filesystem>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/isa/program.hpp"

using namespace lpusim;

namespace {

QueueId queue_for(UnitKind unit) {
  switch (unit) {
    case UnitKind::Vxm: return QueueId{UnitKind::Vxm, Hemisphere::West, 3};
    case UnitKind::Mxm: return QueueId{UnitKind::Mxm, Hemisphere::East, 2};
    case UnitKind::Sxm: return QueueId{UnitKind::Sxm, Hemisphere::West, 13};
    case UnitKind::C2c: return QueueId{UnitKind::C2c, Hemisphere::West, 7};
    default: return QueueId{UnitKind::Mem, Hemisphere::East, 43};
  }
}

/// One instruction of every opcode, with operands of every form its signature allows.
Program program_with_every_opcode() {
  Program p;
  p.file = "generated.s";
  std::map<UnitKind, std::size_t> block_of;
  for (const auto& info : all_opcodes()) {
    const UnitKind unit = info.unit == UnitKind::Icu ? UnitKind::Mem : info.unit;
    if (!block_of.count(unit)) {
      block_of[unit] = p.queues.size();
      p.order.push_back({TopItem::Kind::Queue, p.queues.size()});
      p.queues.push_back(QueueBlock{queue_for(unit), "", {}, {}});
    }
    Instruction ins;
    ins.opcode = info.opcode;
    if (info.types == TypeRule::AnyType || info.types == TypeRule::FloatOnly) ins.dtype = DType::Fp16;
    if (info.types == TypeRule::IntOnly) ins.dtype = DType::Int16;
    if (info.types == TypeRule::TwoTypes) { ins.dtype = DType::Int32; ins.dtype_to = DType::Fp32; }
    int k = 0;
    for (const auto& spec : info.operands) {
      Operand op;
      switch (spec.kind) {
        case OperandKind::Stream:
          op.form = OperandForm::Stream;
          op.stream = StreamId{StreamIndex(4 * k), k % 2 ? Direction::West : Direction::East};
          break;
        case OperandKind::StreamOrImm:
          op.form = OperandForm::Immediate;
          op.immediate = -1.25;
          break;
        case OperandKind::Integer:
          op.form = OperandForm::Integer;
          op.integer = 16 + k;
          op.hex = k % 2 == 1;
          break;
        case OperandKind::Name:
          op.form = OperandForm::Name;
          op.name = "vl";
          break;
      }
      ins.operands.push_back(op);
      ++k;
    }
    ins.comment = std::string("exercise ") + info.mnemonic;
    QueueItem item;
    item.instruction = ins;
    p.queues[block_of[unit]].items.push_back(item);
  }
  return p;
}

}  // namespace

TEST_CASE("opcode table is indexed by opcode and every mnemonic is unique per unit", "[isa]") {
  const auto& table = all_opcodes();
  REQUIRE(table.size() == static_cast<std::size_t>(Opcode::Count_));
  for (std::size_t i = 0; i < table.size(); ++i) {
    CHECK(static_cast<std::size_t>(table[i].opcode) == i);
    const UnitKind unit = table[i].unit == UnitKind::Icu ? UnitKind::Mem : table[i].unit;
    CHECK(find_opcode(unit, table[i].mnemonic) == &table[i]);
  }
}

TEST_CASE("is_icu_opcode agrees with the opcode table", "[isa]") {
  // The simulator's issue path uses is_icu_opcode instead of the table: they must agree.
  for (const auto& info : all_opcodes()) CHECK(is_icu_opcode(info.opcode) == (info.unit == UnitKind::Icu));
}

TEST_CASE("every opcode prints and parses back to the same program", "[isa]") {
  const Program p = program_with_every_opcode();
  const std::string text = print_program(p);
  const Program back = parse_program(text, "roundtrip.s");
  CHECK(back == p);
  CHECK(print_program(back) == text);
  // Sanity: the program really holds every opcode.
  std::size_t count = 0;
  for (const auto& q : back.queues) count += q.items.size();
  CHECK(count == all_opcodes().size());
}

TEST_CASE("canonical assembly text round-trips byte for byte", "[isa]") {
  const std::string text =
      "; header comment\n"
      ";\n"
      ".tensor a int8 2 w12:0x10 fill=ramp:-3:0.5 ; two vectors\n"
      ".tensor b fp32 1 e0,e1,e2,e3:200 fill=random:7:64\n"
      ".tensor c fp16 4 e5,e6:0 fill=const:1.5\n"
      ".lanemap swap 1 0 3 2\n"
      "\n"
      ".queue mem.w12                  ; the slice of a\n"
      "start:\n"
      "    read 0x10, s3e\n"
      "    repeat 1, 4, 1              ; second vector four cycles later\n"
      "    ; a comment line inside a queue\n"
      "    nop 5\n"
      "    sync\n"
      "\n"
      ".queue vxm.alu15\n"
      "    cvt.int32.fp32 s0w, s4w\n"
      "    mul.fp32 s8e, s0w, #0.00006103515625\n"
      "    select.int8 s1e, s2e, s3e, #-1\n"
      "    config vl, 160\n"
      "    notify\n";
  const Program p = parse_program(text, "canon.s");
  CHECK(print_program(p) == text);
  REQUIRE(p.tensors.size() == 3);
  CHECK(p.tensors[1].slices.size() == 4);
  CHECK(p.tensors[0].fill.kind == TensorFill::Kind::Ramp);
  CHECK(p.queues[0].items[0].kind == QueueItem::Kind::Label);
  CHECK(p.queues[1].items[1].instruction.operands[2].immediate == Approx(1.0 / 16384));
}

TEST_CASE("every bundled example round-trips through the printer", "[isa]") {
  const std::string dir = std::string(LPUSIM_SOURCE_DIR) + "/workloads/examples";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".s") continue;
    ++seen;
    INFO(entry.path().string());
    const Program p = load_program(entry.path().string());
    const std::string text = print_program(p);
    const Program back = parse_program(text, "printed.s");
    CHECK(back == p);
    CHECK(print_program(back) == text);
  }
  CHECK(seen >= 3);
}

TEST_CASE("parse errors name file:line:column and what was expected", "[isa][errors]") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {".queue mem.w0\n    reed 0, s0e\n", "bad.s:2:5: 'reed' is not an instruction of the mem unit"},
      {".queue mem.w0\n    read 0\n", "bad.s:2:5: 'read' takes 2 operands, got 1"},
      {".queue mem.w0\n    read 0, 1\n", "bad.s:2:13: expected a stream (s<n>e or s<n>w) for the destination stream of 'read', got an integer '1'"},
      {".queue mem.w0\n    read 0, s0e, s1e\n", "bad.s:2:18: 'read' takes 2 operands, got 3"},
      {".queue vxm.alu0\n    add s0e, s1e, s2e\n", "bad.s:2:5: 'add' needs one data type suffix"},
      {".queue vxm.alu0\n    add.int9 s0e, s1e, s2e\n", "bad.s:2:5: unknown data type 'int9'"},
      {".queue vxm.alu0\n    and.fp32 s0e, s4e, s8e\n", "bad.s:2:5: 'and' takes an integer type, not fp32"},
      {".queue vxm.alu0\n    exp.int8 s0e, s4e\n", "bad.s:2:5: 'exp' takes fp16 or fp32, not int8"},
      {".queue vxm.alu0\n    read 0, s0e\n", "bad.s:2:5: 'read' is not an instruction of the vxm unit"},
      {".queue vxm.alu0\n    mul.fp32 s0e, s4e, #abc\n", "bad.s:2:24: expected a finite number for the immediate, got '#abc'"},
      {".queue mem.q0\n", "bad.s:1:8: expected a queue name"},
      {".queue mem.w0\n.queue mem.w0\n", "bad.s:2:8: queue mem.w0 already has a block at line 1"},
      {"    nop 3\n", "bad.s:1:5: instruction 'nop' outside a .queue block"},
      {".tensor x int8 0 w0:0\n", "bad.s:1:16: expected a vector count in [1, 1048576], got 0"},
      {".tensor x int8 1 w0\n", "bad.s:1:1: expected SLICES:ADDRESS"},
      {".tensor x int8 1 w0:0 fill=sin:1\n", "bad.s:1:23: expected fill=const:V"},
      {".tensor x int8 1 w0:0\n.tensor x int8 1 w1:0\n", "bad.s:2:9: tensor 'x' already declared at line 1"},
      {".bogus\n", "bad.s:1:1: unknown directive '.bogus'"},
      {".queue mem.w0\n    read 99999999999999999999, s0e\n", "bad.s:2:10: integer '99999999999999999999' for the operand is out of range"},
      {"start:\n", "bad.s:1:1: a label must be inside a .queue block"},
      {".queue mem.w0\n\x01\n", "bad.s:2:1: control character in line"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    try {
      (void)parse_program(c.text, "bad.s");
      FAIL("expected an InputError");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Matchers::StartsWith(c.message));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("load_program rejects paths that are not readable text files", "[isa][errors]") {
  CHECK_THROWS_WITH(load_program("/nonexistent/prog.s"), "/nonexistent/prog.s: file not found");
  CHECK_THROWS_WITH(load_program("/tmp"), "/tmp: is a directory, expected a file");
}
