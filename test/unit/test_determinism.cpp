// Determinism (docs/testing.md "Determinism"): for each shipped workload kind, two runs and
// one run with --debug-tie-shuffle must write byte-identical outputs (summary.json less its
// wall_time_s line, requests.csv, timeline.json). The shuffle run randomises the order of
// same-time events, so any result that depends on insertion order shows up as a diff.
// A kind whose example files are not in the tree yet is a WARNed, skipped section; it runs
// by itself once the files exist.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "cli_support.h"

namespace test_determinism {

using namespace llmsim_test;

namespace {

// summary.json without the one field that measures the host, not the simulation.
std::string summary_less_wall(const std::string& dir) {
  std::istringstream in(slurp(dir + "/summary.json"));
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("\"wall_time_s\"") != std::string::npos) continue;
    out += line + "\n";
  }
  return out;
}

struct Kind {
  std::string kind;
  std::string workload;  // relative to the source root
  std::vector<std::string> extra_files;  // outputs that must exist for this kind
  std::string extra_args = "";           // e.g. a --set that shortens a long example
};

void check_kind(const Kind& k, const std::string& topology) {
  if (!exists(kRoot + "/" + topology) || k.workload.empty() || !exists(kRoot + "/" + k.workload)) {
    WARN("determinism: " << k.kind << " skipped: " << (k.workload.empty() ? "no workload of this kind" : k.workload)
                         << " or " << topology << " does not exist yet");
    return;
  }
  std::string base = make_tmpdir(k.kind);
  const char* names[] = {"a", "b", "shuffled"};
  for (int i = 0; i < 3; ++i) {
    std::string out = base + "/" + names[i];
    std::string args =
        "run -t " + topology + " -w " + k.workload + " -o '" + out + "' --timeline --quiet " + k.extra_args;
    if (i == 2) args += " --debug-tie-shuffle 12345";
    int rc = run_llmsim(args, base + "/" + names[i] + ".log");
    INFO("llmsim " << args << "\n" << slurp(base + "/" + names[i] + ".log"));
    REQUIRE(rc == 0);
  }
  std::vector<std::string> files = {"timeline.json"};
  files.insert(files.end(), k.extra_files.begin(), k.extra_files.end());
  std::string ref = base + "/a";
  CHECK(summary_less_wall(ref).find("\"sim_time_s\"") != std::string::npos);
  for (int i = 1; i < 3; ++i) {
    std::string other = base + "/" + names[i];
    INFO(k.kind << ": run '" << names[i] << "' vs run 'a' in " << base);
    CHECK(summary_less_wall(other) == summary_less_wall(ref));
    for (const auto& f : files) {
      INFO(f);
      REQUIRE(exists(ref + "/" + f));
      REQUIRE(exists(other + "/" + f));
      CHECK(slurp(other + "/" + f) == slurp(ref + "/" + f));
    }
  }
  int rm_rc = std::system(("rm -rf '" + base + "'").c_str());  // best-effort clean-up
  (void)rm_rc;
}

}  // namespace

TEST_CASE("determinism: repeated and tie-shuffled runs write identical outputs", "[determinism]") {
  const std::string topo = "topologies/dgx-h100.yaml";
  SECTION("microbench") { check_kind({"microbench", "workloads/microbench-gemm.yaml", {}}, topo); }
  // Collectives put many flows on the same instants: the likeliest place for order dependence.
  SECTION("microbench collectives") {
    check_kind({"microbench-collectives", "workloads/microbench-collectives.yaml", {}}, topo);
  }
  // The demo's first 100 of its 500 requests: eight replicas still batch, chunk and route on
  // ties, and the three timelines are ~20 MB each instead of 113 MB (5 s a run under ASan).
  SECTION("inference") {
    check_kind({"inference", "workloads/demo-serve-llama3-8b.yaml", {"requests.csv"}, "--set workload.trace.limit=100"},
               topo);
  }
  // The one-node training workload (the first shipped one by name needs 16,384 devices).
  SECTION("training") { check_kind({"training", "workloads/train-llama3-8b-dgx-h100.yaml", {}}, topo); }
  // A packed lengths trace: per-step data drawn from the stream, per-micro-batch attention.
  SECTION("training packed") {
    check_kind({"training-packed", "workloads/train-llama3-8b-packed-dgx-h100.yaml", {}}, topo);
  }
}

}  // namespace test_determinism
