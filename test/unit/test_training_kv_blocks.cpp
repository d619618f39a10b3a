// [training] Two layer details of the training lowering: the gradient all-reduce of KV heads
// replicated over TP ranks (tp above the KV heads), and the one TP all-reduce a parallel
// attention + MLP block needs (PaLM, GPT-J, GPT-NeoX). Expected numbers come from the
// published projection shapes and from the block structure, not from the code's formulas.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/kv_replicas.h"
#include "sim/workloads/training/lowering.h"

namespace test_training_kv_blocks {

using namespace llmsim;
using nlohmann::json;

namespace {

const std::string kSrc = LLMSIM_SOURCE_DIR;

TrainingConfig config(const std::string& model, const std::string& extra) {
  Topology none;
  return parse_training(parse_doc("kind: training\nmodel: " + model + "\n" + extra, "t.yaml"), none);
}

const ChipSpec& h100() {
  static ChipCatalog cat(kSrc + "/topologies/devices");
  return cat.get("nvidia-h100-sxm");
}

std::int64_t total(const std::vector<CommStep>& steps, CollectiveKind kind) {
  std::int64_t n = 0;
  for (const CommStep& s : steps) n += s.kind == kind ? s.count : 0;
  return n;
}

}  // namespace

TEST_CASE("tp above the KV heads: replica groups of consecutive TP ranks and their K/V gradient bytes", "[training]") {
  const std::string base = "seq_len: 4096\nglobal_batch: 8\n";
  // Llama 3.1 70B has 8 KV heads: tp 16 puts each on 2 ranks, tp 8 on one.
  const TrainingConfig t16 = config("llama-3.1-70b", base + "parallelism: {tp: 16}\n");
  const TrainingConfig t8 = config("llama-3.1-70b", base + "parallelism: {tp: 8}\n");
  CHECK(kv_head_replicas(t16) == 2);
  CHECK(kv_head_replicas(t8) == 1);
  CHECK(kv_gradient_bytes(t8, 80) == 0);
  std::vector<int> g16;
  for (int i = 0; i < 16; ++i) g16.push_back(100 + i);
  const auto groups = kv_replica_groups(t16, g16);
  REQUIRE(groups.size() == 8);  // one per KV head
  CHECK(groups[0] == std::vector<int>{100, 101});
  CHECK(groups[7] == std::vector<int>{114, 115});
  CHECK(kv_replica_groups(t8, std::vector<int>(g16.begin(), g16.begin() + 8)).empty());
  // Hugging Face's k_proj and v_proj of Llama 3.1 70B are [8 x 128, 8192] each; a rank holds
  // one head's eighth of both: 2 x 128 x 8192 weights x 2 bytes per layer, 80 layers.
  const double one_head = 2.0 * 128 * 8192 * 2;
  CHECK(kv_gradient_bytes(t16, 80) == Approx(one_head * 80));
  // With ZeRO the optimizer of each of the dp ranks updates 1/dp of them: only that shard
  // needs the replicas' sum.
  const TrainingConfig z1 =
      config("llama-3.1-70b", "seq_len: 4096\nglobal_batch: 8\nparallelism: {tp: 16, dp: 4, zero: 1}\n");
  CHECK(kv_gradient_bytes(z1, 80) == Approx(one_head * 80 / 4));
  // PaLM 540B: multi-query (one K/V head of 256) under tp 12: twelve replicas.
  const TrainingConfig palm = config(kSrc + "/workloads/calibration/models/palm-540b.yaml",
                                     "seq_len: 2048\nglobal_batch: 12\nparallelism: {tp: 12}\n");
  CHECK(kv_head_replicas(palm) == 12);
  CHECK(kv_replica_groups(palm, std::vector<int>(12, 0)).size() == 1);
}

TEST_CASE("a parallel attention + MLP block costs one TP all-reduce per layer each way, a sequential one two",
          "[training]") {
  // Sequential block: x + Attn(norm(x)), then + MLP(norm(.)): two row-parallel outputs
  // (attention out, MLP down) each reach the residual stream as partial sums, so two
  // reductions per layer forward and two for their input gradients backward. Parallel
  // block (PaLM §2): x + Attn(norm(x)) + MLP(norm(x)): the two partial sums add before one
  // reduction, and the backward's input gradient of norm(x) is one sum as well.
  const std::string par = "parallelism: {tp: 8, recompute: none}\n";
  const TrainingConfig palm =
      config(kSrc + "/workloads/calibration/models/palm-540b.yaml", "seq_len: 2048\nglobal_batch: 8\n" + par);
  const TrainingConfig llama = config("llama-2-70b", "seq_len: 2048\nglobal_batch: 8\n" + par);
  REQUIRE(palm.model.parallel_block);
  REQUIRE_FALSE(llama.model.parallel_block);
  const ChunkCost p = TrainingLowering(palm, h100()).chunk_cost(0);
  const ChunkCost l = TrainingLowering(llama, h100()).chunk_cost(0);
  CHECK(total(p.forward.tp_comm, CollectiveKind::AllReduce) == 118);  // PaLM 540B: 118 layers
  CHECK(total(p.backward.tp_comm, CollectiveKind::AllReduce) == 118);
  CHECK(total(l.forward.tp_comm, CollectiveKind::AllReduce) == 2 * 80);  // Llama 2 70B: 80 layers
  CHECK(total(l.backward.tp_comm, CollectiveKind::AllReduce) == 2 * 80);
  // Full recompute re-runs the forward's reductions inside the backward; sequence
  // parallelism turns each into one all-gather and one reduce-scatter.
  const TrainingConfig full =
      config(kSrc + "/workloads/calibration/models/palm-540b.yaml",
             "seq_len: 2048\nglobal_batch: 8\nparallelism: {tp: 8, recompute: full, sequence_parallel: true}\n");
  const ChunkCost f = TrainingLowering(full, h100()).chunk_cost(0);
  CHECK(total(f.forward.tp_comm, CollectiveKind::AllGather) == 118);
  CHECK(total(f.forward.tp_comm, CollectiveKind::ReduceScatter) == 118);
  CHECK(total(f.backward.tp_comm, CollectiveKind::AllGather) == 2 * 118);
}

}  // namespace test_training_kv_blocks
