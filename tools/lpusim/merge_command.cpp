// `lpusim merge --out DIR SHARD_DIR...`: combines the outputs of `lpusim explore --shard I/N`
// (every shard of one sweep, each exactly once) into the results.csv and results.json an
// unsharded run writes, and draws the plots.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "commands.hpp"
#include "sweep/sweep_output.hpp"
#include "sweep/sweep_results.hpp"

namespace lpusim::cli {

using nlohmann::json;

namespace {

struct MergeArgs {
  std::vector<std::string> shards;
  std::string out;
  bool no_plots = false;
};

int run(const MergeArgs& args) {
  sweep::ResultsFile merged;
  std::map<int, std::string> shard_dirs;  // shard index -> folder
  int count = 0;
  json sweep_meta;
  for (const auto& dir : args.shards) {
    sweep::ResultsFile part = sweep::read_results(dir);
    const std::string file = dir + "/results.json";
    const json* shard = part.sweep.contains("shard") ? &part.sweep["shard"] : nullptr;
    if (!shard || !shard->is_object() || !shard->contains("index") || !shard->contains("count") ||
        !(*shard)["index"].is_number_integer() || !(*shard)["count"].is_number_integer())
      throw InputError(fmt::format("{}: key 'sweep.shard': missing; not the output of lpusim explore --shard I/N", file));
    const int index = (*shard)["index"].get<int>(), n = (*shard)["count"].get<int>();
    json meta = part.sweep;
    meta.erase("shard");
    if (sweep_meta.is_null()) {
      sweep_meta = meta;
      count = n;
      merged.columns = part.columns;
    } else if (meta != sweep_meta) {
      throw InputError(fmt::format("{}: a shard of another sweep or build (sweep {} key {}; {} has key {})", file,
                                   meta.value("name", "?"), meta.value("key", "?"), args.shards.front(),
                                   sweep_meta.value("key", "?")));
    } else if (n != count) {
      throw InputError(fmt::format("{}: shard {}/{}, but {} is a shard of {}", file, index, n, args.shards.front(), count));
    } else if (part.columns != merged.columns) {
      throw InputError(fmt::format("{}: its columns differ from {}'s", file, args.shards.front()));
    }
    if (index < 0 || index >= n) throw InputError(fmt::format("{}: key 'sweep.shard.index': {} is not in [0, {})", file, index, n));
    if (!shard_dirs.emplace(index, dir).second)
      throw InputError(fmt::format("{}: shard {}/{} again (also {})", file, index, n, shard_dirs[index]));
    for (auto& row : part.rows) {
      const int point = row["point"].get<int>();
      if (point % n != index)
        throw InputError(fmt::format("{}: point {} does not belong to shard {}/{}", file, point, index, n));
      merged.rows.push_back(std::move(row));
    }
  }
  if (static_cast<int>(shard_dirs.size()) != count) {
    std::string missing;
    for (int i = 0; i < count; ++i)
      if (!shard_dirs.count(i)) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", i);
    throw InputError(fmt::format("merge: shards {} of {} are missing", missing, count));
  }
  std::sort(merged.rows.begin(), merged.rows.end(),
            [](const json& a, const json& b) { return a["point"].get<int>() < b["point"].get<int>(); });
  const int points = sweep_meta.value("points", -1);
  std::set<int> seen;
  for (const auto& row : merged.rows) seen.insert(row["point"].get<int>());
  if (static_cast<int>(merged.rows.size()) != points || static_cast<int>(seen.size()) != points)
    throw InputError(fmt::format("merge: the shards hold {} rows ({} distinct points) but the sweep has {} points",
                                 merged.rows.size(), seen.size(), points));
  merged.sweep = sweep_meta;

  sweep::prepare_output_dir(args.out);
  sweep::OutputLock lock(args.out);
  sweep::write_results(args.out, merged);
  const auto ok = std::count_if(merged.rows.begin(), merged.rows.end(), [](const json& r) { return r["status"] == "ok"; });
  std::cout << fmt::format("merge {}: {} shards, {} points, {} ok, {} failed\n", sweep_meta.value("name", "?"), count,
                           points, ok, points - ok);
  std::cout << fmt::format("  results  {0}/results.csv, {0}/results.json\n", args.out);
  if (!args.no_plots) sweep::draw_sweep_plots(args.out);
  return 0;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  auto* cmd = app.add_subcommand("merge", "Combine the shards of an lpusim explore --shard run into one result");
  cmd->add_option("shards", args->shards, "The --out folder of every shard")->required();
  cmd->add_option("--out", args->out, "Folder for the merged results.csv, results.json and plots")->required();
  cmd->add_flag("--no-plots", args->no_plots, "Do not draw the plots");
  return [args] { return run(*args); };
}

}  // namespace lpusim::cli
