// [dataflow] A chip that runs one op at a time on its core grid (Tensix under tt-metal,
// execution regions: chip) dispatches every operator as a program, as a GPU launches a
// kernel; an uncaptured step (tt-metal's prefill: only decode is traced) pays the stack's
// launch overhead per op. Before, the spatial path counted only the collectives, so a
// Wormhole prefill paid 160 launches for 884 dispatched ops (885 since the logits
// all-gather; issue 12, C10 TTFT).
#include <catch2/catch.hpp>

#include "sim/software/stack.h"
#include "sim/workloads/inference/dataflow.h"
#include "sim/workloads/inference/lowering.h"
#include "test/unit/cli_support.h"

namespace test_dataflow_launch {

using namespace llmsim;

namespace {
ChipCatalog& catalog() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat;
}

std::int64_t prefill_kernels(const ChipSpec& chip) {
  InferenceConfig c;
  c.model = load_model_ref("llama-3.1-70b");
  c.tp = 8;
  c.pp = 1;
  c.dtype = c.kv_dtype = "bf16";
  IterationShape s;
  s.prefill.push_back({128, 128});
  s.emitting = 1;
  return Lowering(c, chip).stage_cost(s, 0).kernels;
}
}  // namespace

TEST_CASE("spatial chip dispatching op by op: a prefill step counts every operator as a kernel", "[dataflow]") {
  const ChipSpec& wormhole = catalog().get("tenstorrent-wormhole-n300");
  REQUIRE(execution_of(wormhole).spatial());
  REQUIRE(execution_of(wormhole).regions == "chip");
  // Llama 3.1 70B, by hand: a dense gated layer is 9 ops (attention norm, qkv, rotary,
  // attention, out projection, MLP norm, up, activation, down), 80 layers; the edges add
  // embedding, final norm, LM head and sampling; TP 8 adds 2 all-reduces per layer and
  // the all-gather of the vocabulary-sharded logits.
  const std::int64_t expected = 80 * 9 + 4 + 2 * 80 + 1;
  CHECK(prefill_kernels(wormhole) == expected);
  // The same step on a kernel chip dispatches the same operators.
  CHECK(prefill_kernels(catalog().get("nvidia-h100-sxm")) == expected);
  // tt-metal traces decode only: the prefill step is not captured and pays per op.
  const SoftwareStack tt = load_software_file("tt-metal", {});
  REQUIRE(!tt.captured(1, 0));
  CHECK(tt.launch_time(expected, false) == Approx(expected * tt.launch_overhead.value()));
}

}  // namespace test_dataflow_launch
