// [inference] The weight-gathered layout (parallelism.weights: gathered, Pope et al.'s
// large-batch prefill layout): each chip of the tp group keeps 1/tp of the weights,
// all-gathers a layer's before running it and runs the whole layer on a tp-th of the
// tokens. So a chip's layer is the unsharded layer on its tokens; the collectives are the
// layers' weights (no activation all-reduces); a step cannot outrun the gathers; and the
// layouts it does not model are exit 2 at the key.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"
#include "cli_support.h"
#include "sim/workloads/inference/lowering.h"

namespace test_inference_weight_gathered {

using namespace llmsim;

namespace {

const std::string kPalm = std::string(LLMSIM_SOURCE_DIR) + "/workloads/calibration/models/palm-540b.yaml";
constexpr double kH = 18432;
// PaLM 540B's layer from its published shapes: Q and O (18432 x 12288 each), one K/V head
// (2 x 18432 x 256), a SwiGLU MLP (3 x 18432 x 73728); norms (~18k) left out.
constexpr double kLayerParams = 2 * kH * 12288 + 2 * kH * 256 + 3 * kH * 73728;

InferenceConfig config(std::int64_t tp, bool gathered) {
  InferenceConfig c;
  c.model = load_model_ref(kPalm);
  c.tp = tp;
  c.weights_gathered = gathered;
  c.dtype = "w8a16";
  c.kv_dtype = "bf16";
  c.act_dtype = "bf16";
  return c;
}

IterationShape prefill(std::int64_t chunks, std::int64_t tokens) {
  IterationShape s;
  for (std::int64_t i = 0; i < chunks; ++i) s.prefill.push_back({tokens, tokens});
  s.emitting = chunks;
  return s;
}

nlohmann::json run(const std::string& dir, const std::string& args) {
  const int rc = llmsim_test::run_llmsim("run --quiet " + args + " -o '" + dir + "/out'", dir + "/log");
  INFO(llmsim_test::slurp(dir + "/log"));
  REQUIRE(rc == 0);
  std::ifstream in(dir + "/out/summary.json");
  return nlohmann::json::parse(in);
}

// The all-gathers of one PaLM layer's and of the LM head's int8 weights over the 64-chip
// cube, alone, timed by the collective microbenchmark (nccl-tests sizes).
std::pair<double, double> gather_times(const std::string& dir) {
  std::ofstream(dir + "/ag.yaml") << "kind: microbench\nops:\n  - {op: allgather, sizes: ["
                                  << static_cast<std::int64_t>(kLayerParams) << " B, "
                                  << static_cast<std::int64_t>(256000 * kH) << " B], group: all}\n";
  const auto bench = run(dir, "-t topologies/tpu-v4-4x4x4.yaml -w '" + dir + "/ag.yaml'")["microbench"];
  return {bench[0]["time_s"].get<double>(), bench[1]["time_s"].get<double>()};
}

}  // namespace

TEST_CASE("weight gathered: a chip runs the unsharded layer on a tp-th of the prompts", "[inference]") {
  // 64 prompts of 2,048 on 64 chips: each chip's layer is one chip's layer on one prompt.
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& chip = cat.get("google-tpu-v4");
  const auto gathered = Lowering(config(64, true), chip).layer_ops(prefill(64, 2048));
  const auto alone = Lowering(config(1, false), chip).layer_ops(prefill(1, 2048));
  REQUIRE(gathered.size() == alone.size());
  for (std::size_t i = 0; i < alone.size(); ++i) {
    INFO(alone[i].name);
    CHECK(gathered[i].name == alone[i].name);
    CHECK(gathered[i].m == alone[i].m);
    CHECK(gathered[i].n == alone[i].n);
    CHECK(gathered[i].k == alone[i].k);
    CHECK(gathered[i].heads == alone[i].heads);
    CHECK(gathered[i].q_len == alone[i].q_len);
    CHECK(gathered[i].elements == alone[i].elements);
  }
  // Fewer prompts than chips: each prompt's queries are split over the chips.
  const auto split = Lowering(config(64, true), chip).layer_ops(prefill(8, 2048));
  for (const Op& o : split)
    if (o.kind == OpKind::Attention) CHECK(o.q_len == 2048 / 64);
}

TEST_CASE("weight gathered: the collectives are each layer's weights and the LM head's, no all-reduces",
          "[inference]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const InferenceConfig cfg = config(64, true);
  const StageCost c = Lowering(cfg, cat.get("google-tpu-v4")).stage_cost(prefill(64, 2048), 0);
  CHECK(c.gathers == 118);
  CHECK(c.gather_bytes.value() == Approx(kLayerParams * 1.0).epsilon(0.001));  // int8 weights
  CHECK(c.head_gather_bytes.value() == Approx(256000 * kH));                   // the tied 256k x 18432 embedding
  CHECK(c.allreduces == 0);
  CHECK(c.logits_bytes.value() == 0);
  // KV: a chip keeps every head of its own sequences, a 64th of the group's.
  CHECK(cfg.kv_elements_per_layer_per_rank() == Approx(2.0 * 256 / 64));
}

TEST_CASE("weight gathered: C35's prefill hides 117 of its 118 layer all-gathers behind the layers", "[inference]") {
  const std::string dir = llmsim_test::make_tmpdir("weight-gathered");
  const std::string topo = "-t topologies/tpu-v4-4x4x4.yaml ";
  const auto serve = run(dir, topo + "-w workloads/calibration/c35-palm-540b-tpu-v4-prefill.yaml");
  const double comm = serve["inference"]["time_split"]["communication_s"].get<double>();
  const auto [layer, head] = gather_times(dir);
  // A layer's compute (8 prompts x 2,047 tokens through 4.54 G parameters, ~0.65 s) far
  // outlasts its 4.54 GB gather (~0.05 s): each next layer's weights arrive while it runs.
  // Exposed: the first layer's gather, before any compute, and the LM head's, after.
  CHECK(comm == Approx(layer + head).epsilon(0.01));
  const double compute = serve["inference"]["time_split"]["compute_s"].get<double>() +
                         serve["inference"]["time_split"]["memory_s"].get<double>();
  CHECK(compute > 100 * layer);
  // One step of 512 x 2,047 prompt tokens: the step's time is the TTFT of every request.
  CHECK(serve["inference"]["iterations"] == 1);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("weight gathered: a batch-1 decode step is the gathers of the whole model", "[inference]") {
  // Batch 1: every step all-gathers 540 GB of int8 weights, of which a chip receives 63/64
  // through at most its six 50 GB/s ICI links (a bound no algorithm beats); its one token
  // reads each layer out of HBM (1.2 TB/s x 0.90: ~4 ms) while the next layer's arrive.
  const std::string dir = llmsim_test::make_tmpdir("weight-gathered-decode");
  const auto [layer, head] = gather_times(dir);
  run(dir,
      "-t topologies/tpu-v4-4x4x4.yaml -w workloads/calibration/c35-palm-540b-tpu-v4-decode.yaml"
      " --set workload.parallelism.tp=64 --set workload.parallelism.pp=1"
      " --set workload.parallelism.weights=gathered --set workload.requests.count=1"
      " --set workload.requests.output_tokens=3");
  const auto tpot = llmsim_test::csv_column(llmsim_test::slurp(dir + "/out/requests.csv"), "tpot_s");
  REQUIRE(tpot.size() == 1);
  const double bytes = 118 * kLayerParams + 256000 * kH;
  CHECK(tpot[0] >= 63.0 / 64 * bytes / (6 * 50e9));
  // The dimension-ordered torus all-gather keeps 2 of the 6 links busy at a time, so the
  // gathers take ~3x that bound, one after another; the reads hide beside them.
  CHECK(tpot[0] == Approx(118 * layer + head).epsilon(0.02));
  CHECK(tpot[0] < 118 * layer + head + bytes / (1.2e12 * 0.90) / 2);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("weight gathered: 2-D, MoE, spatial chips and speculative decoding are exit 2 at the key", "[inference]") {
  const std::string gathered = " --set workload.parallelism.weights=gathered";
  auto refused = [](const std::string& args, const std::string& what) {
    const llmsim_test::Outcome o = llmsim_test::run_cli("check " + args);
    INFO(o.text);
    CHECK(o.rc == 2);
    CHECK(o.text.find("llmsim: error: ") != std::string::npos);
    CHECK(o.text.find(what) != std::string::npos);
  };
  refused("topologies/tpu-v4-4x4x4.yaml workloads/calibration/c35-palm-540b-tpu-v4-decode.yaml" + gathered +
              " --set workload.parallelism.tp=64 --set workload.parallelism.pp=1"
              " --set workload.parallelism.tp_rows=16 --set workload.parallelism.tp_cols=4",
          "gathered is modelled for a 1-D tp group only");
  refused("topologies/dgx-h100.yaml workloads/serve-mixtral-8x7b-fp8-dgx-h100.yaml" + gathered,
          "gathered is modelled for dense, non-MLA models only");
  refused("topologies/cs2.yaml workloads/serve-llama3-8b-bf16-cs2.yaml" + gathered, "execution: spatial");
  refused("topologies/dgx-h100.yaml workloads/serve-llama3-70b-fp8-dgx-h100-speculative.yaml" + gathered,
          "is not modelled with parallelism.weights: gathered");
}

}  // namespace test_inference_weight_gathered
