#include "sweep/sweep_results.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "arch/config/json_input.hpp"
#include "arch/core/error.hpp"

namespace lpusim::cli::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "lpusim sweep results 1";
constexpr const char* kOutcomeFormat = "lpusim sweep point 1";

/// Six significant digits: enough for any plot or table, and the same text in CSV and JSON.
double rounded(double x) { return std::stod(fmt::format("{:.6g}", x)); }

const json* find_path(const json& j, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) ? &j.at(p) : nullptr;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  return v.dump();
}

}  // namespace

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> columns = {
      "tokens_from",          // decode (generated tokens) or prefill (an encoder: prompt tokens)
      "tokens_per_s_per_user", "tokens_per_s", "ttft_us", "decode_cycles", "prefill_cycles", "chips",
      "sram_used_bytes", "sram_capacity_bytes", "sram_fraction", "mxm_mac_utilization",
      "mem_busy", "mxm_busy", "vxm_busy", "sxm_busy"};
  return columns;
}

std::optional<json> metrics_from_estimate(const json& e, std::string& missing) {
  auto number = [&](const std::string& pointer) -> std::optional<double> {
    const json* v = find_path(e, pointer);
    if (!v || !v->is_number()) {
      if (missing.empty()) missing = pointer;
      return std::nullopt;
    }
    return v->get<double>();
  };
  // Decoder or encoder: "kind" (the runtime's estimate) or "causal" (the earlier one).
  bool encoder = false;
  if (const json* kind = find_path(e, "/kind"); kind && kind->is_string()) {
    encoder = kind->get<std::string>() == "encoder";
  } else if (const json* causal = find_path(e, "/causal"); causal && causal->is_boolean()) {
    encoder = !causal->get<bool>();
  } else {
    missing = "/kind";
    return std::nullopt;
  }
  const auto chips = number("/chips_needed");
  const auto weights = number("/sram/weights_bytes");
  const auto activations = number("/sram/activations_bytes");
  const auto capacity = number("/sram/capacity_bytes");
  const auto prompt = number("/prompt_len");
  const auto batch = number("/batch");
  json m;
  auto busy = [&](const std::string& step) {
    const auto mac = number("/" + step + "_mxm_mac_utilisation_percent");
    const auto mem = number("/" + step + "_unit_busy_percent/mem");
    const auto mxm = number("/" + step + "_unit_busy_percent/mxm");
    const auto vxm = number("/" + step + "_unit_busy_percent/vxm");
    const auto sxm = number("/" + step + "_unit_busy_percent/sxm");
    if (!missing.empty()) return;
    m["mem_busy"] = rounded(*mem / 100.0);
    m["mxm_busy"] = rounded(*mxm / 100.0);
    m["vxm_busy"] = rounded(*vxm / 100.0);
    m["sxm_busy"] = rounded(*sxm / 100.0);
    m["mxm_mac_utilization"] = rounded(*mac / 100.0);
  };
  if (!encoder) {
    const auto per_user = number("/decode/tokens_per_s_per_user");
    const auto aggregate = number("/decode/tokens_per_s");
    const auto ttft = number("/prefill/time_to_first_token_us");
    const auto decode_cycles = number("/decode/cycles");
    const auto prefill_cycles = number("/prefill/cycles");
    busy("decode");
    if (!missing.empty()) return std::nullopt;
    m["tokens_from"] = "decode";
    m["tokens_per_s_per_user"] = rounded(*per_user);
    m["tokens_per_s"] = rounded(*aggregate);
    m["ttft_us"] = rounded(*ttft);
    m["decode_cycles"] = static_cast<std::int64_t>(*decode_cycles);
    m["prefill_cycles"] = static_cast<std::int64_t>(*prefill_cycles);
  } else if (e.contains("encode")) {
    // The runtime's estimate of an encoder: one pass over the prompt, its latency with the
    // host's transfers, and the unit use of that pass.
    const auto latency = number("/encode/latency_with_host_us");
    const auto cycles = number("/encode/cycles");
    busy("encode");
    if (!missing.empty()) return std::nullopt;
    m["tokens_from"] = "prefill";
    m["tokens_per_s_per_user"] = rounded(*prompt * 1e6 / *latency);
    m["tokens_per_s"] = rounded(*prompt * *batch * 1e6 / *latency);
    m["ttft_us"] = rounded(*latency);
    m["decode_cycles"] = nullptr;
    m["prefill_cycles"] = static_cast<std::int64_t>(*cycles);
  } else {
    // The earlier estimate of an encoder: its decode numbers mean nothing, the prefill is the pass.
    const auto ttft = number("/prefill/time_to_first_token_us");
    const auto cycles = number("/prefill/cycles");
    if (!missing.empty()) return std::nullopt;
    m["tokens_from"] = "prefill";
    m["tokens_per_s_per_user"] = rounded(*prompt * 1e6 / *ttft);
    m["tokens_per_s"] = rounded(*prompt * *batch * 1e6 / *ttft);
    m["ttft_us"] = rounded(*ttft);
    m["prefill_cycles"] = static_cast<std::int64_t>(*cycles);
    for (const char* k : {"decode_cycles", "mem_busy", "mxm_busy", "vxm_busy", "sxm_busy", "mxm_mac_utilization"}) m[k] = nullptr;
  }
  if (!missing.empty()) return std::nullopt;
  const double used = *weights + *activations;
  m["chips"] = static_cast<std::int64_t>(*chips);
  m["sram_used_bytes"] = static_cast<std::int64_t>(used);
  m["sram_capacity_bytes"] = static_cast<std::int64_t>(*capacity);
  m["sram_fraction"] = rounded(used / *capacity);
  return m;
}

