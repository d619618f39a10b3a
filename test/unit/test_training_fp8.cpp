// [training] fp8 training's Transformer Engine costs (docs/training.md "fp8 training",
// sim/workloads/training/fp8_quantize.h): each fp8 GEMM's 16-bit inputs are cast (and
// transposed) by a memory-bound kernel [TE-FP8], and the LM head stays bf16 [MCORE-GPT].
// Expected figures come from the published shapes (CALIBRATION.md: Llama 3.1 70B) and the
// kernel's bytes, or from the op model on the ops the lowering must add.
#include <catch2/catch.hpp>

#include "sim/core/yaml_doc.h"
#include "sim/ops/op_model.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/fp8_quantize.h"
#include "sim/workloads/training/lowering.h"

namespace test_training_fp8 {

using namespace llmsim;

namespace {

TrainingConfig config(const std::string& text) {
  Topology none;
  return parse_training(parse_doc("kind: training\n" + text, "t.yaml"), none);
}

const ChipSpec& h100() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat.get("nvidia-h100-sxm");
}

// C19's layout (Llama 3 70B, TP 4, CP 2, sequence parallel, seq 8192, micro-batch 1).
const std::string kC19 =
    "model: llama-3.1-70b\nseq_len: 8192\nglobal_batch: 128\nsoftware: nemo\n"
    "parallelism: {tp: 4, pp: 4, cp: 2, dp: 2, sequence_parallel: true, schedule: interleaved-1f1b, "
    "virtual_stages: 5, zero: 1}\n";

}  // namespace

TEST_CASE("fp8 training casts every fp8 GEMM input: the bytes of C19's layer", "[training]") {
  const TrainingConfig fp8 = config(kC19 + "dtype: fp8\n");
  const Fp8CastOps casts = fp8_cast_ops(fp8, TrainingLowering(fp8, h100()).layer_forward_ops());
  // Per device: T = 8192 / cp 2 = 4096 tokens; hidden 8192, 64 / 4 = 16 query heads and
  // 8 / 4 = 2 KV heads of 128, MLP 28672 / 4 = 7168 (gated: up is 2 x 7168 wide).
  const double T = 4096, h = 8192, tp = 4;
  // Forward, X of qkv and mlp_up on T / tp rows (cast before the sequence-parallel
  // all-gather), X of attn_out (16 x 128 wide) and mlp_down (7168 wide) on all T rows.
  const double x = T / tp * h + T * 16 * 128 + T / tp * h + T * 7168;
  // Backward, dY of qkv ((16 + 2 x 2) x 128 wide) and mlp_up (2 x 7168) on T rows, of the
  // row-parallel attn_out and mlp_down (hidden wide) on T / tp rows.
  const double dy = T * 20 * 128 + T / tp * h + T * 2 * 7168 + T / tp * h;
  double fwd = 0, bwd = 0;
  for (const Op& o : casts.forward) fwd += o.bytes;
  for (const Op& o : casts.backward) bwd += o.bytes;
  CHECK(casts.forward.size() == 4);
  CHECK(casts.backward.size() == 4);
  // 2 B read, 1 B fp8 and 1 B fp8 transpose written per element.
  CHECK(fwd == Approx(4 * x));
  CHECK(bwd == Approx(4 * dy));
  // bf16 training casts nothing.
  const TrainingConfig bf16 = config(kC19 + "dtype: bf16\n");
  CHECK(fp8_cast_ops(bf16, TrainingLowering(bf16, h100()).layer_forward_ops()).forward.empty());
}

TEST_CASE("fp8 training: the casts are HBM-bound and enter the chunk's passes", "[training]") {
  const TrainingConfig fp8 = config(kC19 + "dtype: fp8\n");
  const TrainingLowering low(fp8, h100());
  const Fp8CastOps casts = fp8_cast_ops(fp8, low.layer_forward_ops());
  // Each cast streams its bytes at H100's sustained HBM rate (3.35 TB/s x 0.90, C2), plus
  // its launch; nothing faster.
  double bytes = 0, t = 0;
  for (const Op& o : casts.backward) {
    bytes += o.bytes;
    t += estimate_op(o, h100()).time;
  }
  CHECK(t >= bytes / (3.35e12 * 0.90));
  CHECK(t < bytes / (3.35e12 * 0.90) * 1.1 + 4 * 10e-6);
  // A middle chunk (no embedding, no head) carries layers x the casts in each pass: its
  // backward exceeds the same chunk's backward less the casts by exactly that.
  const ChunkCost c = low.chunk_cost(1);
  double cast_bwd = 0;
  for (const Op& o : casts.backward) cast_bwd += estimate_op(o, h100()).time;
  double cast_fwd = 0;
  for (const Op& o : casts.forward) cast_fwd += estimate_op(o, h100()).time;
  CHECK(c.layers == 4);
  const ChunkCost b = TrainingLowering(config(kC19 + "dtype: bf16\n"), h100()).chunk_cost(1);
  // fp8 GEMMs are faster than bf16 ones, the casts are extra: fp8 forward minus its casts
  // is below the bf16 forward.
  CHECK(double(c.forward.compute) - 4 * cast_fwd < double(b.forward.compute));
  CHECK(double(c.forward.compute) > 4 * cast_fwd);
  CHECK(double(c.backward.compute) > 4 * cast_bwd);
}

TEST_CASE("fp8 training keeps the LM head in bf16 (Megatron-Core's output layer)", "[training]") {
  const TrainingConfig fp8 = config(kC19 + "dtype: fp8\n");
  const TrainingLowering low(fp8, h100());
  // The last virtual stage (pp 4 x 5 - 1 = 19) adds final norm, head and cross-entropy to
  // a middle chunk's layers (chunk 1 has the same 4 layers and no edge ops).
  const ChunkCost last = low.chunk_cost(19), mid = low.chunk_cost(1);
  REQUIRE(last.layers == mid.layers);
  const double T = 4096, vocab_tp = 128256 / 4;
  Op head;
  head.kind = OpKind::Gemm;
  head.m = static_cast<std::int64_t>(T);
  head.n = static_cast<std::int64_t>(vocab_tp);
  head.k = 8192;
  head.dtype = "bf16";
  const double head_bf16 = estimate_op(head, h100()).time;
  head.dtype = "fp8";
  const double head_fp8 = estimate_op(head, h100()).time;
  const double edge_fwd = double(last.forward.compute) - double(mid.forward.compute);
  // The edge is the bf16 head plus a norm and a softmax (each far under the head's time).
  CHECK(edge_fwd > head_bf16);
  CHECK(edge_fwd < head_bf16 * 1.25);
  CHECK(edge_fwd > head_fp8 * 1.5);
}

}  // namespace test_training_fp8
