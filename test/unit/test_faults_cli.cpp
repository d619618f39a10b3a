// [faults] `faults:` and `--fault` through the binary (docs/faults.md): the network
// slows or reroutes as the link arithmetic says, a partition exits 3 naming the cut, bad
// faults exit 2 at their position, faults show in config.resolved.yaml and the timeline,
// and a training run prices a device failure.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "cli_support.h"

using namespace llmsim_test;

namespace {

struct Run {
  int rc = 0;
  std::string log, resolved, timeline;
  nlohmann::json summary;
};

Run run_case(const std::string& topo, const std::string& workload, const std::string& flags = "") {
  Run r;
  std::string dir = make_tmpdir("faults");
  r.rc = run_llmsim("run -t " + topo + " -w " + workload + " -o '" + dir + "/out' --quiet " + flags, dir + "/log");
  r.log = slurp(dir + "/log");
  if (exists(dir + "/out/summary.json")) r.summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  if (exists(dir + "/out/config.resolved.yaml")) r.resolved = slurp(dir + "/out/config.resolved.yaml");
  if (exists(dir + "/out/timeline.json")) r.timeline = slurp(dir + "/out/timeline.json");
  std::system(("rm -rf '" + dir + "'").c_str());
  return r;
}

const std::string kRing = "test/data/netdyn/ring4.yaml";
const std::string kRingAr = "test/data/faults/ring-allreduce.yaml";

double op_time(const Run& r) { return r.summary["microbench"][0]["time_s"].get<double>(); }

}  // namespace

// ring4's H100s run NCCL (their default stack's library, docs/models.md "Collective
// libraries"); at 64 MiB it picks Simple: 8.4 us once, each step at least 3.4 us of latency
// (more than the 1 us link), data at 0.772 of the link rate (C13's measured share on NVLink).
constexpr double kBase = 8.4e-6, kStep = 3.4e-6, kEff = 231.6 / 300;

TEST_CASE("faults: a degraded link slows a ring all-reduce by the slowest link's share", "[faults][cli]") {
  // ring4: 4 GPUs, B = 100 GB/s, L = 1 us. A ring all-reduce of S is 2 (n - 1) = 6 steps,
  // each moving S / 4 over every ring link at once, so each step lasts max(L, step) +
  // (S/4) / (eff B_min): the slowest link sets the pace. At 25 % on one link, B_min = B / 4.
  const double S = 64.0 * 1024 * 1024, B = 100e9;
  Run plain = run_case(kRing, kRingAr);
  REQUIRE(plain.rc == 0);
  Run slow = run_case(kRing, kRingAr, "--fault link-degraded:gpu1-gpu2@0s,bandwidth=25%");
  INFO(slow.log);
  REQUIRE(slow.rc == 0);
  CHECK(op_time(plain) == Approx(kBase + 6 * (kStep + S / 4 / (kEff * B))).epsilon(1e-8));  // 8 ps roundings
  CHECK(op_time(slow) == Approx(kBase + 6 * (kStep + S / 4 / (kEff * B / 4))).epsilon(1e-9));
}

TEST_CASE("faults: a degraded link for a while: only the steps inside the window slow", "[faults][cli]") {
  // Degraded from 0 until the first step ends (the library's start-up, the step's latency
  // and S/4 at the quarter rate), then the 5 others run at full rate.
  const double S = 64.0 * 1024 * 1024, B = 100e9;
  const double first = kBase + kStep + S / 4 / (kEff * B / 4);
  char flag[128];
  std::snprintf(flag, sizeof flag, "--fault 'link-degraded:gpu1-gpu2@0s+%.12gs,bandwidth=25%%'", first);
  Run r = run_case(kRing, kRingAr, flag);
  INFO(r.log);
  REQUIRE(r.rc == 0);
  CHECK(op_time(r) == Approx(first + 5 * (kStep + S / 4 / (kEff * B))).epsilon(1e-6));
}

TEST_CASE("faults: a cut link on a 2D torus reroutes; the all-reduce completes later", "[faults][cli]") {
  const std::string topo = "test/data/faults/torus4x4.yaml", w = "test/data/faults/torus-allreduce.yaml";
  Run plain = run_case(topo, w);
  REQUIRE(plain.rc == 0);
  const double t = op_time(plain);
  char flag[96];
  std::snprintf(flag, sizeof flag, "--fault link-down:gpu0-gpu1@%.12gs", t / 3);
  Run cut = run_case(topo, w, flag);
  INFO(cut.log);
  REQUIRE(cut.rc == 0);  // the wrap-around keeps the torus connected
  CHECK(op_time(cut) > t);
  // The flows on the cut link lose at most its share: no slower than every byte over the
  // remaining path twice (a detour of at most 3 hops on a 4-ring shares a link with others).
  CHECK(op_time(cut) < 4 * t);
}

TEST_CASE("faults: two cuts on a ring partition the collective group: exit 3 naming the cut", "[faults][cli]") {
  Run r = run_case(kRing, "test/data/faults/ring-two-cuts.yaml");
  CHECK(r.rc == 3);
  CHECK(r.log.find("llmsim: infeasible:") != std::string::npos);
  CHECK(r.log.find("gpu0-gpu1") != std::string::npos);
  CHECK(r.log.find("gpu2-gpu3") != std::string::npos);
  CHECK(r.log.find("ring-two-cuts.yaml:") != std::string::npos);
}

