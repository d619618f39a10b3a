// [inference][tp2d] 2-D tensor parallelism (parallelism.tp_rows x tp_cols, tp_layout.h):
// per-chip GEMM work equals the 1-D layout's, the collectives follow from the layout's
// arithmetic, the groups are mesh lines on the Galaxy, a decode step on the Galaxy lasts
// its collectives' closed forms plus the weight stream, and a bad layout is exit 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"
#include "cli_support.h"
#include "sim/topo/topology.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/tp_layout.h"

namespace test_inference_tp2d {

using namespace llmsim;

namespace {

InferenceConfig config(const std::string& model, std::int64_t tp, std::int64_t rows, std::int64_t cols) {
  InferenceConfig c;
  c.model = load_model_ref(model);
  c.tp = tp;
  c.tp_rows = rows;
  c.tp_cols = cols;
  c.dtype = c.kv_dtype = "fp8";
  return c;
}

// Elements a chip normalises in one layer (the norms' work).
double norm_elements(const std::vector<Op>& ops) {
  double e = 0;
  for (const Op& o : ops)
    if (o.kind == OpKind::Norm) e += static_cast<double>(o.m) * o.n;
  return e;
}

double gemm_flops(const std::vector<Op>& ops) {
  double f = 0;
  for (const Op& o : ops)
    if (o.kind == OpKind::Gemm) f += 2.0 * o.m * o.n * o.k * o.batch;
  return f;
}

// Query-head x sequence pairs of a chip's decode attention (its KV streaming work).
double decode_attention(const std::vector<Op>& ops) {
  for (const Op& o : ops)
    if (o.name == "attn_decode") return static_cast<double>(o.heads) * o.batch;
  return 0;
}

// Stage 0's cost of one decode step: `batch` sequences of `context` tokens.
StageCost decode_step(const InferenceConfig& c, const ChipSpec& chip, std::int64_t batch, std::int64_t context) {
  IterationShape s;
  s.decode = batch;
  s.decode_kv = batch * context;
  s.emitting = batch;
  return Lowering(c, chip).stage_cost(s, 0);
}

// C39's workload on the Galaxy with `sets` added, into DIR/out (its log in DIR/log).
void run_c39(const std::string& dir, const std::string& sets) {
  const int rc = llmsim_test::run_llmsim(
      "run --quiet -t topologies/wormhole-galaxy.yaml -w workloads/calibration/c39-wormhole-galaxy-llama31-70b.yaml "
      "-o '" +
          dir + "/out' " + sets,
      dir + "/log");
  INFO(llmsim_test::slurp(dir + "/log"));
  REQUIRE(rc == 0);
}

// The same row in the 1-D layout (one TP group of 32).
const char* const kOneD = "--set workload.parallelism.tp_rows=0 --set workload.parallelism.tp_cols=0";

}  // namespace

TEST_CASE("tp2d: per-chip GEMM FLOPs and decode attention equal the 1-D layout's", "[inference][tp2d]") {
  // Llama 2 7B: 32 heads = 32 KV heads, so no layout replicates KV heads and every split is even.
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& chip = cat.get("nvidia-h100-sxm");
  IterationShape s;
  s.decode = 32;
  s.decode_kv = 32 * 1000;
  s.prefill.push_back({512, 512});
  s.emitting = 33;
  const InferenceConfig one_d = config("llama-2-7b", 8, 0, 0);
  const Lowering low1(one_d, chip);
  const auto ops1 = low1.layer_ops(s);
  // 1-D: 2 T h (3 h / 8) + 2 T h (h / 8) + 2 T h (3 ffn / 8) per chip (h 4096, ffn 11008).
  const double T = 544, h = 4096, ffn = 11008;
  CHECK(gemm_flops(ops1) == Approx(2 * T * h * (4 * h + 3 * ffn) / 8));
  for (auto [rows, cols] : {std::pair<int, int>{2, 4}, {4, 2}, {8, 1}, {1, 8}}) {
    INFO(rows << " x " << cols);
    const InferenceConfig c = config("llama-2-7b", 8, rows, cols);
    const Lowering low(c, chip);
    const auto ops = low.layer_ops(s);
    CHECK(gemm_flops(ops) == Approx(gemm_flops(ops1)));
    CHECK(decode_attention(ops) == Approx(decode_attention(ops1)));  // 32 / rows heads x 32 / cols users
    // A chip holds h / cols of each token's residual stream: its two norms cover T x h / cols
    // (the 1-D layout normalises the whole T x h, replicated on every chip).
    CHECK(norm_elements(ops) == Approx(2 * T * h / cols));
    // Rotary runs after QKV's reduce-scatter by sequence: T / cols tokens of the chip's heads.
    for (const Op& o : ops)
      if (o.kind == OpKind::Rotary) CHECK(o.m == (544 + cols - 1) / cols);
  }
  CHECK(norm_elements(ops1) == Approx(2 * T * h));
}

TEST_CASE("tp2d: a Galaxy decode step's collectives per axis follow from the 8 x 4 layout", "[inference][tp2d]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const InferenceConfig c = config("llama-3.1-70b", 32, 8, 4);
  const StageCost cost = decode_step(c, cat.get("tenstorrent-wormhole-galaxy"), 32, 200);
  // Llama 3.1 70B: h 8192, 64 heads / 8 rows = 8 a chip, 8 KV heads / 8 = 1, head_dim 128,
  // gated FFN 28672 / 8 rows; 32 tokens of 2 bytes; 80 layers, one of each per layer.
  const double a = 32 * 2;
  struct Want {
    CollectiveKind kind;
    bool columns;
    double bytes;
  };
  // A norm's statistic: one fp32 sum of squares per token (RMSNorm), over the row's 4.
  const double stat = 32 * 4;
  const std::vector<Want> want = {
      {CollectiveKind::AllReduce, false, stat},                       // attention norm
      {CollectiveKind::ReduceScatter, false, a * (8 + 2 * 1) * 128},  // QKV partial sums over the row's 4
      {CollectiveKind::AllGather, false, a * 8 * 128},                // attention outputs of the row's users
      {CollectiveKind::AllReduce, true, a * 8192 / 4},                // attn_out partials down the column's 8
      {CollectiveKind::AllReduce, false, stat},                       // MLP norm
      {CollectiveKind::ReduceScatter, false, a * 2 * 28672 / 8},      // gate + up partial sums
      {CollectiveKind::AllGather, false, a * 28672 / 8},              // activations
      {CollectiveKind::AllReduce, true, a * 8192 / 4},                // mlp_down partials
  };
  REQUIRE(cost.tp2d.size() == want.size());
  CHECK(cost.allreduces == 0);
  double bytes_sent = 0;  // per chip per layer, ring: (n-1)/n of a RS/AG, 2(n-1)/n of an AR
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO(i);
    CHECK(cost.tp2d[i].kind == want[i].kind);
    CHECK(cost.tp2d[i].columns == want[i].columns);
    CHECK(cost.tp2d[i].bytes.value() == Approx(want[i].bytes));
    CHECK(cost.tp2d[i].count == 80);
    const double n = want[i].columns ? 8 : 4;
    bytes_sent += want[i].bytes * (want[i].kind == CollectiveKind::AllReduce ? 2 : 1) * (n - 1) / n;
  }
  // The 1-D layout sends 2 x 2 (31/32) x 32 x 8192 x 2 bytes a layer: the 2-D one about half.
  const double one_d = 2 * 2 * 31.0 / 32 * a * 8192;
  CHECK(bytes_sent / one_d == Approx(0.5).epsilon(0.15));

