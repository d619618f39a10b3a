// CALIBRATION C35 (Pope et al. 2022, PaLM 540B inference on 64 TPU v4, int8 weights), through
// the binary as test_calibration.cpp does. The decode file runs TP 16 x PP 4 (sensitivity
// rows in scripts/validate; the held-out decode row is the paper's 2-D layout,
// test_inference_decode_batch_shard.cpp), which misses by the documented gaps
// (docs/validation.md "C35"); the tests pin those gaps and the two mechanisms behind the
// decode one, from closed forms. The prefill file runs the paper's weight-gathered layout
// (held out), and TP 16 x PP 4 as its sensitivity.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_calibration_c35 {

using llmsim_test::csv_column;
using llmsim_test::make_tmpdir;
using llmsim_test::run_llmsim;
using llmsim_test::slurp;

namespace {

const std::string kTopo = "topologies/tpu-v4-4x4x4.yaml";
const std::string kDecode = "workloads/calibration/c35-palm-540b-tpu-v4-decode.yaml";
const std::string kPrefill = "workloads/calibration/c35-palm-540b-tpu-v4-prefill.yaml";
// PaLM 540B from models/palm-540b.yaml's shapes: 118 x (Q + O + one K/V head + SwiGLU MLP)
// plus the shared 256k-row embedding (540.35e9, the paper's count).
constexpr double kHidden = 18432;
const double kParams = 118 * (2 * kHidden * 12288 + 2 * kHidden * 256 + 3 * kHidden * 73728) + 256000 * kHidden;
// TPU v4 HBM as the catalog gives it: 1.2 TB/s at the inherited 0.90 efficiency.
constexpr double kHbm = 1200e9 * 0.90;

struct C35Run {
  nlohmann::json summary;
  double last_first_token = 0, last_finish = 0, last_outputs = 0;  // the request whose first token came last
  double makespan = 0;
};

C35Run run(const std::string& wl, const std::string& sets) {
  const std::string dir = make_tmpdir("c35");
  const int rc =
      run_llmsim("run --quiet -t " + kTopo + " -w " + wl + " " + sets + " -o '" + dir + "/out'", dir + "/log");
  INFO(slurp(dir + "/log"));
  REQUIRE(rc == 0);
  C35Run r;
  r.summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  const std::string csv = slurp(dir + "/out/requests.csv");
  const auto first = csv_column(csv, "first_token_s"), finish = csv_column(csv, "finish_s");
  const auto outputs = csv_column(csv, "output_tokens");
  for (std::size_t i = 0; i < first.size(); ++i) {
    r.makespan = std::max(r.makespan, finish[i]);
    if (first[i] >= r.last_first_token) {
      r.last_first_token = first[i];
      r.last_finish = finish[i];
      r.last_outputs = outputs[i];
    }
  }
  std::system(("rm -rf '" + dir + "'").c_str());
  return r;
}

// Seconds per token of the last request's decode steps (scripts/validate steady_decode_tpot).
double decode_tpot(const C35Run& r) { return (r.last_finish - r.last_first_token) / (r.last_outputs - 1); }

double rel(double sim, double meas) { return sim / meas - 1.0; }

}  // namespace

// Decode, 29 ms a token. Batch 64 (recalled from the paper): documented +109 %, so 1.8x to
// 2.4x: a 64-way layout or batch-sharded attention would land below it. Mechanisms:
// - PP 4 runs the stages one after another: each chip of a stage reads its 8.44 GB (1/64 of
//   540.35 GB of int8 weights), the four stages in turn: 4 x 8.44 GB at 1.08 TB/s = 31.3 ms.
//   Above it by host (1 ms a step), 118 all-reduces and per-op latencies: at most 25 %.
// - Multi-query K/V replicated on the 16 TP ranks: each rank of a stage reads all 64
//   sequences' K/V of its layers, so 1,920 more context tokens cost 64 x 1,920 x 118 layers
//   x 1 KiB (K and V of one 256-wide bf16 head) / 1.08 TB/s = 13.7 ms a step: within 10 %
//   (attention's own compute grows with the context too). K/V sharded over the batch on the
//   16 ranks would be 1/16 of it.
TEST_CASE("calibration C35: PaLM 540B decode on 64 TPU v4 in TP 16 x PP 4 (documented gap)", "[calibration]") {
  const auto b64 = run(kDecode, "");
  CHECK(decode_tpot(b64) / 0.029 > 1.8);
  CHECK(decode_tpot(b64) / 0.029 < 2.4);

  const auto b1 = run(kDecode, "--set workload.requests.count=1 --set workload.scheduler.max_batch=1");
  const double weights = 4 * (kParams / 64) / kHbm;
  CHECK(decode_tpot(b1) > weights);
  CHECK(decode_tpot(b1) < 1.25 * weights);

  // Per decode step: (run of 64 tokens - run of 2) / 62 steps, at prompts 1,984 and 64.
  auto step = [](const std::string& prompt) {
    const std::string p = "--set workload.requests.prompt_tokens=" + prompt;
    const auto longer = run(kDecode, p), shorter = run(kDecode, p + " --set workload.requests.output_tokens=2");
    return (longer.summary["sim_time_s"].get<double>() - shorter.summary["sim_time_s"].get<double>()) / 62;
  };
  const double kv = 64.0 * 1920 * 118 * 1024 / kHbm;
  CHECK(std::abs(rel(step("1984") - step("64"), kv)) < 0.10);
}

// Prefill, 76 % MFU at batch 512 x 2,048: MFU = 2 x params x prompt tokens / (makespan x 64
// x 275 TFLOPS). In the paper's weight-gathered layout (held out): within 15 %. In TP 16 x
// PP 4 (weight-stationary), documented -25 %: TP all-reduces after their GEMMs (22 % of the
// time), activations that grow with the batch where the gathered layout moves the weights:
// between -35 % and -15 %.
TEST_CASE("calibration C35: PaLM 540B prefill MFU on 64 TPU v4, weight-gathered and weight-stationary",
          "[calibration]") {
  const auto gathered = run(kPrefill, "");
  const double mfu = 2 * kParams * 512 * 2047 / (gathered.makespan * 64 * 275e12);
  CHECK(std::abs(rel(mfu, 0.76)) < 0.15);
  CHECK(gathered.summary["inference"]["completed"].get<int>() == 512);
  const auto stationary = run(kPrefill,
                              "--set workload.parallelism.tp=16 --set workload.parallelism.pp=4"
                              " --set workload.parallelism.pipeline_engines=4"
                              " --set workload.parallelism.weights=stationary"
                              " --set workload.scheduler.max_batched_tokens=16384");
  const double mfu_stationary = 2 * kParams * 512 * 2047 / (stationary.makespan * 64 * 275e12);
  CHECK(rel(mfu_stationary, 0.76) < -0.15);
  CHECK(rel(mfu_stationary, 0.76) > -0.35);
}

}  // namespace test_calibration_c35
