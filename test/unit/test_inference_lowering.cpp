// [inference] Lowering of a serving iteration into per-device ops, and stage splitting.
#include <catch2/catch.hpp>

#include "sim/workloads/inference/lowering.h"

namespace test_inference_lowering {

using namespace llmsim;

namespace {
InferenceConfig config(const std::string& model, std::int64_t tp, std::int64_t pp, const std::string& dtype = "fp8") {
  InferenceConfig c;
  c.model = load_model_ref(model);
  c.tp = tp;
  c.pp = pp;
  c.dtype = c.kv_dtype = dtype;
  return c;
}
const Op* find(const std::vector<Op>& ops, const std::string& name) {
  for (const auto& o : ops)
    if (o.name == name) return &o;
  return nullptr;
}
}  // namespace

TEST_CASE("pipeline stages: remainder layers go to the middle stages", "[inference]") {
  InferenceConfig c = config("llama-2-70b", 8, 72);
  std::int64_t total = 0;
  for (std::int64_t s = 0; s < 72; ++s) total += stage_layers(c, s);
  CHECK(total == 80);
  CHECK(stage_layers(c, 0) == 1);   // also holds the embedding
  CHECK(stage_layers(c, 71) == 1);  // also holds the LM head
  CHECK(stage_layers(c, 1) == 2);
  CHECK(stage_layers(c, 8) == 2);
  CHECK(stage_layers(c, 9) == 1);
  InferenceConfig even = config("llama-3.1-70b", 8, 4);
  for (std::int64_t s = 0; s < 4; ++s) CHECK(stage_layers(even, s) == 20);
}

TEST_CASE("dense layer ops are TP-sharded shapes", "[inference]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  InferenceConfig c = config("llama-3.1-70b", 8, 1);
  Lowering low(c, cat.get("nvidia-h100-sxm"));
  IterationShape s;
  s.decode = 32;
  s.decode_kv = 32 * 1000 + 16;
  s.prefill.push_back({512, 512});
  s.emitting = 33;
  REQUIRE(s.tokens() == 544);
  auto ops = low.layer_ops(s);
  const Op* qkv = find(ops, "qkv");
  REQUIRE(qkv);
  CHECK(qkv->m == 544);
  CHECK(qkv->n == (8 + 2 * 1) * 128);  // 64 / 8 query heads + 2 x 8 / 8 KV heads
  CHECK(qkv->k == 8192);
  const Op* dec = find(ops, "attn_decode");
  REQUIRE(dec);
  CHECK(dec->batch == 32);
  CHECK(dec->kv_len == 1001);  // ceil of the mean KV length
  const Op* pre = find(ops, "attn_prefill");
  REQUIRE(pre);
  CHECK(pre->q_len == 512);
  CHECK(pre->causal);
  const Op* up = find(ops, "mlp_up");
  REQUIRE(up);
  CHECK(up->n == 2 * 28672 / 8);  // gate + up
  auto edge = low.edge_ops(s, true, true);
  const Op* head = find(edge, "lm_head");
  REQUIRE(head);
  CHECK(head->m == 33);
  CHECK(head->n == 128256 / 8);
  StageCost sc = low.stage_cost(s, 0);
  CHECK(sc.layers == 80);
  CHECK(sc.allreduces == 160);
  CHECK(sc.allreduce_bytes == 544.0 * 8192 * 2);
  CHECK(sc.send_bytes == 0);
  CHECK(sc.compute > 80 * sc.layer_compute);  // plus embedding, LM head, sampling
  CHECK(sc.compute < 80 * sc.layer_compute * 1.1);
  // Two stages: each costs about half of the layers.
  InferenceConfig c2 = config("llama-3.1-70b", 8, 2);
  Lowering low2(c2, cat.get("nvidia-h100-sxm"));
  StageCost a = low2.stage_cost(s, 0);
  CHECK(a.layers == 40);
  CHECK(a.send_bytes == 544.0 * 8192 * 2);
  CHECK(a.compute == Approx(sc.compute / 2).epsilon(0.1));
}

TEST_CASE("MoE layer: router and experts spread over the TP group", "[inference]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  InferenceConfig c = config("mixtral-8x7b", 4, 1, "bf16");
  Lowering low(c, cat.get("nvidia-h100-sxm"));
  IterationShape s;
  s.decode = 64;
  s.decode_kv = 64 * 500;
  s.emitting = 64;
  auto ops = low.layer_ops(s);
  const Op* router = find(ops, "router");
  REQUIRE(router);
  CHECK(router->n == 8);
  const Op* up = find(ops, "experts_up");
  REQUIRE(up);
  CHECK(up->batch == 2);             // 8 experts / tp 4 per device
  CHECK(up->m == 64 * 2 / 8);        // top-2 of 8, uniform routing: 16 tokens per expert
  CHECK(up->n == 2 * 14336);         // whole experts (expert parallel, not sliced)
  CHECK(find(ops, "mlp_up") == nullptr);
  // Communication: attention all-reduce per layer, dispatch + combine all-to-all per layer
  // of each rank's 64 / 4 tokens x top-2 x 4096 x 2 B.
  StageCost sc = low.stage_cost(s, 0);
  CHECK(sc.allreduces == 32);
  CHECK(sc.alltoalls == 64);
  CHECK(sc.alltoall_bytes == 16.0 * 2 * 4096 * 2);
}

TEST_CASE("MoE decode reads only the experts its tokens reach", "[inference]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& chip = cat.get("nvidia-h100-sxm");
  // DeepSeek-V3/R1 [DEEPSEEK-V3]: 256 routed experts of width 2048 on hidden 7168, 8 per
  // token. One decode token on TP 16 (16 experts per device) reaches 8 experts in all, so a
  // device reaches 0.5 on average: one expert's gated weights (3 x 7168 x 2048 x 2 B),
  // not its 16.
  InferenceConfig c = config("deepseek-r1", 16, 1, "bf16");
  Lowering low(c, chip);
  IterationShape s;
  s.decode = 1;
  s.decode_kv = 1000;
  s.emitting = 1;
  const std::vector<Op> ops = low.layer_ops(s);
  const Op* up = find(ops, "experts_up");
  const Op* down = find(ops, "experts_down");
  REQUIRE(up);
  REQUIRE(down);
  const double one_expert = 3.0 * 7168 * 2048 * 2;
  const double read = estimate_op(*up, chip).bytes + estimate_op(*down, chip).bytes;
  CHECK(read == Approx(one_expert).epsilon(0.02));  // + the token's activations
  // At a large batch every expert is reached and each gets T x top-k / E tokens.
  s.decode = 4096;
  s.decode_kv = 4096 * 100;
  s.emitting = 4096;
  const std::vector<Op> big = low.layer_ops(s);
  const Op* big_up = find(big, "experts_up");
  REQUIRE(big_up);
  CHECK(big_up->batch == 16);
  CHECK(big_up->m == 4096 * 8 / 256);
  // FLOPs count routed rows only: 2 x tokens x top-k x (3 x 7168 x 2048) over 16 devices.
  const double flops = estimate_op(*big_up, chip).flops + estimate_op(*find(big, "experts_down"), chip).flops;
  CHECK(flops == Approx(2.0 * 4096 * 8 * 3 * 7168 * 2048 / 16).epsilon(1e-9));
}

TEST_CASE("Qwen2-MoE layer: the shared expert runs for every token beside the routed experts", "[inference]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  InferenceConfig c = config(std::string(LLMSIM_SOURCE_DIR) + "/test/data/hf-qwen1.5-moe-a2.7b-config.json", 1, 1,
                             "bf16");
  Lowering low(c, cat.get("nvidia-h100-sxm"));
  IterationShape s;
  s.decode = 15;  // 15 tokens x top-4 / 60 experts: one token per expert, uniform routing
  s.decode_kv = 15 * 100;
  s.emitting = 15;
  double gemm_flops = 0;
  for (const Op& op : low.layer_ops(s))
    if (op.kind == OpKind::Gemm) gemm_flops += estimate_op(op, cat.get("nvidia-h100-sxm")).flops;
  // A token multiplies each weight it uses once (2 FLOPs): the layer's GEMMs cost
  // 2 x tokens x the activated weights of a layer. Qwen blog (2024): 2.7B activated in
  // total, less the embedding and the untied LM head (2 x 151936 x 2048), over 24 layers.
  // 2.7 is rounded to 2 digits (+-1.9 %); without the shared expert the layer's GEMMs
  // would be 40 % short.
  const double activated_per_layer = (2.7e9 - 2.0 * 151936 * 2048) / 24;
  CHECK(gemm_flops == Approx(2.0 * 15 * activated_per_layer).epsilon(0.05));
  const std::vector<Op> ops = low.layer_ops(s);  // kept alive: `shared` points into it
  const Op* shared = find(ops, "shared_up");
  REQUIRE(shared);
  CHECK(shared->m == 15);  // every token, not a top-k share
  // TP-sharded like a dense MLP, so its partial sums need the MLP all-reduce back.
  InferenceConfig c2 = config(std::string(LLMSIM_SOURCE_DIR) + "/test/data/hf-qwen1.5-moe-a2.7b-config.json", 4, 1,
                              "bf16");
  Lowering low2(c2, cat.get("nvidia-h100-sxm"));
  StageCost sc = low2.stage_cost(s, 0);
  CHECK(sc.allreduces == 2 * 24);
  CHECK(sc.alltoalls == 2 * 24);
}

}  // namespace test_inference_lowering
