// Attention kernels written for the previous generation's warp-level MMA instructions
// (docs/models.md "Attention"): FlashAttention-2 issues Ampere's mma.sync, which on Hopper
// reaches about 2/3 of the wgmma peak [FA3-paper]; a stack that says `attention.mma: warp`
// runs its matrix phases at the chip's compute.warp_mma_fraction. Expected figures come
// from the paper, not from the chip files.
#include <catch2/catch.hpp>

#include "op_builders.h"

#include "mini_chip.h"

#include <string>

#include "sim/ops/op.h"
#include "sim/software/stack.h"
#include "sim/workloads/inference/lowering.h"

namespace test_attention_warp_mma {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// [FA3-paper] (recalled, not re-read): FA2 reaches ~35 % of H100's peak, FA3 up to 75 %
// (740 TFLOPS fp16). H100's warp_mma_fraction is fitted on the first (head dim 128), nemo's
// softmax_exposed on the second (head dim 256); the ratio at head dim 128 is not fitted.
constexpr double kFa2Utilisation = 0.35;
constexpr double kFa3Utilisation = 0.75;

}  // namespace

TEST_CASE("warp mma: FA2 on H100 runs below FA3 by the paper's utilisation ratio", "[compute]") {
  for (const char* name : {"nvidia-h100-sxm", "nvidia-h200"}) {
    INFO(name);
    const ChipSpec& chip = shipped_catalog().get(name);
    const OpCost fa2 = estimate_op(prefill_attention_op(16384, false, false, true), chip);  // mma.sync, softmax between
    Op fa3_op = prefill_attention_op(16384, false, true, false);                            // wgmma, ping-pong
    fa3_op.softmax_exposed = load_software_file("nemo", {}).attention_softmax_exposed;
    const OpCost fa3 = estimate_op(fa3_op, chip);
    CHECK_FALSE(fa2.memory_bound);
    CHECK_FALSE(fa3.memory_bound);
    // The fit point (head dim 128): FA2 at ~35 % of the peak.
    CHECK(efficiency(fa2) == Approx(kFa2Utilisation).epsilon(0.03));
    // 75 % / 35 % = 2.14, the paper's best FA3 (head dim 256) over FA2; at head dim 128
    // FA3 runs slower than its best, so the model's ratio here is lower (~2.0). 15 %: the
    // paper's two utilisations are its best shapes, not this one.
    CHECK(fa2.time / fa3.time == Approx(kFa3Utilisation / kFa2Utilisation).epsilon(0.15));
    // With the softmax overlapped in both, the warp-level instructions are still slower.
    Op warp_overlapped = fa3_op;
    warp_overlapped.warp_mma = true;
    CHECK(estimate_op(warp_overlapped, chip).time > fa3.time);
  }
}

TEST_CASE("warp mma: chips without a warp / warpgroup split are unchanged (A100)", "[compute]") {
  for (const ChipSpec* c : shipped_catalog().all()) {
    if (c->name == "nvidia-h100-sxm" || c->name == "nvidia-h200") continue;
    INFO(c->name);
    CHECK(c->compute.warp_mma_fraction == 1.0);
  }
  const ChipSpec& a100 = shipped_catalog().get("nvidia-a100-sxm");
  CHECK(estimate_op(prefill_attention_op(8192, false, false, true), a100).time ==
        estimate_op(prefill_attention_op(8192, false, false, false), a100).time);
}

TEST_CASE("warp mma: FA2-class attention stays below GEMM efficiency on every GPU-like chip", "[compute]") {
  int checked = 0;
  for (const ChipSpec* c : shipped_catalog().all()) {
    if (c->family != "gpu" && c->family != "hpu") continue;
    INFO(c->name);
    Op g;
    g.kind = OpKind::Gemm;
    g.dtype = "auto";
    g.m = g.n = g.k = 8192;
    const double gemm = efficiency(estimate_op(g, *c));
    const OpCost warp = estimate_op(prefill_attention_op(8192, false, false, true), *c);
    CHECK(efficiency(warp) < gemm);
    CHECK(warp.time >= estimate_op(prefill_attention_op(8192, false, false, false), *c).time);  // never faster
    ++checked;
  }
  CHECK(checked >= 8);
}

TEST_CASE("warp mma: the stacks that ship FlashAttention-2 say warp, and serving takes it", "[compute]") {
  for (const char* s : {"vllm-cuda", "megatron", "llm-foundry"}) CHECK(load_software_file(s, {}).attention_mma == "warp");
  for (const char* s : {"nemo", "trt-llm", "vllm-rocm", "jax-tpu"})
    CHECK(load_software_file(s, {}).attention_mma == "native");
  InferenceConfig cfg;
  cfg.model = load_model_ref("llama-3.1-8b");
  cfg.dtype = cfg.kv_dtype = "bf16";
  IterationShape s;
  s.prefill.push_back({8192, 8192});
  s.emitting = 1;
  for (const char* name : {"nvidia-h100-sxm", "nvidia-a100-sxm"}) {
    INFO(name);
    const ChipSpec& chip = shipped_catalog().get(name);
    cfg.software.attention_mma = "native";
    const Seconds native = Lowering(cfg, chip).stage_cost(s, 0).compute;
    cfg.software.attention_mma = "warp";
    const Seconds warp = Lowering(cfg, chip).stage_cost(s, 0).compute;
    if (chip.compute.warp_mma_fraction < 1) {
      CHECK(warp > native);
    } else {
      CHECK(warp == native);
    }
  }
}

TEST_CASE("warp mma: loader rejects a warp_mma_fraction not above 0 or above 1, at its line", "[compute]") {
  for (const char* v : {"0", "1.5"})
    CHECK(llmsim_test::mini_chip_error_line(std::string("  warp_mma_fraction: ") + v + "\n") == 8);
}

}  // namespace test_attention_warp_mma
