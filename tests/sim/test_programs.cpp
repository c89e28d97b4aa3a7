// Whole programs from workloads/examples, checked for values against results computed here
// and for cycles against the derivation in each file's comments ("; expect-cycles: N").
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "engine/exec/tensor_io.hpp"
#include "sim_harness.hpp"

using namespace lpusim;
using namespace lpusim::test;

namespace {
const std::string kExamples = std::string(LPUSIM_SOURCE_DIR) + "/workloads/examples/";

std::vector<double> fill_of(const std::string& file, const std::string& tensor) {
  static std::vector<BoundProgram> keep;
  keep.push_back(bind_program(load_program(file), tsp_v1()));
  return fill_values(*keep.back().find_tensor(tensor), tsp_v1().lanes());
}

std::int64_t expected_cycles(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  const std::regex pattern("^; expect-cycles: ([0-9]+)");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, pattern)) return std::stoll(m[1]);
  return -1;
}

RunOutcome run_example(const std::string& name, std::vector<std::string> dumps, SimMode mode = SimMode::Functional) {
  RunRequest r;
  r.program_file = kExamples + name;
  r.program.clear();
  r.dumps = std::move(dumps);
  r.mode = mode;
  return run_forked(r);
}
}  // namespace

TEST_CASE("vadd.s adds two int8 vectors in the derived 28 cycles", "[programs]") {
  const RunOutcome o = run_example("vadd.s", {"c"});
  REQUIRE(o.error.empty());
  REQUIRE(o.hazard_kinds.empty());
  const auto a = fill_of(kExamples + "vadd.s", "a");
  const auto b = fill_of(kExamples + "vadd.s", "b");
  for (std::size_t i = 0; i < a.size(); ++i) {
    int sum = static_cast<int>(a[i] + b[i]);
    if (sum > 127) sum -= 256;  // int8 wraps
    CHECK(o.dumps.at("c")[i] == sum);
  }
  CHECK(o.total_cycles == 28);
}

TEST_CASE("vxm_chain.s chains mul, add and relu through streams", "[programs]") {
  const RunOutcome o = run_example("vxm_chain.s", {"y"});
  REQUIRE(o.hazard_kinds.empty());
  const std::string file = kExamples + "vxm_chain.s";
  const auto a = fill_of(file, "a"), b = fill_of(file, "b"), c = fill_of(file, "c");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float product = static_cast<float>(a[i]) * static_cast<float>(b[i]);
    const float sum = product + static_cast<float>(c[i]);
    CHECK(o.dumps.at("y")[i] == static_cast<double>(sum > 0 ? sum : 0.0f));
  }
  CHECK(o.total_cycles == 50);
  CHECK(o.instructions == 3 + 12 + 4);
}

TEST_CASE("stream_copy.s streams 64 vectors through the VXM at one per cycle", "[programs]") {
  const RunOutcome o = run_example("stream_copy.s", {"dst"});
  REQUIRE(o.hazard_kinds.empty());
  const auto src = fill_of(kExamples + "stream_copy.s", "src");
  for (std::size_t i = 0; i < src.size(); ++i) {
    int v = static_cast<int>(src[i]) + 1;
    if (v > 127) v -= 256;
    CHECK(o.dumps.at("dst")[i] == v);
  }
  CHECK(o.instructions == 3 * 64);
  CHECK(o.total_cycles == 130);
}

TEST_CASE("every example gives the same cycles in functional and timing-only mode, as its comments derive",
          "[programs][modes]") {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() != ".s") continue;
    ++seen;
    const std::string name = entry.path().filename().string();
    INFO(name);
    const RunOutcome functional = run_example(name, {}, SimMode::Functional);
    const RunOutcome timing = run_example(name, {}, SimMode::TimingOnly);
    REQUIRE(functional.error.empty());
    CHECK(functional.hazard_kinds.empty());
    CHECK(functional.total_cycles == timing.total_cycles);
    CHECK(functional.instructions == timing.instructions);
    CHECK(functional.queues == timing.queues);
    CHECK(functional.total_cycles == expected_cycles(entry.path().string()));
  }
  CHECK(seen >= 3);
}

TEST_CASE("inputs and dumps that do not match the program are refused", "[programs][errors]") {
  RunRequest r;
  r.program = ".tensor a int8 1 w0:0\n.queue mem.w0\n    read 0, s0e\n";
  r.dumps = {"nope"};
  CHECK(run_forked(r).error == "--dump nope: the program declares no tensor 'nope'");
  r.dumps = {};
  r.inputs = {{"b", "/tmp/x.txt"}};
  CHECK(run_forked(r).error == "--input b=/tmp/x.txt: the program declares no tensor 'b'");
  r.inputs = {{"a", "/nonexistent/a.txt"}};
  CHECK(run_forked(r).error == "/nonexistent/a.txt: file not found");
  r.inputs = {};
  r.dumps = {"a"};
  r.mode = SimMode::TimingOnly;
  CHECK(run_forked(r).error == "--dump needs functional mode: timing-only runs compute no values");
}
