// Partition plans: stage balance, which tp/ep split a model, per-chip footprints as the
// lowering lays weights out (320 x 320 blocks), and the plans that fit a chip.
#include <catch2/catch.hpp>

#include "frontend/plan_fit.hpp"

using namespace lpusim;

namespace {
TransformerSpec bundled(const std::string& name) {
  return load_transformer_spec(std::string(LPUSIM_SOURCE_DIR) + "/workloads/transformers/" + name + "/config.json");
}
constexpr std::int64_t kBlock = 320 * 320;  // bytes of one int8 weight block
}  // namespace

TEST_CASE("stages split the layers as evenly as possible, the first ones one longer") {
  const auto stages = balanced_stages(80, 72);
  REQUIRE(stages.size() == 72);
  REQUIRE(stages[0].first == 0);
  REQUIRE(stages[0].count() == 2);   // 80 = 72 + 8: the first 8 stages hold 2 layers
  REQUIRE(stages[7].count() == 2);
  REQUIRE(stages[8].count() == 1);
  REQUIRE(stages[71].last == 80);
}

TEST_CASE("tp must divide the heads and the MLP width, ep must divide the experts and tp") {
  const TransformerSpec llama = bundled("llama-2-70b");  // 64 heads, 8 KV heads, width 28672
  std::string why;
  REQUIRE(plan_shape_valid(llama, 8, 1));
  REQUIRE(plan_shape_valid(llama, 16, 1));  // 16 chips over 8 KV heads: each KV head on 2 chips
  REQUIRE_FALSE(plan_shape_valid(llama, 3, 1, &why));
  REQUIRE(why == "tp 3 does not divide the 64 attention heads");
  REQUIRE_FALSE(plan_shape_valid(llama, 8, 2, &why));
  REQUIRE(why == "ep applies to mixture-of-experts models only");
  const TransformerSpec mixtral = bundled("mixtral-8x7b");  // 8 experts
  REQUIRE(plan_shape_valid(mixtral, 8, 8));
  REQUIRE(plan_shape_valid(mixtral, 8, 2));
  REQUIRE_FALSE(plan_shape_valid(mixtral, 4, 8, &why));
  REQUIRE(why == "ep 8 does not divide tp 4");
}

TEST_CASE("footprint of GPT-2 small on one chip, block by block") {
  const TransformerSpec gpt2 = bundled("gpt2");  // hidden 768, MLP 3072, vocab 50257, 12 layers, learned positions
  PartitionPlan one;
  one.stages = balanced_stages(gpt2.layers, 1);
  PlanRequest r;
  r.weight_bytes = 1;
  r.context = 1024;
  const ChipFootprint f = plan_footprint(gpt2, one, r);
  // Per layer: q, k, v, o are 768 x 768 = 3 x 3 blocks each: 36 blocks; fc1 768 x 3072 and
  // fc2 3072 x 768 are 3 x 10 blocks each: 60 blocks. 96 blocks x 12 layers = 1152. The LM head
  // 768 x 50257 is 3 x 158 = 474 blocks; the position table 1024 x 768 fp32.
  REQUIRE(f.weight_bytes == (1152 + 474) * kBlock + 1024 * 768 * 4);
  // KV: 12 layers x 2 (k, v) x 768 x 1024 positions x 2 bytes (fp16).
  REQUIRE(f.kv_bytes == 12 * 2 * 768 * 1024 * 2);
}

TEST_CASE("Llama-2-70B int8 at a 4k context: one layer per chip of 8 fits, two do not") {
  const TransformerSpec llama = bundled("llama-2-70b");
  PlanRequest r;
  r.weight_bytes = 1;
  r.context = 4096;
  // Per layer on one of 8 chips: q 8192 x 1024 (26 x 4 blocks), k and v 8192 x 128 (26 x 1
  // each), o 1024 x 8192 (4 x 26), gate/up 8192 x 3584 (26 x 12 each), down 3584 x 8192
  // (12 x 26): 104 + 52 + 104 + 936 = 1196 blocks = 122.5 MB.
  PartitionPlan p;
  p.tp = 8;
  p.pp = 80;
  p.stages = balanced_stages(80, 80);
  const std::int64_t lm_head = 26 * 13 * kBlock;  // 8192 x 4000 (32000 / 8) on the last stage
  REQUIRE(plan_footprint(llama, p, r).weight_bytes == 1196 * kBlock + lm_head);
  const ChipBudget budget{64 * 8192 * 320, 24 * 8192 * 320};  // the weight and activation slices of a TSP v1
  const auto plans = feasible_plans(llama, r, budget, 10440);
  REQUIRE_FALSE(plans.empty());
  REQUIRE(plans[0].tp == 8);
  REQUIRE(plans[0].pp == 80);
  REQUIRE(plans[0].chips() == 640);
  REQUIRE(plans[0].describe() == "tp 8 x pp 80 (1 layer per stage) = 640 chips");
  // Nothing smaller fits: tp 4 needs 2210 blocks (226 MB) for one layer.
  for (const auto& plan : plans) REQUIRE(plan.chips() >= 640);
}

TEST_CASE("a plan's stages hold every layer once") {
  const TransformerSpec llama = bundled("llama-3.1-8b");
  PlanRequest r;
  r.context = 32768;
  r.weight_bytes = 1;
  const ChipBudget budget{64 * 8192 * 320, 24 * 8192 * 320};
  const auto plans = feasible_plans(llama, r, budget, 10440);
  REQUIRE(plans.size() >= 2);  // tp 4 and tp 8 fit (at tp 1 and 2 one layer's KV exceeds a chip)
  // tp 8: 312 blocks (32 MB) and 16.8 MB of KV per layer: 3 layers per stage (KV-bound), and
  // the last stage's 663-block LM head leaves room for 3 as well: 11 stages.
  REQUIRE(plans[0].describe() == "tp 8 x pp 11 (2-3 layers per stage) = 88 chips");
  for (const auto& p : plans) {
    std::int64_t next = 0;
    for (std::size_t i = 0; i < p.stages.size(); ++i) {
      const auto& s = p.stages[i];
      REQUIRE(s.first == next);
      REQUIRE(s.count() >= (i + 1 == p.stages.size() ? 0 : 1));  // the last may hold the LM head alone
      next = s.last;
    }
    REQUIRE(next == llama.layers);
    const ChipFootprint f = plan_footprint(llama, p, r);
    REQUIRE(f.weight_bytes <= budget.weight_bytes);
    REQUIRE(f.kv_bytes <= budget.kv_bytes);
  }
}
