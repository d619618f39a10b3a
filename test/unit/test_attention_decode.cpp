// Decode attention (docs/models.md "Attention"). A decode's GQA group is padded to the
// matrix instruction's rows (chip tile.mma_m), not to the GEMM tile, so on a GPU it stays
// bound by its KV read, as decode kernels are. A paged KV cache: a serving stack that
// says `attention.kv_cache: paged` (vLLM's PagedAttention, TensorRT-LLM's and SGLang's
// pools) has its decode attention read K and V through a block table. [VLLM-PAGED] §7.1
// measured that kernel 20-26 % slower than FasterTransformer's contiguous one; the expected
// figures below come from that band and from the op's shape, not from the model's code.
#include <catch2/catch.hpp>

#include "cli_outcome.h"
#include "mini_chip.h"
#include "op_builders.h"

#include <fstream>
#include <string>

#include "sim/ops/op.h"
#include "sim/software/stack.h"
#include "sim/workloads/inference/lowering.h"

namespace test_attention_decode {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// [VLLM-PAGED] §7.1: PagedAttention's kernel 20-26 % slower than a contiguous one.
constexpr double kPagedSlowdownLow = 0.20, kPagedSlowdownHigh = 0.26;

// Decode attention of `batch` sequences of `len` tokens, Llama 3 70B's heads on one rank of
// TP 8 (8 query heads, 1 KV head, head dim 128), bf16.
Op decode_op(std::int64_t batch, std::int64_t len, bool paged) {
  Op a;
  a.kind = OpKind::Attention;
  a.dtype = "bf16";
  a.batch = batch;
  a.heads = 8;
  a.kv_heads = 1;
  a.head_dim = 128;
  a.q_len = 1;
  a.kv_len = len;
  a.causal = false;
  a.kv_paged = paged;
  return a;
}

// The KV tier's sustained streaming rate, from the chip file's figures.
double streaming_rate(const ChipSpec& chip) {
  for (const MemoryTierSpec& t : chip.memory)
    if (t.tier == chip.placement.kv_cache) return (t.bandwidth * t.efficiency).value();
  FAIL("no KV tier");
  return 0;
}

}  // namespace

TEST_CASE("paged KV: a decode's extra time is the paper's 20-26 % of its KV read", "[compute]") {
  for (const char* name : {"nvidia-h100-sxm", "nvidia-h200", "nvidia-a100-sxm", "amd-mi300x"}) {
    INFO(name);
    const ChipSpec& chip = shipped_catalog().get(name);
    const std::int64_t batch = 256, len = 4096;
    const OpCost flat = estimate_op(decode_op(batch, len, false), chip);
    const OpCost paged = estimate_op(decode_op(batch, len, true), chip);
    REQUIRE(flat.memory_bound);
    // K and V of every sequence, once: batch x len x (1 KV head x 128) x 2 tensors x 2 B.
    const double kv_bytes = static_cast<double>(batch * len) * 128 * 2 * 2;
    const double kv_read = kv_bytes / streaming_rate(chip);
    const double extra = (paged.time - flat.time) / kv_read;
    CHECK(extra >= kPagedSlowdownLow);
    CHECK(extra <= kPagedSlowdownHigh);
    // Bytes and energy are the same bytes: only their rate changes.
    CHECK(paged.bytes.value() == Approx(flat.bytes.value()));
    CHECK(paged.energy.value() == Approx(flat.energy.value()));
  }
}

