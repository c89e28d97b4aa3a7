#include <catch2/catch.hpp>
#include <fstream>

#include "arch/config/chip_config.hpp"
#include "arch/core/error.hpp"
#include "engine/exec/tensor_io.hpp"
#include "engine/exec/bind.hpp"

using namespace lpusim;

namespace {
const ChipConfig& chip() {
  static const ChipConfig c = load_chip_config(LPUSIM_TSP_V1);
  return c;
}
/// Binds `text`; a program needs a queue, so one idle queue is added where it has none.
BoundProgram bind_text(const std::string& text) {
  const bool has_queue = text.find(".queue") != std::string::npos;
  return bind_program(parse_program(has_queue ? text : text + ".queue mem.e43\n    nop 1\n", "t.s"), chip());
}

std::string bind_error(const std::string& text) {
  try {
    (void)bind_text(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = "/tmp/lpusim_test_" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}
}  // namespace

TEST_CASE("tensor fills: integer ramps wrap, random is deterministic", "[tensor]") {
  const auto p = bind_text(".tensor a int8 1 w0:0 fill=ramp:120:1\n.tensor r fp16 1 w1:0 fill=random:3\n");
  const auto ramp = fill_values(p.tensors[0], 320);
  CHECK(ramp[0] == 120);
  CHECK(ramp[7] == 127);
  CHECK(ramp[8] == -128);  // 128 wraps
  const auto r1 = fill_values(p.tensors[1], 320);
  CHECK(r1 == fill_values(p.tensors[1], 320));
  for (double x : r1) CHECK((x >= -1.0 && x <= 1.0));
}

TEST_CASE("tensor layout deals byte planes over slices", "[tensor]") {
  const auto p = bind_text(".tensor x fp32 3 e4,e5:100\n");
  const auto& t = p.tensors[0];
  CHECK(t.words_per_slice() == 6);           // 3 vectors x 4 planes / 2 slices
  CHECK(slice_name(t.plane_slice(1, 2)) == "e4");
  CHECK(t.plane_address(1, 2) == 100 + 2 + 1);  // vector 1 starts at +2; plane 2 is the 2nd in e4
  CHECK(slice_name(t.plane_slice(1, 3)) == "e5");
}

TEST_CASE("binding rejects what does not fit the chip", "[bind][errors]") {
  CHECK(bind_error(".queue mem.w44\n") == "t.s:1:1: queue mem.w44 does not exist on chip 'tsp-v1'");
  CHECK(bind_error(".queue mem.w0\n    read 8192, s0e\n") == "t.s:2:10: address 8192 is outside the slice's words [0, 8192)");
  CHECK(bind_error(".queue mem.w0\n    read 0, s32e\n") ==
        "t.s:2:13: destination s32e needs streams 32..32, but the chip has 32 per direction");
  CHECK(bind_error(".queue vxm.alu0\n    add.fp32 s2e, s4e, s8e\n") ==
        "t.s:2:14: destination stream s2e starts a group of 4 streams, which must start at a multiple of 4");
  CHECK(bind_error(".queue vxm.alu16\n") == "t.s:1:1: queue vxm.alu16 does not exist on chip 'tsp-v1'");
  CHECK(bind_error(".queue vxm.alu0\n    add.int8 s0e, s1e, #300\n") == "t.s:2:24: immediate 300 is not a int8 value");
  CHECK(bind_error(".queue mem.w0\n    read 8000, s0e\n    repeat 200, 1, 1\n") ==
        "t.s:3:20: the last repeat reaches address 8200, outside the slice's words [0, 8192)");
  CHECK(bind_error(".queue mem.w0\n    nop 2\n    repeat 2, 1\n") ==
        "t.s:3:5: repeat must follow an instruction of the queue's unit (it repeats the previous instruction)");
  CHECK(bind_error(".queue mem.w0\n    config width, 16\n") == "t.s:2:12: unknown config key 'width' (expected vl)");
  CHECK(bind_error(".queue mem.w0\n    config vl, 100\n") == "t.s:2:16: expected vl a multiple of 16 in [16, 320], got 100");
  CHECK(bind_error(".tensor x int8 2 w0:8191\n") == "t.s:1:1: tensor 'x' needs words [8191, 8193) in each slice, but a slice has 8192 words");
  CHECK(bind_error(".tensor x int8 1 w50:0\n") == "t.s:1:1: tensor 'x': slice w50 does not exist (the chip has 44 slices per hemisphere)");
  CHECK(bind_error(".tensor x int8 4 w0:0\n.tensor y int8 1 w0:3\n") == "t.s:2:1: tensor 'y' overlaps tensor 'x' in slice w0");
  CHECK(bind_error(".lanemap m 0 1 2\n") == "t.s:1:1: lane map 'm' has 3 lanes; expected 320 (permute) or 16 (distribute)");
  CHECK(bind_error(".queue mxm.w1\n    iw\n") ==
        "t.s:2:5: mxm.w1 is plane 0's activations (abc) queue; 'iw' belongs on mxm.w0");
  CHECK(bind_error(".queue mxm.e0\n    lw.int8 s0w, 17\n") == "t.s:2:18: expected 1 to 16 rows per lw.int8 (16 weight streams per cycle)");
  CHECK(bind_error(".queue mxm.e0\n    lw.fp16 s1w, 2\n") ==
        "t.s:2:13: weight source s1w starts a group of 2 streams, which must start at a multiple of 2");
  CHECK(bind_error(".queue mxm.e2\n    acc.int8 s0w\n") == "t.s:2:5: MXM results are int32 (int8 activations) or fp32 (fp16 or fp8), not int8");
  CHECK(bind_error(".queue mxm.e1\n    abc.int8 s0w, 64\n") == "t.s:2:19: expected an accumulator slot in [0, 64), got 64");
  CHECK(bind_error(".queue sxm.w0\n    permute.int8 s0e, s1e, nomap\n") ==
        "t.s:2:28: no lane map named 'nomap' (declare it with .lanemap)");
  CHECK(bind_error(".queue sxm.w0\n    transpose.int16 s0e, s16e\n") ==
        "t.s:2:5: transpose moves bytes: use transpose.int8 on each byte plane of a wider type");
  CHECK(bind_error(".queue sxm.w0\n    shift.int8 s0e, s1e, 320\n") == "t.s:2:26: expected a lane amount in (-320, 320), got 320");
  // C2C instructions are simulated (over a system's links, which the system checks); a link
  // the chip does not have, or a destination that is no chip number, is a bind error.
  CHECK(bind_error(".queue c2c.0\n    deskew 0\n") == "(no error)");
  CHECK(bind_error(".queue c2c.0\n    deskew 99\n") == "t.s:2:12: expected a C2C link in [0, 16), got 99");
  CHECK(bind_error(".queue c2c.0\n    send 0, s0w, -1\n") == "t.s:2:18: expected a destination chip in [0, 2^20), got -1");
}

TEST_CASE("tensor input files are checked for count, numbers and range", "[tensor][errors]") {
  const auto p = bind_text(".tensor a int8 1 w0:0\n");
  const auto& t = p.tensors[0];
  std::string ok;
  for (int i = 0; i < 320; ++i) ok += std::to_string(i % 100 - 50) + (i % 16 == 15 ? "\n" : " ");
  const auto values = read_tensor_file(write_temp("ok.txt", ok), t, 320);
  CHECK(values[0] == -50);
  CHECK(values[319] == 19 - 50 + 0);  // 319 % 100 = 19
  CHECK_THROWS_WITH(read_tensor_file(write_temp("short.txt", "1 2 3"), t, 320),
                    "/tmp/lpusim_test_short.txt: tensor 'a' takes 320 values (1 vectors x 320 lanes), the file has 3");
  CHECK_THROWS_WITH(read_tensor_file(write_temp("nan.txt", "1 x 3"), t, 320),
                    "/tmp/lpusim_test_nan.txt:1: expected a finite number for tensor 'a', got 'x'");
  CHECK_THROWS_WITH(read_tensor_file(write_temp("big.txt", "1\n200"), t, 320),
                    "/tmp/lpusim_test_big.txt:2: 200 is not a int8 value (tensor 'a')");
  CHECK_THROWS_WITH(read_tensor_file(write_temp("short.bin", std::string(100, '\0')), t, 320),
                    "/tmp/lpusim_test_short.bin: tensor 'a' needs 320 int8 elements = 320 bytes, the file has 100");
  const auto bin = read_tensor_file(write_temp("ok.bin", std::string(320, '\xff')), t, 320);
  CHECK(bin[5] == -1);
}
