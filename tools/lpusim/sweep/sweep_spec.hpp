#pragma once
// A sweep file (docs/sweeps.md): a base chip, chip parameters by key path into the chip JSON
// (a grid or an explicit list), models and scenarios. Loading validates all of it strictly
// (one line naming the file and key, exit 2) and expands it into points, each with its
// derived chip JSON and a key that hashes the point's derived inputs.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lpusim::cli::sweep {

/// What `lpusim estimate` is asked for, besides the model and the chip.
struct Scenario {
  std::string weights = "int8";
  std::int64_t batch = 1;
  std::int64_t prompt_len = 64;
  std::int64_t gen_len = 64;
  /// A partition plan and system (estimate's --tp, --pp, --system): 0 and "" leave the
  /// choice to estimate (one chip if the model fits, else the fewest chips that hold it).
  std::int64_t tp = 0;
  std::int64_t pp = 0;
  std::string system;
  /// The value of one scenario key (weights, batch, prompt_len, gen_len, tp, pp, system) as JSON.
  nlohmann::json value(const std::string& key) const;
};

struct SweepModel {
  std::string name;         ///< as written in the sweep file (the results' model column)
  std::string path;         ///< absolute path of its config.json or folder
  std::string config_text;  ///< the config.json's bytes (part of each point's key)
};

struct SweepPoint {
  int index = 0;                       ///< position in the sweep's enumeration order
  int model = 0;                       ///< index into SweepSpec::models
  int chip = 0;                        ///< index into SweepSpec::chips
  Scenario scenario;
  std::string key;                     ///< hash of the derived inputs (chip, model config, scenario)
};

/// One derived chip: the base chip with the swept values set.
struct DerivedChip {
  std::vector<nlohmann::json> values;  ///< one per SweepSpec::chip_keys, the value in this chip
  nlohmann::json config;               ///< the derived chip JSON
  std::string error;                   ///< non-empty: the strict loader refused it (a failed point)
  std::string key;                     ///< hash of config.dump()
};

struct SweepSpec {
  std::string file;
  std::string name;                    ///< the file's stem
  std::string description;
  std::string base_chip_path;
  std::vector<std::string> chip_keys;      ///< swept chip key paths, in file order
  std::vector<std::string> scenario_keys;  ///< swept scenario keys, in file order
  std::vector<SweepModel> models;
  std::vector<DerivedChip> chips;
  std::vector<SweepPoint> points;      ///< models outermost, then scenarios, then chips
  std::string sweep_key;               ///< hash of every point's key, in order

  /// Results columns for the swept parameters: param:chip.KEY..., param:scenario.KEY...
  std::vector<std::string> parameter_columns() const;
  /// The values of those columns at a point.
  std::vector<nlohmann::json> parameter_values(const SweepPoint& point) const;
};

/// Most points one sweep may hold (each is a full estimate).
constexpr std::int64_t kMaxSweepPoints = 100000;

/// Loads and expands a sweep file. `simulator_key` identifies the simulator (a hash of the
/// lpusim binary) and is part of every point's key: results of another build are not reused.
/// Throws InputError (exit 2) naming the file and key.
SweepSpec load_sweep(const std::string& path, const std::string& simulator_key);

}  // namespace lpusim::cli::sweep
