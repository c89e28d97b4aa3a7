#include "sweep/sweep_spec.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "arch/config/chip_config.hpp"
#include "arch/config/json_input.hpp"
#include "runtime/workload.hpp"
#include "arch/core/error.hpp"
#include "commands.hpp"
#include "content_hash.hpp"
#include "frontend/transformer_spec.hpp"
#include "model_source.hpp"

namespace lpusim::cli::sweep {

namespace fs = std::filesystem;
using nlohmann::json;

nlohmann::json Scenario::value(const std::string& key) const {
  if (key == "weights") return weights;
  if (key == "batch") return batch;
  if (key == "prompt_len") return prompt_len;
  if (key == "gen_len") return gen_len;
  if (key == "tp") return tp;
  if (key == "pp") return pp;
  if (key == "system") return system;
  return nullptr;
}

std::vector<std::string> SweepSpec::parameter_columns() const {
  std::vector<std::string> columns;
  for (const auto& k : chip_keys) columns.push_back("param:chip." + k);
  for (const auto& k : scenario_keys) columns.push_back("param:scenario." + k);
  return columns;
}

std::vector<nlohmann::json> SweepSpec::parameter_values(const SweepPoint& point) const {
  std::vector<json> values = chips[static_cast<std::size_t>(point.chip)].values;
  for (const auto& k : scenario_keys) values.push_back(point.scenario.value(k));
  return values;
}

namespace {

const char* const kScenarioKeys[] = {"weights", "batch", "prompt_len", "gen_len", "tp", "pp", "system"};

class SweepReader {
 public:
  SweepReader(std::string file, std::string simulator_key)
      : file_(std::move(file)), simulator_key_(std::move(simulator_key)) {}

  SweepSpec read();

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
    throw InputError(fmt::format("{}: key '{}': {}", file_, key, expected));
  }
  std::string relative_to_sweep(const std::string& path) const {
    const fs::path p(path);
    return (p.is_absolute() ? p : fs::absolute(fs::path(file_).parent_path() / p)).lexically_normal().string();
  }
  /// A string naming a file: a bundled name, or a path (holding '/') relative to the sweep file.
  static bool names_a_path(const std::string& s) { return s.find('/') != std::string::npos; }

  void read_base_chip(JsonObject& root);
  void read_models(JsonObject& root);
  std::vector<std::string> resolve_chip_key(const std::string& where, const std::string& path) const;
  /// The base chip's value at chip key `key` (an index into spec_.chip_keys).
  const json& base_value(std::size_t key) const;
  /// A swept value must have the JSON type of the base chip's value (the loader checks ranges).
  void check_chip_value(const std::string& where, std::size_t key, const json& value) const;
  void read_chip_parameters(JsonObject& root);
  void derive_chips(const std::vector<std::vector<json>>& combos, const std::vector<std::vector<std::string>>& where_of_value);
  Scenario scenario_value(const std::string& where, const std::string& key, const json& value, Scenario s) const;
  void read_scenarios(JsonObject& root);