std::optional<PointOutcome> read_cached_outcome(const std::string& out_dir, const std::string& key) {
  const std::string path = out_dir + "/points/" + key + ".json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    const json j = load_user_json(path);
    if (j.value("format", "") != kOutcomeFormat || j.value("key", "") != key || !j.value("final", false)) return std::nullopt;
    PointOutcome o;
    o.key = key;
    o.ok = j.at("status").get<std::string>() == "ok";
    o.reason = j.at("reason").get<std::string>();
    o.metrics = j.at("metrics");
    o.final = true;
    o.host_seconds = j.at("host_seconds").get<double>();
    o.peak_rss_bytes = j.at("peak_rss_bytes").get<std::int64_t>();
    if (o.ok && !o.metrics.is_object()) return std::nullopt;
    return o;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged cache entry is recomputed
  }
}

void write_cached_outcome(const std::string& out_dir, const PointOutcome& o) {
  const json j{{"format", kOutcomeFormat}, {"key", o.key},           {"status", o.ok ? "ok" : "failed"},
               {"reason", o.reason},       {"metrics", o.metrics},   {"final", o.final},
               {"host_seconds", o.host_seconds}, {"peak_rss_bytes", o.peak_rss_bytes}};
  write_file_atomically(out_dir + "/points/" + o.key + ".json", j.dump(1) + "\n");
}

json make_row(const SweepSpec& spec, const SweepPoint& point, const PointOutcome& outcome) {
  json row;
  row["point"] = point.index;
  row["key"] = point.key;
  row["model"] = spec.models[static_cast<std::size_t>(point.model)].name;
  json parameters = json::object();
  const auto columns = spec.parameter_columns();
  const auto values = spec.parameter_values(point);
  for (std::size_t i = 0; i < columns.size(); ++i) parameters[columns[i].substr(6)] = values[i];
  row["parameters"] = parameters;
  row["status"] = outcome.ok ? "ok" : "failed";
  row["reason"] = outcome.reason;
  for (const auto& c : metric_columns())
    row[c] = outcome.ok && outcome.metrics.contains(c) ? outcome.metrics.at(c) : json(nullptr);
  return row;
}

std::vector<std::string> results_columns(const std::vector<std::string>& parameter_columns) {
  std::vector<std::string> columns = {"point", "key", "model"};
  columns.insert(columns.end(), parameter_columns.begin(), parameter_columns.end());
  columns.push_back("status");
  columns.push_back("reason");
  for (const auto& c : metric_columns()) columns.push_back(c);
  return columns;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw InputError(fmt::format("{}: cannot write this file", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw InputError(fmt::format("{}: cannot rename to {}", tmp, path));
}

void write_results(const std::string& dir, const ResultsFile& results) {
  std::string csv;
  for (std::size_t i = 0; i < results.columns.size(); ++i) csv += (i ? "," : "") + csv_field(results.columns[i]);
  csv += "\n";
  for (const auto& row : results.rows) {
    for (std::size_t i = 0; i < results.columns.size(); ++i) {
      const std::string& c = results.columns[i];
      const json& v = c.rfind("param:", 0) == 0 ? row.at("parameters").at(c.substr(6)) : row.at(c);
      csv += (i ? "," : "") + csv_value(v);
    }
    csv += "\n";
  }
  json j{{"format", kFormat}, {"sweep", results.sweep}, {"columns", results.columns}, {"rows", results.rows}};
  write_file_atomically(dir + "/results.csv", csv);
  write_file_atomically(dir + "/results.json", j.dump(1) + "\n");
}

ResultsFile read_results(const std::string& dir) {
  const std::string path = dir + "/results.json";
  const json j = load_user_json(path);
  JsonObject root(j, path, "");
  if (root.string("format") != kFormat) root.fail("format", fmt::format("expected \"{}\"", kFormat));
  ResultsFile r;
  r.sweep = root.raw("sweep");
  const json& columns = root.raw("columns");
  const json& rows = root.raw("rows");
  root.finish();
  if (!r.sweep.is_object()) root.fail("sweep", "expected an object");
  if (!columns.is_array()) root.fail("columns", "expected an array of column names");
  for (const auto& c : columns) {
    if (!c.is_string()) root.fail("columns", fmt::format("expected column names, got {}", describe_json(c)));
    r.columns.push_back(c.get<std::string>());
  }
  if (!rows.is_array()) root.fail("rows", "expected an array of rows");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    const std::string where = fmt::format("rows[{}]", i);
    if (!row.is_object() || !row.contains("point") || !row["point"].is_number_integer() || !row.contains("parameters") ||
        !row["parameters"].is_object())
      root.fail(where, "expected a row object with an integer 'point' and 'parameters'");
    for (const auto& c : r.columns) {
      const bool present = c.rfind("param:", 0) == 0 ? row["parameters"].contains(c.substr(6)) : row.contains(c);
      if (!present) root.fail(where, fmt::format("has no value for column '{}'", c));
    }
    r.rows.push_back(row);
  }
  return r;
}

}  // namespace lpusim::cli::sweep
