// [training] FSDP gradient reduction every micro-batch and the layer's memory-bound
// residual adds (issue 12, docs/training.md "Lowering" and "Execution"). The reduce-scatter
// count is checked by invariants of the traffic (every micro-batch gathers twice and
// reduce-scatters once under FULL_SHARD [PT-FSDP], so the bytes on the links grow in
// proportion to the micro-batches), the residual adds against their bytes over the chip's
// published HBM rate.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"
#include "sim/core/yaml_doc.h"
#include "sim/ops/op_model.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/lowering.h"

namespace test_training_fsdp {

using namespace llmsim;
using namespace llmsim_test;
using nlohmann::json;

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

// Two Llama-style layers, hidden 1024, 8 heads, MLP 4096, a 256-entry vocabulary.
const char* const kModel =
    "name: two-layer\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: 2\nhidden_size: 1024\n"
    "num_attention_heads: 8\nnum_key_value_heads: 8\nintermediate_size: 4096\nvocab_size: 256\n"
    "max_position_embeddings: 4096\ntie_word_embeddings: false\n";

// Bytes all links carried in one step of dp 8 (zero 3) over one NVSwitch box, with `m`
// micro-batches and the gradient reduction given.
double link_bytes(const std::string& dir, const std::string& reduction, int m) {
  const std::string model = write(dir, "two-layer.yaml", kModel);
  const std::string tag = reduction + std::to_string(m);
  const std::string wl = write(
      dir, tag + ".yaml",
      "kind: training\nmodel: " + model + "\nseq_len: 1024\nmicro_batch: 1\nglobal_batch: " + std::to_string(8 * m) +
          "\nparallelism: {tp: 1, pp: 1, dp: 8, zero: 3, " + "gradient_reduction: " + reduction + "}\n");
  Outcome o = llmsim_test::run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + wl + " -o " + dir + "/" + tag);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  json s = json::parse(llmsim_test::slurp(dir + "/" + tag + "/summary.json"));
  return s["stats"]["link"]["bytes"]["sum"].get<double>();
}

}  // namespace

TEST_CASE("FSDP reduce-scatters the gradients of every micro-batch and accumulating reduces them once a step",
          "[training]") {
  const std::string dir = make_tmpdir("fsdp");
  // every-micro-batch: per micro-batch a gather before the forward, one before the
  // backward and a reduce-scatter of the gradients, so the step's traffic is m times one
  // micro-batch's: exactly twice at 4 micro-batches what it is at 2. (Reducing once, it
  // would be 2m gathers + 1 reduce-scatter: 9 / 5 = 1.8x.)
  CHECK(link_bytes(dir, "every-micro-batch", 4) == Approx(2 * link_bytes(dir, "every-micro-batch", 2)).epsilon(1e-9));
  // accumulate: the two gathers per micro-batch and one reduce-scatter after the last
  // backward: going from 2 to 4 micro-batches adds four gathers, twice what one micro-batch
  // adds (from 1 to 2), whatever a gather and a reduce-scatter each move.
  const double a1 = link_bytes(dir, "accumulate", 1), a2 = link_bytes(dir, "accumulate", 2),
               a4 = link_bytes(dir, "accumulate", 4);
  CHECK(a4 - a2 == Approx(2 * (a2 - a1)).epsilon(1e-9));
  CHECK(a4 < 2 * a2);
  // every-micro-batch needs sharded gradients: zero 3.
  const std::string model = write(dir, "two-layer.yaml", kModel);
  const std::string bad = write(dir, "bad.yaml",
                                "kind: training\nmodel: " + model +
                                    "\nseq_len: 1024\nglobal_batch: 16\nparallelism: {tp: 1, pp: 1, dp: 8, zero: 1, "
                                    "gradient_reduction: every-micro-batch}\n");
  one_error_line(llmsim_test::run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + bad + " -o " + dir + "/bad"),
                 "needs zero: 3");
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("each layer adds its two sub-block outputs into the residual stream at the HBM rate", "[training]") {
  Topology none;
  const std::string dir = make_tmpdir("residual");
  const std::string model = write(dir, "two-layer.yaml", kModel);
  const TrainingConfig cfg = parse_training(
      parse_doc("kind: training\nmodel: " + model +
                    "\nseq_len: 2048\nmicro_batch: 8\nglobal_batch: 8\nparallelism: {tp: 1, pp: 1, dp: 1}\n",
                "t.yaml"),
      none);
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& a100 = cat.get("nvidia-a100-sxm");
  TrainingLowering low(cfg, a100);
  const double T = 8 * 2048, h = 1024;
  // Each add reads two T x h bf16 tensors and writes one: 3 x 2 bytes per element, at the
  // A100's published 2,039 GB/s x the HBM efficiency C13's STREAM Copy gives (0.79),
  // after a kernel launch (4 us) and the HBM latency (500 ns).
  const double add_s = 4e-6 + 500e-9 + 3 * T * h * 2 / (2039e9 * 0.79);
  int adds = 0;
  double others = 0;
  for (const Op& op : low.layer_forward_ops()) {
    const OpCost c = estimate_op(op, a100);
    if (op.name != "residual_add") {
      others += c.time;
      continue;
    }
    ++adds;
    CHECK(c.bytes == Approx(3 * T * h * 2));
    CHECK(c.time == Approx(add_s).epsilon(1e-6));
  }
  CHECK(adds == 2);
  // The forward of the two layers (plus embedding, final norm, head, cross-entropy: the
  // chunk's edge) carries both adds of each layer.
  const ChunkCost chunk = low.chunk_cost(0);
  CHECK(chunk.forward.compute > 2 * (others + 2 * add_s));
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_training_fsdp