  std::string file_;
  std::string simulator_key_;
  SweepSpec spec_;
  json base_chip_;
  std::vector<std::vector<std::string>> chip_key_parts_;
  std::vector<Scenario> scenarios_;
};

void SweepReader::read_base_chip(JsonObject& root) {
  const std::string chip = root.string("chip");
  if (chip.empty()) root.fail("chip", "expected a bundled chip name (tsp-v1) or a chip JSON path");
  if (names_a_path(chip) || (chip.size() > 5 && chip.compare(chip.size() - 5, 5, ".json") == 0)) {
    spec_.base_chip_path = relative_to_sweep(chip);
  } else {
    try {
      spec_.base_chip_path = resolve_chip_path(chip);
    } catch (const InputError& e) {
      fail("chip", std::string(e.what()).substr(std::string("--chip ").size()));
    }
  }
  try {
    base_chip_ = load_user_json(spec_.base_chip_path);
    (void)parse_chip_config(base_chip_, spec_.base_chip_path);
  } catch (const InputError& e) {
    fail("chip", fmt::format("the base chip is not valid: {}", e.what()));
  }
}

void SweepReader::read_models(JsonObject& root) {
  const json& models = root.raw("models");
  if (!models.is_array() || models.empty())
    root.fail("models", fmt::format("expected a non-empty array of model names or config paths, got {}", describe_json(models)));
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string where = fmt::format("models[{}]", i);
    if (!models[i].is_string() || models[i].get<std::string>().empty())
      fail(where, fmt::format("expected a bundled model name (gpt2) or a config.json path, got {}", describe_json(models[i])));
    SweepModel m;
    m.name = models[i].get<std::string>();
    for (const auto& other : spec_.models)
      if (other.name == m.name) fail(where, fmt::format("'{}' is listed twice", m.name));
    try {
      if (names_a_path(m.name)) {
        m.path = relative_to_sweep(m.name);
        if (!fs::exists(m.path)) throw InputError(fmt::format("{}: no such file or folder", m.path));
      } else {
        m.path = fs::absolute(resolve_workload_file(m.name)).lexically_normal().string();
      }
      const Workload workload = load_workload(m.path, "a graph; a sweep runs estimate, which takes model configs");
      m.config_text = read_user_text_file(workload.path);
    } catch (const InputError& e) {
      fail(where, e.what());
    }
    spec_.models.push_back(std::move(m));
  }
}

/// The key path's components in the base chip, matched greedily against the keys that exist
/// (timing keys hold dots themselves: "timing.vxm.add.func_cycles" is timing / vxm.add / func_cycles).
std::vector<std::string> SweepReader::resolve_chip_key(const std::string& where, const std::string& path) const {
  if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos)
    fail(where, "expected a key path into the chip JSON such as 'mem.words_per_slice'");
  std::vector<std::string> parts;
  const json* node = &base_chip_;
  std::size_t at = 0;
  while (at < path.size()) {
    if (!node->is_object())
      fail(where, fmt::format("'{}' goes below '{}', which is a single value in the chip JSON", path, path.substr(0, at - 1)));
    std::size_t end = path.size();
    bool found = false;
    while (true) {
      const std::string part = path.substr(at, end - at);
      if (node->contains(part)) {
        parts.push_back(part);
        node = &(*node)[part];
        at = end + 1;
        found = true;
        break;
      }
      const auto dot = path.rfind('.', end - 1);
      if (dot == std::string::npos || dot < at) break;
      end = dot;
    }
    if (!found)
      fail(where, fmt::format("'{}' is not a key of the chip JSON ({}): no '{}'{}", path, spec_.base_chip_path,
                              path.substr(at, path.find('.', at) - at),
                              at == 0 ? "" : fmt::format(" in '{}'", path.substr(0, at - 1))));
  }
  if (node->is_object() || node->is_array())
    fail(where, fmt::format("'{}' is a section of the chip JSON; expected the key of a single value in it", path));
  if (parts.size() == 1 && (parts[0] == "name" || parts[0] == "description"))
    fail(where, fmt::format("'{}' is not a hardware parameter", path));
  return parts;
}

const json& SweepReader::base_value(std::size_t key) const {
  const json* base = &base_chip_;
  for (const auto& part : chip_key_parts_[key]) base = &(*base)[part];
  return *base;
}

void SweepReader::check_chip_value(const std::string& where, std::size_t key, const json& value) const {
  const json* base = &base_value(key);
  const std::string& path = spec_.chip_keys[key];
  const bool same_kind = (base->is_number() && value.is_number()) || (base->is_string() && value.is_string()) ||
                         (base->is_boolean() && value.is_boolean());
  if (!same_kind)
    fail(where, fmt::format("expected a {} like the chip's '{}' ({}), got {}", base->type_name(), path, base->dump(),
                            describe_json(value)));
}

