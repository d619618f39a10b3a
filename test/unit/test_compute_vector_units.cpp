// Vector and special-function units (docs/models.md "Vector and special-function units"):
// the catalog's exp / rcp / rsqrt rates against the published H100 figure, attention as
// matrix phases plus a softmax (serialised or overlapped per the kernel generation) below
// GEMM efficiency on every GPU-like chip, vector ops bound by the special-function units,
// and the loader's checks on `vector_unit` and `boost_clock`.
#include <catch2/catch.hpp>

#include "op_builders.h"

#include "mini_chip.h"

#include <string>

#include "sim/ops/op.h"
#include "sim/workloads/inference/lowering.h"

namespace test_compute_vector_units {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// [FA3-paper]: "H100 SXM5 has 989 TFLOPS of FP16 matmul but only 3.9 TFLOPS of special functions".
constexpr double kH100SpecialPublished = 3.9e12;
constexpr double kH100MatmulPublished = 989e12;

}  // namespace

TEST_CASE("vector units: H100's special-function rate is the published 3.9 T/s", "[compute]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  CHECK(h100.compute.special_rate(h100.clock) == Approx(kH100SpecialPublished).epsilon(0.03));
  // Every chip that states its units: at most one special result per lane per clock, and
  // the boost clock is not below the clock the peaks are quoted at.
  for (const ChipSpec* c : shipped_catalog().all()) {
    INFO(c->name);
    CHECK(c->boost_clock >= c->clock);
    if (c->compute.vector_units == 0) continue;
    CHECK(c->compute.special_per_clock <= c->compute.vector_lanes);
  }
}

TEST_CASE("vector units: attention runs below GEMM efficiency on every GPU-like chip", "[compute]") {
  int checked = 0;
  for (const ChipSpec* c : shipped_catalog().all()) {
    if (c->family != "gpu" && c->family != "hpu") continue;
    INFO(c->name);
    Op g;
    g.kind = OpKind::Gemm;
    g.dtype = "auto";
    g.m = g.n = g.k = 8192;
    const double gemm = efficiency(estimate_op(g, *c));
    // As every shipped stack runs it (FA2 generation, softmax between the matrix phases).
    CHECK(efficiency(estimate_op(prefill_attention_op(8192, true, false), *c)) < gemm);
    // Overlapped (FA3) the matrix phase bounds it: never above the MAC array's efficiency,
    // though it may pass a wave-quantised GEMM (MI300X: 1,024 tiles on 304 CUs, 4 waves).
    CHECK(efficiency(estimate_op(prefill_attention_op(8192, true, true), *c)) <= c->compute.matrix_efficiency);
    ++checked;
  }
  CHECK(checked >= 8);  // A100, H100, H200, B200, MI300X, MI325X, Gaudi 2, Gaudi 3
}

TEST_CASE("vector units: FA2 pays the exponentials FA3 hides, by the published ratio", "[compute]") {
  // [FA3-paper]: at head dim 128 a score costs 4 x 128 matmul FLOPs and one exp, so at the
  // published rates the exp takes 989 / (3.9 x 512) ~ 0.50 of the matmul time at peak; the
  // matrix phase runs at matrix_efficiency (C1), so a serialised softmax adds 0.50 x that.
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  const double exp_share = kH100MatmulPublished / (kH100SpecialPublished * 4 * 128);
  const double expected = 1 + exp_share * h100.compute.matrix_efficiency;
  const OpCost serial = estimate_op(prefill_attention_op(16384, false, false), h100);
  const OpCost overlap = estimate_op(prefill_attention_op(16384, false, true), h100);
  CHECK_FALSE(serial.memory_bound);
  CHECK(serial.time / overlap.time == Approx(expected).epsilon(0.05));
  // Overlapped, the matrix phase bounds it: never above the matrix efficiency.
  CHECK(efficiency(overlap) <= h100.compute.matrix_efficiency);
  CHECK(efficiency(overlap) > 0.9 * h100.compute.matrix_efficiency);
}

TEST_CASE("vector units: SiLU from on-chip memory is bound by the special-function units", "[compute]") {
  // x * 1 / (1 + exp(-x)): an exp and a reciprocal per element at 3.9 T/s on H100, slower
  // than both its FMAs (66.9 TFLOPS) and its L2 stream (4 bytes per element).
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  Op act;
  act.kind = OpKind::Activation;
  act.dtype = "bf16";
  act.elements = 1 << 24;
  act.stream_tier = "sram";
  const OpCost c = estimate_op(act, h100);
  const double sfu_bound = 2.0 * static_cast<double>(act.elements) / kH100SpecialPublished;
  CHECK(c.compute_time == Approx(sfu_bound).epsilon(0.03));
  CHECK_FALSE(c.memory_bound);
  // A chip without `vector_unit` data folds the exp into its vector rate: FLOPs only.
  ChipSpec folded = h100;
  folded.compute.vector_units = 0;
  const OpCost f = estimate_op(act, folded);
  CHECK(f.compute_time == Approx(f.flops / h100.compute.vector_peak));
  CHECK(f.compute_time < c.compute_time);
}

TEST_CASE("vector units: the serving lowering takes the stack's softmax mode", "[compute]") {
  InferenceConfig cfg;
  cfg.model = load_model_ref("llama-3.1-8b");
  cfg.dtype = cfg.kv_dtype = "bf16";
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  IterationShape s;
  s.prefill.push_back({8192, 8192});
  s.emitting = 1;
  const Seconds serial = Lowering(cfg, h100).stage_cost(s, 0).compute;
  cfg.software.attention_softmax = "overlapped";
  const Seconds overlap = Lowering(cfg, h100).stage_cost(s, 0).compute;
  CHECK(overlap < serial);
  CHECK(overlap > 0.8 * serial);  // attention is a minority of an 8B prefill's time
}

TEST_CASE("vector units: loader rejects a bad vector_unit or boost_clock at its line", "[compute]") {
  const std::string tail = "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s}\n";
  auto error_line = [](const std::string& text) {
    try {
      load_chip(parse_doc(text, "chip.yaml"));
    } catch (const InputError& e) {
      return e.pos().line;
    }
    return -1;
  };
  std::string head = llmsim_test::kMiniChipHead;
  const std::string unit_rate = "  unit_rate: {bf16: 2000}\n";
  std::string bad_special = head;
  bad_special.replace(bad_special.find(unit_rate), unit_rate.size(),
                      "  unit_rate: {bf16: 2000}\n  vector_unit: {count: 2, lanes: 32, special: 0}\n");
  CHECK(error_line(bad_special + tail) == 8);
  std::string bad_boost = "name: mini\nclock: 1 GHz\nboost_clock: 0.9 GHz\n" + head.substr(head.find("power:"));
  CHECK(error_line(bad_boost + tail) == 3);
  std::string good = "name: mini\nclock: 1 GHz\nboost_clock: 1.2 GHz\n" + head.substr(head.find("power:"));
  CHECK(load_chip(parse_doc(good + tail, "chip.yaml")).boost_clock == Approx(1.2e9));
}

}  // namespace test_compute_vector_units
