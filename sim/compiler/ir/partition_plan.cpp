#include "compiler/ir/partition_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace lpusim {

std::string PartitionPlan::describe() const {
  std::int64_t most = 0, fewest = stages.empty() ? 0 : stages[0].count();
  for (const auto& st : stages) {
    most = std::max(most, st.count());
    fewest = std::min(fewest, st.count());
  }
  const std::string layers = most == fewest ? fmt::format("{} layer{} per stage", most, most == 1 ? "" : "s")
                                            : fmt::format("{}-{} layers per stage", fewest, most);
  return fmt::format("tp {}{} x pp {} ({}) = {} chip{}", tp, ep > 1 ? fmt::format(" (ep {})", ep) : "", pp, layers,
                     chips(), chips() == 1 ? "" : "s");
}

}  // namespace lpusim