void SweepReader::read_chip_parameters(JsonObject& root) {
  std::vector<std::vector<json>> combos;             // per chip: one value per key
  std::vector<std::vector<std::string>> where_of;    // per chip: where each value was written
  if (!root.has("chip_parameters")) {
    combos.emplace_back();
    where_of.emplace_back();
    derive_chips(combos, where_of);
    return;
  }
  auto section = root.object("chip_parameters");
  const bool grid = section.has("grid"), list = section.has("list");
  if (grid == list) section.fail(grid ? "list" : "grid", "expected exactly one of 'grid' and 'list'");
  if (grid) {
    auto g = section.object("grid");
    std::vector<std::vector<json>> axes;
    std::int64_t product = 1;
    for (const auto& key : g.keys()) {
      const std::string where = g.key_path(key);
      chip_key_parts_.push_back(resolve_chip_key(where, key));
      spec_.chip_keys.push_back(key);
      const json& values = g.raw(key);
      if (!values.is_array() || values.empty())
        fail(where, fmt::format("expected a non-empty array of values, got {}", describe_json(values)));
      for (std::size_t i = 0; i < values.size(); ++i) {
        check_chip_value(fmt::format("{}[{}]", where, i), spec_.chip_keys.size() - 1, values[i]);
        for (std::size_t j = 0; j < i; ++j)
          if (values[j] == values[i]) fail(fmt::format("{}[{}]", where, i), fmt::format("{} is listed twice", values[i].dump()));
      }
      axes.emplace_back(values.begin(), values.end());
      product = std::min<std::int64_t>(product * static_cast<std::int64_t>(values.size()), kMaxSweepPoints + 1);
    }
    g.finish();
    if (axes.empty()) section.fail("grid", "expected at least one chip key path");
    if (product > kMaxSweepPoints)
      section.fail("grid", fmt::format("the grid holds more than {} chips", kMaxSweepPoints));
    // The last key varies fastest.
    std::vector<std::size_t> at(axes.size(), 0);
    while (true) {
      std::vector<json> combo;
      std::vector<std::string> where;
      for (std::size_t k = 0; k < axes.size(); ++k) {
        combo.push_back(axes[k][at[k]]);
        where.push_back(fmt::format("{}", g.key_path(spec_.chip_keys[k])));
      }
      combos.push_back(std::move(combo));
      where_of.push_back(std::move(where));
      std::size_t k = axes.size();
      while (k > 0 && ++at[k - 1] == axes[k - 1].size()) at[--k] = 0;
      if (k == 0) break;
    }
  } else {
    const json& entries = section.raw("list");
    if (!entries.is_array() || entries.empty())
      section.fail("list", fmt::format("expected a non-empty array of objects (key path: value), got {}", describe_json(entries)));
    if (entries.size() > static_cast<std::size_t>(kMaxSweepPoints))
      section.fail("list", fmt::format("the list holds more than {} chips", kMaxSweepPoints));
    // Columns: every key any entry sets; an entry that omits one keeps the base chip's value.
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string where = fmt::format("chip_parameters.list[{}]", i);
      if (!entries[i].is_object() || entries[i].empty())
        fail(where, fmt::format("expected a non-empty object of key path: value, got {}", describe_json(entries[i])));
      for (const auto& [key, value] : entries[i].items()) {
        if (std::find(spec_.chip_keys.begin(), spec_.chip_keys.end(), key) != spec_.chip_keys.end()) continue;
        chip_key_parts_.push_back(resolve_chip_key(where + "." + key, key));
        spec_.chip_keys.push_back(key);
      }
      for (std::size_t j = 0; j < i; ++j)
        if (entries[j] == entries[i]) fail(where, fmt::format("the same chip as chip_parameters.list[{}]", j));
    }
    std::vector<std::size_t> order(spec_.chip_keys.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return spec_.chip_keys[a] < spec_.chip_keys[b]; });
    std::vector<std::string> keys;
    std::vector<std::vector<std::string>> parts;
    for (auto i : order) {
      keys.push_back(spec_.chip_keys[i]);
      parts.push_back(chip_key_parts_[i]);
    }
    spec_.chip_keys = keys;
    chip_key_parts_ = parts;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      std::vector<json> combo;
      std::vector<std::string> where;
      for (std::size_t k = 0; k < spec_.chip_keys.size(); ++k) {
        const std::string& key = spec_.chip_keys[k];
        const std::string w = fmt::format("chip_parameters.list[{}].{}", i, key);
        if (entries[i].contains(key)) {
          check_chip_value(w, k, entries[i][key]);
          combo.push_back(entries[i][key]);
        } else {
          combo.push_back(base_value(k));
        }
        where.push_back(w);
      }
      combos.push_back(std::move(combo));
      where_of.push_back(std::move(where));
    }
  }
  section.finish();
  derive_chips(combos, where_of);
}

