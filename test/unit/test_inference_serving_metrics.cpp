// [inference][cli16] Serving metrics users of vLLM's benchmark scripts expect (issue 16):
// SLO attainment and goodput, p95, the inter-token latency distribution, per-request
// detail in requests.csv. Runs the binary; expectations are derived from requests.csv.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_inference_serving_metrics {

using namespace llmsim_test;

namespace {

// A scratch directory removed when the test case ends (the progress run writes 200k rows).
struct Scratch {
  std::string path;
  explicit Scratch(const std::string& tag) : path(make_tmpdir(tag)) {}
  ~Scratch() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// requests.csv as rows of {column name: text}.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> cols;
  auto split = [](const std::string& l) {
    std::vector<std::string> v;
    std::stringstream ss(l);
    std::string f;
    while (std::getline(ss, f, ',')) v.push_back(f);
    if (!l.empty() && l.back() == ',') v.push_back("");
    return v;
  };
  cols = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    auto f = split(line);
    REQUIRE(f.size() == cols.size());
    std::map<std::string, std::string> r;
    for (std::size_t i = 0; i < cols.size(); ++i) r[cols[i]] = f[i];
    rows.push_back(r);
  }
  return rows;
}

double num(const std::map<std::string, std::string>& r, const std::string& k) {
  REQUIRE(r.count(k));
  return std::stod(r.at(k));
}

// A bursty load on one H100, so latencies spread around the SLO bounds.
std::string serving_run(const std::string& dir, const std::string& slo, const std::string& extra = "") {
  std::ofstream(dir + "/t.yaml") << "device: nvidia-h100-sxm\ncount: 1\n";
  std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\n" << slo
                                 << "requests: {count: 200, arrival: gamma, cv: 3, rate: 25/s, prompt_tokens: "
                                    "{dist: uniform, min: 100, max: 3000}, output_tokens: {dist: uniform, min: 1, "
                                    "max: 300}, seed: 3}\n";
  Outcome o = run_cli("run --quiet -t " + dir + "/t.yaml -w " + dir + "/w.yaml -o " + dir + "/o " + extra);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  return dir + "/o";
}

nlohmann::json inference(const std::string& out) { return nlohmann::json::parse(slurp(out + "/summary.json"))["inference"]; }

}  // namespace

TEST_CASE("SLO attainment and goodput match requests.csv, p95 and itl_s are reported", "[inference][cli16]") {
  const double kTtft = 0.25, kTpot = 0.015;
  Scratch scratch("slo");
  const std::string& dir = scratch.path;
  std::string out = serving_run(dir, "slo: {ttft: 250 ms, tpot: 15 ms}\n");
  auto s = inference(out);
  INFO(s.dump());
  // Independently from requests.csv: which completed requests meet each bound.
  auto rows = read_csv(out + "/requests.csv");
  double completed = 0, ttft_ok = 0, tpot_ok = 0, good = 0, good_tokens = 0, first_arrival = 1e300, last_finish = 0;
  double decode_sum = 0, gaps = 0;
  for (const auto& r : rows) {
    first_arrival = std::min(first_arrival, num(r, "arrival_s"));
    if (r.at("status") != "completed") continue;
    ++completed;
    last_finish = std::max(last_finish, num(r, "finish_s"));
    bool a = num(r, "ttft_s") <= kTtft, b = num(r, "tpot_s") <= kTpot;
    ttft_ok += a;
    tpot_ok += b;
    if (a && b) {
      ++good;
      good_tokens += num(r, "output_tokens");
    }
    decode_sum += num(r, "finish_s") - num(r, "first_token_s");
    gaps += num(r, "output_tokens") - 1;
  }
  REQUIRE(completed == 200);
  const auto& slo = s["slo"];
  CHECK(slo["ttft_s"].get<double>() == Approx(kTtft));
  CHECK(slo["tpot_s"].get<double>() == Approx(kTpot));
  CHECK(slo["ttft_attainment"].get<double>() == Approx(ttft_ok / completed));
  CHECK(slo["tpot_attainment"].get<double>() == Approx(tpot_ok / completed));
  CHECK(slo["attainment"].get<double>() == Approx(good / completed));
  // The bounds sit inside the spread, so attainment says something.
  CHECK(good > 0);
  CHECK(good < completed);
  double span = last_finish - first_arrival;
  CHECK(slo["goodput_rps"].get<double>() == Approx(good / span).epsilon(1e-6));
  CHECK(slo["goodput_tokens_per_s"].get<double>() == Approx(good_tokens / span).epsilon(1e-6));

  for (const char* k : {"ttft_s", "tpot_s", "e2e_s", "itl_s"}) {
    INFO(k);
    const auto& d = s[k];
    CHECK(d["p90"].get<double>() <= d["p95"].get<double>());
    CHECK(d["p95"].get<double>() <= d["p99"].get<double>());
    CHECK(d["p99"].get<double>() <= d["max"].get<double>());
  }
  // Every decode step of every request is one gap: with all requests completed, the gaps
  // of a request add up to its finish - first token.
  CHECK(s["itl_s"]["mean"].get<double>() == Approx(decode_sum / gaps).epsilon(1e-6));
  // A request's TPOT is the mean of its gaps, so no TPOT exceeds the largest gap.
  CHECK(s["itl_s"]["max"].get<double>() >= s["tpot_s"]["max"].get<double>());
}

