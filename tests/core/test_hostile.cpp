// Hostile input: sizes that overflow, values beyond a type, memory the host does not have.
// Each case here failed (or was undefined behaviour) before the fix it guards.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>

#include "input_error_text.hpp"
#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"
#include "arch/core/limits.hpp"
#include "engine/exec/tensor_io.hpp"
#include "engine/exec/bind.hpp"

using namespace lpusim;

namespace {
const ChipConfig& chip() {
  static const ChipConfig c = load_chip_config(LPUSIM_TSP_V1);
  return c;
}

using testing::input_error_text;

/// Sets an environment variable for one scope.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  const char* name_;
};
}  // namespace

TEST_CASE("checked arithmetic catches 64-bit overflow", "[hostile]") {
  std::int64_t out = 0;
  CHECK(checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 30, out));
  CHECK(out == std::int64_t{1} << 62);
  CHECK_FALSE(checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 31, out));  // 2^63 does not fit
  CHECK_FALSE(checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 32, out));
  CHECK_FALSE(checked_add(INT64_MAX, std::int64_t{1}, out));
  CHECK(checked_add(std::int64_t{-5}, std::int64_t{3}, out));
  CHECK(out == -2);
}

TEST_CASE("one_line escapes control characters in messages", "[hostile]") {
  CHECK(one_line("key 'a\nb'\r\t") == "key 'a\\x0ab'\\x0d\\x09");
  CHECK(one_line("plain text") == "plain text");
}

TEST_CASE("a negative stream, slice or queue index is not a name", "[hostile]") {
  // std::from_chars into int takes a sign; these once bound to index -1.
  CHECK_THAT(input_error_text([] { (void)parse_program(".queue mem.w0\n    read 0, s-1e\n", "t.s"); }),
             Catch::Contains("t.s:2:13: expected a stream"));
  CHECK_THAT(input_error_text([] { (void)parse_program(".tensor a int8 1 w-1:0\n", "t.s"); }),
             Catch::Contains("t.s:1:18: expected a MEM slice"));
  CHECK_THAT(input_error_text([] { (void)parse_program(".queue vxm.alu-1\n", "t.s"); }),
             Catch::Contains("t.s:1:8: expected a queue name"));
  CHECK_THAT(input_error_text([] { (void)parse_program(".queue c2c.+1\n", "t.s"); }),
             Catch::Contains("t.s:1:8: expected a queue name"));
}

TEST_CASE("the binder's derived sizes cannot overflow", "[hostile]") {
  auto bind = [](const std::string& text) { return input_error_text([&] { (void)bind_program(parse_program(text, "t.s"), chip()); }); };
  CHECK(bind(".queue mem.w0\n    read 0, s0e\n    repeat 4294967296, 1, 4294967296\n") ==
        "t.s:3:27: the last repeat reaches address 0 + 4294967296 x 4294967296, outside the slice's words [0, 8192)");
  CHECK(bind(".queue mem.w0\n    read 8191, s0e\n    repeat 4294967296, 1, -4294967296\n") ==
        "t.s:3:27: the last repeat reaches address 8191 + -4294967296 x 4294967296, outside the slice's words [0, 8192)");
  CHECK(bind(".tensor a int8 2 w0:0x7fffffffffffffff\n.queue mem.w0\n    nop 1\n") ==
        "t.s:1:1: tensor 'a' starts at address 9223372036854775807, outside the slice's words [0, 8192)");
  CHECK_THAT(bind(".queue mxm.w0\n    lw.int8 s0e, 4294967297\n"), Catch::Contains("expected 1 to 16 rows"));
  CHECK_THAT(bind(".queue mxm.w1\n    abc.int8 s0e, 4294967296\n"), Catch::Contains("got 4294967296"));
  CHECK_THAT(bind(".queue mem.w0\n    read 0, s0e\n    repeat 4294967296, 4294967296\n"),
             Catch::Contains("t.s:3:5: queue mem.w0 waits more than 2^50 cycles"));
  CHECK_THAT(bind(".queue mem.w0\n    read 0, s0e\n    repeat 1073741824, 1\n"),
             Catch::Contains("t.s:3:5: the program issues more than 2^30 instructions"));
  CHECK(bind(".queue mem.w0\n    read 0, s0e\n    repeat 1073741823, 1\n") == "(no error)");
  CHECK_THAT(bind(".queue vxm.alu0\n    add.fp16 s0e, s2e, #1e10\n"),
             Catch::Contains("t.s:2:24: immediate 10000000000 overflows fp16"));
  CHECK_THAT(bind(".tensor a int8 1 w0:0 fill=ramp:1e308:1e308\n.queue mem.w0\n    nop 1\n"),
             Catch::Contains("t.s:1:1: tensor 'a': fill=ramp"));
}

TEST_CASE("instructions share one copy of a lane map", "[hostile]") {
  std::string text = ".lanemap id";
  for (int i = 0; i < 320; ++i) text += " " + std::to_string(i);
  text += "\n.queue sxm.w0\n    permute.int8 s0e, s0e, id\n    permute.int8 s1e, s1e, id\n";
  const auto bound = bind_program(parse_program(text, "t.s"), chip());
  const auto& ins = bound.queues[0].instructions;
  REQUIRE(ins[0].lane_map);
  CHECK(ins[0].lane_map.get() == ins[1].lane_map.get());
  CHECK(ins[0].lane_map->size() == 320);
}