TEST_CASE("decode attention: a GQA group of 8 is bound by its KV read on every GPU", "[compute]") {
  // A KV element (2 B) meets 8 query rows x 2 MACs (Q.K and P.V): 16 FLOP per 2 B = 8
  // FLOP/B, where a GPU's matrix ridge (peak / HBM bandwidth) is 90-600 FLOP/B. Padded to a
  // 128- or 256-row tile it was compute bound on A100 and MI300X; to the instruction's
  // 16 / 64 rows it is not.
  int checked = 0;
  for (const ChipSpec* c : shipped_catalog().all()) {
    if (c->family != "gpu") continue;
    INFO(c->name);
    // (One sequence's 1 MB of KV is shorter than a tile's fixed overhead: not a batch here.)
    for (std::int64_t batch : {64, 256, 3200}) {
      INFO("batch " << batch);
      const OpCost cost = estimate_op(decode_op(batch, 2048, false), *c);
      CHECK(cost.memory_bound);
    }
    CHECK(c->compute.mma_m < c->compute.tile_m);
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("decode attention: mma_m outside [0, m] is an input error at its line", "[compute]") {
  for (const char* v : {"-1", "256"})
    CHECK(mini_chip_error_line(std::string("  tile: {m: 128, n: 128, k: 64, mma_m: ") + v + "}\n") == 8);
}

TEST_CASE("paged KV: a compute-bound attention does not slow", "[compute]") {
  const ChipSpec& chip = shipped_catalog().get("nvidia-h100-sxm");
  Op flat = prefill_attention_op(8192, true, false);
  Op paged = flat;
  paged.kv_paged = true;
  const OpCost a = estimate_op(flat, chip), b = estimate_op(paged, chip);
  REQUIRE_FALSE(a.memory_bound);
  CHECK(b.time == a.time);
}

TEST_CASE("paged KV: the paged serving stacks say so, and a decode stage pays it per layer", "[compute]") {
  for (const char* s : {"vllm-cuda", "vllm-rocm", "sglang", "trt-llm"})
    CHECK(load_software_file(s, {}).attention_kv_cache == "paged");
  // Optimum Habana's static-batch generate(), tt-metal's demos and JAX's PaLM serving keep a
  // preallocated cache per sequence; training stacks keep no cache.
  for (const char* s : {"optimum-habana", "tt-metal", "jax-tpu", "groq", "megatron", "llm-foundry"})
    CHECK(load_software_file(s, {}).attention_kv_cache == "contiguous");
  InferenceConfig cfg;
  cfg.model = load_model_ref("llama-3.1-8b");  // 32 layers, 8 KV heads of 128
  cfg.dtype = cfg.kv_dtype = "bf16";
  IterationShape s;
  s.decode = 64;
  s.decode_kv = 64 * 8192;
  s.emitting = 64;
  const ChipSpec& chip = shipped_catalog().get("nvidia-h100-sxm");
  cfg.software.attention_kv_cache = "contiguous";
  const Seconds flat = Lowering(cfg, chip).stage_cost(s, 0).compute;
  cfg.software.attention_kv_cache = "paged";
  const Seconds paged = Lowering(cfg, chip).stage_cost(s, 0).compute;
  // Per layer the decode reads 64 x 8,192 tokens x 8 heads x 128 x 2 tensors x 2 B.
  const double kv_read = 32.0 * 64 * 8192 * 8 * 128 * 2 * 2 / streaming_rate(chip);
  const double extra = (paged - flat) / kv_read;
  CHECK(extra >= kPagedSlowdownLow);
  CHECK(extra <= kPagedSlowdownHigh);
}

TEST_CASE("paged KV: an unknown kv_cache layout is exit 2 at its line", "[software]") {
  const std::string d = make_tmpdir("kv-paged-bad");
  const std::string stack = d + "/s.yaml", wl = d + "/w.yaml", topo = d + "/t.yaml";
  std::ofstream(stack) << "name: s\nattention:\n  kv_cache: blocks\ndtypes: [bf16]\n";
  std::ofstream(wl) << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nsoftware: " << stack
                    << "\nrequests: {count: 1, arrival: at-once, prompt_tokens: 8, output_tokens: 2}\n";
  std::ofstream(topo) << "device: nvidia-h100-sxm\ncount: 1\n";
  const Outcome o = run_cli("run --quiet -t " + topo + " -w " + wl + " -o " + d + "/o");
  one_error_line(o, "blocks");
  CHECK(o.text.find("s.yaml:3:") != std::string::npos);
}

}  // namespace test_attention_decode