  // Groups: rank r = row x 4 + col is Galaxy device r (i = x + 4 y), so a row group is one
  // x-line of 4 chips and a column group one y-line of 8: member k is k hops from member 0.
  Topology topo = load_topology(load_doc(std::string(LLMSIM_SOURCE_DIR) + "/topologies/wormhole-galaxy.yaml"), cat);
  std::vector<int> stage(32);
  for (int i = 0; i < 32; ++i) stage[static_cast<std::size_t>(i)] = i;
  for (bool columns : {false, true}) {
    const auto groups = tp2d_groups(c, stage, columns);
    CHECK(groups.size() == (columns ? 4u : 8u));
    for (const auto& g : groups) {
      REQUIRE(g.size() == (columns ? 8u : 4u));
      for (std::size_t k = 1; k < g.size(); ++k) CHECK(topo.route(g[0], g[k]).hops.size() == k);
    }
  }
}

TEST_CASE("tp2d: a parallel block has one norm statistic a layer, before its fused collectives", "[inference][tp2d]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  // PaLM 540B (parallel attention and MLP, 118 layers) as C35: 16 rows x 4 columns.
  InferenceConfig c =
      config(std::string(LLMSIM_SOURCE_DIR) + "/workloads/calibration/models/palm-540b.yaml", 64, 16, 4);
  c.dtype = c.kv_dtype = "bf16";
  REQUIRE(c.model.parallel_block);
  const StageCost cost = decode_step(c, cat.get("google-tpu-v4"), 64, 2048);
  REQUIRE(cost.tp2d.size() == 4);
  CHECK(cost.tp2d[0].kind == CollectiveKind::AllReduce);
  CHECK_FALSE(cost.tp2d[0].columns);                                              // over the row's 4 (h / 4 each)
  CHECK(cost.tp2d[0].bytes.value() == Approx(64 * (c.model.norm_bias ? 8 : 4)));  // one fp32 statistic a token
  CHECK(cost.tp2d[0].count == c.model.layers);
  CHECK(cost.tp2d[1].kind == CollectiveKind::ReduceScatter);
  CHECK(cost.tp2d[3].columns);
}

