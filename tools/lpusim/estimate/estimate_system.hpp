#pragma once
// `lpusim estimate` on a system of chips: the model cut by a partition plan, each step
// compiled for every chip of the plan (compile_system: the C2C transfers scheduled against
// each other) and simulated cycle by cycle on the system in timing mode; printed as a table,
// CSV or JSON like the one-chip estimate, with the plan, the pipeline and the links.
#include <string>

#include "estimate/estimate_plan.hpp"
#include "frontend/transformer_spec.hpp"
#include "runtime/serving_model.hpp"

namespace lpusim::cli {

struct SystemEstimateInput {
  std::string path;          ///< the model's config file
  std::string model;         ///< as the user named it
  const TransformerSpec& spec;
  Scenario scenario;
  std::string weights_label;
  EstimatePlan where;
  bool json = false;
  bool csv = false;
};

/// Returns the exit code (1 when a chip's simulated cycles differ from its schedule).
int estimate_on_system(const SystemEstimateInput& in);

}  // namespace lpusim::cli
