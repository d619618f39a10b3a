// [training] The IPU pipeline as Graphcore runs BERT (issue 12, C43): an uneven stage
// split (`parallelism.stage_layers`, Graphcore's layers_per_ipu) and the Adam update over
// optimizer states kept in Streaming Memory, which cross the gateway link each step.
// Expected numbers come from BERT-Large's shape (12 h^2 per layer, Devlin et al. 2019) and
// the chip file's Streaming Memory figures, not from the lowering's formulas.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/memory.h"

namespace test_training_ipu_pipeline {

using namespace llmsim;

namespace {

TrainingConfig bert(const std::string& parallelism) {
  Topology none;
  return parse_training(parse_doc("kind: training\nmodel: bert-large\ndtype: fp16\nseq_len: 128\n"
                                  "global_batch: 54784\nmicro_batch: 32\nparallelism: " +
                                      parallelism + "\n",
                                  "t.yaml"),
                        none);
}

const ChipSpec& bow() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat.get("graphcore-bow");
}

const std::string kSplit = "{pp: 4, dp: 4, recompute: full, stage_layers: [3, 7, 7, 7]}";
const std::string kEven = "{pp: 4, dp: 4, recompute: full}";

}  // namespace

TEST_CASE("stage_layers puts the given layer counts on each pipeline stage", "[training]") {
  const TrainingConfig split = bert(kSplit), even = bert(kEven);
  CHECK(training_stage_layers(split, 0) == 3);
  CHECK(training_stage_layers(split, 3) == 7);
  CHECK(training_stage_layers(even, 1) == 6);
  // A BERT-Large layer holds 12 h^2 weights plus ~0.1 % biases and norms (h = 1024).
  const double layer = 12.0 * 1024 * 1024;
  const auto mem = training_memory(split);
  CHECK(mem[1].params == Approx(7 * layer).epsilon(0.01));
  CHECK(mem[2].params == Approx(7 * layer).epsilon(0.01));
  // Stage 0: three layers and the word, position and token-type embeddings (30,522 + 512 + 2 rows).
  CHECK(mem[0].params == Approx(3 * layer + (30522 + 512 + 2) * 1024.0).epsilon(0.01));
  // A middle stage's forward and backward scale with its layer count: 7 against 6 layers.
  const ChunkCost s = TrainingLowering(split, bow()).chunk_cost(1), e = TrainingLowering(even, bow()).chunk_cost(1);
  CHECK(s.forward.flops / e.forward.flops == Approx(7.0 / 6).epsilon(1e-6));
  CHECK(s.backward.compute / e.backward.compute == Approx(7.0 / 6).epsilon(0.01));
}

// Bad stage_layers input is refused at its position: test_training_stage_layers.cpp.

TEST_CASE("Adam over states in Streaming Memory runs at the gateway link's rate", "[training]") {
  const TrainingConfig c = bert(kSplit);
  const MemoryTierSpec* ddr = bow().tier("ddr");
  REQUIRE(ddr != nullptr);
  // Stage 1: 7 layers x 12 h^2 parameters, 12 B of fp32 master weight, m and v each, read
  // in and written back over a full-duplex link: one direction's bytes at its sustained rate.
  const double bytes = 12 * 7 * 12.0 * 1024 * 1024;
  const double expected = bytes / (ddr->bandwidth * ddr->efficiency);  // ~40 ms
  const OpCost adam = TrainingLowering(c, bow()).optimizer_cost(1);
  CHECK(adam.time == Approx(expected).epsilon(0.02));
  CHECK(adam.tier == "ddr");
  // With the states in SRAM the same update streams at the tile memory's 65 TB/s instead:
  // three orders of magnitude faster (the model before issue 12's fix charged this for both).
  ChipSpec on_chip = bow();
  on_chip.placement.optimizer = "sram";
  CHECK(TrainingLowering(c, on_chip).optimizer_cost(1).time < expected / 100);
}

TEST_CASE("head_stage first runs the tied MLM head beside the embedding it shares", "[training]") {
  const TrainingConfig last = bert(kSplit);
  const TrainingConfig first = bert("{pp: 4, dp: 4, recompute: full, stage_layers: [3, 7, 7, 7], head_stage: first}");
  CHECK(training_head_stage(first) == 0);
  CHECK(training_head_stage(last) == 3);
  // The head's forward: transform h x h and decoder vocab x h GEMMs on the 32 x 20 masked
  // rows, 2 FLOPs per multiply-add (its norm and cross-entropy add a few percent).
  const double h = 1024, rows = 32 * 20, head = 2 * rows * (h * h + 30522 * h);
  const TrainingLowering lf(first, bow()), ll(last, bow());
  CHECK(lf.chunk_cost(0).forward.flops - ll.chunk_cost(0).forward.flops == Approx(head).epsilon(0.05));
  CHECK(ll.chunk_cost(3).forward.flops - lf.chunk_cost(3).forward.flops == Approx(head).epsilon(0.05));
  // Memory: the tied decoder is the embedding already on stage 0 (no second copy), so the
  // last stage holds exactly its 7 layers; the heads' own weights (MLM transform and pooler,
  // h x h each, Devlin et al.'s BertForPreTraining) join stage 0.
  const auto mf = training_memory(first), ml = training_memory(last);
  CHECK(mf[3].params == Approx(ml[2].params).epsilon(1e-9));
  CHECK(ml[3].params - mf[3].params == Approx(30522 * h + 2 * h * h).epsilon(0.05));  // decoder copy + heads
  CHECK(mf[0].params - ml[0].params == Approx(2 * h * h).epsilon(0.05));
}

TEST_CASE("head_stage first needs a tied head", "[training]") {
  Topology none;
  CHECK_THROWS_WITH(parse_training(parse_doc("kind: training\nmodel: llama-2-7b\nseq_len: 128\nglobal_batch: 8\n"
                                             "parallelism: {pp: 2, head_stage: first}\n",
                                             "t.yaml"),
                                   none),
                    Catch::Contains("untied head"));
}

}  // namespace test_training_ipu_pipeline