TEST_CASE("without slo: no slo block, a bad slo is an input error at the field", "[inference][cli16]") {
  Scratch scratch("slo");
  const std::string& dir = scratch.path;
  std::string out = serving_run(dir, "");
  CHECK_FALSE(inference(out).contains("slo"));
  std::ofstream(dir + "/bad.yaml") << "kind: inference\nmodel: llama-3.1-8b\nslo: {ttft: 0 s}\n"
                                      "requests: {count: 1, arrival: at-once, prompt_tokens: 10, output_tokens: 2}\n";
  one_error_line(run_cli("run --quiet -t " + dir + "/t.yaml -w " + dir + "/bad.yaml -o " + dir + "/b"),
                 "slo.ttft: must be > 0");
  std::ofstream(dir + "/typo.yaml") << "kind: inference\nmodel: llama-3.1-8b\nslo: {tfft: 1 s}\n"
                                       "requests: {count: 1, arrival: at-once, prompt_tokens: 10, output_tokens: 2}\n";
  one_error_line(run_cli("run --quiet -t " + dir + "/t.yaml -w " + dir + "/typo.yaml -o " + dir + "/b"),
                 "unknown field 'tfft'");
}

TEST_CASE("requests.csv per-request detail: replica, queue_s, prefill_s, decode_s, preemptions", "[inference][cli16]") {
  Scratch scratch("reqcols");
  const std::string& dir = scratch.path;
  // Two tp-4 replicas on a DGX H100; a small KV share (memory_utilization) so that bursts
  // preempt sequences.
  std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nparallelism: {tp: 4}\n"
                                    "scheduler: {memory_utilization: 0.07}\n"
                                    "requests: {count: 300, arrival: gamma, cv: 3, rate: 40/s, prompt_tokens: "
                                    "{dist: uniform, min: 500, max: 4000}, output_tokens: {dist: uniform, min: 1, "
                                    "max: 800}, seed: 5}\n";
  Outcome o = run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + dir + "/w.yaml -o " + dir + "/o");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  auto s = inference(dir + "/o");
  std::string header = slurp(dir + "/o/requests.csv").substr(0, slurp(dir + "/o/requests.csv").find('\n'));
  CHECK(header == "id,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,status,"
                  "replica,queue_s,prefill_s,decode_s,preemptions,cached_tokens,retries,retry_lost_s");
  auto rows = read_csv(dir + "/o/requests.csv");
  REQUIRE(rows.size() == 300);
  double preemptions = 0;
  std::set<long> replicas;
  for (const auto& r : rows) {
    INFO("request " << r.at("id"));
    REQUIRE(r.at("status") == "completed");
    // Printed with 9 decimals: sums of rounded values are within one unit of the last digit.
    CHECK(std::fabs(num(r, "queue_s") + num(r, "prefill_s") - num(r, "ttft_s")) <= 1e-9 + 1e-12);
    CHECK(std::fabs(num(r, "ttft_s") + num(r, "decode_s") - num(r, "e2e_s")) <= 1e-9 + 1e-12);
    CHECK(num(r, "queue_s") >= 0);
    CHECK(num(r, "prefill_s") > 0);
    CHECK(num(r, "decode_s") >= 0);
    replicas.insert(std::stol(r.at("replica")));
    preemptions += num(r, "preemptions");
  }
  // Round-robin over the two replicas; per-request preemptions add up to the run's.
  CHECK(replicas == std::set<long>{0, 1});
  CHECK(preemptions == s["preemptions"].get<double>());
  CHECK(preemptions > 0);
}

