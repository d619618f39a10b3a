// The MI300X serving rows beside C6 (C24-C28: AMD's and Azure's vLLM throughput runs, AMD's
// and Argonne's batch-1 latency runs), through the binary as test_calibration.cpp does. All
// held out: the MI300X inherits H100's matrix and HBM efficiencies and NCCL's protocol
// figures (rccl.yaml), so these rows check that transfer. Known gaps are checked in the
// direction and size docs/validation.md gives, so fixing or worsening them shows up here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_calibration_mi300x {

using llmsim_test::kRoot;
using llmsim_test::slurp;

namespace {

const char* const kMi300x = "topologies/mi300x-8.yaml";

// One run; the summary and the latest finish minus the first arrival (requests.csv).
struct Result {
  nlohmann::json summary;
  double makespan = 0;
};

Result run(const std::string& wl, const std::string& extra = "") {
  char buf[] = "/tmp/llmsim-calm-XXXXXX";
  REQUIRE(::mkdtemp(buf) != nullptr);
  const std::string dir = buf;
  std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' run --quiet -t " + kMi300x + " -w " +
                    wl + " " + extra + " -o '" + dir + "/out' >'" + dir + "/log' 2>&1";
  int s = std::system(cmd.c_str());
  int rc = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  INFO(slurp(dir + "/log"));
  REQUIRE(rc == 0);
  Result r;
  r.summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  // requests.csv: arrival_s and finish_s columns by header name.
  std::ifstream in(dir + "/out/requests.csv");
  std::string header, line;
  std::getline(in, header);
  auto col = [&header](const std::string& name) {
    int i = 0;
    std::size_t from = 0;
    for (std::size_t at; (at = header.find(',', from)) != std::string::npos; from = at + 1, ++i)
      if (header.substr(from, at - from) == name) return i;
    return header.substr(from) == name ? i : -1;
  };
  const int ca = col("arrival_s"), cf = col("finish_s");
  REQUIRE(ca >= 0);
  REQUIRE(cf >= 0);
  double first = 1e300, last = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::size_t from = 0;
    for (std::size_t at; (at = line.find(',', from)) != std::string::npos; from = at + 1)
      f.push_back(line.substr(from, at - from));
    f.push_back(line.substr(from));
    first = std::min(first, std::stod(f[static_cast<std::size_t>(ca)]));
    last = std::max(last, std::stod(f[static_cast<std::size_t>(cf)]));
  }
  r.makespan = last - first;
  std::system(("rm -rf '" + dir + "'").c_str());
  return r;
}

double rel(double sim, double meas) { return sim / meas - 1.0; }

}  // namespace

// C25 (AMD, vLLM latency, Llama 3.1 70B fp8, TP 8, batch 1, 128 in / 2,048 out): 15.88 s end
// to end, 7.75 ms a token. Within 15 %: AMD's own stack, the configuration fully given.
// A batch-1 token is the weight stream (8.8 GB per GPU: 1.66 ms at 5.3 TB/s) plus fixed
// costs (720 kernels' device-side start, 160 all-reduces, the host step), so this row pins
// those fixed costs; C27 below runs the same chip with the same fixed costs.
TEST_CASE("calibration C25: MI300X TP8 Llama 3.1 70B fp8 batch 1 (held out)", "[calibration]") {
  Result r = run("workloads/calibration/c25-mi300x-llama31-70b.yaml");
  CHECK(std::abs(rel(r.makespan, 15.88)) < 0.15);
  // Physics floor: no token faster than its weight bytes at the HBM's peak rate.
  const double per_gpu_weights = 70.6e9 / 8;  // Llama 3.1 70B, 1 B per fp8 weight
  CHECK(r.summary["inference"]["tpot_s"]["mean"].get<double>() > per_gpu_weights / 5.3e12);
}

