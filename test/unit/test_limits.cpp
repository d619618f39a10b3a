// Run limits (docs/testing.md "Limits"): --max-events, --max-sim-time and --max-wall end a
// run cleanly with exit 3, a parseable summary.json marked "partial": true, and no
// half-written *.tmp.* files. These run the binary on generated microbench workloads; until
// the microbench kind and topologies/dgx-h100.yaml exist they are WARNed and skipped.
#include <catch2/catch.hpp>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_limits {

using namespace llmsim_test;

namespace {

const std::string kRoot = LLMSIM_SOURCE_DIR;
const std::string kTopo = "topologies/dgx-h100.yaml";

std::vector<std::string> tmp_leftovers(const std::string& dir) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.find(".tmp.") != std::string::npos) found.push_back(n);
    }
    ::closedir(d);
  }
  return found;
}

// The microbench kind is registered once `llmsim check` accepts a microbench document.
bool microbench_available(const std::string& dir) {
  if (!exists(kRoot + "/" + kTopo)) return false;
  std::string w = dir + "/probe.yaml";
  std::ofstream(w) << "kind: microbench\nops:\n  - {op: gemm, m: 256, n: 256, k: 256, dtype: bf16, device: gpu0}\n";
  return run_llmsim("check " + w, dir + "/probe.log") == 0;
}

// `n` small GEMMs spread over the 8 devices: many events, little simulated time each. One
// op per device repeated n / 8 times gives the events of n written ops without parsing
// 10,000 YAML maps (which took seconds a run, several runs a test).
std::string many_ops_workload(const std::string& dir, int n) {
  std::string w = dir + "/many-ops.yaml";
  std::ofstream out(w);
  out << "kind: microbench\nrepeat: " << n / 8 << "\nops:\n";
  for (int i = 0; i < 8; ++i) {
    out << "  - {op: gemm, m: 256, n: 256, k: 256, dtype: bf16, device: gpu" << i << "}\n";
  }
  return w;
}

// A limited run: exit 3, summary.json whole and partial, nothing temporary left.
void expect_partial(const std::string& dir, const std::string& workload, const std::string& limit,
                    const std::string& reason_word) {
  std::string out = dir + "/out";
  std::string args = "run -t " + kTopo + " -w '" + workload + "' -o '" + out + "' --timeline --quiet " + limit;
  int rc = run_llmsim(args, dir + "/run.log");
  std::string log = slurp(dir + "/run.log");
  INFO("llmsim " << args << "\n" << log);
  CHECK(rc == 3);
  CHECK(log.find(reason_word) != std::string::npos);
  REQUIRE(exists(out + "/summary.json"));
  nlohmann::json s = nlohmann::json::parse(slurp(out + "/summary.json"));  // throws if cut short
  CHECK(s.at("partial") == true);
  CHECK(s.at("stop_reason").get<std::string>().find(reason_word) != std::string::npos);
  CHECK(tmp_leftovers(out).empty());
  // The timeline is finished (valid JSON) even when the run is cut short.
  if (exists(out + "/timeline.json")) CHECK_NOTHROW(nlohmann::json::parse(slurp(out + "/timeline.json")));
}

}  // namespace

TEST_CASE("limits: --max-events, --max-sim-time, --max-wall end with exit 3 and partial outputs", "[limits]") {
  std::string dir = make_tmpdir("run");
  if (!microbench_available(dir)) {
    WARN("limits: skipped: the microbench kind or " << kTopo << " is not available yet");
    return;
  }
  std::string w = many_ops_workload(dir, 10000);
  SECTION("--max-events") { expect_partial(dir, w, "--max-events 100", "--max-events"); }
  SECTION("--max-sim-time") { expect_partial(dir, w, "--max-sim-time 1e-9", "--max-sim-time"); }
  // The wall clock is checked every 4096 events; 10,000 ops (20,000 events) take far longer than 1 us.
  SECTION("--max-wall") { expect_partial(dir, w, "--max-wall 0.000001", "--max-wall"); }
  SECTION("no limit: the same workload completes with exit 0 and partial false") {
    std::string out = dir + "/full";
    int rc = run_llmsim("run -t " + kTopo + " -w '" + w + "' -o '" + out + "' --quiet", dir + "/full.log");
    INFO(slurp(dir + "/full.log"));
    REQUIRE(rc == 0);
    nlohmann::json s = nlohmann::json::parse(slurp(out + "/summary.json"));
    CHECK(s.at("partial") == false);
    CHECK(tmp_leftovers(out).empty());
  }
  int rm_rc = std::system(("rm -rf '" + dir + "'").c_str());  // best-effort clean-up
  (void)rm_rc;
}

}  // namespace test_limits