/// Builds each chip of the sweep and loads it through the strict chip loader. A chip the
/// loader refuses becomes failed points; but a value refused in every chip it appears in,
/// by a message about its own key (a negative clock, a fraction of a word), is a mistake in
/// the sweep file: exit 2.
void SweepReader::derive_chips(const std::vector<std::vector<json>>& combos,
                               const std::vector<std::vector<std::string>>& where_of_value) {
  const std::string marker = "\x01" "derived";
  struct ValueOutcome {
    int ok = 0;
    std::string own_error;  // the first refusal naming this key
    std::string where;
  };
  std::vector<std::map<std::string, ValueOutcome>> outcomes(spec_.chip_keys.size());
  const std::string base_name = base_chip_.value("name", "chip");
  for (std::size_t c = 0; c < combos.size(); ++c) {
    DerivedChip chip;
    chip.values = combos[c];
    chip.config = base_chip_;
    std::string settings;
    for (std::size_t k = 0; k < combos[c].size(); ++k) {
      json* node = &chip.config;
      for (const auto& part : chip_key_parts_[k]) node = &(*node)[part];
      *node = combos[c][k];
      settings += fmt::format("{}{}={}", k ? ", " : "", spec_.chip_keys[k], combos[c][k].dump());
    }
    if (!settings.empty()) {
      chip.config["name"] = fmt::format("{} [{}]", base_name, settings);
      chip.config["description"] = fmt::format("{} with {}, derived by lpusim explore from {}", base_name, settings, file_);
    }
    std::string error_key;
    try {
      (void)parse_chip_config(chip.config, marker);
    } catch (const InputError& e) {
      std::string what = e.what();
      if (what.rfind(marker + ": ", 0) == 0) what = what.substr(marker.size() + 2);
      chip.error = "invalid derived chip: " + what;
      if (what.rfind("key '", 0) == 0) error_key = what.substr(5, what.find('\'', 5) - 5);
    }
    for (std::size_t k = 0; k < combos[c].size(); ++k) {
      auto& o = outcomes[k][combos[c][k].dump()];
      if (o.where.empty()) o.where = where_of_value[c][k];
      if (chip.error.empty()) {
        ++o.ok;
      } else {
        // The loader names the key itself, or the entry holding it (timing.vxm.add for
        // timing.vxm.add.func_cycles, mem for the SRAM size).
        std::string own;
        for (const auto& part : chip_key_parts_[k]) own += (own.empty() ? "" : ".") + part;
        const bool about_this_key = !error_key.empty() && (own == error_key || own.rfind(error_key + ".", 0) == 0);
        if (about_this_key && o.own_error.empty()) o.own_error = chip.error.substr(std::string("invalid derived chip: ").size());
      }
    }
    // The key of the hardware alone: a derived name or description does not change results.
    json hardware = chip.config;
    hardware.erase("name");
    hardware.erase("description");
    chip.key = content_hash_hex(hardware.dump());
    spec_.chips.push_back(std::move(chip));
  }
  for (std::size_t k = 0; k < outcomes.size(); ++k)
    for (const auto& [value, o] : outcomes[k])
      if (o.ok == 0 && !o.own_error.empty())
        fail(o.where, fmt::format("value {} gives no valid chip: {}", value, o.own_error));
}

