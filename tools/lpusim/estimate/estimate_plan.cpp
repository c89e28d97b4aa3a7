#include "estimate/estimate_plan.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "arch/core/error.hpp"
#include "commands.hpp"
#include "compiler/cost/compile_cost.hpp"
#include "compiler/lower/chip_capacity.hpp"
#include "frontend/plan_fit.hpp"
#include "frontend/transformer_cost.hpp"
#include "runtime/model_costs.hpp"

namespace lpusim::cli {

namespace {

/// The bundled systems, smallest first (models/systems/).
const std::vector<std::string>& standard_systems() {
  static const std::vector<std::string> names{"groq-node",   "groq-rack",    "dragonfly-2",  "dragonfly-8",
                                              "dragonfly-16", "dragonfly-64", "dragonfly-145"};
  return names;
}

PlanRequest plan_request(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario) {
  PlanRequest r;
  r.weight_bytes = weight_type_bytes(scenario.weights);
  r.batch = scenario.batch;
  r.context = scenario.context(spec.causal);
  r.lanes = chip.lanes();
  return r;
}

}  // namespace

EstimatePlan choose_estimate_plan(const TransformerSpec& spec, const ChipConfig& chip, const Scenario& scenario,
                                  const PlanRequestArgs& args) {
  EstimatePlan e;
  const bool forced = args.tp > 0 || args.pp > 0 || args.ep > 0;
  PlanRequest request = plan_request(spec, chip, scenario);
  const ChipCapacity capacity = chip_capacity(chip);
  const ChipBudget budget{capacity.weight_bytes, capacity.activation_bytes};
  if (forced) {
    e.plan = requested_plan(spec, std::max(args.tp, 1), std::max(args.pp, 1), std::max(args.ep, 1));
    e.why = "as given (--tp/--pp/--ep)";
  } else {
    // One chip whenever the compiler's own count says the weights and caches fit it (its
    // other limits, instructions and host memory, are then one chip's to refuse).
    const WeightScenario weights(scenario.weights, scenario.compute, scenario.checkpoint_weights);
    const bool decode_fits = !spec.causal || transformer_fits_one_chip(spec, chip, weights,
                                                                       {1, scenario.context(true) - 1, scenario.batch});
    bool fits = decode_fits &&
                transformer_fits_one_chip(spec, chip, weights, {scenario.prompt_length, 0, scenario.batch, spec.causal});
    if (fits) {
      // And by the session's own first check (weights with a quarter of the SRAM kept free).
      try {
        check_model_fits(spec, chip, scenario.weights, scenario.batch, std::max<std::int64_t>(request.context, 1),
                         scenario.checkpoint_weights);
      } catch (const InputError&) {
        fits = false;
      }
    }
    if (args.system.empty() && fits) return e;
    std::vector<PartitionPlan> plans = feasible_plans(spec, request, budget, 10440);
    // Tensor parallelism stays within a node's 8 fully connected chips while one layer fits
    // them; a layer too large for a node (Mixtral-8x7B's 8 experts) is split over more, its
    // all-reduces then forwarded between nodes (the compiler refuses a schedule that would
    // overflow a port's buffer: docs/multichip.md, "Port buffers").
    bool across_nodes = false;
    if (plans.empty()) {
      PlanRequest wider = request;
      wider.max_tp = kMaxTensorParallel;
      plans = feasible_plans(spec, wider, budget, 10440);
      if (!plans.empty()) {
        request = wider;
        across_nodes = true;
      }
    }
    if (plans.empty())
      throw InputError(fmt::format("{}: no plan of up to 10,440 chips (the largest system) holds its weights and the KV "
                                   "caches of {} x {} positions: a stage holds at least one layer, split over at most "
                                   "{} chips, and one layer's share must fit a chip's {} of weight SRAM and its KV "
                                   "caches the {} beside the VXM (caches are not spread over chips by position yet)",
                                   spec.file, request.batch, request.context, kMaxTensorParallel,
                                   format_bytes(static_cast<double>(budget.weight_bytes)),
                                   format_bytes(static_cast<double>(budget.kv_bytes))));
    // The compiler's count said one chip is not enough: the plans of several chips, fewest
    // first, that the compiler's own count takes on every chip (plan_fit's footprints choose
    // the candidates; plan_fits_chips is what compile_system will check), for the prefill
    // and a decode step at the whole context.
    // Across nodes, the fewest nodes per stage first: an all-reduce between nodes is
    // forwarded through their chips, and the more nodes a group spans, the more partials
    // share a port.
    auto order = [&](std::vector<PartitionPlan> candidates) {
      if (across_nodes)
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const PartitionPlan& a, const PartitionPlan& b) { return a.tp < b.tp; });
      return candidates;
    };
    plans = order(std::move(plans));
    std::string refused;
    // Cost before work: a step beyond the instructions lpusim compiles is refused with its
    // numbers by estimate_on_system; the per-chip checks below, which decompose each stage's
    // graph, are not run for it (plan_fit's plan stands).
    auto within_cap = [&](TransformerStep step) {
      const std::int64_t batch = step.batch;
      step.batch = 1;
      return transformer_step_cost(spec, chip, weights, false, step).instructions <= kMaxCompiledInstructions / batch;
    };
    const bool compilable = within_cap({scenario.prompt_length, 0, scenario.batch, spec.causal}) &&
                            (!spec.causal || within_cap({1, scenario.context(true) - 1, scenario.batch}));
    // A decoder's decode step (its weights and whole KV caches) is checked on every plan: a
    // step of many chips is compiled a stage at a time (runtime/stage_reuse.hpp), and its
    // stages' graphs are small whatever the whole step's size.
    auto compiles = [&](const PartitionPlan& p) {
      if (p.chips() == 1) return fits;
      const TransformerStep prefill{scenario.prompt_length, 0, scenario.batch, spec.causal};
      const TransformerStep decode{1, scenario.context(true) - 1, scenario.batch};
      // The decode step's intermediates count too (its attention against the whole context).
      if (spec.causal && !plan_fits_chips(spec, chip, weights, p, decode, &refused, true)) return false;
      return !compilable || plan_fits_chips(spec, chip, weights, p, prefill, &refused);
    };
    // plan_fit's footprints can be a little short of the compiler's count (a weight slice's
    // room for whole tiles): when no candidate compiles, the candidates of a budget a tenth
    // smaller are tried, down to half (more stages or chips per stage, checked the same way).
    for (int tenths = 10; tenths >= 5 && e.alternatives.empty(); --tenths) {
      if (tenths < 10) {
        ChipBudget smaller = budget;
        smaller.weight_bytes = budget.weight_bytes / 10 * tenths;
        plans = order(feasible_plans(spec, request, smaller, 10440));
      }
      for (const PartitionPlan& p : plans) {
        // Across nodes, one plan: each candidate's decode step simulates hundreds of chips in
        // many stage windows (stages straddle racks), minutes apiece.
        if (!e.alternatives.empty() && (across_nodes || p.chips() > e.alternatives.front().chips())) break;
        if (compiles(p)) e.alternatives.push_back(p);
      }
    }
    if (e.alternatives.empty())
      throw InputError(fmt::format("{}: no plan of up to 10,440 chips holds its weights and the KV caches of {} x {} "
                                   "positions by the compiler's count{}", spec.file, request.batch, request.context,
                                   refused.empty() ? "" : fmt::format(" (the last tried: {})", refused)));
    e.plan = e.alternatives.front();
    if (e.plan.chips() == 1 && args.system.empty()) return e;  // one chip: the single-chip estimate
    e.why = across_nodes ? "the fewest chips whose SRAM holds the weights and KV caches by the compiler's count (one "
                           "layer does not fit a node's 8 chips: tensor parallel across nodes, then pipeline stages)"
                         : "the fewest chips whose SRAM holds the weights and KV caches by the compiler's count (tensor "
                           "parallel up to a node's 8 chips, then pipeline stages)";
  }
  if (!args.system.empty()) {
    e.system = load_system(args.system);
  } else {
    for (const auto& name : standard_systems()) {
      SystemConfig s = load_system(name);
      if (s.chips >= e.plan.chips()) {
        e.system = std::move(s);
        e.why += fmt::format("; system {}, the smallest standard system with {} chips", name, e.plan.chips());
        break;
      }
    }
    if (!e.system)
      throw InputError(fmt::format("{}: the plan {} needs more chips than the largest standard system (10,440)",
                                   spec.file, e.plan.describe()));
  }
  if (e.plan.chips() > e.system->chips)
    throw InputError(fmt::format("{}: the plan {} needs {} chips; system {} has {}", spec.file, e.plan.describe(),
                                 e.plan.chips(), e.system->name, e.system->chips));
  if (e.plan.chips() == 1) {  // a forced one-chip plan, or --system for a model that fits one chip
    e.system.reset();
    return e;
  }
  if (args.system.empty()) {
    // A standard topology, built of the chip asked about (--chip, or a sweep's variant). Its
    // wiring assumes the bundled chip's ports; its link latencies are times, given in cycles
    // of the bundled chip's clock, so they scale with another clock.
    SystemConfig& s = *e.system;
    if (chip.c2c_links != s.chip.c2c_links)
      throw InputError(fmt::format("--chip {}: the standard systems are wired for chips of {} C2C ports, this one has "
                                   "{}; give --system with a system file built of it",
                                   chip.name, s.chip.c2c_links, chip.c2c_links));
    if (chip.clock_mhz != s.chip.clock_mhz)
      for (LinkClass& c : s.link_classes)
        c.latency = Cycle(static_cast<std::int64_t>(std::llround(static_cast<double>(c.latency.value()) *
                                                                 chip.clock_mhz / s.chip.clock_mhz)));
    s.chip = chip;
  } else if (e.system->chip.name != chip.name) {
    throw InputError(fmt::format("--chip {} and --system {}: the system is built of {} chips (the system file names "
                                 "its chip)", chip.name, e.system->name, e.system->chip.name));
  }
  return e;
}

}  // namespace lpusim::cli
