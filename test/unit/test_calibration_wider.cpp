// The wider CALIBRATION rows on the chips added for issue 12 (A100: C13, C14; Gaudi 2: C31-C33),
// and TensorRT-LLM's trtllm-bench rows on H100 / H200 (C21, C23), through the binary as
// test_calibration.cpp does. Held out but for C13's copy and all-reduce and C32 (HCCL's base
// latency is fitted there): the A100 and Gaudi 2 inherit H100's matrix and HBM efficiencies
// (C1, C2), so these rows check that transfer.
// Known gaps are checked in the direction and size docs/validation.md gives.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <string>
#include <utility>

#include "cli_support.h"

namespace test_calibration_wider {

using llmsim_test::kRoot;
using llmsim_test::slurp;

namespace {

nlohmann::json run_summary(const std::string& topo, const std::string& wl, const std::string& extra = "") {
  char buf[] = "/tmp/llmsim-calw-XXXXXX";
  REQUIRE(::mkdtemp(buf) != nullptr);
  const std::string dir = buf;
  std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' run --quiet -t " + topo + " -w " + wl +
                    " " + extra + " -o '" + dir + "/out' >'" + dir + "/log' 2>&1";
  int s = std::system(cmd.c_str());
  int rc = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  INFO(slurp(dir + "/log"));
  REQUIRE(rc == 0);
  auto j = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  std::system(("rm -rf '" + dir + "'").c_str());
  return j;
}

double rel(double sim, double meas) { return sim / meas - 1.0; }

// HCCL's base latency (topologies/collectives/hccl.yaml protocols.simple), fitted on C32.
constexpr double kHcclBaseLatency = 38e-6;

}  // namespace

// C13 (Azure ND A100 v4): fp16 GEMM 16384^3 256.5 TFLOPS checks H100's 0.84 matrix
// efficiency on Ampere: within 10 % (the tile model's own C1 band is 2 %; another
// generation gets five times that). STREAM Copy 1.61 TB/s: the row the A100's HBM
// efficiency is fitted on (1.61 / 2.039 = 0.79; H100's 0.90 was 14 % optimistic on HBM2e),
// so tuned: within 1 % (the tier latency is the rest). All-reduce 8 GB 231.6 GB/s busbw: this
// row is the measurement NCCL's Simple share of NVLink comes from (nccl.yaml
// link_efficiency.nvlink = 231.6 / 300), so it is tuned: within 1 % (the protocol's
// latencies add ~70 us to a 65 ms all-reduce).
TEST_CASE("calibration C13: A100 GEMM (held out), STREAM copy and all-reduce (tuned)", "[calibration]") {
  auto s = run_summary("topologies/dgx-a100.yaml", "workloads/calibration/c13-a100.yaml");
  const auto& mb = s["microbench"];
  REQUIRE(mb.size() == 3);
  CHECK(std::abs(rel(mb[0]["tflops"].get<double>(), 256.5)) < 0.10);
  CHECK(std::abs(rel(mb[1]["bytes_per_s"].get<double>(), 1.61e12)) < 0.01);
  const double ar = rel(mb[2]["busbw_bytes_per_s"].get<double>(), 231.6e9);
  CHECK(std::abs(ar) < 0.01);
  CHECK(mb[2]["busbw_bytes_per_s"].get<double>() <= 300e9 * 1.001);  // never above the port
}

// C14 (TensorRT-LLM v0.5, 4 x A100, Llama 2 70B fp16, batch 1): TTFT 377 ms at 2,048 input
// tokens is compute-bound prefill, within 15 %. At 128 tokens (47 ms) the per-kernel and
// all-reduce fixed costs dominate and TensorRT-LLM v0.5's runtime overheads are not
// modelled: within 25 %, and optimistic.
TEST_CASE("calibration C14: A100 TP4 Llama 2 70B first-token latency (held out)", "[calibration]") {
  auto shortp = run_summary("topologies/dgx-a100.yaml", "workloads/calibration/c14-a100-llama2-70b-ttft.yaml");
  auto longp = run_summary("topologies/dgx-a100.yaml", "workloads/calibration/c14-a100-llama2-70b-ttft.yaml",
                           "--set workload.requests.prompt_tokens=2048");
  const double t128 = shortp["inference"]["ttft_s"]["p50"], t2048 = longp["inference"]["ttft_s"]["p50"];
  CHECK(std::abs(rel(t2048, 0.377)) < 0.15);
  CHECK(rel(t128, 0.047) < 0);
  CHECK(rel(t128, 0.047) > -0.25);
}

// C31 (Intel, 2 x Gaudi 2, Llama 2 70B fp8, batch 1750, 128/128): 2,844 output tokens/s.
// A static batch, the configuration fully published; the documented gap (docs/validation.md
// C31: the TP all-reduce at its wire bound, serial with compute) makes the row pessimistic,
// -15 %, so it is checked in that direction within 20 %.
// Its TP all-reduce time is the wire's: every request passes
// 128 prompt + 127 decode tokens through 80 layers x 2 all-reduces of hidden 8,192 in bf16,
// and a 2-rank all-reduce moves its whole message over the pair's 3 x 100 GbE each way, so
// the run's communication is 1,750 x 255 x 160 x 16,384 B / (37.5 GB/s x HCCL's 0.9 share)
// plus HCCL's fixed 38 us (hccl.yaml's base latency, fitted on C32) + 2 x 3 us per
// all-reduce (160 per iteration), 31.2 s of it at line rate. Within 1 %: a second pass over
// the data or one port instead of 3 fails.
TEST_CASE("calibration C31: Gaudi 2 x2 Llama 2 70B batch 1750 (held out)", "[calibration]") {
  auto s = run_summary("workloads/calibration/c31-gaudi2-2.topology.yaml",
                       "workloads/calibration/c31-gaudi2-llama2-70b.yaml");
  const double tput = rel(s["inference"]["output_tokens_per_s"].get<double>(), 2844);
  CHECK(tput < 0);
  CHECK(tput > -0.20);
  const double token_passes = 1750.0 * (128 + 127), per_token = 160.0 * 8192 * 2;
  const double iterations = s["inference"]["iterations"].get<double>();
  const double wire = token_passes * per_token / (3 * 12.5e9);
  const double expected = wire / 0.9 + iterations * 160 * (kHcclBaseLatency + 2 * 3e-6);
  const double comm = s["inference"]["time_split"]["communication_s"].get<double>();
  CHECK(std::abs(rel(comm, expected)) < 0.01);
  CHECK(comm > wire);  // never above the wire
}

// C32 (Intel, 8 x Gaudi 2 TP 8, Llama 2 70B fp8, batch 1; configuration "unverified" in
// CALIBRATION.md): first-token latency 26.93 ms at 128 input tokens, 116 ms at 2,048. The
// two points put ~21 ms of the TTFT in a fixed cost (26.93 - 128 x (116 - 26.93) / 1,920)
// and the rest in the per-token prefill work. The fixed cost is host time (optimum-habana's
// lazy mode records the eager prefill's ~900 ops before the device runs them,
// docs/software.md) and the 160 TP all-reduces' fixed latency: HCCL's base latency is
// fitted on these two rows (hccl.yaml, least squares: -1 % / +4 %), so they are tuned:
// within 6 %, and each all-reduce of the 128-token prefill (128 x 8,192 x 2 B = 2 MiB)
// takes at least that base latency, 160 of them per prefill.
TEST_CASE("calibration C32: Gaudi 2 TP8 Llama 2 70B first-token latency (tuned: HCCL base latency)", "[calibration]") {
  const std::string topo = "topologies/gaudi2-8.yaml", wl = "workloads/calibration/c32-gaudi2-llama2-70b-ttft.yaml";
  auto shortp = run_summary(topo, wl);
  auto longp = run_summary(topo, wl, "--set workload.requests.prompt_tokens=2048");
  const double t128 = shortp["inference"]["ttft_s"]["p50"], t2048 = longp["inference"]["ttft_s"]["p50"];
  CHECK(std::abs(rel(t2048, 0.116)) < 0.06);
  CHECK(std::abs(rel(t128, 0.02693)) < 0.06);
  CHECK(shortp["inference"]["time_split"]["communication_s"].get<double>() >= 160 * kHcclBaseLatency);
}

// C33 (Argonne LLM-Inference-Bench, 8 x Gaudi 2 TP 8, Llama 3 70B 16-bit, DeepSpeed-MII;
// held out): end to end 1.962 s at batch 1 and 3.488 s at batch 64, 128 in = 128 out. A
// batch-1 decode step reads 17.6 GB of bf16 weights per chip and runs 160 all-reduces of
// 16 KiB, so its fixed latency per step is what C32's fit sets; another group, another
// framework (run on optimum-habana's figures: no DeepSpeed-MII stack file), so it checks
// the fit: within 15 % at both batches (it read -22 % / -9 % before the fit).
TEST_CASE("calibration C33: Gaudi 2 TP8 Llama 3 70B end to end checks C32's HCCL fit (held out)", "[calibration]") {
  const std::string topo = "topologies/gaudi2-8.yaml", wl = "workloads/calibration/c27-c33-llama3-70b-tp8.yaml";
  for (const auto& c : {std::make_pair(1, 1.962), std::make_pair(64, 3.488)}) {
    INFO("batch " << c.first);
    auto s = run_summary(topo, wl, "--set workload.requests.count=" + std::to_string(c.first));
    // Every request arrives at t = 0: the run's makespan is the last request's end to end.
    CHECK(std::abs(rel(s["inference"]["e2e_s"]["max"].get<double>(), c.second)) < 0.15);
  }
}

// C21 / C23 (TensorRT-LLM perf overview, trtllm-bench max throughput, Llama 3.3 70B fp8, TP 2
// on 2 GPUs, every request at once): output tokens/s per GPU. The KV cache dtype, the
// capacity policy and the 8192/1024 request count are assumptions (the workload's comments).
// Documented errors (docs/validation.md, thirteenth landing): 1000/1000 H100 -3 %, H200
// -0.5 %; 8192/1024 H100 +8 %, H200 +4.4 %. Bands: the documented error +- 5 points (all
// inside +-15 %), so a 5-point move either way shows.
// The KV pool is TensorRT-LLM's rule, 0.9 of the memory the engine leaves per GPU
// (trt-llm.yaml kv_cache.budget): at most 0.9 x (HBM - the fp8 weight shard), the
// activation buffers taking under 5 % of that. The weights come from the Llama 3.1 70B shape
// (80 layers of q/o 8192^2, k/v 8192 x 1024, three 8192 x 28672 MLP matrices; untied
// 128256 x 8192 embedding and head), one byte each, halved by TP 2; KV 160 KiB a token.
namespace {

const char* const kTrtBench = "workloads/calibration/c21-c23-llama33-70b-trtllm-bench.yaml";
const char* const kH100x2 = "workloads/calibration/c21-h100-2.topology.yaml";
const char* const kH200x2 = "workloads/calibration/c23-h200-2.topology.yaml";
const char* const kLong = "--set workload.requests.count=1500 --set workload.requests.prompt_tokens=8192 "
                          "--set workload.requests.output_tokens=1024";
constexpr double kGiB = 1073741824.0;

// One row: every request completes, the per-GPU rate within 5 points of the documented
// error, and the KV pool inside TensorRT-LLM's rule for a GPU of `hbm` bytes.
void check_trtllm_bench(const char* topo, const std::string& sets, int requests, double hbm, double meas, double err) {
  const double weights = 80.0 * (2 * 8192.0 * 8192 + 2 * 8192.0 * 1024 + 3 * 8192.0 * 28672) + 2 * 128256.0 * 8192;
  const double kv_token = 80.0 * 2 * 8 * 128;  // layers x (K, V) x kv heads x head dim, fp8
  auto s = run_summary(topo, kTrtBench, sets);
  const auto& inf = s["inference"];
  CHECK(inf["completed"].get<int>() == requests);
  CHECK(std::abs(rel(inf["output_tokens_per_s"].get<double>() / 2, meas) - err) < 0.05);
  const double pool = inf["kv_blocks_per_engine"].get<double>() * inf["kv_block_tokens"].get<double>() * kv_token;
  const double rule = 2 * 0.9 * (hbm - weights / 2);
  CHECK(pool <= rule);
  CHECK(pool > 0.95 * rule);
}

}  // namespace

TEST_CASE("calibration C21: trtllm-bench 2x H100 Llama 3.3 70B fp8 1000/1000 (held out)", "[calibration]") {
  check_trtllm_bench(kH100x2, "", 3000, 80 * kGiB, 2209, -0.03);
}

TEST_CASE("calibration C23: trtllm-bench 2x H200 Llama 3.3 70B fp8 1000/1000 (held out)", "[calibration]") {
  check_trtllm_bench(kH200x2, "", 3000, 141 * kGiB, 2587, -0.005);
}

TEST_CASE("calibration C21: trtllm-bench 2x H100 Llama 3.3 70B fp8 8192/1024 (held out)", "[calibration]") {
  check_trtllm_bench(kH100x2, kLong, 1500, 80 * kGiB, 398, 0.08);
}

TEST_CASE("calibration C23: trtllm-bench 2x H200 Llama 3.3 70B fp8 8192/1024 (held out)", "[calibration]") {
  check_trtllm_bench(kH200x2, kLong, 1500, 141 * kGiB, 537, 0.044);
}

}  // namespace test_calibration_wider