Scenario SweepReader::scenario_value(const std::string& where, const std::string& key, const json& value, Scenario s) const {
  auto integer = [&](std::int64_t max) {
    if (!value.is_number_integer() || (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) ||
        value.get<std::int64_t>() < 1 || value.get<std::int64_t>() > max)
      fail(where, fmt::format("expected an integer in [1, {}], got {}", max, describe_json(value)));
    return value.get<std::int64_t>();
  };
  if (key == "weights") {
    if (!value.is_string() || (value != "int8" && value != "fp16"))
      fail(where, fmt::format("expected \"int8\" or \"fp16\", got {}", describe_json(value)));
    s.weights = value.get<std::string>();
  } else if (key == "batch") {
    s.batch = integer(4096);
  } else if (key == "prompt_len") {
    s.prompt_len = integer(1 << 20);
  } else if (key == "gen_len") {
    s.gen_len = integer(1 << 20);
  } else if (key == "tp") {
    s.tp = integer(64);
  } else if (key == "pp") {
    s.pp = integer(10440);
  } else if (key == "system") {
    if (!value.is_string() || value.get<std::string>().empty())
      fail(where, fmt::format("expected a bundled system name (groq-node, ...) or a system JSON path, got {}",
                              describe_json(value)));
    s.system = value.get<std::string>();
    if (names_a_path(s.system) || (s.system.size() > 5 && s.system.compare(s.system.size() - 5, 5, ".json") == 0))
      s.system = relative_to_sweep(s.system);
  } else {
    fail(where, "unknown scenario key (expected weights, batch, prompt_len, gen_len, tp, pp or system)");
  }
  return s;
}

void SweepReader::read_scenarios(JsonObject& root) {
  if (!root.has("scenarios")) {
    scenarios_.push_back(Scenario{});
    return;
  }
  auto section = root.object("scenarios");
  const bool grid = section.has("grid"), list = section.has("list");
  if (grid == list) section.fail(grid ? "list" : "grid", "expected exactly one of 'grid' and 'list'");
  if (grid) {
    auto g = section.object("grid");
    std::vector<std::vector<json>> axes;
    for (const auto& key : g.keys()) {
      const std::string where = g.key_path(key);
      const json& values = g.raw(key);
      if (std::find(std::begin(kScenarioKeys), std::end(kScenarioKeys), key) == std::end(kScenarioKeys))
        fail(where, "unknown scenario key (expected weights, batch, prompt_len, gen_len, tp, pp or system)");
      if (!values.is_array() || values.empty())
        fail(where, fmt::format("expected a non-empty array of values, got {}", describe_json(values)));
      for (std::size_t i = 0; i < values.size(); ++i) {
        (void)scenario_value(fmt::format("{}[{}]", where, i), key, values[i], Scenario{});
        for (std::size_t j = 0; j < i; ++j)
          if (values[j] == values[i]) fail(fmt::format("{}[{}]", where, i), fmt::format("{} is listed twice", values[i].dump()));
      }
      spec_.scenario_keys.push_back(key);
      axes.emplace_back(values.begin(), values.end());
    }
    g.finish();
    if (axes.empty()) section.fail("grid", "expected at least one scenario key");
    std::vector<std::size_t> at(axes.size(), 0);
    while (true) {
      Scenario s;
      for (std::size_t k = 0; k < axes.size(); ++k) s = scenario_value("", spec_.scenario_keys[k], axes[k][at[k]], s);
      scenarios_.push_back(s);
      std::size_t k = axes.size();
      while (k > 0 && ++at[k - 1] == axes[k - 1].size()) at[--k] = 0;
      if (k == 0) break;
    }
  } else {
    const json& entries = section.raw("list");
    if (!entries.is_array() || entries.empty())
      section.fail("list", fmt::format("expected a non-empty array of scenario objects, got {}", describe_json(entries)));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::string where = fmt::format("scenarios.list[{}]", i);
      if (!entries[i].is_object() || entries[i].empty())
        fail(where, fmt::format("expected a non-empty object (weights, batch, prompt_len, gen_len, tp, pp, system), got {}",
                                describe_json(entries[i])));
      Scenario s;
      for (const auto& [key, value] : entries[i].items()) {
        s = scenario_value(where + "." + key, key, value, s);
        if (std::find(spec_.scenario_keys.begin(), spec_.scenario_keys.end(), key) == spec_.scenario_keys.end())
          spec_.scenario_keys.push_back(key);
      }
      for (std::size_t j = 0; j < i; ++j)
        if (entries[j] == entries[i]) fail(where, fmt::format("the same scenario as scenarios.list[{}]", j));
      scenarios_.push_back(s);
    }
    // Columns in the fixed order weights, batch, prompt_len, gen_len, tp, pp, system.
    std::vector<std::string> ordered;
    for (const char* k : kScenarioKeys)
      if (std::find(spec_.scenario_keys.begin(), spec_.scenario_keys.end(), k) != spec_.scenario_keys.end()) ordered.push_back(k);
    spec_.scenario_keys = ordered;
  }
  section.finish();
}

