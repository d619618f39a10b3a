// [bsp] Bulk-synchronous exchange on the IPU (docs/models.md "BSP exchange"). Expected
// figures come from the published IPU-Exchange rate (8 TB/s all-to-all on the GC200
// [GC-flashcards], scaled by clock to the Bow's 1.85 GHz) and from what each split must
// move, worked out here.
#include <catch2/catch.hpp>

#include "op_builders.h"

#include "mini_chip.h"
#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/ops/bsp.h"

namespace test_bsp {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// The Bow IPU's exchange: the GC200's published 8 TB/s at 1.325 GHz, same tiles at 1.85.
const double kBowExchange = 8e12 * 1.85 / 1.325;
const double kBowSync = 150 / 1.85e9;  // the catalog's estimate: 150 cycles

// The IPU runs BERT's GEMMs in fp16.
Op gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) {
  return gemm_op(m, n, k, "fp16", batch);
}

}  // namespace

TEST_CASE("bsp: a kernel chip has no exchange phase, the IPU does", "[bsp]") {
  CHECK(bsp_exchange_time(gemm(4096, 4096, 1024), shipped_catalog().get("nvidia-h100-sxm")) == 0);
  CHECK(bsp_exchange_time(gemm(4096, 4096, 1024), shipped_catalog().get("graphcore-bow")) > 0);
  CHECK(bsp_exchange_time(gemm(4096, 4096, 1024), shipped_catalog().get("graphcore-gc200")) > 0);
}

TEST_CASE("bsp: an elementwise operator pays one sync and exchanges nothing", "[bsp]") {
  Op add;
  add.kind = OpKind::Elementwise;
  add.dtype = "fp16";
  add.elements = 1 << 20;
  CHECK(bsp_exchange_time(add, shipped_catalog().get("graphcore-bow")) == Approx(kBowSync).epsilon(1e-9));
}

TEST_CASE("bsp: a layer norm regathers its input once over the exchange", "[bsp]") {
  Op norm;
  norm.kind = OpKind::Norm;
  norm.dtype = "fp16";
  norm.m = 4096;  // BERT-Large micro-batch 32 x 128 tokens
  norm.n = 1024;
  CHECK(bsp_exchange_time(norm, shipped_catalog().get("graphcore-bow")) ==
        Approx(4096.0 * 1024 * 2 / kBowExchange + kBowSync).epsilon(0.01));
}

TEST_CASE("bsp: a batched GEMM with more entries than tiles receives each operand once", "[bsp]") {
  // 2,944 entries on 1,472 tiles: two per tile, nothing replicated. Each brings a 32 x 32
  // fp16 A and B: 4 KiB.
  CHECK(bsp_exchange_time(gemm(32, 32, 32, 2944), shipped_catalog().get("graphcore-bow")) ==
        Approx(2944.0 * 4096 / kBowExchange + kBowSync).epsilon(0.01));
}

TEST_CASE("bsp: a large GEMM's exchange sits between moving each operand once and a 2-D split", "[bsp]") {
  // BERT-Large's FFN up-projection at micro-batch 32 x 128: A 4096 x 1024, B 1024 x 4096.
  const double A = 4096.0 * 1024 * 2, B = 1024.0 * 4096 * 2;
  const ChipSpec& bow = shipped_catalog().get("graphcore-bow");
  const Op op = gemm(4096, 4096, 1024);
  const Seconds x = bsp_exchange_time(op, bow);
  // At least every operand byte crosses once; at most what a 32 x 32 output split of
  // 1,024 tiles receives (A to each of 32 column tiles, B to each of 32 row tiles), which
  // the planner may beat by splitting K as well (1 %: 4.1 B/clk is the 8 TB/s rounded).
  CHECK(x > (A + B) / kBowExchange);
  CHECK(x <= 1.01 * 32 * (A + B) / (kBowExchange * 1024 / 1472) + 2 * kBowSync);
  // The op's time carries it on top of the compute: BSP phases do not overlap.
  const OpCost c = estimate_op(op, bow);
  CHECK(c.compute_time >= x + c.flops / c.peak);
  // On the IPU the exchange is a real share of a training GEMM (Poplar's matmul planner
  // trades it against compute), not a rounding error: over a tenth of the op.
  CHECK(x > 0.1 * c.time);
}

