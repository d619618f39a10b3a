// CALIBRATION.md cases through the binary (docs/validation.md): each test runs one
// workloads/calibration/ file and checks the simulated figure against the published
// measurement with a tolerance justified next to it. Tuned cases (C1, C2, C3 end points,
// C9) use tight bands: they guard the fitted constants against drift. Held-out cases use the
// band the configuration's uncertainty allows; known gaps are checked in the direction and
// size documented, so fixing or worsening them shows up here.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cli_support.h"

namespace test_calibration {

using llmsim_test::kRoot;
using llmsim_test::slurp;

namespace {

// One run of llmsim from the source root into a fresh directory; removed on destruction.
struct Run {
  std::string dir;
  int rc = -1;
  std::string log;
  nlohmann::json summary;
  Run(const std::string& topo, const std::string& wl, const std::string& extra = "") {
    char buf[] = "/tmp/llmsim-cal-XXXXXX";
    REQUIRE(::mkdtemp(buf) != nullptr);
    dir = buf;
    std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' run --quiet -t " + topo + " -w " + wl +
                      " " + extra + " -o '" + dir + "/out' >'" + dir + "/log' 2>&1";
    int s = std::system(cmd.c_str());
    rc = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    log = slurp(dir + "/log");
    INFO(log);
    REQUIRE(rc == 0);
    summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  }
  ~Run() { std::system(("rm -rf '" + dir + "'").c_str()); }

  // requests.csv as rows of column -> text.
  std::vector<std::map<std::string, std::string>> requests() const {
    std::ifstream in(dir + "/out/requests.csv");
    std::string line;
    std::vector<std::string> cols;
    std::vector<std::map<std::string, std::string>> rows;
    auto split = [](const std::string& l) {
      std::vector<std::string> v;
      std::stringstream ss(l);
      std::string f;
      while (std::getline(ss, f, ',')) v.push_back(f);
      return v;
    };
    if (std::getline(in, line)) cols = split(line);
    while (std::getline(in, line)) {
      auto v = split(line);
      std::map<std::string, std::string> r;
      for (std::size_t i = 0; i < cols.size() && i < v.size(); ++i) r[cols[i]] = v[i];
      rows.push_back(r);
    }
    return rows;
  }

