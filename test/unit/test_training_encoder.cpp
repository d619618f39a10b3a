// [training] Encoder (BERT) pre-training: bidirectional attention, the masked-LM head on
// the masked positions only, and the Bow IPU's Streaming Memory for optimizer states.
// Expected numbers come from the shapes (Devlin et al. 2019) and the attention pair counts.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/inference/config.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"
#include "sim/workloads/training/memory.h"

namespace test_training_encoder {

using namespace llmsim;

namespace {

TrainingConfig config(const std::string& model, const std::string& extra) {
  Topology none;
  return parse_training(parse_doc("kind: training\nmodel: " + model + "\n" + extra, "t.yaml"), none);
}

ChipCatalog& catalog() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat;
}

double attention_flops(const TrainingConfig& c) {
  TrainingLowering low(c, catalog().get("nvidia-h100-sxm"));
  for (const Op& op : low.layer_forward_ops())
    if (op.kind == OpKind::Attention) return estimate_op(op, catalog().get("nvidia-h100-sxm")).flops;
  FAIL("no attention op in the layer");
  return 0;
}

}  // namespace

TEST_CASE("BERT-Large's catalog shape gives Devlin et al.'s 340M parameters", "[training]") {
  const ModelSpec m = load_model_ref("bert-large");
  CHECK(m.encoder);
  CHECK_FALSE(m.gated_mlp);
  // 12 L h^2 in the layers (4 h^2 attention + 8 h^2 MLP at FFN 4h) plus word, position and
  // token-type embeddings; biases, norms and the heads are the rest (< 1.5 %).
  const double L = 24, h = 1024, shape = 12 * L * h * h + (30522 + 512 + 2) * h;
  CHECK(m.params() == Approx(shape).epsilon(0.015));
  CHECK(m.params() == Approx(340e6).epsilon(0.02));  // "Total Parameters=340M" [BERT]
}

TEST_CASE("an encoder's attention FLOPs per token are twice a causal decoder's at the same shape", "[training]") {
  const std::int64_t S = 512;
  TrainingConfig enc = config("bert-large", "seq_len: 512\nglobal_batch: 8\nmicro_batch: 2\n");
  TrainingConfig dec = enc;
  dec.model.encoder = false;
  // Bidirectional: every query meets all S keys; Q.K and P.V each 2 FLOPs per multiply-add
  // over head_dim: 4 S head_dim FLOPs per head per token.
  const double tokens = 2.0 * S, per_token = 4.0 * S * 64 * 16;
  CHECK(attention_flops(enc) / tokens == Approx(per_token).epsilon(0.01));
  // Causal: query i meets i + 1 keys, S(S+1)/2 pairs: 2S/(S+1) = 1.996 of it at S = 512.
  CHECK(attention_flops(enc) / attention_flops(dec) == Approx(2.0).epsilon(0.01));
}

TEST_CASE("packed encoder rows attend within each sequence: L^2 pairs, not the causal half", "[training]") {
  TrainingConfig enc = config("bert-large", "dtype: fp16\nseq_len: 128\nglobal_batch: 8\n");
  TrainingLowering low(enc, catalog().get("graphcore-bow"));
  const double full = low.attention_cost({128}).forward.flops;
  // Two 64-token sequences packed in one 128 row: 2 x 64^2 of 128^2 pairs = exactly half
  // (a causal mask would keep 2 x 64 x 65 / 2 of 128 x 129 / 2 = 0.504).
  CHECK(low.attention_cost({64, 64}).forward.flops / full == Approx(0.5).epsilon(1e-9));
  CHECK(low.attention_cost({32, 32, 32, 32}).forward.flops / full == Approx(0.25).epsilon(1e-9));
}

TEST_CASE("the masked-LM head projects only the masked positions onto the vocabulary", "[training]") {
  // Defaults: ceil(0.15 x seq_len) positions, NVIDIA's max_predictions_per_seq at 128 (20).
  TrainingConfig c = config("bert-large", "seq_len: 128\nglobal_batch: 8\nparallelism: {pp: 2}\n");
  CHECK(c.masked_positions == 20);
  CHECK(config("bert-large", "seq_len: 512\nglobal_batch: 8\n").masked_positions == 77);
  TrainingConfig all =
      config("bert-large", "seq_len: 128\nglobal_batch: 8\nmasked_positions: 128\nparallelism: {pp: 2}\n");
  const ChipSpec& chip = catalog().get("nvidia-h100-sxm");
  const double head20 = TrainingLowering(c, chip).chunk_cost(1).forward.flops;
  const double head128 = TrainingLowering(all, chip).chunk_cost(1).forward.flops;
  // The last stage's forward differs by the head's GEMMs on 108 more rows: transform h x h
  // and decoder vocab x h, 2 FLOPs per multiply-add (norm and softmax are a few percent).
  const double h = 1024, rows = 108;
  CHECK(head128 - head20 == Approx(2 * rows * (h * h + 30522 * h)).epsilon(0.05));
  // The layers are identical: the first stage (embedding, no head) does not change.
  CHECK(TrainingLowering(c, chip).chunk_cost(0).forward.flops ==
        Approx(TrainingLowering(all, chip).chunk_cost(0).forward.flops));
}

TEST_CASE("encoder-only keys and shapes are refused with the reason", "[training]") {
  CHECK_THROWS_AS(config("llama-3.1-8b", "seq_len: 128\nglobal_batch: 8\nmasked_positions: 20\n"), InputError);
  CHECK_THROWS_AS(config("bert-large", "seq_len: 128\nglobal_batch: 8\nmasked_positions: 129\n"), InputError);
  CHECK_THROWS_AS(config("bert-large", "seq_len: 1024\nglobal_batch: 8\n"), InputError);  // 512 positions
  CHECK_THROWS_AS(config("bert-large", "seq_len: 128\nglobal_batch: 8\nparallelism: {cp: 2}\n"), InputError);
  // Serving decodes autoregressively: an encoder is refused at its model line.
  Topology none;
  CHECK_THROWS_WITH(parse_inference(parse_doc("kind: inference\nmodel: bert-large\n", "w.yaml"), none),
                    Catch::Contains("is an encoder"));
}

TEST_CASE("BERT-Large on a 4-IPU Bow pipeline fits only with Adam states in Streaming Memory", "[training]") {
  TrainingConfig c = config("bert-large",
                            "dtype: fp16\nseq_len: 128\nglobal_batch: 54784\nmicro_batch: 32\n"
                            "parallelism: {pp: 4, dp: 4, recompute: full}\n");
  ChipSpec bow = catalog().get("graphcore-bow");
  CHECK_NOTHROW(check_training_fits(c, bow));
  // Stage 0 holds 6 layers and the embeddings, ~107M parameters: 12 B of Adam state each
  // is ~1.3 GB, more than the 900 MB of SRAM on its own.
  const double stage0 = 6 * 12.6e6 + 31.8e6;
  CHECK(training_memory(c)[0].optimizer == Approx(12 * stage0).epsilon(0.02));
  bow.placement.optimizer = "sram";
  CHECK_THROWS_AS(check_training_fits(c, bow), InfeasibleError);
}

}  // namespace test_training_encoder