SweepSpec SweepReader::read() {
  spec_.file = file_;
  spec_.name = fs::path(file_).stem().string();
  const json doc = load_user_json(file_);
  JsonObject root(doc, file_, "");
  if (root.has("description")) spec_.description = root.string("description");
  read_base_chip(root);
  read_models(root);
  read_scenarios(root);
  read_chip_parameters(root);
  root.finish();

  const auto total = static_cast<std::int64_t>(spec_.models.size()) * static_cast<std::int64_t>(scenarios_.size()) *
                     static_cast<std::int64_t>(spec_.chips.size());
  if (total > kMaxSweepPoints)
    throw InputError(fmt::format("{}: {} models x {} scenarios x {} chips = {} points, more than the {} a sweep may hold", file_,
                                 spec_.models.size(), scenarios_.size(), spec_.chips.size(), total, kMaxSweepPoints));
  ContentHash sweep_hash;
  sweep_hash.field("lpusim-sweep 1");
  for (std::size_t m = 0; m < spec_.models.size(); ++m)
    for (const auto& scenario : scenarios_)
      for (std::size_t c = 0; c < spec_.chips.size(); ++c) {
        SweepPoint p;
        p.index = static_cast<int>(spec_.points.size());
        p.model = static_cast<int>(m);
        p.chip = static_cast<int>(c);
        p.scenario = scenario;
        json scenario_json{{"weights", scenario.weights}, {"batch", scenario.batch},
                           {"prompt_len", scenario.prompt_len}, {"gen_len", scenario.gen_len}};
        // Plan keys only when given, so that the points of sweeps without them keep their keys.
        if (scenario.tp > 0) scenario_json["tp"] = scenario.tp;
        if (scenario.pp > 0) scenario_json["pp"] = scenario.pp;
        if (!scenario.system.empty()) {
          std::string system_text = scenario.system;
          // A system file's bytes, like a chip's, are part of the key (a bundled name: the name).
          if (fs::exists(scenario.system)) system_text = read_user_text_file(scenario.system);
          scenario_json["system"] = system_text;
        }
        p.key = ContentHash()
                    .field("lpusim-sweep-point 1")
                    .field(simulator_key_)
                    .field(spec_.chips[c].key)
                    .field(spec_.models[m].config_text)
                    .field(scenario_json.dump())
                    .hex();
        sweep_hash.field(p.key);
        spec_.points.push_back(std::move(p));
      }
  spec_.sweep_key = sweep_hash.hex();
  return spec_;
}

}  // namespace

SweepSpec load_sweep(const std::string& path, const std::string& simulator_key) {
  return SweepReader(path, simulator_key).read();
}

}  // namespace lpusim::cli::sweep