TEST_CASE("faults: a straggler's compute-bound GEMM takes (1 + slowdown) as long", "[faults][cli]") {
  // slowdown 30 %: the device's clock runs at 1 / 1.3 of nominal; an 8192^3 GEMM is
  // compute bound, its time proportional to 1 / clock.
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/gemm.yaml";
  Run plain = run_case(topo, w);
  Run slow = run_case(topo, w, "--fault straggler:gpu0@0s,slowdown=30%");
  INFO(slow.log);
  REQUIRE(plain.rc == 0);
  REQUIRE(slow.rc == 0);
  CHECK(op_time(slow) == Approx(1.3 * op_time(plain)).epsilon(0.02));
}

TEST_CASE("faults: appear in config.resolved.yaml, rerun the same, and in the timeline", "[faults][cli]") {
  Run r = run_case(kRing, kRingAr, "--fault link-degraded:gpu1-gpu2@0s,bandwidth=25% --timeline");
  REQUIRE(r.rc == 0);
  CHECK(r.resolved.find("faults:") != std::string::npos);
  CHECK(r.resolved.find("link-degraded") != std::string::npos);
  CHECK(r.timeline.find("\"fault\"") != std::string::npos);
  CHECK(r.timeline.find("link-degraded:gpu1-gpu2") != std::string::npos);
  // Rerunning the resolved config reproduces the time without the flag.
  std::string dir = make_tmpdir("faults-again");
  std::FILE* f = std::fopen((dir + "/c.yaml").c_str(), "w");
  std::fputs(r.resolved.c_str(), f);
  std::fclose(f);
  Run again = run_case(dir + "/c.yaml", dir + "/c.yaml");
  std::system(("rm -rf '" + dir + "'").c_str());
  INFO(again.log);
  REQUIRE(again.rc == 0);
  CHECK(op_time(again) == op_time(r));
}

TEST_CASE("faults: bad faults exit 2 with their position", "[faults][cli]") {
  struct Case {
    const char* workload;
    const char* flags;
    const char* at;
    const char* says;
  };
  const Case cases[] = {
      {"test/data/faults/ring-allreduce.yaml", "--fault device-down:gpu9@1s", "llmsim: error: --fault:1:1:", "unknown device 'gpu9'"},
      {"test/data/faults/ring-allreduce.yaml", "--fault link-down:gpu0-gpu1@1s --fault device-down:gpu3@soon",
       "llmsim: error: --fault:2:1:", "soon"},
      {"test/data/faults/ring-allreduce.yaml", "--fault link-down:gpu0-gpu2@1s", "llmsim: error: --fault:1:1:", "no link joins"},
      {"test/data/faults/ring-allreduce.yaml", "--fault melt:gpu0@1s", "llmsim: error: --fault:1:1:", "melt"},
      {"test/data/faults/ring-allreduce.yaml", "--fault gpu0", "llmsim: error: --fault:1:1:", "KIND:TARGET@TIME"},
      {"test/data/faults/ring-allreduce.yaml", "--fault straggler:gpu0@0s", "llmsim: error: --fault:1:1:", "slowdown"},
      {"test/data/faults/not-a-list.yaml", "", "llmsim: error: test/data/faults/not-a-list.yaml:5:", "must be a list"},
      {"test/data/faults/bad-target.yaml", "", "llmsim: error: test/data/faults/bad-target.yaml:6:", "unknown device 'gpu9'"},
  };
  for (const auto& c : cases) {
    Run r = run_case(kRing, c.workload, c.flags);
    INFO(c.flags << " " << c.workload << "\n" << r.log);
    CHECK(r.rc == 2);
    CHECK(r.log.rfind(c.at, 0) == 0);
    CHECK(r.log.find(c.says) != std::string::npos);
    CHECK(r.log.find('\n') == r.log.size() - 1);  // one line
    CHECK(r.summary.is_null());                   // no output
  }
}

TEST_CASE("faults: a device failure stops training; the summary prices it", "[faults][cli][training]") {
  const std::string topo = "topologies/dgx-h100.yaml", w = "test/data/faults/train-8b.yaml";
  Run plain = run_case(topo, w);
  REQUIRE(plain.rc == 0);
  const double step = plain.summary["training"]["step_time_s"].get<double>();
  // Fail gpu3 half-way through the second step: one step done, and a checkpoint after it
  // (the 1 ms interval is crossed by every step end), so the work lost is half a step.
  const double at = 1.5 * step;
  char flag[96];
  std::snprintf(flag, sizeof flag, "--fault device-down:gpu3@%.12gs", at);
  Run r = run_case(topo, w, flag);
  INFO(r.log);
  REQUIRE(r.rc == 0);
  const auto& f = r.summary["training"]["failure"];
  CHECK(f["device"] == 3);
  CHECK(f["steps_completed"] == 1);
  CHECK(f["at_s"].get<double>() == Approx(at));
  CHECK(f["lost_work_s"].get<double>() == Approx(0.5 * step).epsilon(0.15));
  CHECK(f["restart_s"].get<double>() == 600.0);
  CHECK(f["time_lost_s"].get<double>() == Approx(f["lost_work_s"].get<double>() + 600.0));
}
