// [inference] The Lowering's op-charge cache (lowering.h) must never change a stage cost:
// a Lowering that has costed thousands of other shapes (filling, colliding in and evicting
// its slots) returns bit-for-bit what a fresh one returns for the same shape.
#include <catch2/catch.hpp>

#include <cstring>

#include "sim/workloads/inference/lowering.h"

namespace test_inference_charge_cache {

using namespace llmsim;

namespace {
InferenceConfig config(const std::string& model, std::int64_t tp, std::int64_t pp) {
  InferenceConfig c;
  c.model = load_model_ref(model);
  c.tp = tp;
  c.pp = pp;
  c.dtype = c.kv_dtype = "fp8";
  return c;
}

IterationShape shape(std::int64_t decode, std::int64_t mean_kv, std::int64_t prefill_tokens, std::int64_t context) {
  IterationShape s;
  s.decode = decode;
  s.decode_kv = decode * mean_kv;
  if (prefill_tokens > 0) s.prefill.push_back({prefill_tokens, context});
  s.emitting = decode + (prefill_tokens > 0 ? 1 : 0);
  return s;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_identical(const StageCost& a, const StageCost& b) {
  CHECK(same_bits(a.compute, b.compute));
  CHECK(same_bits(a.layer_compute, b.layer_compute));
  CHECK(same_bits(a.flops, b.flops));
  CHECK(same_bits(a.bytes, b.bytes));
  CHECK(same_bits(a.energy, b.energy));
  CHECK(same_bits(a.kv_tier_memory, b.kv_tier_memory));
  CHECK(same_bits(a.memory_bound, b.memory_bound));
  CHECK(a.kernels == b.kernels);
}

void check_cache_transparent(const std::string& model, std::int64_t tp, std::int64_t pp) {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& chip = cat.get("nvidia-h100-sxm");
  InferenceConfig c = config(model, tp, pp);
  const std::vector<IterationShape> probes = {shape(32, 1000, 0, 0), shape(32, 1001, 0, 0), shape(33, 1000, 0, 0),
                                              shape(8, 500, 512, 512), shape(0, 0, 2048, 4096)};
  Lowering warm(c, chip);
  // More distinct op shapes than the cache has slots: every slot is filled and overwritten.
  for (std::int64_t d = 1; d <= 64; ++d)
    for (std::int64_t kv = 100; kv <= 2000; kv += 100)
      for (std::int64_t s = 0; s < pp; ++s) warm.stage_cost(shape(d, kv, d % 3 == 0 ? 64 * d : 0, 64 * d + kv), s);
  for (const IterationShape& p : probes)
    for (std::int64_t s = 0; s < pp; ++s) {
      Lowering fresh(c, chip);
      check_identical(warm.stage_cost(p, s), fresh.stage_cost(p, s));
      check_identical(warm.stage_cost(p, s), fresh.stage_cost(p, s));  // and again, from the cache
    }
  // Shapes one token apart cost differently: the cache does not merge them.
  Lowering low(c, chip);
  CHECK(low.stage_cost(shape(32, 1000, 0, 0), 0).compute < low.stage_cost(shape(32, 1200, 0, 0), 0).compute);
  CHECK(low.stage_cost(shape(32, 1000, 0, 0), 0).compute < low.stage_cost(shape(33, 1000, 0, 0), 0).compute);
}
}  // namespace

TEST_CASE("op-charge cache: dense model stage costs equal a fresh Lowering's", "[inference]") {
  check_cache_transparent("llama-3.1-70b", 8, 1);
  check_cache_transparent("llama-3.1-70b", 2, 4);
}

TEST_CASE("op-charge cache: MoE, MLA and dense-first-layer stage costs equal a fresh Lowering's", "[inference]") {
  check_cache_transparent("mixtral-8x7b", 8, 1);
  check_cache_transparent("deepseek-v3", 8, 2);  // MLA; dense first layers on stage 0
}

}  // namespace test_inference_charge_cache