  // Output tokens per second generated between 20 % of the last arrival and the last
  // arrival (each request's tokens spread evenly from first token to finish): the
  // steady-state rate, without the warm-up and the drain after the last arrival
  // (scripts/validate steady_output_rate does the same).
  double steady_output_rate() const {
    auto rows = requests();
    double t1 = 0;
    for (auto& r : rows) t1 = std::max(t1, std::stod(r.at("arrival_s")));
    const double t0 = 0.2 * t1;
    double tok = 0;
    for (auto& r : rows) {
      if (r.at("status") != "completed") continue;
      const double f = std::stod(r.at("first_token_s")), e = std::stod(r.at("finish_s"));
      const double n = std::stod(r.at("output_tokens"));
      if (f >= t0 && f <= t1) tok += 1;
      if (n > 1 && e > f) tok += (n - 1) * std::max(0.0, std::min(e, t1) - std::max(f, t0)) / (e - f);
    }
    return tok / (t1 - t0);
  }
};

double rel(double sim, double meas) { return sim / meas - 1.0; }

}  // namespace

// C1 (tuned: H100 matrix_efficiency 0.84, tile_overhead_cycles 1024). 2 %: the fit landed at
// -0.1 %; a larger move means the GEMM model changed under the calibration. H200 is the same
// die and clock (held out): measured 769-798, band 769 x 0.98 .. 798 x 1.02.
TEST_CASE("calibration C1: bf16 GEMM 8192^3 on H100 and H200", "[calibration]") {
  Run h100("topologies/dgx-h100.yaml", "workloads/calibration/c1-gemm.yaml");
  const double t = h100.summary["microbench"][0]["tflops"];
  CHECK(std::abs(rel(t, 798)) < 0.02);
  Run h200("topologies/dgx-h200.yaml", "workloads/calibration/c1-gemm.yaml");
  const double t2 = h200.summary["microbench"][0]["tflops"];
  CHECK(t2 > 769 * 0.98);
  CHECK(t2 < 798 * 1.02);
}

// C2 (tuned on H100: HBM efficiency 0.90). "~3.0 TB/s" is quoted to two digits, so 3 %;
// H200 (held out, same efficiency, 4.8 TB/s HBM3e) "~4.3 TB/s": 5 %.
TEST_CASE("calibration C2: HBM copy on H100 and H200", "[calibration]") {
  Run h100("topologies/dgx-h100.yaml", "workloads/calibration/c2-copy.yaml");
  CHECK(std::abs(rel(h100.summary["microbench"][0]["bytes_per_s"].get<double>(), 3.0e12)) < 0.03);
  Run h200("topologies/dgx-h200.yaml", "workloads/calibration/c2-copy.yaml");
  CHECK(std::abs(rel(h200.summary["microbench"][0]["bytes_per_s"].get<double>(), 4.3e12)) < 0.05);
}

// C3: NVLS all-reduce busbw on DGX H100. The network model's two constants were fitted on the
// 1 MB (start-up) and 8 GB (efficiency) points; the middle sizes are held out and come from
// the collective library's NVLS slice fill (docs/models.md "Collective libraries": one
// slice of min(S/2, 16 MiB) not overlapped), so the brief's 15 % holds at every size (16 MB
// was +29 % with the start-up + efficiency pair alone).
TEST_CASE("calibration C3: NVLS all-reduce busbw, 1 MB .. 8 GB", "[calibration]") {
  Run r("topologies/dgx-h100.yaml", "workloads/calibration/c3-allreduce.yaml");
  const double meas[] = {43.7e9, 234.5e9, 400.6e9, 466.4e9, 478.9e9};
  const auto& mb = r.summary["microbench"];
  REQUIRE(mb.size() == 5);
  std::vector<double> bw;
  for (int i = 0; i < 5; ++i) bw.push_back(mb[i]["busbw_bytes_per_s"].get<double>());
  for (int i = 0; i < 5; ++i) {
    INFO("size index " << i);
    CHECK(std::abs(rel(bw[i], meas[i])) < 0.15);
  }
  for (int i = 1; i < 5; ++i) CHECK(bw[i] > bw[i - 1]);  // latency-bound to bandwidth-bound
}

// C5 (held out): MLPerf v4.1 Llama 2 70B Server on DGX H100, 21,606 tok/s. 25 %: the
// OpenOrca length mix is synthetic (only the output mean and the bounds are published) and
// the scheduler configuration is ours. The prompt mean is the longest whose KV fits
// TensorRT-LLM's pool at the measured point (docs/validation.md "C5"; longer prompts, e.g.
// the ~510 used before, need more KV than the HBM beside the weights holds): that bound is
// checked from the run's own requests and pool below. The model keeps up there; its TPOT
// is 43 % under the measurement (band -50 %: fp8 cost per token, docs/validation.md).
TEST_CASE("calibration C5: MLPerf Llama 2 70B server on DGX H100", "[calibration]") {
  Run r("topologies/dgx-h100.yaml", "workloads/calibration/c5-mlperf-llama2-70b-dgx-h100.yaml");
  const auto& i = r.summary["inference"];
  CHECK(i["completed"] == 24576);
  const double mean_out = i["output_tokens"].get<double>() / 24576;
  CHECK(std::abs(mean_out - 290) < 10);  // the stated OpenOrca mean (lognormal bounded at 1,024)
  CHECK(std::abs(rel(i["output_tokens_per_s"].get<double>(), 21606)) < 0.25);
  CHECK(std::abs(rel(r.steady_output_rate(), 21606)) < 0.25);
  const double tpot = i["tpot_s"]["mean"];
  CHECK(rel(tpot, 0.155) > -0.5);
  CHECK(rel(tpot, 0.155) < 0.25);
  // Little's law at the measured point (75/4 req/s per replica, TTFT 0.273 s, TPOT 0.155 s):
  // a sequence holds its prompt while it waits for its first token and prompt + tokens so
  // far while it decodes, so the KV in flight is rate x (TTFT x E[P] + TPOT x (E[P O] +
  // E[O^2] / 2)) tokens, each 80 layers x 8 KV heads x 128 x (K, V) x 1 byte of fp8 KV.
  double p = 0, po = 0, o2 = 0;
  const auto rows = r.requests();
  for (const auto& q : rows) {
    const double pt = std::stod(q.at("prompt_tokens")), ot = std::stod(q.at("output_tokens"));
    p += pt;
    po += pt * ot;
    o2 += ot * ot;
  }
  const double n = static_cast<double>(rows.size()), rate = 75.0 / 4;
  const double held = rate * (0.273 * p / n + 0.155 * (po / n + o2 / n / 2));
  const double pool = i["kv_blocks_per_engine"].get<double>() * i["kv_block_tokens"].get<double>();
  const double kv_token_bytes = 80 * 8 * 128 * 2;
  const double hbm_free = 2 * (80.0 * (1 << 30) - 68.98e9 / 2);  // two GPUs' HBM beside the fp8 weights
  CHECK(held <= pool);                         // the assumed prompts fit the pool ...
  CHECK(held > pool * 0.95);                   // ... and are the longest that do (within 5 %)
  CHECK(held * kv_token_bytes < hbm_free);     // the HBM beside the weights holds them
  CHECK(std::abs(p / n - 410) < 15);           // the documented realised prompt mean
}

// C6 (held out): MLPerf v4.1 Llama 2 70B Server on 8 x MI300X, 21,028 tok/s: throughput
// within 25 % as C5 (the model keeps up with the offered load, so this checks it does).
// Documented gap: TPOT and TTFT below the measurement (MI300X efficiencies transferred from
// H100; the run uses vLLM V0's unchunked scheduler, TPOT -28 %); the checks pin the gap's
// direction and size.
TEST_CASE("calibration C6: MLPerf Llama 2 70B server on 8x MI300X", "[calibration]") {
  Run r("topologies/mi300x-8.yaml", "workloads/calibration/c6-mlperf-llama2-70b-mi300x.yaml");
  const auto& i = r.summary["inference"];
  CHECK(i["completed"] == 24576);
  CHECK(std::abs(rel(i["output_tokens_per_s"].get<double>(), 21028)) < 0.25);
  CHECK(std::abs(rel(r.steady_output_rate(), 21028)) < 0.25);
  const double tpot = i["tpot_s"]["mean"];
  CHECK(tpot < 0.143);
  CHECK(tpot > 0.143 * 0.3);
}

// C7 (held out): 2 x Gaudi 3, batch 512, 128 in / 2,048 out, 6,026 tok/s. 20 %: vendor
// figure with the full configuration; the model gives +6 %.
TEST_CASE("calibration C7: Gaudi 3 x2 Llama 2 70B batch 512", "[calibration]") {
  Run r("workloads/calibration/c7-gaudi3-2.topology.yaml", "workloads/calibration/c7-gaudi3-llama2-70b.yaml");
  const auto& i = r.summary["inference"];
  CHECK(i["completed"] == 512);
  CHECK(std::abs(rel(i["output_tokens_per_s"].get<double>(), 6026)) < 0.20);
}

// C9 (tuned: the Tensix vector rate, one constant for three sizes). 25 % per size: the fit
// spans -15 % .. +18 % (a one-parameter model of a kernel whose per-score cost falls with n).
// Also: the time grows about with n^2 (x3.3 .. x4.5 per doubling, measured x3.3 and x3.5).
TEST_CASE("calibration C9: Grayskull QK^T + scale + softmax, n = 1024 / 2048 / 4096", "[calibration]") {
  Run r("workloads/calibration/c9-grayskull-8x8.topology.yaml", "workloads/calibration/c9-grayskull-attention.yaml");
  const auto& mb = r.summary["microbench"];
  REQUIRE(mb.size() == 12);
  const double meas[] = {0.174e-3, 0.573e-3, 2.0e-3};
  double t[3];
  for (int k = 0; k < 3; ++k) {
    t[k] = 0;
    for (int j = 0; j < 3; ++j) t[k] += mb[4 * k + j]["time_s"].get<double>();
    INFO("n = " << (1024 << k) << ": " << t[k] * 1e3 << " ms");
    CHECK(std::abs(rel(t[k], meas[k])) < 0.25);
  }
  for (int k = 1; k < 3; ++k) {
    CHECK(t[k] / t[k - 1] > 3.3);
    CHECK(t[k] / t[k - 1] < 4.5);
  }
}

// The 8 x 8 Grayskull file is the catalog's chip with units, chip-level peaks, vector rate and
// L1 scaled by 64/120: every other line must be the catalog's own.
TEST_CASE("calibration C9: 8x8 Grayskull device follows the catalog", "[calibration]") {
  auto lines = [](const std::string& p) {
    std::vector<std::string> v;
    std::ifstream in(kRoot + "/" + p);
    std::string l;
    while (std::getline(in, l))
      if (!l.empty() && l[0] != '#') v.push_back(l);
    return v;
  };
  auto cat = lines("topologies/devices/tenstorrent-grayskull-e150.yaml");
  auto der = lines("workloads/calibration/grayskull-e150-8x8.device.yaml");
  const std::vector<std::string> scaled = {"name:", "units:", "fp8:", "fp16:", "bf16:", "capacity: 120 MB",
                                           "capacity: 64 MB", "bandwidth: 36.9 TB/s", "bandwidth: 19.66 TB/s",
                                           "vector:", "# Vector ops", "# Vector ops run", "mesh_x:", "mesh_y:"};
  auto is_scaled = [&](const std::string& l) {
    auto s = l.find_first_not_of(' ');
    std::string t = s == std::string::npos ? "" : l.substr(s);
    for (auto& k : scaled)
      if (t.rfind(k, 0) == 0) return true;
    return false;
  };
  for (auto& l : cat) {
    if (is_scaled(l) || l.find("  # ") == 0) continue;  // scaled fields and the catalog's comment lines
    if (l.rfind("validation:", 0) == 0) continue;       // the catalog chip's own record (scripts/validate)
    INFO(l);
    CHECK(std::find(der.begin(), der.end(), l) != der.end());
  }
  // The scaled fields are the catalog's x 64 / 120 (0.5 %: they are written rounded).
  auto number_after = [](const std::vector<std::string>& v, const std::string& key) {
    for (auto& l : v) {
      auto p = l.find(key);
      if (p != std::string::npos && l.find_first_not_of(' ') == p) return std::stod(l.substr(p + key.size()));
    }
    return -1.0;
  };
  for (const char* k : {"units: ", "fp8: ", "fp16: ", "bf16: ", "vector: "}) {
    INFO(k);
    CHECK(number_after(der, k) / number_after(cat, k) == Approx(64.0 / 120).epsilon(0.005));
  }
}

// C10 (held out): tt-metal Llama 3.1 70B on 8 Wormhole (TP 8), batch 32: 15.9 tok/s per user,
// TTFT 159 ms. 20 % on the decode rate (weight streaming from GDDR dominates; the vector rate
// transferred from C9 moves it by 12 %), read as the README does: decode steps alone, i.e. the
// last user to get its first token (no prefill runs after it; every request arrives at once).
// TTFT is a documented gap (-23 % with a prefill's op-by-op dispatch): band -50 % .. +20 %.
TEST_CASE("calibration C10: Wormhole x8 Llama 3.1 70B decode batch 32", "[calibration]") {
  Run r("topologies/wormhole-t3000.yaml", "workloads/calibration/c10-wormhole-llama31-70b.yaml");
  const auto& i = r.summary["inference"];
  CHECK(i["completed"] == 32);
  double first_ttft = 1e9, first_tok = 1e9, last_tok = -1, last_tpot = 0;
  for (auto& q : r.requests()) {
    const double f = std::stod(q.at("first_token_s"));
    if (f < first_tok) first_tok = f, first_ttft = std::stod(q.at("ttft_s"));
    if (f > last_tok)
      last_tok = f, last_tpot = (std::stod(q.at("finish_s")) - f) / (std::stod(q.at("output_tokens")) - 1);
  }
  CHECK(std::abs(rel(1.0 / last_tpot, 15.9)) < 0.20);
  CHECK(rel(first_ttft, 0.159) > -0.5);
  CHECK(rel(first_ttft, 0.159) < 0.2);
}

// C11 (black box, a bound): Groq served Llama 2 7B at ~750 tok/s per user on an undisclosed
// number of LPUs; a GroqRack (72 LPUs) with the weights in SRAM must reach at least that.
TEST_CASE("calibration C11: Groq Llama 2 7B per-user rate is at least the measured bound", "[calibration]") {
  Run r("topologies/groqrack.yaml", "workloads/calibration/c11-groq-llama2-7b.yaml");
  const auto& i = r.summary["inference"];
  REQUIRE(i["completed"] == 4);
  CHECK(1.0 / i["tpot_s"]["mean"].get<double>() >= 750);
}

}  // namespace test_calibration