// C39 with the 2-D layout: ttnn-ccl's ring (tt-metal.yaml, test_topology_galaxy.cpp: 20 us
// start-up, 5 us a step, 0.8 x 50 GB/s links) laid along each line, n - 1 steps of S / n
// for a reduce-scatter or all-gather and 2 (n - 1) for an all-reduce, the 8 collectives of
// the previous test a layer, 80 layers, plus the weight stream (70.6 GB of fp8 over 32 chips
// at 288 GB/s x 0.90). Up to 30 % above that floor: the element-wise ops at the Tensix
// vector rate and the host step (~8 ms, as in the 1-D test) are a larger share of a
// shorter step. And faster than the 1-D layout of the same row.
TEST_CASE("tp2d: C39 decode on the Galaxy lasts its line collectives plus the weights", "[inference][tp2d]") {
  const std::string dir = llmsim_test::make_tmpdir("tp2d");
  auto tpot = [&](const std::string& sets) {
    run_c39(dir, sets);
    const std::string csv = llmsim_test::slurp(dir + "/out/requests.csv");
    const auto first = llmsim_test::csv_column(csv, "first_token_s"), finish = llmsim_test::csv_column(csv, "finish_s");
    const auto out = llmsim_test::csv_column(csv, "output_tokens");
    size_t last = 0;
    for (size_t i = 0; i < first.size(); ++i)
      if (first[i] > first[last]) last = i;
    return (finish[last] - first[last]) / (out[last] - 1);
  };
  const double two_d = tpot("");
  auto ring = [](double n, double bytes, double steps) { return 20e-6 + steps * (5e-6 + bytes / n / (0.8 * 50e9)); };
  const double a = 32 * 2;
  const double layer = ring(4, a * 10 * 128, 3) + ring(4, a * 8 * 128, 3) + ring(4, a * 2 * 28672 / 8, 3) +
                       ring(4, a * 28672 / 8, 3) + 2 * ring(8, a * 8192 / 4, 14) + 2 * ring(4, 32 * 4, 6);
  const double floor = 80 * layer + 70.6e9 / 32 / (288e9 * 0.90);
  CHECK(two_d / floor > 1.0);
  CHECK(two_d / floor < 1.3);
  CHECK(two_d < tpot(kOneD));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("tp2d: a layout that does not multiply to tp, or splits heads unevenly, is exit 2", "[inference][tp2d]") {
  const std::string dir = llmsim_test::make_tmpdir("tp2d-bad");
  auto check = [&](const std::string& topo, const std::string& model, const std::string& par, const std::string& what) {
    {
      std::ofstream f(dir + "/w.yaml");
      f << "kind: inference\nmodel: " << model << "\nparallelism: " << par
        << "\nrequests: {count: 1, prompt_tokens: 8, output_tokens: 2}\n";
    }
    const int rc =
        llmsim_test::run_llmsim("run -t " + topo + " -w '" + dir + "/w.yaml' -o '" + dir + "/out'", dir + "/log");
    const std::string log = llmsim_test::slurp(dir + "/log");
    INFO(log);
    CHECK(rc == 2);
    CHECK(log.rfind("llmsim: error: " + dir + "/w.yaml:3:", 0) == 0);
    CHECK(log.find(what) != std::string::npos);
    CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  };
  check("topologies/wormhole-galaxy.yaml", "llama-3.1-70b", "{tp: 32, tp_rows: 8, tp_cols: 2}",
        "tp_rows x tp_cols = 8 x 2 = 16 but tp is 32");
  check("topologies/wormhole-galaxy.yaml", "llama-3.1-70b", "{tp: 32, tp_rows: 8}", "tp_rows and tp_cols both");
  // PaLM's 48 heads over 32 rows.
  check("topologies/tpu-v4-4x4x4.yaml", "workloads/calibration/models/palm-540b.yaml",
        "{tp: 64, tp_rows: 32, tp_cols: 2}", "must divide num_attention_heads (48)");
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("tp2d: a row's chips share the sequences, so the Galaxy's KV pool holds 4x the 1-D blocks",
          "[inference][tp2d]") {
  // Llama 3.1 70B has 8 KV heads. 1-D TP 32: every chip keeps one (replicated) KV head of
  // every sequence. 8 x 4: a column's 8 chips keep one head each, and of a row's 4 chips
  // only the one attending for a sequence keeps it: a quarter of the KV bytes a chip holds
  // per token, with the same weights (1/32 of the model) beside them.
  const std::string dir = llmsim_test::make_tmpdir("tp2d-kv");
  auto blocks = [&](const std::string& sets) {
    run_c39(dir, sets);
    std::ifstream in(dir + "/out/summary.json");
    return nlohmann::json::parse(in)["inference"]["kv_blocks_per_engine"].get<double>();
  };
  const double two_d = blocks(""), one_d = blocks(kOneD);
  CHECK(two_d / one_d == Approx(4.0).epsilon(0.001));  // floor() of each count: within a block
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("tp2d: more head-sharding rows than KV heads warns about tp_rows, not tp", "[inference][tp2d]") {
  // 16 rows share Llama 3.1 70B's 8 KV heads: each holds a replica, 16 / 8 = 2 copies of each.
  const llmsim_test::Outcome o = llmsim_test::run_cli(
      "check topologies/wormhole-galaxy.yaml workloads/calibration/c39-wormhole-galaxy-llama31-70b.yaml"
      " --set workload.parallelism.tp_rows=16 --set workload.parallelism.tp_cols=2");
  INFO(o.text);
  CHECK(o.rc == 0);
  CHECK(o.text.find(": tp_rows 16 exceeds the model's 8 KV heads") != std::string::npos);
  CHECK(o.text.find("replicas repeat it 2 times") != std::string::npos);
}

}  // namespace test_inference_tp2d