TEST_CASE("bsp: the exchange grows with the operands and slows the op", "[bsp]") {
  const ChipSpec& bow = shipped_catalog().get("graphcore-bow");
  double last = 0;
  for (std::int64_t s : {256, 512, 1024, 2048, 4096}) {
    const double x = bsp_exchange_time(gemm(s, s, s), bow);
    CHECK(x >= last);
    last = x;
  }
  // Half the exchange rate: the op takes longer, by at most its whole exchange phase.
  ChipSpec slow = bow;
  slow.resolved.reset(YAML::Clone(bow.resolved));  // rebind: `=` would write through to the catalog's node
  slow.resolved["compute"]["exchange"]["bytes_per_cycle"] = 2.05;
  const Op op = gemm(4096, 4096, 1024);
  const OpCost fast = estimate_op(op, bow), half = estimate_op(op, slow);
  CHECK(half.time > fast.time);
  CHECK(half.time - fast.time <= bsp_exchange_time(op, bow) * 1.0001);
}

TEST_CASE("bsp: the loader rejects a bad exchange block at its line", "[bsp]") {
  const std::string tail = "  - {tier: sram, capacity: 8 MB, bandwidth: 1 TB/s}\n";
  auto error_line = [&](const std::string& exchange) {
    std::string text = llmsim_test::kMiniChipHead;
    text.insert(text.find("memory:"), "  exchange: " + exchange + "\n");  // line 8
    try {
      load_chip(parse_doc(text + tail, "chip.yaml"));
    } catch (const InputError& e) {
      return e.pos().line;
    }
    return -1;
  };
  CHECK(error_line("{bytes_per_cycle: 0, sync_cycles: 150}") == 8);
  CHECK(error_line("{bytes_per_cycle: 4, sync_cycles: -1}") == 8);
  CHECK(error_line("{bytes_per_cycle: 4}") == 8);                           // both are required
  CHECK(error_line("{bytes_per_cycle: 4, sync_cycles: 1, rate: 2}") == 8);  // unknown key
  CHECK(error_line("{bytes_per_cycle: 4, sync_cycles: 150}") == -1);
}

TEST_CASE("bsp: weights and a KV cache stay where their operator reads them", "[bsp]") {
  const ChipSpec& bow = shipped_catalog().get("graphcore-bow");
  const double per_tile = kBowExchange / 1472;  // one tile's receive rate
  // Entries >= tiles: nothing replicated; with the weight laid out for the matmul
  // (createMatMulInputRHS) only each entry's 2 KiB A crosses, half the 4 KiB of both.
  Op placed = gemm(32, 32, 32, 2944);
  placed.weights_on_chip = true;
  CHECK(bsp_exchange_time(placed, bow) == Approx(2944.0 * 2048 / kBowExchange + kBowSync).epsilon(0.01));
  // One sequence decoding one token over a 4,096-token cache, 16 heads of 64, fp16: each
  // head's tiles receive its query (128 B) and the step's one new key and value (256 B);
  // the cached keys stay put. 16 heads = 16 receiving tiles, two supersteps.
  Op decode;
  decode.kind = OpKind::Attention;
  decode.dtype = "fp16";
  decode.heads = decode.kv_heads = 16;
  decode.head_dim = 64;
  decode.q_len = 1;
  decode.kv_len = 4096;
  CHECK(bsp_exchange_time(decode, bow) == Approx(16.0 * (128 + 256) / (16 * per_tile) + 2 * kBowSync).epsilon(0.01));
  // The same keys computed this step (training, prefill) all cross: far more.
  Op fresh = decode;
  fresh.q_len = 4096;
  CHECK(bsp_exchange_time(fresh, bow) > 100 * bsp_exchange_time(decode, bow));
}

}  // namespace test_bsp
