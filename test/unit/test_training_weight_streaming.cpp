// [training] Cerebras weight streaming (sim/workloads/training/weight_streaming.h): a pass
// takes max(compute, weight bytes / system I/O) per layer; the wafer holds two layers'
// weights and no optimizer states. Expected times come from the shapes and 12 x 100 GbE.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/memory.h"
#include "sim/workloads/training/weight_streaming.h"

namespace test_training_weight_streaming {

using namespace llmsim;

namespace {

TrainingConfig config(const std::string& extra) {
  Topology none;
  return parse_training(
      parse_doc("kind: training\nmodel: llama-2-7b\nseq_len: 4096\nglobal_batch: 64\n" + extra, "t.yaml"), none);
}

const ChipSpec& wse3() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat.get("cerebras-wse3");
}

// Llama 2 7B (Touvron et al. 2023): h 4096, SwiGLU FFN 11008, 32 layers, vocab 32000.
const double kH = 4096, kFfn = 11008, kLayers = 32, kVocab = 32000;
const double kLayerParams = 4 * kH * kH + 3 * kH * kFfn + 2 * kH;  // Q K V O, gate up down, 2 RMSNorms
const double kIo = 12 * 100e9 / 8;                                 // 12 x 100 GbE [ANL-SC24-CB]

}  // namespace

TEST_CASE("weight streaming: the CS-3's system I/O is its twelve 100 GbE ports", "[training]") {
  CHECK(weight_streaming_bandwidth(wse3()) == Approx(kIo));
}

TEST_CASE("weight streaming: a small micro-batch waits for every layer's weights", "[training]") {
  // One 4,096-token sequence: a layer's forward is ~0.2 ms of compute against 2.7 ms of
  // weights, so the pass is the stream: 32 layers plus the embedding and LM head tables.
  TrainingConfig c = config("micro_batch: 1\nweight_streaming: true\n");
  const ChunkCost cost = TrainingLowering(c, wse3()).chunk_cost(0);
  const double stream = (kLayers * kLayerParams + 2 * kVocab * kH) * 2 / kIo;
  CHECK(cost.forward.compute == Approx(stream).epsilon(0.01));
  // Backward: weights in and gradients out take the two directions, the same bytes each.
  CHECK(cost.backward.compute == Approx(stream).epsilon(0.01));
}

TEST_CASE("weight streaming: a large micro-batch hides the stream behind compute", "[training]") {
  TrainingConfig streamed = config("micro_batch: 64\nweight_streaming: true\n");
  TrainingConfig resident = config("micro_batch: 64\n");
  const ChunkCost a = TrainingLowering(streamed, wse3()).chunk_cost(0);
  const ChunkCost b = TrainingLowering(resident, wse3()).chunk_cost(0);
  // 64 x 4,096 tokens: ~9 ms of compute a layer forward against 2.7 ms of weights.
  CHECK(a.forward.compute == Approx(b.forward.compute));
  CHECK(a.backward.compute == Approx(b.backward.compute));
  CHECK(TrainingLowering(streamed, wse3()).optimizer_cost(0).time == 0);  // MemoryX updates
}

TEST_CASE("weight streaming: the wafer holds two layers of weights and no optimizer state", "[training]") {
  TrainingConfig c = config("micro_batch: 1\nweight_streaming: true\nparallelism: {recompute: full}\n");
  const StageMemory m = training_memory(c)[0];
  CHECK(m.weights == Approx(2 * kLayerParams * 2).epsilon(0.001));
  CHECK(m.gradients == Approx(2 * kLayerParams * 2).epsilon(0.001));
  CHECK(m.optimizer == 0);
  CHECK_THROWS_AS(config("weight_streaming: true\nparallelism: {pp: 2}\n"), InputError);
}

}  // namespace test_training_weight_streaming