TEST_CASE("the parser refuses programs beyond the instruction limit", "[hostile]") {
  const std::string text = ".queue mem.w0\n    nop 1\n    nop 1\n    nop 1\n";
  CHECK(input_error_text([&] { (void)parse_program(text, "t.s", 3); }) == "(no error)");
  CHECK(input_error_text([&] { (void)parse_program(text, "t.s", 2); }) ==
        "t.s:4:5: more than 2 instructions in one program (docs/limits.md)");
}

TEST_CASE("integer fills beyond int64 wrap without undefined behaviour", "[hostile]") {
  // 2^63 + 2^11 is a double beyond int64: the cast was undefined (and gave 0 on x86).
  const auto p = bind_program(parse_program(".tensor a int32 1 w0,w1,w2,w3:0 fill=const:9223372036854777856\n"
                                            ".tensor b int8 1 w4:0 fill=const:-1e300\n.queue mem.w0\n    nop 1\n", "t.s"),
                              chip());
  CHECK(fill_values(p.tensors[0], 320)[0] == 2048);
  CHECK(fill_values(p.tensors[1], 320)[0] == 0);
}

TEST_CASE("host memory is checked before a tensor is allocated", "[hostile]") {
  const auto p = bind_program(parse_program(".tensor a int8 4 w0:0 fill=const:1\n.queue mem.w0\n    nop 1\n", "t.s"), chip());
  CHECK(tensor_host_bytes(p.tensors[0], 320) == 4 * 320 * 8);
  SimOptions options;
  CHECK(run_host_bytes(chip(), p, options) >= 4 * 320 * 8);
  {
    ScopedEnv env("LPUSIM_MAX_HOST_BYTES", "10000");
    CHECK(limits::host_memory_budget() == 10000);
    CHECK_THAT(input_error_text([&] { (void)fill_values(p.tensors[0], 320); }),
               Catch::Contains("the fill of tensor 'a' needs 0.0 MiB of host memory, more than the 0.0 MiB available"));
    CHECK_THAT(input_error_text([&] { (void)read_tensor_file("/nonexistent", p.tensors[0], 320); }),
               Catch::Contains("/nonexistent: tensor 'a' needs"));
  }
  {
    ScopedEnv env("LPUSIM_MAX_HOST_BYTES", "lots");
    CHECK_THAT(input_error_text([] { (void)limits::host_memory_budget(); }), Catch::Contains("expected a number of bytes"));
  }
  CHECK(limits::host_memory_budget() > 10000);  // MemAvailable
  BoundTensor huge;
  huge.vectors = INT64_MAX;
  CHECK(tensor_host_bytes(huge, 65536) == UINT64_MAX);
}

TEST_CASE("binary input files: non-finite floats and wrong sizes are refused", "[hostile]") {
  BoundTensor t;
  t.name = "f";
  t.dtype = DType::Fp32;
  t.vectors = 1;
  std::string nan(16, '\0');
  const float q = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&nan[8], &q, 4);
  CHECK_THAT(input_error_text([&] { (void)parse_tensor_data(nan, true, "x.bin", t, 4); }),
             Catch::Contains("x.bin: element 2 of tensor 'f' is nan (bytes 00 00 c0 7f)"));
  CHECK_THAT(input_error_text([&] { (void)parse_tensor_data(std::string(17, '\0'), true, "x.bin", t, 4); }),
             Catch::Contains("the file has more"));
  t.dtype = DType::Fp16;
  const std::string inf("\x00\x7c\x00\x00\x00\x00\x00\x00", 8);
  CHECK_THAT(input_error_text([&] { (void)parse_tensor_data(inf, true, "x.bin", t, 4); }), Catch::Contains("is inf"));
}

TEST_CASE("user files: directories, devices and paths through a file are refused", "[hostile]") {
  CHECK_THAT(input_error_text([] { (void)read_user_text_file("/dev/null"); }), Catch::Contains("/dev/null: not a regular file"));
  CHECK_THAT(input_error_text([] { (void)check_user_file("/tmp", 10); }), Catch::Contains("/tmp: is a directory"));
  CHECK_THAT(input_error_text([] { (void)read_user_text_file(std::string(LPUSIM_TSP_V1) + "/x"); }),
             Catch::Contains("file not found"));
  CHECK_THAT(input_error_text([] { (void)read_user_text_file(LPUSIM_TSP_V1, 10); }), Catch::Contains("larger than the 10 bytes"));
}

TEST_CASE("chip config: a key with a newline is reported, and rejected", "[hostile]") {
  const std::string text = "{\"name\": \"x\", \"a\\nb\": 1}";
  CHECK_THAT(input_error_text([&] { (void)parse_chip_config(parse_user_json(text, "c.json"), "c.json"); }),
             Catch::Contains("c.json: key 'clock_mhz': missing"));
  CHECK_THAT(input_error_text([] { (void)parse_user_json("[[[[1]]]]", "c.json", 3); }), Catch::Contains("nested deeper than 3"));
}