TEST_CASE("a KV cache that cannot hold even the smallest request is infeasible (exit 3, the arithmetic)", "[inference][cli16]") {
  Scratch scratch("kvsmall");
  const std::string& dir = scratch.path;
  std::ofstream(dir + "/t.yaml") << "device: nvidia-h100-sxm\ncount: 1\n";
  std::ofstream(dir + "/t.csv") << "arrival_s,prompt_tokens,output_tokens\n0,3000,100\n0.1,2500,50\n";
  auto workload = [&](const std::string& mu) {
    std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nscheduler: {memory_utilization: "
                                   << mu << "}\ntrace: {file: " << dir << "/t.csv, format: csv}\n";
    return run_cli("run --quiet -t " + dir + "/t.yaml -w " + dir + "/w.yaml -o " + dir + "/o");
  };
  // 19.8 % of 80 GiB (85.9 GB) less 16 GB of weights and the activations leaves under 2550
  // tokens of KV.
  Outcome o = workload("0.198");
  INFO(o.text);
  CHECK(o.rc == 3);
  // Llama 3.1 8B, bf16 KV: 2 (K, V) x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 B/token.
  CHECK(o.text.find("llmsim: infeasible: gpu0: the KV cache cannot hold even the smallest request (id 1: 2500 prompt + "
                    "50 output = 2550 tokens x 131 kB/token = 334 MB) but the free KV memory is ") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(o.text, m, std::regex(R"(= (\d+) blocks of 16 tokens \((\d+) tokens\))")));
  CHECK(std::stol(m[1]) * 16 == std::stol(m[2]));
  CHECK(std::stol(m[2]) < 2550);
  CHECK(!exists(dir + "/o/summary.json"));
  // A little more memory: the smaller request fits, the larger one is rejected, exit 0.
  o = workload("0.2");
  CHECK(o.rc == 0);
  auto s = inference(dir + "/o");
  CHECK(s["completed"] == 1);
  CHECK(s["rejected"] == 1);
}

TEST_CASE("serving progress shows requests done / total and an ETA", "[inference][cli16]") {
  // The line starts after 2 s of wall time; LLMSIM_PROGRESS_AFTER_S=0 starts it at the first
  // check (4,096 events, ~1.3k requests done here), so a run well under 2 s still shows one.
  Scratch scratch("progress");
  const std::string& dir = scratch.path;
  std::ofstream(dir + "/t.yaml") << "device: nvidia-h100-sxm\ncount: 1\n";
  std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\nrequests: {count: 20000, arrival: poisson, "
                                    "rate: 40/s, prompt_tokens: 500, output_tokens: 200}\n";
  setenv("LLMSIM_PROGRESS_AFTER_S", "0", 1);
  Outcome o = run_cli("run --progress -t " + dir + "/t.yaml -w " + dir + "/w.yaml -o " + dir + "/o");
  unsetenv("LLMSIM_PROGRESS_AFTER_S");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  std::regex line(R"(\rllmsim: sim [0-9.]+ s \| ([0-9.]+)k/20\.0k requests \| [^\r\n]* \| ETA [0-9]+:[0-9]{2})");
  std::vector<double> done;
  for (auto it = std::sregex_iterator(o.text.begin(), o.text.end(), line); it != std::sregex_iterator(); ++it)
    done.push_back(std::stod((*it)[1]));
  REQUIRE(!done.empty());
  CHECK(std::is_sorted(done.begin(), done.end()));
  CHECK(done.back() < 20.0);
}

}  // namespace test_inference_serving_metrics
