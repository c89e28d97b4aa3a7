// The examples of issue "complete the chip", checked for data against Eigen or values
// computed here; their cycles are checked against the derivation in their comments by
// test_programs.cpp ("every example ... as its comments derive").
#include <catch2/catch.hpp>
#include <Eigen/Core>
#include <cmath>
#include <set>
#include <fmt/format.h>

#include "engine/exec/tensor_io.hpp"
#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
const std::string kExamples = std::string(LPUSIM_SOURCE_DIR) + "/workloads/examples/";

struct Example {
  BoundProgram program;
  explicit Example(const std::string& name) : program(bind_program(load_program(kExamples + name), tsp_v1())) {}
  std::vector<double> fill(const std::string& tensor) const {
    const BoundTensor* t = program.find_tensor(tensor);
    REQUIRE(t != nullptr);
    return fill_values(*t, tsp_v1().lanes());
  }
};

RunOutcome run_example(const std::string& name, std::vector<std::string> dumps, bool trace = false) {
  RunRequest r;
  r.program_file = kExamples + name;
  r.dumps = std::move(dumps);
  r.trace = trace;
  return run_forked(r);
}

using IntMatrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>;
using IntVector = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;
}  // namespace

TEST_CASE("gemv320.s: int8 320 x 320 GEMV on one plane equals Eigen bit for bit", "[examples][mxm]") {
  const Example ex("gemv320.s");
  IntMatrix w(320, 320);
  for (int k = 0; k < 16; ++k) {
    const auto rows = ex.fill(fmt::format("w{}", k));  // row 16t + k is vector t of w<k>
    for (int t = 0; t < 20; ++t)
      for (int i = 0; i < 320; ++i) w(16 * t + k, i) = static_cast<std::int64_t>(rows[static_cast<std::size_t>(t * 320 + i)]);
  }
  IntVector x(320);
  const auto xs = ex.fill("x");
  for (int i = 0; i < 320; ++i) x(i) = static_cast<std::int64_t>(xs[static_cast<std::size_t>(i)]);
  const IntVector expected = w * x;

  const RunOutcome o = run_example("gemv320.s", {"y"});
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  for (int j = 0; j < 320; ++j) CHECK(o.dumps.at("y")[static_cast<std::size_t>(j)] == static_cast<double>(expected(j)));
}

TEST_CASE("gemv1024x512.s: int8 1024 -> 512 GEMV on four planes equals Eigen bit for bit", "[examples][mxm]") {
  const Example ex("gemv1024x512.s");
  // x: tiles K0..K2 of 320 and K3 of 64 (lanes 0..63 of x<side>3).
  IntVector x(1024);
  for (int tile = 0; tile < 4; ++tile) {
    const auto v = ex.fill(fmt::format("xw{}", tile));
    for (int i = 0; i < (tile == 3 ? 64 : 320); ++i) x(320 * tile + i) = static_cast<std::int64_t>(v[static_cast<std::size_t>(i)]);
  }
  CHECK(ex.fill("xw3")[64] == 0);  // the last tile holds 64 values
  CHECK(ex.fill("xe2") == ex.fill("xw2"));  // both hemispheres hold the same x
  IntMatrix w = IntMatrix::Zero(512, 1024);
  for (int side = 0; side < 2; ++side) {
    const char s = side == 0 ? 'w' : 'e';
    const int rows = side == 0 ? 320 : 192;
    for (int plane = 0; plane < 2; ++plane)
      for (int block = 0; block < 2; ++block)
        for (int k = 0; k < 8; ++k) {
          const auto v = ex.fill(fmt::format("w{}{}{}{}", s, plane, block == 0 ? 'a' : 'b', k));
          const int tile = 2 * plane + block, width = tile == 3 ? 64 : 320;
          for (int t = 0; 8 * t + k < rows; ++t)  // row 8t + k of the block
            for (int i = 0; i < width; ++i)
              w(320 * side + 8 * t + k, 320 * tile + i) = static_cast<std::int64_t>(v[static_cast<std::size_t>(t * 320 + i)]);
        }
  }
  const IntVector expected = w * x;
  const RunOutcome o = run_example("gemv1024x512.s", {"y0", "y1"});
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  for (int j = 0; j < 320; ++j) CHECK(o.dumps.at("y0")[static_cast<std::size_t>(j)] == static_cast<double>(expected(j)));
  for (int j = 0; j < 192; ++j) CHECK(o.dumps.at("y1")[static_cast<std::size_t>(j)] == static_cast<double>(expected(320 + j)));
  for (int j = 192; j < 320; ++j) CHECK(o.dumps.at("y1")[static_cast<std::size_t>(j)] == 0);  // unloaded rows are zero
}

TEST_CASE("transpose16.s: 16 x 16 transpose within every superlane", "[examples][sxm]") {
  const Example ex("transpose16.s");
  std::vector<std::string> outs;
  for (int j = 0; j < 16; ++j) outs.push_back(fmt::format("out{}", j));
  const RunOutcome o = run_example("transpose16.s", outs);
  REQUIRE(o.hazard_kinds.empty());
  for (int l = 0; l < 16; ++l) {
    const auto in = ex.fill(fmt::format("in{}", l));
    for (int j = 0; j < 16; ++j)
      for (int s = 0; s < 20; ++s)
        CHECK(o.dumps.at(fmt::format("out{}", j))[static_cast<std::size_t>(16 * s + l)] == in[static_cast<std::size_t>(16 * s + j)]);
  }
}

TEST_CASE("softmax.s: fp32 softmax built from exp2, rotate-and-add and rsqrt", "[examples][sxm][vxm]") {
  const Example ex("softmax.s");
  const auto x = ex.fill("x");
  double sum = 0;
  for (double v : x) sum += std::exp(v);
  const RunOutcome o = run_example("softmax.s", {"y"});
  REQUIRE(o.hazard_kinds.empty());
  const auto& y = o.dumps.at("y");
  double total = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    // fp32 throughout, and 1/sum through rsqrt(sum)^2: within 1e-5 relative of the exact softmax.
    CHECK(y[i] == Approx(std::exp(x[i]) / sum).epsilon(1e-5));
    total += y[i];
  }
  CHECK(total == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("the GEMV trace is valid Chrome trace JSON with one slice per issued instruction", "[examples][trace]") {
  const RunOutcome o = run_example("gemv320.s", {}, true);
  REQUIRE(o.trace.is_object());
  const auto& events = o.trace.at("traceEvents");
  REQUIRE(events.is_array());
  std::size_t slices = 0;
  std::set<std::string> tracks, groups;
  for (const auto& e : events) {
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("pid"));
    if (e["ph"] == "X") {
      ++slices;
      CHECK(e["ts"].is_number());
      CHECK(e["dur"].get<double>() > 0);
      CHECK(e["tid"].is_number_integer());
      CHECK(e["args"].contains("instruction"));
    } else {
      REQUIRE(e["ph"] == "M");
      if (e["name"] == "thread_name") tracks.insert(e["args"]["name"].get<std::string>());
      if (e["name"] == "process_name") groups.insert(e["args"]["name"].get<std::string>());
    }
  }
  CHECK(slices == o.instructions);
  CHECK(tracks.count("mxm.w0") == 1);
  CHECK(tracks.count("mem.w15") == 1);
  CHECK(groups == std::set<std::string>{"MEM west", "MXM west"});
  // The trace round-trips through a JSON parser as text, as a viewer would read it.
  CHECK(nlohmann::json::parse(o.trace.dump()) == o.trace);
}
