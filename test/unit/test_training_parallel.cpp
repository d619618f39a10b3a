// [training] Context parallelism (ring attention) and expert parallelism (MoE): the rank
// map, memory and per-layer communication against numbers derived here from the shapes.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/memory.h"

namespace test_training_parallel {

using namespace llmsim;

namespace {

TrainingConfig config(const std::string& model, const std::string& extra) {
  Topology none;
  return parse_training(parse_doc("kind: training\nmodel: " + model + "\n" + extra, "t.yaml"), none);
}

const ChipSpec& h100() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat.get("nvidia-h100-sxm");
}

}  // namespace

TEST_CASE("ranks map TP innermost, then CP, DP and PP, with EP groups of consecutive DP ranks", "[training]") {
  const RankMap m = rank_map(config("mixtral-8x7b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {tp: 2, pp: 2, dp: 4, ep: 2}\n"));
  // device = t + 2 (d + 4 p): TP pairs, DP ranks stride 2, PP stride 8.
  CHECK(m.tp_group(0, 1, 0) == std::vector<int>{2, 3});
  CHECK(m.dp_group(1, 1) == std::vector<int>{9, 11, 13, 15});
  CHECK(m.ep_group(0, 0, 3, 0) == std::vector<int>{4, 6});       // d = 2, 3
  CHECK(m.expert_dp_group(0, 1, 0) == std::vector<int>{2, 6});   // d = 1, 3: the same experts
  CHECK(m.pp_group(1, 0, 2) == std::vector<int>{5, 13});
  const RankMap c = rank_map(config("llama-3.1-8b", "seq_len: 8192\nglobal_batch: 8\nparallelism: {tp: 2, cp: 2, dp: 2}\n"));
  // device = t + 2 (c + 2 d): a CP group strides by tp, DP (x CP, for gradients) covers c and d.
  CHECK(c.cp_group(1, 1, 0) == std::vector<int>{5, 7});
  CHECK(c.dp_group(0, 0) == std::vector<int>{0, 2, 4, 6});
}

TEST_CASE("context parallelism divides activations and attention work by cp", "[training]") {
  const std::string base = "seq_len: 131072\nglobal_batch: 1\n";
  const TrainingConfig one = config("llama-3.1-8b", base + "parallelism: {tp: 2, sequence_parallel: true}\n");
  const TrainingConfig four = config("llama-3.1-8b", base + "parallelism: {tp: 2, cp: 4, sequence_parallel: true}\n");
  CHECK(layer_activation_bytes(four) == Approx(layer_activation_bytes(one) / 4).epsilon(1e-12));
  CHECK(training_memory(four)[0].activations == Approx(training_memory(one)[0].activations / 4).epsilon(1e-12));
  // Load-balanced ring attention: each rank does 1/cp of the causal attention.
  const AttentionCost a1 = TrainingLowering(one, h100()).attention_cost({131072});
  const AttentionCost a4 = TrainingLowering(four, h100()).attention_cost({131072});
  CHECK(a4.forward.flops == Approx(a1.forward.flops / 4));
  // The ring moves every rank's K and V: 131072 tokens x 2 (K, V) x 8 kv heads / tp 2 x
  // 128 head dim x 2 bytes, gathered once per layer forward, overlapped with attention.
  const ChunkCost c = TrainingLowering(four, h100()).chunk_cost(0);
  REQUIRE(c.forward.cp_comm.size() == 1);
  CHECK(c.forward.cp_comm[0].bytes == Approx(131072.0 * 2 * (8 / 2) * 128 * 2));
  CHECK(c.forward.cp_comm[0].count == 32);
  CHECK(c.forward.cp_comm[0].overlap > 0);
  CHECK(c.backward.cp_comm.size() == 2);  // K and V again, then their gradients
}

TEST_CASE("expert parallelism: all-to-all of tokens x top-k x hidden per MoE layer, expert memory / ep", "[training]") {
  const std::string base = "seq_len: 4096\nglobal_batch: 8\n";
  const TrainingConfig one = config("mixtral-8x7b", base + "parallelism: {tp: 2, dp: 8, ep: 1}\n");
  const TrainingConfig eight = config("mixtral-8x7b", base + "parallelism: {tp: 2, dp: 8, ep: 8}\n");
  // Mixtral 8x7B: 32 layers of 8 SwiGLU experts, each 3 x 4096 x 14336 (config.json).
  const double experts = 32.0 * 8 * 3 * 4096 * 14336;
  CHECK(training_memory(one)[0].expert_params == Approx(experts / 2));      // / tp
  CHECK(training_memory(eight)[0].expert_params == Approx(experts / 2 / 8));  // / tp / ep
  const double dense = training_memory(one)[0].params - training_memory(one)[0].expert_params;
  CHECK(training_memory(eight)[0].params - training_memory(eight)[0].expert_params == Approx(dense));
  // Dispatch and combine per layer: 4096 tokens x top-2 x 4096 hidden x 2 bytes, each TP
  // rank sending its half; forward 2 per layer, backward 2.
  const ChunkCost c = TrainingLowering(eight, h100()).chunk_cost(0);
  REQUIRE(c.forward.ep_comm.size() == 1);
  CHECK(c.forward.ep_comm[0].kind == CollectiveKind::AllToAll);
  CHECK(c.forward.ep_comm[0].bytes == Approx(4096.0 * 2 * 4096 * 2 / 2));
  CHECK(c.forward.ep_comm[0].count == 2 * 32);
  CHECK(c.backward.ep_comm[0].count == 2 * 32);
  CHECK(TrainingLowering(one, h100()).chunk_cost(0).forward.ep_comm.empty());
  // Balanced routing: the experts' GEMM FLOPs per device do not depend on ep.
  CHECK(TrainingLowering(eight, h100()).chunk_cost(0).forward.flops ==
        Approx(TrainingLowering(one, h100()).chunk_cost(0).forward.flops).epsilon(0.01));
  // MFU counts the active parameters (2 of 8 experts): 6 x ~12.9B, not 6 x 46.7B, per token.
  CHECK(model_flops_per_token(one) < 6 * 14e9 + 12.0 * 32 * 32 * 128 * 4096);
}

