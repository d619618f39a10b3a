// [inference] Serving on the op-graph executor: an iteration alone lasts what the lowering
// says, and a disaggregated KV hand-off (a paged read of the sender's HBM on its copy
// engine) slows the sender's next iteration by the HBM share it takes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_support.h"
#include "sim/llm/model.h"
#include "sim/spec/chip.h"
#include "sim/workloads/inference/lowering.h"

namespace test_inference_executor {

using namespace llmsim;
using llmsim_test::kRoot;

namespace {

// Replica 0 (the prefill pool) serves A (an 8,000-token prompt, the whole iteration budget)
// at t = 0, then B (32 tokens), which arrived during A's iteration, right after it. With
// `a_output` >= 2 A's KV moves to a decode replica while B's iteration runs; with 1 A ends
// at its prefill and nothing moves. Returns B's first token minus A's: B's iteration.
double b_iteration(const std::string& dir, int a_output) {
  const std::string trace = dir + "/t.csv", wl = dir + "/w.yaml", out = dir + "/o";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0,8000," << a_output << "\n0.001,32,1\n";
  // `software: none`: the device executor alone, without a stack's host work (docs/software.md).
  std::ofstream(wl) << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nsoftware: none\nparallelism: {tp: 1, pp: 1}\n"
                    << "scheduler: {max_batched_tokens: 8000}\ndisaggregation: {prefill_replicas: 1}\n"
                    << "trace: {file: " << trace << ", format: csv}\n";
  REQUIRE(llmsim_test::run_llmsim("run --quiet -t topologies/dgx-h100.yaml -w " + wl + " -o " + out, dir + "/log") == 0);
  std::istringstream in(llmsim_test::slurp(out + "/requests.csv"));
  std::string line;
  std::getline(in, line);
  double first[2] = {0, 0};
  for (int i = 0; i < 2 && std::getline(in, line); ++i) {
    double arrival = 0;
    long long id = 0, p = 0, o = 0;
    REQUIRE(std::sscanf(line.c_str(), "%lld,%lf,%lld,%lld,%lf", &id, &arrival, &p, &o, &first[i]) == 5);
  }
  return first[1] - first[0];
}

InferenceConfig llama8b_bf16() {
  InferenceConfig c;
  c.model = load_model_ref("llama-3.1-8b");
  c.dtype = c.kv_dtype = "bf16";
  return c;
}

}  // namespace

TEST_CASE("executor: an iteration alone lasts the lowering's stage cost", "[inference]") {
  std::string dir = llmsim_test::make_tmpdir("exec");
  const double alone = b_iteration(dir, 1);
  ChipCatalog cat(kRoot + "/topologies/devices");
  InferenceConfig cfg = llama8b_bf16();
  Lowering low(cfg, cat.get("nvidia-h100-sxm"));
  IterationShape b;
  b.prefill.push_back({32, 32});
  b.emitting = 1;
  // One stage, no TP collectives, nothing else on the device: the stage's ops back to back.
  CHECK(alone == Approx(low.stage_cost(b, 0).compute).epsilon(1e-6));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("executor: a KV hand-off's HBM read slows the sender's next iteration by its share", "[inference]") {
  std::string dir = llmsim_test::make_tmpdir("exec");
  const double alone = b_iteration(dir, 1), overlapped = b_iteration(dir, 2);
  ChipCatalog cat(kRoot + "/topologies/devices");
  const ChipSpec& h100 = cat.get("nvidia-h100-sxm");
  const MemoryTierSpec* hbm = h100.tier("hbm");
  const double C = hbm->bandwidth * hbm->efficiency;  // sustained HBM bytes/s
  InferenceConfig cfg = llama8b_bf16();
  const ModelSpec& m = cfg.model;
  // A's KV: K and V of every layer and KV head, bf16, 8,000 tokens, read as paged blocks:
  // the tier serves them at paged_efficiency of its streaming rate, so the read is kv / e
  // of sequential-equivalent tier work.
  const double kv = 2.0 * m.layers * m.kv_heads * m.head_dim * 2.0 * 8000 / hbm->paged_efficiency;
  // B's 32-token iteration streams what its ops read and write from HBM (every op of an
  // H100 streams HBM), mostly the bf16 weights once: alone it draws r of the HBM.
  IterationShape b;
  b.prefill.push_back({32, 32});
  b.emitting = 1;
  const StageCost cost = Lowering(cfg, h100).stage_cost(b, 0);
  const double r = cost.bytes / alone;
  CHECK(cost.bytes > (m.params() - m.embedding_params()) * 2.0);  // at least the streamed weights
  INFO("alone " << alone << " s, overlapped " << overlapped << " s, HBM draw " << r / C << " of sustained");
  REQUIRE(r > C / 2);  // the copy then splits HBM evenly with the iteration (max-min fair)
  REQUIRE(2 * kv / C < alone);  // and finishes inside it
  // While the copy runs (2 kv / C), each gets C/2: the iteration progresses at C / (2 r) of
  // its pace and loses 2 kv / C - kv / r.
  const double expected = 2 * kv / C - kv / r;
  CHECK(overlapped - alone == Approx(expected).epsilon(0.02));
  CHECK(overlapped - alone > 0.5 * kv / C);  // at least half the copy's own HBM time
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace test_inference_executor
