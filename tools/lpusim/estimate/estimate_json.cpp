#include "estimate/estimate_json.hpp"

namespace lpusim::cli {

nlohmann::json serving_json(const std::string& model_path, const TransformerSpec& spec, const Scenario& scenario,
                            const std::string& weights_label, const ServingEstimate& e, const StepResult& prefill,
                            const std::optional<StepResult>& decode,
                            std::int64_t (*instructions)(const StepResult& step)) {
  nlohmann::json j;
  j["model"] = model_path;
  j["family"] = family_name(spec.family);
  j["kind"] = decode ? "decoder" : "encoder";
  j["parameters"] = spec.parameters();
  j["weights"] = weights_label;
  j["batch"] = scenario.batch;
  j["prompt_len"] = scenario.prompt_length;
  if (decode) {
    j["gen_len"] = scenario.generation_length;
    j["decode"] = {{"past", decode->past},
                   {"cycles", decode->cycles()},
                   {"latency_us", e.decode_latency_us},
                   {"latency_with_host_us", e.token_latency_us},
                   {"tokens_per_s_per_user", e.tokens_per_s_per_user},
                   {"tokens_per_s", e.tokens_per_s},
                   {"instructions", instructions(*decode)}};
    j["prefill"] = {{"tokens", scenario.prompt_length},   {"sequences", scenario.batch},
                    {"cycles", prefill.cycles()},         {"latency_us", e.prefill_latency_us},
                    {"time_to_first_token_us", e.time_to_first_token_us},
                    {"instructions", instructions(prefill)}};
  } else {
    j["encode"] = {{"tokens", scenario.prompt_length},  {"sequences", scenario.batch},
                   {"cycles", prefill.cycles()},        {"latency_us", e.prefill_latency_us},
                   {"latency_with_host_us", e.sequence_latency_us},
                   {"sequences_per_s", e.sequences_per_s},
                   {"instructions", instructions(prefill)}};
  }
  return j;
}

}  // namespace lpusim::cli