TEST_CASE("context and expert parallelism together: EP groups per CP rank, expert gradients over dp / ep x cp",
          "[training]") {
  const TrainingConfig c =
      config("mixtral-8x7b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {cp: 2, dp: 4, ep: 2, zero: 1}\n");
  const RankMap m = rank_map(c);
  // device = c + 2 d (tp 1): an EP group is ep consecutive DP ranks of one CP rank (they
  // exchange that CP rank's tokens); the experts' gradients are reduced over every CP rank
  // of the DP ranks holding the same experts (d = 1, 3).
  CHECK(m.ep_group(0, 1, 3, 0) == std::vector<int>{5, 7});
  CHECK(m.expert_dp_group(0, 1, 0) == std::vector<int>{2, 3, 6, 7});
  // ZeRO-1 shards the dense states over dp x cp = 8 ranks and the experts' over
  // dp / ep x cp = 4 (the size of the group above).
  const StageMemory r = training_memory(c)[0];
  CHECK(r.optimizer == Approx(12 * ((r.params - r.expert_params) / 8 + r.expert_params / 4)));
  // Each rank dispatches its 1/cp of the sequence: 2,048 tokens x top-2 x 4,096 x 2 bytes.
  const ChunkCost k = TrainingLowering(c, h100()).chunk_cost(0);
  REQUIRE(k.forward.ep_comm.size() == 1);
  CHECK(k.forward.ep_comm[0].bytes == Approx(2048.0 * 2 * 4096 * 2));
  CHECK(k.forward.cp_comm.size() == 1);
}

TEST_CASE("tp above the KV heads replicates each KV head on tp / kv_heads ranks", "[training]") {
  // Llama 3.1 70B (8 KV heads of 128) at tp 16: each rank holds 4 query heads and one
  // whole K and V head (vLLM's replication [VLLM-SRC]). Per layer, from the shapes: Q and
  // output 8192 x 8192 each and the SwiGLU MLP 3 x 8192 x 28672 split 16 ways, K and V
  // 8192 x 128 each whole, two 8192-wide norms split.
  const TrainingConfig c = config("llama-3.1-70b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {tp: 16}\n");
  CHECK(c.kv_heads_per_rank() == 1);
  const double h = 8192, f = 28672;
  CHECK(layer_params_per_device(c) == Approx((2 * h * h + 3 * h * f + 2 * h) / 16 + 2 * h * 128).epsilon(1e-6));
  // At tp 8 each rank holds one of the 8 KV heads: K and V split like the rest.
  const TrainingConfig c8 = config("llama-3.1-70b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {tp: 8}\n");
  CHECK(c8.kv_heads_per_rank() == 1);
  CHECK(layer_params_per_device(c8) == Approx((2 * h * h + 3 * h * f + 2 * h + 2 * h * 1024) / 8).epsilon(1e-6));
}

TEST_CASE("context and expert parallelism refuse what they cannot lay out", "[training]") {
  CHECK_THROWS_WITH(config("llama-3.1-8b", "seq_len: 8190\nglobal_batch: 8\nparallelism: {cp: 2}\n"),
                    Catch::Contains("2 x cp = 4 equal chunks"));
  CHECK_THROWS_WITH(config("llama-3.1-8b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {dp: 8, ep: 2}\n"),
                    Catch::Contains("needs a mixture-of-experts model"));
  CHECK_THROWS_WITH(config("mixtral-8x7b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {dp: 8, ep: 3}\n"),
                    Catch::Contains("must divide the model's 8 experts"));
  CHECK_THROWS_WITH(config("mixtral-8x7b", "seq_len: 4096\nglobal_batch: 6\nparallelism: {dp: 6, ep: 4}\n"),
                    Catch::Contains("ep 4 must divide dp 6"));
}

}  // namespace test_training_parallel
