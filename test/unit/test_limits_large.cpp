// Large inputs (docs/testing.md "Large inputs"): a 65,536-device topology and a
// 1,000,000-request synthetic trace either run within the up-front memory estimate
// (sim/engine/resource_guard.h) or are refused before anything is allocated, with exit 3
// and the estimate; never an OOM kill. The two full runs are [slow] (about 25 s and 100 s
// in Release on 2 cores) and so left out of the sanitizer run.
#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/engine/resource_guard.h"
#include "sim/engine/workload.h"

#include "cli_support.h"

namespace test_limits_large {

using namespace llmsim;
using namespace llmsim_test;

namespace {

// Peak resident set of the largest child waited for so far (Linux: kilobytes).
double children_maxrss_bytes() {
  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_maxrss) * 1024.0;
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string big_topology(const std::string& dir) {
  return write(dir + "/big-65536.yaml",
               "name: big-65536\ndevice: nvidia-h100-sxm\ncount: 65536\nfabrics:\n"
               "  - {name: nv, type: nvlink, shape: switch, link: {bandwidth: 450 GB/s, latency: 1 us}}\n");
}

std::string gemm_workload(const std::string& dir) {
  return write(dir + "/gemm.yaml",
               "kind: microbench\nops:\n  - {op: gemm, m: 4096, n: 4096, k: 4096, dtype: bf16, device: gpu0}\n");
}

std::string requests_workload(const std::string& dir, long long count) {
  return write(dir + "/serve-" + std::to_string(count) + ".yaml",
               "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nparallelism: {tp: 1, pp: 1}\n"
               "scheduler: {max_batch: 256, max_batched_tokens: 8192, chunked_prefill: true}\n"
               "requests: {count: " + std::to_string(count) +
                   ", arrival: poisson, rate: 200/s, prompt_tokens: 256, output_tokens: 32, seed: 1}\n");
}

bool kind_available(const std::string& kind) {
  return WorkloadRegistry::make(kind) != nullptr && exists(kRoot + "/topologies/dgx-h100.yaml");
}

MemoryEstimate estimate_for(const std::string& topo_path, const std::string& work_path) {
  ChipCatalog catalog(default_catalog_dir());
  Topology topo = load_topology(load_doc(topo_path), catalog);
  return estimate_memory(topo, load_doc(work_path));
}

// A full run: completes within the estimate, or is refused up front naming it.
void expect_runs_within_estimate(const std::string& dir, const std::string& topo, const std::string& work) {
  MemoryEstimate est = estimate_for(topo, work);
  std::string out = dir + "/out";
  int rc = run_llmsim_env("", "run -t '" + topo + "' -w '" + work + "' -o '" + out + "' --quiet", dir + "/run.log");
  std::string log = slurp(dir + "/run.log");
  double rss = children_maxrss_bytes();
  INFO(log << "estimate " << est.bytes / 1e6 << " MB (" << est.breakdown << "), measured peak " << rss / 1e6 << " MB");
  if (rc == 3) {
    CHECK(log.find("estimated memory") != std::string::npos);
    CHECK_FALSE(exists(out + "/summary.json"));
    WARN("refused up front on this machine: " << log);
    return;
  }
  REQUIRE(rc == 0);
  CHECK(exists(out + "/summary.json"));
  CHECK(rss <= est.bytes);  // the estimate is an upper bound (docs/testing.md figures)
  WARN("measured peak " << rss / 1e6 << " MB against an estimate of " << est.bytes / 1e6 << " MB");
}

}  // namespace

TEST_CASE("limits: requests are counted from requests.count, trace.limit, or the trace size", "[limits]") {
  std::string dir = make_tmpdir("count");
  CHECK(estimated_requests(parse_doc("kind: inference\nrequests: {count: 1000000}\n", dir + "/w.yaml")) == 1000000);
  CHECK(estimated_requests(parse_doc("kind: inference\ntrace: {file: t.csv, limit: 500}\n", dir + "/w.yaml")) == 500);
  write(dir + "/t.csv", std::string(6000, 'x'));
  CHECK(estimated_requests(parse_doc("kind: inference\ntrace: {file: t.csv}\n", dir + "/w.yaml")) == 1000);
  CHECK(estimated_requests(parse_doc("kind: microbench\nops: []\n", dir + "/w.yaml")) == 0);
  // Malformed counts are the loader's to report, not the guard's.
  CHECK(estimated_requests(parse_doc("kind: inference\nrequests: {count: many}\n", dir + "/w.yaml")) == 0);
}

TEST_CASE("limits: a set-up over the memory budget is refused up front with its estimate", "[limits]") {
  std::string dir = make_tmpdir("refuse");
  if (!kind_available("microbench") || !kind_available("inference")) {
    WARN("limits: skipped: the microbench or inference kind is not available yet");
    return;
  }
  SECTION("65,536 devices under a 100 MB budget") {
    std::string out = dir + "/out";
    int rc = run_llmsim_env("LLMSIM_MEMORY_LIMIT='100 MB'",
                        "run -t '" + big_topology(dir) + "' -w '" + gemm_workload(dir) + "' -o '" + out + "'",
                        dir + "/run.log");
    std::string log = slurp(dir + "/run.log");
    INFO(log);
    CHECK(rc == 3);
    CHECK(log.find("estimated memory") != std::string::npos);
    CHECK(log.find("65536 devices") != std::string::npos);
    CHECK_FALSE(exists(out));  // refused before any output exists
  }
  SECTION("100,000,000 requests under a 1 GB budget, before they are generated") {
    std::string out = dir + "/out";
    int rc = run_llmsim_env("LLMSIM_MEMORY_LIMIT='1 GB'",
                        "run -t topologies/dgx-h100.yaml -w '" + requests_workload(dir, 100000000) + "' -o '" + out + "'",
                        dir + "/run.log");
    std::string log = slurp(dir + "/run.log");
    INFO(log);
    CHECK(rc == 3);
    CHECK(log.find("100000000 requests") != std::string::npos);
    CHECK_FALSE(exists(out));
  }
  SECTION("a malformed LLMSIM_MEMORY_LIMIT is bad input") {
    int rc = run_llmsim_env("LLMSIM_MEMORY_LIMIT=lots",
                        "run -t topologies/dgx-h100.yaml -w '" + gemm_workload(dir) + "' -o '" + dir + "/out'",
                        dir + "/run.log");
    INFO(slurp(dir + "/run.log"));
    CHECK(rc == 2);
  }
  int rm_rc = std::system(("rm -rf '" + dir + "'").c_str());  // best-effort clean-up
  (void)rm_rc;
}

TEST_CASE("limits: a 65,536-device topology runs within its memory estimate", "[limits][slow]") {
  if (!kind_available("microbench")) {
    WARN("limits: skipped: the microbench kind is not available yet");
    return;
  }
  std::string dir = make_tmpdir("devices");
  expect_runs_within_estimate(dir, big_topology(dir), gemm_workload(dir));
  int rm_rc = std::system(("rm -rf '" + dir + "'").c_str());  // best-effort clean-up
  (void)rm_rc;
}

TEST_CASE("limits: 1,000,000 synthetic requests run within their memory estimate", "[limits][slow]") {
  if (!kind_available("inference")) {
    WARN("limits: skipped: the inference kind is not available yet");
    return;
  }
  std::string dir = make_tmpdir("requests");
  expect_runs_within_estimate(dir, kRoot + "/topologies/dgx-h100.yaml", requests_workload(dir, 1000000));
  int rm_rc = std::system(("rm -rf '" + dir + "'").c_str());  // best-effort clean-up
  (void)rm_rc;
}

}  // namespace test_limits_large
