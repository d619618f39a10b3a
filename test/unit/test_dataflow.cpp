// [dataflow] Spatial dataflow chips (issue 12 item 5) and weights beyond the staging tier
// (item 6). Expected values come from the catalog's structure figures and the model's
// shapes, worked out here, not from the functions under test.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "sim/workloads/inference/lowering.h"
#include "test/unit/cli_support.h"
#include "test/unit/tiny_model.h"

namespace test_dataflow {

using namespace llmsim;

namespace {

ChipCatalog& catalog() {
  static ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  return cat;
}

InferenceConfig config(const std::string& model, std::int64_t tp, std::int64_t pp, const std::string& dtype) {
  InferenceConfig c;
  c.model = load_model_ref(model);
  c.tp = tp;
  c.pp = pp;
  c.dtype = c.kv_dtype = dtype;
  return c;
}

// One sequence decoding one token with `kv` tokens in its cache.
IterationShape one_decode(std::int64_t kv) {
  IterationShape s;
  s.decode = 1;
  s.decode_kv = kv;
  s.emitting = 1;
  return s;
}

// A dense model small enough that its operators take nanoseconds: what is left of a
// layer's time on a spatial chip is the mesh traversal.
InferenceConfig tiny(std::int64_t layers) {
  InferenceConfig c = config("llama-3.2-3b", 1, 1, "fp16");
  c.model.layers = layers;
  c.model.hidden = 64;
  c.model.heads = c.model.kv_heads = 1;
  c.model.head_dim = 64;
  c.model.ffn = 128;
  c.model.vocab = 256;
  return c;
}

Seconds decode_time(const InferenceConfig& c, const ChipSpec& chip) {
  Lowering low(c, chip);
  return low.stage_cost(one_decode(16), 0).compute;
}

}  // namespace

TEST_CASE("spatial chip: batch-1 token time grows by the mesh traversals of each layer", "[dataflow]") {
  const ChipSpec& groq = catalog().get("groq-lpu");
  REQUIRE(execution_of(groq).spatial());
  const Seconds t8 = decode_time(tiny(8), groq), t16 = decode_time(tiny(16), groq), t32 = decode_time(tiny(32), groq);
  const double slope_a = (t16 - t8) / 8, slope_b = (t32 - t16) / 16;
  // Linear in the pipeline depth: every layer adds the same.
  CHECK(slope_b == Approx(slope_a).epsilon(1e-9));
  // A dense gated layer waits for 8 traversals of the chip's mesh: 2 norms, 4 GEMMs (qkv,
  // out, up, down) and attention's scores and values; each crosses (x + y) hops.
  // groq-lpu.yaml: 88 x 20 mesh, 1 cycle per hop, 900 MHz -> 8 x 108 / 0.9 GHz = 0.96 us.
  const double per_layer = 8.0 * (88 + 20) * 1.0 / 900e6;
  REQUIRE(execution_of(groq).mesh_x == 88);
  REQUIRE(execution_of(groq).mesh_y == 20);
  REQUIRE(groq.clock == Approx(900e6));
  CHECK(slope_a >= per_layer);
  CHECK(slope_a <= per_layer * 1.15);  // the tiny layer's own operators add a little
}

TEST_CASE("layer-pipelined wafer: a token sees one layer's share of the SRAM bandwidth at a time", "[dataflow]") {
  const ChipSpec& wse = catalog().get("cerebras-wse2");
  REQUIRE(execution_of(wse).regions == "layer");
  InferenceConfig c = config("llama-3.1-8b", 1, 1, "bf16");
  const Seconds t = decode_time(c, wse);
  // Each layer's weights (layer_params x 2 bytes) sit in 1/L of the wafer, read at 1/L of
  // 20 PB/s x 0.90 (cerebras-wse2.yaml); a token crosses all L layers in turn, so the layers
  // alone take L x (layer bytes) / (BW / L) = L^2 x layer bytes / BW.
  const double L = static_cast<double>(c.model.layers);
  const double layer_bytes = c.model.layer_params() * 2.0;
  const double bw = 20e15 * 0.90;
  const double pipeline_bound = L * layer_bytes / (bw / L);
  CHECK(t >= pipeline_bound);
  // Bytes over the whole wafer's bandwidth (the kernel view) is L times less.
  CHECK(t >= 10.0 * (L * layer_bytes / bw));
  // Plus the traversals: 8 per layer over a region of 757/sqrt(L) x 996/sqrt(L) cores at
  // 2 cycles per hop, 1.1 GHz.
  const double region_hops = std::ceil(757 / std::sqrt(L)) + std::ceil(996 / std::sqrt(L));
  CHECK(t >= pipeline_bound + L * 8 * region_hops * 2 / 1.1e9);
}

TEST_CASE("layer pipelining: a batch costs one region's work plus the fill, not batch x depth", "[dataflow]") {
  const ChipSpec& wse = catalog().get("cerebras-wse2");
  InferenceConfig c = config("llama-3.1-8b", 1, 1, "bf16");
  Lowering low(c, wse);
  const Seconds one = low.stage_cost(one_decode(512), 0).compute;
  IterationShape b;
  b.decode = 32;
  b.decode_kv = 32 * 512;
  b.emitting = 32;
  const Seconds batch = low.stage_cost(b, 0).compute;
  // 32 tokens in flight in different layers: far less than 32 tokens one after another,
  // and no less than one token's trip through the pipeline.
  CHECK(batch >= one);
  CHECK(batch < 4.0 * one);
}

TEST_CASE("SN40L: weights beyond HBM stream from DDR at every token", "[dataflow]") {
  const ChipSpec& sn = catalog().get("sambanova-sn40l");
  InferenceConfig c8 = config("llama-3.1-405b", 8, 1, "bf16");
  // Per socket at TP 8: the whole model's bf16 bytes / 8. HBM holds at most its 64 GB
  // (sambanova-sn40l.yaml), so at least the rest comes from DDR at <= 100 GB/s each token.
  const ModelSpec& m = c8.model;
  const double params = m.layers * m.layer_params() + m.embedding_params() + m.lm_head_params();
  const double per_socket = params * 2.0 / 8.0;
  const double ddr_bound = (per_socket - 64e9) / 100e9;
  REQUIRE(ddr_bound > 0.3);  // ~37 GB beyond HBM: a third of a second per token
  const Seconds t8 = Lowering(c8, sn).stage_cost(one_decode(1000), 0).compute;
  CHECK(t8 >= ddr_bound);
  // On 16 sockets (TP 8 x PP 2) a socket's ~51 GB fit HBM: the token no longer waits for DDR.
  InferenceConfig c16 = config("llama-3.1-405b", 8, 2, "bf16");
  const Seconds t16 = Lowering(c16, sn).stage_cost(one_decode(1000), 0).compute;
  CHECK(params * 2.0 / 16.0 < 64e9 * 0.9);
  CHECK(t16 < ddr_bound / 4);
  CHECK(t8 > 4 * t16);
}

TEST_CASE("kernel chips keep the kernel model", "[dataflow]") {
  for (const char* name : {"nvidia-h100-sxm", "amd-mi300x", "google-tpu-v4", "intel-gaudi3"}) {
    CAPTURE(name);
    CHECK(execution_of(catalog().get(name)).model == "kernel");
  }
}

TEST_CASE("Groq pipeline: each extra stage adds one C2C hop per token", "[dataflow][cli]") {
  using namespace llmsim_test;
  const std::string dir = make_tmpdir("dataflow-c2c");
  {
    const std::string model = write_tiny_model(dir, "tiny", 16, 1024);
    std::ofstream wl(dir + "/wl.yaml");
    wl << "kind: inference\nmodel: " << model
       << "\ndtype: fp16\nparallelism: {tp: 1, pp: 4}\n"
          "requests: {count: 1, arrival: poisson, rate: 1/s, prompt_tokens: 16, output_tokens: 64, seed: 1}\n";
  }
  auto tpot = [&](int pp) {
    const std::string out = dir + "/pp" + std::to_string(pp);
    const int rc = run_llmsim("run --quiet -t topologies/groqnode.yaml -w " + dir + "/wl.yaml -o " + out +
                                  " --set workload.parallelism.pp=" + std::to_string(pp),
                              out + ".log");
    REQUIRE(rc == 0);
    const std::string s = slurp(out + "/summary.json");
    const auto at = s.find("\"tpot_s\"");
    REQUIRE(at != std::string::npos);
    const auto mean = s.find("\"mean\"", at);
    return std::stod(s.substr(s.find(':', mean) + 1));
  };
  const double t4 = tpot(4), t8 = tpot(8);
  // 4 more stages = 4 more hand-offs of one token's activations (256 x 2 B) over a GroqNode
  // C2C link: 1 us latency + 512 B / 14 GB/s (topologies/groqnode.yaml). The layers are the
  // same 16 on the same chips, so nothing else changes.
  const double hop = 1e-6 + 256 * 2.0 / 14e9;
  CHECK((t8 - t4) == Approx(4 * hop).epsilon(0.15));
}

}  // namespace test_dataflow
