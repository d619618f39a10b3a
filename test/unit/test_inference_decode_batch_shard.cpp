// [inference][tp2d] Batch-sharded decode attention (parallelism.decode_attention: batch,
// tp_layout.h): Pope et al.'s multi-query layout. Each chip attends every head of a tp-th
// of the sequences and keeps their whole KV, so per chip the attention work is the
// head-sharded layout's and the KV bytes are 1/tp of the batch's (PaLM's one KV head is no
// longer replicated 16 times); two all-to-alls a layer trade head slices for sequences;
// the KV pool grows by the replication removed; a 1-D layout refuses it.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"
#include "cli_support.h"
#include "sim/workloads/inference/lowering.h"
#include "sim/workloads/inference/tp_layout.h"

namespace test_inference_decode_batch_shard {

using namespace llmsim;

namespace {

const std::string kPalm = std::string(LLMSIM_SOURCE_DIR) + "/workloads/calibration/models/palm-540b.yaml";

InferenceConfig config(const std::string& model, std::int64_t rows, std::int64_t cols, bool batch) {
  InferenceConfig c;
  c.model = load_model_ref(model);
  c.tp = rows * cols;
  c.tp_rows = rows;
  c.tp_cols = cols;
  c.decode_batch_sharded = batch;
  c.dtype = c.kv_dtype = "bf16";
  return c;
}

IterationShape decode(std::int64_t batch, std::int64_t context) {
  IterationShape s;
  s.decode = batch;
  s.decode_kv = batch * context;
  s.emitting = batch;
  return s;
}

const Op& find(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& o : ops)
    if (o.name == name) return o;
  FAIL("no op " << name);
  return ops.front();
}

// The C35 decode row in the paper's 2-D layout, with `mode` decode attention, into DIR/out.
nlohmann::json run_c35(const std::string& dir, const std::string& mode, int batch, const std::string& sets = "") {
  const int rc = llmsim_test::run_llmsim(
      "run --quiet -t topologies/tpu-v4-4x4x4.yaml -w workloads/calibration/c35-palm-540b-tpu-v4-decode.yaml -o '" +
          dir + "/out' --set workload.parallelism.tp=64 --set workload.parallelism.pp=1" +
          " --set workload.parallelism.tp_rows=16 --set workload.parallelism.tp_cols=4" +
          " --set workload.parallelism.decode_attention=" + mode + " --set workload.requests.count=" +
          std::to_string(batch) + " --set workload.scheduler.max_batch=" + std::to_string(batch) + sets,
      dir + "/log");
  INFO(llmsim_test::slurp(dir + "/log"));
  REQUIRE(rc == 0);
  std::ifstream in(dir + "/out/summary.json");
  return nlohmann::json::parse(in);
}

// Seconds per token of the request whose first token came last (all decode steps).
double steady_tpot(const std::string& dir) {
  const std::string csv = llmsim_test::slurp(dir + "/out/requests.csv");
  const auto first = llmsim_test::csv_column(csv, "first_token_s"), finish = llmsim_test::csv_column(csv, "finish_s");
  const auto out = llmsim_test::csv_column(csv, "output_tokens");
  std::size_t last = 0;
  for (std::size_t i = 0; i < first.size(); ++i)
    if (first[i] > first[last]) last = i;
  return (finish[last] - first[last]) / (out[last] - 1);
}

}  // namespace