// C27 (Argonne LLM-Inference-Bench, vLLM, Llama 3 70B 16-bit, TP 8, 128/128): 3.252 s at
// batch 1, 7.746 s at batch 64. Documented gap (docs/validation.md): 25 ms a token measured,
// where AMD's own vLLM run of the same chip (C25) needs 7.75 ms at fp8, i.e. about 9.6 ms at
// 16 bits (the weight stream doubles: +1.66 ms at 5.3 TB/s); the rest is the benchmark's
// software setup, which CALIBRATION.md does not give. Checked: optimistic, by less than 3x
// at batch 1 and less than 4x at batch 64; and the model's batch-1 token stays within 15 %
// of the C25-derived 9.6 ms + 1.66 ms x (5.3 / achieved) estimate below.
TEST_CASE("calibration C27: MI300X TP8 Llama 3 70B 16-bit, batch 1 and 64 (held out, documented gap)",
          "[calibration]") {
  const std::string wl = "workloads/calibration/c27-c33-llama3-70b-tp8.yaml";
  Result b1 = run(wl), b64 = run(wl, "--set workload.requests.count=64");
  CHECK(rel(b1.makespan, 3.252) < 0);
  CHECK(b1.makespan > 3.252 / 3);
  CHECK(rel(b64.makespan, 7.746) < 0);
  CHECK(b64.makespan > 7.746 / 4);
  // Same chain as C25 with twice the weight bytes: C25's measured 7.75 ms a token plus the
  // extra 8.8 GB per GPU at HBM peak (a lower bound on its cost) .. at 80 % of peak.
  const double extra_bytes = 70.6e9 / 8;
  const double lo = 15.88 / 2048 + extra_bytes / 5.3e12, hi = 15.88 / 2048 + extra_bytes / (0.8 * 5.3e12);
  const double tpot = b1.summary["inference"]["tpot_s"]["mean"];
  CHECK(tpot > 0.85 * lo);
  CHECK(tpot < 1.15 * hi);
}

// C28 (Azure AI-benchmarking-guide, ND MI300X v5, vLLM, 1,000 requests, Llama 3.1 70B fp8,
// TP 8): 9,026 / 12,204 / 7,421 output tokens/s at 128/128, 128/2,048, 2,048/2,048. Within
// 20 %: the guide does not state vLLM's max-num-seqs or KV dtype, so the workload takes
// vLLM's defaults (256, the model's 16-bit activations); the run with every request in one
// batch is 40-50 % faster, so the assumption alone spans more than 15 %.
TEST_CASE("calibration C28: MI300X TP8 Llama 3.1 70B fp8 vLLM throughput (held out)", "[calibration]") {
  const std::string wl = "workloads/calibration/c28-mi300x-llama31-70b-azure.yaml";
  const int in[] = {128, 128, 2048}, out[] = {128, 2048, 2048};
  const double meas[] = {9026, 12204, 7421};
  for (int k = 0; k < 3; ++k) {
    Result r = run(wl, "--set workload.requests.prompt_tokens=" + std::to_string(in[k]) +
                           " --set workload.requests.output_tokens=" + std::to_string(out[k]));
    const double tps = r.summary["inference"]["output_tokens_per_s"];
    INFO(in[k] << "/" << out[k] << ": " << tps << " tokens/s");
    CHECK(std::abs(rel(tps, meas[k])) < 0.20);
  }
}

// C24 / C26 (AMD, vLLM throughput with max-num-seqs = the prompt count, fp8 weights and KV):
// documented gap, optimistic. At 500-3,200 sequences a step the model charges about 40 us
// per sequence (15 us host, GEMM rows, the KV read, the all-reduce bytes) where the
// measurement implies about 75 us (docs/validation.md); no MI300X figure here says which
// part. Checked: faster than measured, by less than 2x (issue 12's bound).
TEST_CASE("calibration C24 C26: MI300X TP8 vLLM throughput at max-num-seqs = prompts (documented gap)",
          "[calibration]") {
  const std::string wl = "workloads/calibration/c24-c26-mi300x-vllm-throughput.yaml";
  struct Case {
    std::string sets;
    double meas;
  };
  const std::string r405 = "--set workload.model=llama-3.1-405b ";
  const Case cases[] = {{"", 13212},
                        {r405 + "--set workload.requests.count=1500 --set workload.scheduler.max_batch=1500", 4201.7},
                        {r405 + "--set workload.requests.count=500 --set workload.scheduler.max_batch=500 "
                                "--set workload.requests.prompt_tokens=2048",
                         2153.7}};
  for (const Case& c : cases) {
    Result r = run(wl, c.sets);
    const double tps = r.summary["inference"]["output_tokens_per_s"];
    INFO(c.sets << ": " << tps << " tokens/s");
    CHECK(tps > c.meas);
    CHECK(tps < 2 * c.meas);
  }
}

}  // namespace test_calibration_mi300x
