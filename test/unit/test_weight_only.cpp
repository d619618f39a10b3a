// Weight-only 8-bit weights (w8a16, docs/models.md "Dtypes"): weights read at 1 byte,
// activations and MACs 16-bit. Expected figures come from bytes / bandwidth, the bf16 run of
// the same shape and the model's parameter count, never from the w8a16 run itself.
#include <catch2/catch.hpp>

#include "op_builders.h"

#include <fstream>
#include <stdexcept>
#include <string>

#include "cli_outcome.h"
#include "mini_chip.h"
#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/llm/model.h"
#include "sim/ops/op.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/inference/dataflow.h"

namespace test_weight_only {

using namespace llmsim;
using namespace llmsim_test;

TEST_CASE("w8a16: a bandwidth-bound GEMV reads 1-byte weights, half the bf16 time", "[compute][w8a16]") {
  // H100 (native fp8) and SN40L (16-bit only): 16384^2 weights, 268 MB at 1 B, far above
  // the launch and latency prologue. Bytes: K x N weights at 1 B, x and y at 2 B.
  for (const char* name : {"nvidia-h100-sxm", "sambanova-sn40l"}) {
    INFO(name);
    const ChipSpec& chip = shipped_catalog().get(name);
    const double n = 16384, k = 16384;
    const OpCost c16 = estimate_op(gemm_op(1, 16384, 16384, "bf16"), chip);
    const OpCost c8 = estimate_op(gemm_op(1, 16384, 16384, "w8a16"), chip);
    REQUIRE(c16.memory_bound);
    REQUIRE(c8.memory_bound);
    const MemoryTierSpec& t = *chip.tier(c8.tier);
    const double bytes = k * n * 1 + (k + n) * 2;
    CHECK(c8.bytes.value() == Approx(bytes).epsilon(0.01));
    CHECK(c8.time - c8.prologue == Approx(bytes / (t.bandwidth * t.efficiency)).epsilon(0.15));
    CHECK((c8.time - c8.prologue) / (c16.time - c16.prologue) == Approx(0.5).epsilon(0.15));
  }
}

TEST_CASE("w8a16: a compute-bound GEMM runs on the 16-bit MACs even where fp8 exists", "[compute][w8a16]") {
  const ChipSpec& h100 = shipped_catalog().get("nvidia-h100-sxm");
  const OpCost c16 = estimate_op(gemm_op(8192, 8192, 8192, "bf16"), h100);
  const OpCost c8 = estimate_op(gemm_op(8192, 8192, 8192, "w8a16"), h100);
  const OpCost f8 = estimate_op(gemm_op(8192, 8192, 8192, "fp8"), h100);
  REQUIRE_FALSE(c16.memory_bound);
  CHECK_FALSE(c8.memory_bound);
  CHECK(c8.time == Approx(c16.time).epsilon(0.15));
  CHECK(c8.peak == h100.compute.peak.at("bf16"));
  CHECK(f8.time < 0.8 * c8.time);  // the fp8 MACs are a different (faster) path
}

TEST_CASE("w8a16: a model's weights are half its bf16 bytes, and DeepSeek-R1 fits SN40L HBM", "[inference][w8a16]") {
  // DeepSeek-R1 at TP 16 on SN40L (C12): 671e9 params ([DEEPSEEK-V3]) x 2 B / 16 = 84 GB per
  // socket spills past the 64 GiB HBM; x 1 B = 42 GB stays resident, nothing read from DDR.
  const ChipSpec& sn = shipped_catalog().get("sambanova-sn40l");
  InferenceConfig c;
  c.model = load_model_ref("deepseek-r1", {}, "");
  c.tp = 16;
  c.sched.max_batch = 1;
  c.sched.max_batched_tokens = 2048;
  c.dtype = c.kv_dtype = "bf16";
  const WeightResidency w16 = weight_residency(c, sn, 0);
  c.dtype = "w8a16";
  const WeightResidency w8 = weight_residency(c, sn, 0);
  CHECK(w8.weights.value() == Approx(0.5 * w16.weights.value()).epsilon(1e-9));
  CHECK(w8.weights.value() == Approx(c.model.params() / 16).epsilon(0.05));
  CHECK(w16.spilled.value() > 0);
  CHECK(w8.spilled.value() == 0);
  CHECK(w8.resident.value() == w8.weights.value());
}

TEST_CASE("w8a16: attention and chips without 16-bit MACs reject it, and no chip lists it as a peak", "[compute][w8a16]") {
  Op a;
  a.kind = OpKind::Attention;
  a.batch = a.heads = a.kv_heads = a.q_len = 1;
  a.head_dim = 128;
  a.kv_len = 64;
  a.dtype = "w8a16";
  CHECK_THROWS_AS(estimate_op(a, shipped_catalog().get("nvidia-h100-sxm")), std::invalid_argument);

  const std::string head = llmsim_test::kMiniChipHead;
  const std::string mem = "  - {tier: hbm, capacity: 8 GB, bandwidth: 1 TB/s}\n";
  std::string int8_only = head;
  int8_only.replace(int8_only.find("{bf16: 4 TFLOPS}"), 16, "{int8: 4 TOPS}");
  int8_only.replace(int8_only.find("{bf16: 2000}"), 12, "{int8: 2000}");
  const ChipSpec chip = load_chip(parse_doc(int8_only + mem, "chip.yaml"));
  try {
    estimate_op(gemm_op(16, 16, 16, "w8a16"), chip);
    FAIL("w8a16 ran on a chip without bf16 / fp16");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("needs bf16 or fp16 on mini") != std::string::npos);
  }
  std::string listed = head;
  listed.replace(listed.find("{bf16: 4 TFLOPS}"), 16, "{bf16: 4 TFLOPS, w8a16: 4 TFLOPS}");
  try {
    load_chip(parse_doc(listed + mem, "chip.yaml"));
    FAIL("a chip listed a w8a16 peak");
  } catch (const InputError& e) {
    CHECK(e.pos().line == 6);
  }

  // Through the binary: one line, positioned at the workload's dtype, exit 2.
  const std::string dir = llmsim_test::make_tmpdir("w8a16");
  std::ofstream(dir + "/chip.yaml") << int8_only << mem;
  std::ofstream(dir + "/topo.yaml") << "name: t\ndevice: " << dir << "/chip.yaml\ncount: 1\n";
  std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.2-3b\ndtype: w8a16\n"
                                 << "requests: {count: 1, rate: 1/s, prompt_tokens: 8, output_tokens: 2}\n";
  const auto o = llmsim_test::run_cli("run --quiet -t " + dir + "/topo.yaml -w " + dir + "/w.yaml -o " + dir + "/o");
  INFO(o.text);
  CHECK(o.rc == 2);
  CHECK(o.text.rfind("llmsim: error: " + dir + "/w.yaml:3:", 0) == 0);
  CHECK(o.text.find("needs bf16 or fp16") != std::string::npos);
  CHECK(o.text.find('\n') == o.text.size() - 1);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_weight_only