TEST_CASE("decode batch shard: a chip attends all heads of 1/tp of the batch, its whole KV once", "[inference][tp2d]") {
  // PaLM 540B on 16 x 4: 48 query heads, one KV head of 256. Head-sharded, a chip takes 3
  // heads of 64 / 4 = 16 sequences and keeps a replica of the KV head for each; batch-
  // sharded, all 48 heads of 64 / 64 = 1 sequence.
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& chip = cat.get("google-tpu-v4");
  const auto heads = Lowering(config(kPalm, 16, 4, false), chip).layer_ops(decode(64, 2048));
  const auto batch = Lowering(config(kPalm, 16, 4, true), chip).layer_ops(decode(64, 2048));
  const Op &h = find(heads, "attn_decode"), &b = find(batch, "attn_decode");
  CHECK(h.heads * h.batch == 3 * 16);
  CHECK(b.heads == 48);
  CHECK(b.batch == 1);
  CHECK(b.heads * b.batch == h.heads * h.batch);  // the same query work per chip
  // KV sequences x heads a chip streams: the batch's 64 x 1 over 64 chips, against 16 x 1.
  CHECK(b.batch * b.kv_heads * 64 == 64 * 1);
  CHECK(h.batch * h.kv_heads == 16);
  CHECK(b.kv_len == h.kv_len);
  // Everything but attention is unchanged.
  REQUIRE(heads.size() == batch.size());
  for (std::size_t i = 0; i < heads.size(); ++i)
    if (heads[i].kind == OpKind::Gemm)
      CHECK(heads[i].m * heads[i].n * heads[i].k == batch[i].m * batch[i].n * batch[i].k);
}

TEST_CASE("decode batch shard: two all-to-alls a layer down the columns move the head slices", "[inference][tp2d]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  const ChipSpec& tpu = cat.get("google-tpu-v4");
  // PaLM: a chip's 64 / 4 = 16 row tokens x 3 heads x 256 x 2 B of queries go out (its one
  // KV head every chip of the column already has), and as many attention outputs come back.
  const StageCost palm = Lowering(config(kPalm, 16, 4, true), tpu).stage_cost(decode(64, 2048), 0);
  const StageCost palm_heads = Lowering(config(kPalm, 16, 4, false), tpu).stage_cost(decode(64, 2048), 0);
  REQUIRE(palm.tp2d.size() == palm_heads.tp2d.size() + 2);
  for (std::size_t i : {2u, 3u}) {
    INFO(i);
    CHECK(palm.tp2d[i].kind == CollectiveKind::AllToAll);
    CHECK(palm.tp2d[i].columns);
    CHECK(palm.tp2d[i].bytes.value() == Approx(16.0 * 3 * 256 * 2));
    CHECK(palm.tp2d[i].count == 118);
  }
  CHECK(palm.kernels == palm_heads.kernels + 2 * 118);
  // Llama 3.1 70B on 16 x 2: 8 KV heads shared by 16 rows, one a chip; its owner needs all
  // 8 of its sequences, so K and V travel with the queries (64 heads / 16 = 4 a chip).
  const StageCost gqa = Lowering(config("llama-3.1-70b", 16, 2, true), tpu).stage_cost(decode(32, 512), 0);
  CHECK(gqa.tp2d[2].bytes.value() == Approx(16.0 * (4 + 2 * 1) * 128 * 2));
  CHECK(gqa.tp2d[3].bytes.value() == Approx(16.0 * 4 * 128 * 2));
  // A prefill-only step moves no queries: only its K and V to their owners (GQA), none (MQA).
  IterationShape prefill;
  prefill.prefill.push_back({256, 256});
  prefill.emitting = 1;
  const StageCost pg = Lowering(config("llama-3.1-70b", 16, 2, true), tpu).stage_cost(prefill, 0);
  CHECK(pg.tp2d[2].bytes.value() == Approx(128.0 * 2 * 128 * 2));
  CHECK(pg.tp2d[3].count == 0);
  const StageCost pp = Lowering(config(kPalm, 16, 4, true), tpu).stage_cost(prefill, 0);
  CHECK(pp.tp2d[2].count == 0);
  CHECK(pp.tp2d[3].count == 0);
}

TEST_CASE("decode batch shard: C35's KV pool holds 16x the head-sharded blocks, long contexts decode faster",
          "[inference][tp2d]") {
  // Head-sharded, a chip keeps the one KV head of a quarter of the sequences; batch-sharded,
  // of a 64th: 16 times the sequences fit beside the same 1/64 of the weights.
  const std::string dir = llmsim_test::make_tmpdir("decode-batch");
  const double blocks_heads = run_c35(dir, "heads", 64)["inference"]["kv_blocks_per_engine"].get<double>();
  const double tpot_heads = steady_tpot(dir);
  const double blocks_batch = run_c35(dir, "batch", 64)["inference"]["kv_blocks_per_engine"].get<double>();
  const double tpot_batch = steady_tpot(dir);
  CHECK(blocks_batch / blocks_heads == Approx(16.0).epsilon(0.001));
  // At 64 x 2,048 tokens a head-sharded chip streams 16 x 2,048 x 118 x 1 KiB = 4 GB of KV a
  // step (~3.3 ms at 1.2 TB/s), batch-sharded a sixteenth: the saving outweighs the
  // all-to-alls' start-ups (2 x 118 a step).
  CHECK(tpot_batch < tpot_heads);
  // One user: nothing to shard (the other 63 chips idle in attention), so only the
  // all-to-alls remain: slower.
  run_c35(dir, "heads", 1);
  const double one_heads = steady_tpot(dir);
  run_c35(dir, "batch", 1);
  CHECK(steady_tpot(dir) > one_heads);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("decode batch shard: a decode step's KV time per context token falls by the replication removed",
          "[inference][tp2d]") {
  // Per decode step, (run of 64 tokens - run of 2) / 62 steps; its growth from 64- to
  // 1,984-token prompts is the KV stream of 1,920 more tokens: 64 sequences x 1,920 x 118
  // layers x 1 KiB (K and V of PaLM's one 256-wide bf16 head), a quarter of it per chip
  // head-sharded and a 64th batch-sharded, at TPU v4's 1.2 TB/s x 0.90. The difference of
  // the two growths is that arithmetic (attention's compute is the same in both layouts).
  const std::string dir = llmsim_test::make_tmpdir("decode-batch-kv");
  auto step = [&](const std::string& mode, const std::string& prompt) {
    const std::string p = " --set workload.requests.prompt_tokens=" + prompt;
    const double longer = run_c35(dir, mode, 64, p)["sim_time_s"].get<double>();
    const double shorter =
        run_c35(dir, mode, 64, p + " --set workload.requests.output_tokens=2")["sim_time_s"].get<double>();
    return (longer - shorter) / 62;
  };
  const double growth_heads = step("heads", "1984") - step("heads", "64");
  const double growth_batch = step("batch", "1984") - step("batch", "64");
  const double kv = 64.0 * 1920 * 118 * 1024 / (1200e9 * 0.90);
  CHECK(growth_heads - growth_batch == Approx(kv * (1.0 / 4 - 1.0 / 64)).epsilon(0.10));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE(
    "decode batch shard: a 1-D layout or an unknown value is exit 2 at the key, batch sharding has no replica warning",
    "[inference][tp2d]") {
  const std::string cmd = "check topologies/tpu-v4-4x4x4.yaml workloads/calibration/c35-palm-540b-tpu-v4-decode.yaml";
  const llmsim_test::Outcome one_d = llmsim_test::run_cli(cmd + " --set workload.parallelism.decode_attention=batch");
  INFO(one_d.text);
  CHECK(one_d.rc == 2);
  CHECK(one_d.text.find("llmsim: error: --set:1:") != std::string::npos);
  CHECK(one_d.text.find("decode_attention: batch is modelled for 2-D tensor parallelism only") != std::string::npos);
  const llmsim_test::Outcome bad = llmsim_test::run_cli(cmd + " --set workload.parallelism.decode_attention=sequences");
  INFO(bad.text);
  CHECK(bad.rc == 2);
  CHECK(bad.text.find("llmsim: error: --set:1:") != std::string::npos);
  const std::string layout =
      " --set workload.parallelism.tp=64 --set workload.parallelism.pp=1 --set workload.parallelism.tp_rows=16"
      " --set workload.parallelism.tp_cols=4";
  const llmsim_test::Outcome heads = llmsim_test::run_cli(cmd + layout);
  CHECK(heads.text.find("replicas repeat it 16 times") != std::string::npos);
  const llmsim_test::Outcome batch =
      llmsim_test::run_cli(cmd + layout + " --set workload.parallelism.decode_attention=batch");
  INFO(batch.text);
  CHECK(batch.rc == 0);
  CHECK(batch.text.find("replica") == std::string::npos);
}

}  // namespace test_inference_decode_batch_shard
